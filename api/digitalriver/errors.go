package digitalriver

import (
	"encoding/json"
	"net/http"
	"strings"

	"paydesk/api"
)

// decodeError maps {type, errors:[{code, parameter, message}]} to an *api.Error
// with one FieldError per error that names a parameter.
func decodeError(status int, _ http.Header, body []byte) *api.Error {
	var w wireError
	if err := json.Unmarshal(body, &w); err != nil || (w.Type == "" && len(w.Errors) == 0) {
		return nil
	}
	e := &api.Error{Code: w.Type}
	var msgs []string
	for i, x := range w.Errors {
		if i == 0 && x.Code != "" {
			e.Code = x.Code
		}
		if x.Message != "" {
			msgs = append(msgs, x.Message)
		}
		if x.Parameter != "" {
			e.Fields = append(e.Fields, api.FieldError{Field: x.Parameter, Code: x.Code, Message: x.Message})
		}
	}
	e.Message = strings.Join(msgs, "; ")
	return e
}

// advised wraps an error decoder with Digital River's advice: one line in
// words naming what to check. Non-JSON answers keep their (scrubbed, then
// cut) excerpt from the transport.
func advised(dec api.ErrorDecoder) api.ErrorDecoder {
	return func(status int, h http.Header, body []byte) *api.Error {
		e := dec(status, h, body)
		if e == nil {
			e = &api.Error{Message: string(body)}
		}
		switch status {
		case http.StatusUnauthorized:
			e.Hint = "Digital River refused the API key: check DIGITALRIVER_API_KEY"
		case http.StatusForbidden:
			e.Hint = "Digital River refused this API key access: check DIGITALRIVER_API_KEY is a secret key for this account"
		}
		return e
	}
}
