package forage

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"

	"paydesk/api"
)

// requestFields are the body fields paydesk sends. A message of the form
// "<field>: <problem>" about one of them names that field.
var requestFields = []string{
	"amount", "reason", "metadata", "external_order_id", "payment_ref", "payment_method",
	"merchant_fixed_settlement", "platform_fixed_settlement", "start_date", "end_date",
	"limit", "cursor", "grant_type", "expiration",
}

var fieldPrefix = regexp.MustCompile(`^([a-z_]+): (.+)$`)

// decodeError is the api.ErrorDecoder for Forage. Code and Message come
// from errors[0]; Fields has one entry per error item: the field of a
// "<field>: <problem>" message about a request field, else source.resource
// (with "/ref" when the ref is set), else the envelope's path.
func decodeError(status int, _ http.Header, body []byte) *api.Error {
	e := &api.Error{}
	var w wireErrors
	if err := json.Unmarshal(body, &w); err != nil {
		e.Message = string(body) // the transport scrubs it of credentials, then cuts it
		return e
	}
	for i, it := range w.Errors {
		if i == 0 {
			e.Code, e.Message = string(it.Code), string(it.Message)
		}
		if f, ok := itemField(it, string(w.Path)); ok {
			e.Fields = append(e.Fields, f)
		}
	}
	if e.Code == "" && e.Message == "" {
		e.Message = firstNonEmpty(string(w.Detail), string(w.Message), string(w.Description))
		switch {
		case w.Code != "" && !isDigits(string(w.Code)):
			e.Code = string(w.Code)
		case w.Name != "":
			e.Code = string(w.Name)
		}
	}
	if e.Message == "" && len(w.Errors) == 0 {
		e.Fields = drfFields(body)
		if len(e.Fields) > 0 {
			e.Code = "invalid_input_data"
			e.Message = e.Fields[0].Field + ": " + e.Fields[0].Message
		}
	}
	if e.Code == "" && e.Message == "" {
		e.Message = string(body) // the transport scrubs it of credentials, then cuts it
	}
	if e.Code == "" && status == http.StatusUnauthorized {
		e.Code = "not_authenticated"
	}
	return e
}

func itemField(it wireErrorItem, path string) (api.FieldError, bool) {
	msg := string(it.Message)
	if m := fieldPrefix.FindStringSubmatch(msg); m != nil && slices.Contains(requestFields, m[1]) {
		return api.FieldError{Field: m[1], Code: string(it.Code), Message: m[2]}, true
	}
	for _, s := range it.Sources {
		if s.Resource == "" {
			continue
		}
		name := string(s.Resource)
		if s.Ref != "" {
			name += "/" + string(s.Ref)
		}
		return api.FieldError{Field: name, Code: string(it.Code), Message: msg}, true
	}
	if path != "" {
		return api.FieldError{Field: path, Code: string(it.Code), Message: msg}, true
	}
	return api.FieldError{}, false
}

// drfFields reads {"field": ["message", ...], ...}, Django REST framework's
// validation shape, in wire order.
func drfFields(body []byte) []api.FieldError {
	var out []api.FieldError
	for _, m := range members(body) {
		var msgs []string
		if err := json.Unmarshal(m.val, &msgs); err != nil || len(msgs) == 0 {
			return nil
		}
		for _, msg := range msgs {
			out = append(out, api.FieldError{Field: m.key, Message: msg})
		}
	}
	return out
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// advice turns the Forage codes an agent meets most into what to do next,
// one line naming what to check. The provider's own code and message are
// shown beside it.
var advice = map[string]string{
	"wait_for_batch_refund":       "refunds on this order are still processing; refund again once they have settled",
	"order_already_refunded":      "nothing is left to refund on this order",
	"refund_exceeds_order_total":  "the amount is more than is left to refund",
	"cannot_refund_after_90_days": "EBT refunds are impossible more than 90 days after the payment",
	"cannot_change_request":       "this idempotency key was used for a different request; nothing was changed",
	"too_many_requests":           "the provider's rate limit was hit; wait a moment",
	"missing_merchant_account":    "no merchant account is configured (" + EnvMerchantAccount + ")",
	"cannot_cancel_payment":       "only payments that require confirmation or failed can be canceled",
}

const credentialsHint = "Forage refused the client id/secret: check " + EnvClientID + " and " + EnvClientSecret

// decodeAPIError is the api.ErrorDecoder for Forage's API: the envelope
// decoded by decodeError, with advice.
func decodeAPIError(status int, h http.Header, body []byte) *api.Error {
	e := decodeError(status, h, body)
	switch {
	case advice[e.Code] != "":
		e.Hint = advice[e.Code]
	case status == http.StatusUnauthorized:
		// The transport has already fetched a fresh token once.
		e.Hint = "Forage refused a fresh authentication token: check " + EnvClientID + " and " + EnvClientSecret
	case status == http.StatusForbidden:
		e.Hint = "Forage refused access to this merchant: check " + EnvMerchantAccount + " and the client's permissions"
	}
	return e
}

// decodeTokenError is the api.ErrorDecoder for POST /o/token/: OAuth's
// {"error": "invalid_client"} as well as Forage's own envelope.
func decodeTokenError(status int, h http.Header, body []byte) *api.Error {
	e := decodeError(status, h, body)
	var oauth struct {
		Error       text `json:"error"`
		Description text `json:"error_description"`
	}
	if json.Unmarshal(body, &oauth) == nil && oauth.Error != "" {
		e.Code = string(oauth.Error)
		if oauth.Description != "" {
			e.Message = string(oauth.Description)
		} else if e.Message == string(body) {
			e.Message = ""
		}
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden ||
		e.Code == "invalid_client" || e.Code == "unauthorized_client":
		e.Hint = credentialsHint
	case status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		e.Hint = "Forage refused to issue an authentication token: check " + EnvClientID + ", " + EnvClientSecret + " and " + EnvBaseURL
	}
	return e
}
