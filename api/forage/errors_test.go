package forage

import (
	"net/http"
	"strings"
	"testing"

	"paydesk/api"
)

func TestDecodeErrors(t *testing.T) {
	cases := []struct {
		file, code, msg string
		fields          []string
	}{
		{"error_envelope.json", "resource_not_found", "Order with ref e0f7607d5f does not exist", []string{"Orders/e0f7607d5f"}},
		{"error_detail.json", "", "Authentication credentials were not provided.", nil},
		{"error_source_array.json", "invalid_card_number", "Invalid EBT card number.", []string{"Payment_Methods"}},
		{"error_missing_merchant.json", "missing_merchant_account", "No merchant account", []string{"Merchant_Account_Header"}},
		{"error_wait_for_batch_refund.json", "wait_for_batch_refund", "Active refunds pending", []string{"Orders/3ee466e0ef"}},
		{"error_field.json", "invalid_input_data", "amount: Ensure", []string{"amount"}},
		{"error_vault.json", "unauthorized", "Token has expired", nil},
		{"error_drf.json", "invalid_input_data", "reason: This field is required.", []string{"reason", "amount"}},
	}
	for _, c := range cases {
		e := decodeError(400, http.Header{}, readTestdata(t, c.file))
		if e.Code != c.code || !strings.HasPrefix(e.Message, c.msg) {
			t.Errorf("%s: code %q message %q", c.file, e.Code, e.Message)
		}
		var fields []string
		for _, f := range e.Fields {
			fields = append(fields, f.Field)
		}
		if strings.Join(fields, ",") != strings.Join(c.fields, ",") {
			t.Errorf("%s: fields %v, want %v", c.file, fields, c.fields)
		}
	}
	if e := decodeError(400, nil, []byte(`{"path":"/api/x/","errors":[{"code":"c","message":"m"}]}`)); len(e.Fields) != 1 || e.Fields[0].Field != "/api/x/" {
		t.Errorf("path as field: %+v", e.Fields)
	}
	if e := decodeError(401, nil, readTestdata(t, "error_detail.json")); e.Code != "not_authenticated" {
		t.Errorf("401 detail code %q", e.Code)
	}
	if e := decodeError(502, nil, []byte("<html>Bad gateway</html>")); e.Message != "<html>Bad gateway</html>" {
		t.Errorf("html body: %+v", e)
	}
	var _ api.ErrorDecoder = decodeError
}
