package moyasar

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"paydesk/api"
)

// CodeStillProcessing is the api.Error Code of MPG's 400 "Initial request is
// still processing.": the first request with this transaction_id may still
// happen. Re-read the order; retry later with the same idempotency key.
const CodeStillProcessing = "initial_request_processing"

// msgStillProcessing is the message MPG answers that 400 with.
const msgStillProcessing = "Initial request is still processing."

// IsStillProcessing reports whether err is MPG's "Initial request is still
// processing.": re-read the order and retry later with the same key.
func IsStillProcessing(err error) bool { return api.CodeOf(err) == CodeStillProcessing }

// decodeError reads {message, errors{field: [...]}} and adds advice naming
// what to check. A body that is not that shape is left to the transport
// (nil), which scrubs it of the key and then cuts it, unless there is advice
// to give: then it is kept whole as the message, to the same end.
func decodeError(status int, _ http.Header, body []byte) *api.Error {
	e := &api.Error{Hint: hint(status)}
	var w wireError
	if json.Unmarshal(body, &w) != nil || (w.Message == "" && len(w.Errors) == 0) {
		if e.Hint == "" {
			return nil
		}
		e.Message = string(body)
		return e
	}
	e.Message = w.Message
	if status == http.StatusBadRequest && strings.EqualFold(strings.TrimSpace(w.Message), msgStillProcessing) {
		e.Code, e.Retryable = CodeStillProcessing, true
		e.Hint = "Moyasar is still processing the first request with this key; paydesk reads the order to settle it"
	}
	fields := make([]string, 0, len(w.Errors))
	for f := range w.Errors {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		var msgs []string
		if json.Unmarshal(w.Errors[f], &msgs) != nil {
			var one string
			if json.Unmarshal(w.Errors[f], &one) != nil {
				one = strings.TrimSpace(string(w.Errors[f]))
			}
			msgs = []string{one}
		}
		for _, m := range msgs {
			e.Fields = append(e.Fields, api.FieldError{Field: f, Message: m})
		}
	}
	return e
}

// hint is the advice for a status whose meaning is Moyasar's own.
func hint(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "Moyasar refused the API key: check " + EnvAPIKey
	case http.StatusForbidden:
		return "Moyasar refused this API key access: check " + EnvAPIKey + " is the secret key of this account"
	}
	return ""
}
