package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"paydesk/model"
)

var (
	// ErrNotSupported is returned by a provider for an action it lacks.
	ErrNotSupported = errors.New("not supported by this provider")
	// ErrReadOnly is returned for any change attempted by a read-only agent.
	ErrReadOnly = errors.New("read-only: this console may not change anything")
	// ErrOutcomeUnknown marks a money request that was sent but whose result
	// never came back (timeout, reset, 5xx). It did not fail: it may have
	// happened. Never retry it with a new key; reconcile instead.
	ErrOutcomeUnknown = errors.New("outcome unknown")
)

// Error is a provider's answer that was not a success, in one shape for every
// provider: the HTTP status, the provider's code and message, per-field
// errors, and whether sending the same request again is safe.
type Error struct {
	Provider   string
	Op         string // what the console was doing: "refund order 1a2b3c4d5e"
	HTTPStatus int
	Code       string // provider's code: "wait_for_batch_refund"
	Message    string // provider's message (raw: sanitise before drawing)
	Fields     []FieldError
	// Retryable says the failure is transient: asking again later may
	// succeed (no answer, 409, 429, 5xx, or a code the provider marks so).
	// When Unknown is also set, the change is settled by reading first; it
	// is re-sent only with the same key, and only to a provider that
	// recognises a repeat (see Decide).
	Retryable bool
	// Unknown says the request may have taken effect (see ErrOutcomeUnknown).
	Unknown bool
	// RetryAfter is the provider's requested wait, when it gave one.
	RetryAfter string
	Err        error // underlying transport error, if any
	// Hint is one line of advice in words, naming what to check ("Forage
	// refused the client id/secret: check FORAGE_CLIENT_ID and
	// FORAGE_CLIENT_SECRET"). Set by the provider package that knows its
	// codes and settings, or by the transport for network failures; ""
	// when there is nothing to add to the provider's own message.
	Hint string
}

// FieldError is a provider's complaint about one request field.
type FieldError struct {
	Field   string
	Code    string
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteString(": ")
	}
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Unknown {
		b.WriteString("outcome unknown: ")
	}
	switch {
	case e.HTTPStatus != 0:
		fmt.Fprintf(&b, "%d %s", e.HTTPStatus, http.StatusText(e.HTTPStatus))
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " [%s]", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	for _, f := range e.Fields {
		if f.Message == e.Message {
			continue // the provider repeated its message per field
		}
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	return b.String()
}

func (e *Error) Unwrap() []error {
	errs := []error{}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Unknown {
		errs = append(errs, ErrOutcomeUnknown)
	}
	return errs
}

// AsError extracts an *Error from err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsOutcomeUnknown reports whether err means "may have happened".
func IsOutcomeUnknown(err error) bool { return errors.Is(err, ErrOutcomeUnknown) }

// StatusOf returns the HTTP status in err's chain, or 0.
func StatusOf(err error) int {
	if e, ok := AsError(err); ok {
		return e.HTTPStatus
	}
	return 0
}

// CodeOf returns the provider error code in err's chain, or "".
func CodeOf(err error) string {
	if e, ok := AsError(err); ok {
		return e.Code
	}
	return ""
}

// Invalid turns the model's validation errors into a definite *Error: the
// request was refused before it was sent, so its outcome is known (nothing
// happened) and retrying the same values cannot help.
func Invalid(provider, op string, v model.ValidationError) *Error {
	e := &Error{Provider: provider, Op: op, Code: "invalid_input", Message: v.Error(), Err: v}
	for _, fe := range v {
		e.Fields = append(e.Fields, FieldError{Field: fe.Field, Code: "invalid_input", Message: fe.Rule})
	}
	return e
}
