package digitalriver

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"paydesk/model"
)

// The seed's example JSON (docs artefacts included: items as an array of
// arrays, state "created") decodes, and an unknown state is never "failed".
func TestDecodeSeedExamples(t *testing.T) {
	raw, err := os.ReadFile("testdata/seed003_refund.json")
	if err != nil {
		t.Fatal(err)
	}
	r, err := decodeRefund(raw)
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "ref_5823594809" || r.OrderID != "ord_6645940010" || r.Amount.String() != "9.99 USD" ||
		r.Status != model.StatusUnknown || r.ProviderStatus != "created" || r.Reason != "requested_by_customer" ||
		r.FailureReason != "expired_or_canceled_card" || r.LastError == nil ||
		r.Metadata["coupon"] != "iOS" || r.PaymentID != "c5b02ace-115d-4433-8841-8165d4c927a8" {
		t.Fatalf("decoded %+v", r)
	}
	var items, token int
	for _, fl := range r.Fields {
		if strings.HasPrefix(fl.Name, "items[") {
			items++
		}
		if strings.Contains(fl.Value, "bb3f0f17") {
			token++
		}
	}
	if items != 1 || token != 0 {
		t.Fatalf("items %d, token shown %d times", items, token)
	}
	raw, err = os.ReadFile("testdata/seed003_list_refunds.json")
	if err != nil {
		t.Fatal(err)
	}
	var l wireList[wireRefund]
	if err := json.Unmarshal(raw, &l); err != nil || !l.HasMore || len(l.Data) != 1 {
		t.Fatalf("list: %v %+v", err, l)
	}
	if _, err := l.Data[0].toModel(); err != nil {
		t.Fatal(err)
	}
	e := decodeError(400, nil, []byte(`{"type":"bad_request","errors":[{"code":"invalid_parameter","parameter":"amount","message":"too big"},{"code":"x","message":"other"}]}`))
	if e == nil || e.Code != "invalid_parameter" || len(e.Fields) != 1 || e.Fields[0].Field != "amount" || e.Message != "too big; other" {
		t.Fatalf("error decode %+v", e)
	}
}

func TestStatusMaps(t *testing.T) {
	for in, want := range map[string]model.Status{
		"pending_information": model.StatusProcessing, "pending": model.StatusProcessing,
		"succeeded": model.StatusSucceeded, "failed": model.StatusFailed, "expired": model.StatusFailed,
		"created": model.StatusUnknown, "": model.StatusUnknown,
	} {
		if got := RefundStatus(in); got != want {
			t.Errorf("%q -> %s, want %s", in, got, want)
		}
	}
}

func FuzzDecodeRefund(f *testing.F) {
	for _, p := range []string{"testdata/seed003_refund.json"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeRefund(data)
		if err != nil {
			return
		}
		if r.ID == "" {
			t.Fatal("refund without id accepted")
		}
		if _, err := model.Exponent(r.Amount.Currency); err != nil {
			t.Fatalf("accepted currency %q", r.Amount.Currency)
		}
		if r.Amount.Amount.IsNegative() {
			t.Fatalf("negative amount %s", r.Amount)
		}
		if _, err := r.Amount.Minor(); err != nil {
			t.Fatalf("amount %s does not fit its currency: %v", r.Amount, err)
		}
		if r.Status == model.StatusFailed && r.ProviderStatus != "failed" && r.ProviderStatus != "expired" {
			t.Fatalf("state %q mapped to failed", r.ProviderStatus)
		}
	})
}
