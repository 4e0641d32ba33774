package moyasar

import (
	"net/http"
	"testing"

	"paydesk/api"
)

func TestDecodeErrorBodies(t *testing.T) {
	e := decodeError(422, nil, []byte(`{"message":"Data validation failed","errors":{"amount":["The value must be greater than or equal to 1."],"transaction_id":"taken"}}`))
	if e.Message != "Data validation failed" || len(e.Fields) != 2 ||
		e.Fields[0] != (api.FieldError{Field: "amount", Message: "The value must be greater than or equal to 1."}) ||
		e.Fields[1] != (api.FieldError{Field: "transaction_id", Message: "taken"}) {
		t.Errorf("422: %+v", e)
	}
	e = decodeError(400, nil, []byte(`{"message":"Initial request is still processing."}`))
	if e.Code != CodeStillProcessing || !e.Retryable {
		t.Errorf("400: %+v", e)
	}
	e = decodeError(http.StatusUnauthorized, nil, []byte(`{"message":"Missing authentication information"}`))
	if e.Message != "Missing authentication information" || e.Code != "" || e.Retryable {
		t.Errorf("401: %+v", e)
	}
	if decodeError(502, nil, []byte(`<html>bad gateway</html>`)) != nil {
		t.Error("a non-JSON body should be left to the transport")
	}
}
