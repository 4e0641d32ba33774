package model

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"paydesk/model/pii"
	"paydesk/model/safetext"
)

// FieldError names a field and the rule its value broke, in words for the agent.
type FieldError struct {
	Field string
	Rule  string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Rule }

// ValidationError is every field error of one form, so all are shown at once.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// For returns the first error about a field, or "".
func (v ValidationError) For(field string) string {
	for _, e := range v {
		if e.Field == field {
			return e.Rule
		}
	}
	return ""
}

// ValidateMetadata checks metadata the agent is about to write.
func ValidateMetadata(m Metadata) ValidationError {
	var errs ValidationError
	if len(m) > MaxMetadataKeys {
		errs = append(errs, FieldError{"metadata", fmt.Sprintf("at most %d keys (has %d)", MaxMetadataKeys, len(m))})
	}
	for _, k := range m.Keys() {
		v := m[k]
		field := "metadata." + k
		switch {
		case strings.TrimSpace(k) == "":
			errs = append(errs, FieldError{"metadata key", "must not be blank"})
		case utf8.RuneCountInString(k) > MaxMetadataKeyLen:
			errs = append(errs, FieldError{field, fmt.Sprintf("key is longer than %d characters", MaxMetadataKeyLen)})
		case !printable(k):
			errs = append(errs, FieldError{field, "key contains control characters"})
		}
		switch {
		case utf8.RuneCountInString(v) > MaxMetadataValueLen:
			errs = append(errs, FieldError{field, fmt.Sprintf("value is longer than %d characters", MaxMetadataValueLen)})
		case !printable(v):
			errs = append(errs, FieldError{field, "value contains control characters"})
		}
		// Forage, Stripe and Square all say: no personal data in metadata.
		var perr *pii.Error
		if errors.As(pii.Check(k, v), &perr) {
			where := "value "
			if perr.InKey {
				field, where = "metadata key", "key "
			}
			errs = append(errs, FieldError{field, where + perr.Reason + " (no personal or card data in metadata)"})
			continue
		}
		// The review shows written metadata verbatim (see sentAsShown).
		if !printable(k) || !printable(v) {
			continue // already refused above
		}
		if rule := notAsShown(k); rule != "" {
			errs = append(errs, FieldError{"metadata key", "key " + rule})
		} else if rule := notAsShown(v); rule != "" {
			errs = append(errs, FieldError{field, "value " + rule})
		}
	}
	return errs
}

// ValidateExternalOrderID applies Forage's 64-character limit and the PII
// guard: the id is sent to the provider as typed.
func ValidateExternalOrderID(s string) *FieldError {
	if utf8.RuneCountInString(s) > MaxExternalIDLen {
		return &FieldError{"external order id", fmt.Sprintf("at most %d characters (has %d)", MaxExternalIDLen, utf8.RuneCountInString(s))}
	}
	if !printable(s) {
		return &FieldError{"external order id", "contains control characters"}
	}
	return sentAsShown("external order id", s)
}

// ValidateReason checks a refund reason: required, printable, within max
// characters (0 = no limit; Digital River allows 64), no personal or card
// data, and shown on screen exactly as it will be sent.
func ValidateReason(s string, max int) *FieldError {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	switch {
	case n == 0:
		return &FieldError{"reason", "is required"}
	case max > 0 && utf8.RuneCountInString(s) > max:
		return &FieldError{"reason", fmt.Sprintf("at most %d characters (has %d)", max, utf8.RuneCountInString(s))}
	case !printable(s):
		return &FieldError{"reason", "contains control characters"}
	}
	return sentAsShown("reason", s)
}

// sentAsShown is the rule for free text the agent types that goes to a
// provider: no personal or card data (the PII guard), and nothing the
// screen would draw differently from the bytes sent. The confirmation shows
// agent-typed text verbatim; display-only masking there would let an agent
// believe a card number was masked when the provider receives it whole
// (which is how a reason once reached a provider unmasked). So text that the
// terminal-safe display would alter (a digit run it masks, a bidi control it
// removes) is refused here, at the form, and the typed value is kept.
func sentAsShown(field, s string) *FieldError {
	if _, reason := pii.Detect(s); reason != "" {
		return &FieldError{field, reason + "; no personal or card data may be sent to the provider"}
	}
	if rule := notAsShown(s); rule != "" {
		return &FieldError{field, rule}
	}
	return nil
}

// notAsShown says why the screen would draw s differently from its bytes,
// or "" when it draws it exactly.
func notAsShown(s string) string {
	switch {
	case pii.MaskPAN(s) != s:
		return "has a long digit run the screen would mask; write it so it shows exactly as it will be sent"
	case !safetext.IsClean(s):
		return "contains characters the screen cannot show as typed (direction or invisible controls)"
	}
	return ""
}

// ValidateRefundAmount checks an amount the agent typed against what is left.
func ValidateRefundAmount(s string, refundable Money) (Money, *FieldError) {
	m, err := ParseAmount(strings.TrimSpace(s), refundable.Currency)
	if err != nil {
		rule := err.Error()
		if ae, ok := err.(*AmountError); ok {
			rule = ae.Rule
		}
		return Money{}, &FieldError{"amount", rule}
	}
	if !m.IsPositive() {
		return Money{}, &FieldError{"amount", "must be more than zero"}
	}
	if c, _ := m.Cmp(refundable); c > 0 {
		return Money{}, &FieldError{"amount", "is more than the " + refundable.String() + " still refundable"}
	}
	return m, nil
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			return false
		}
	}
	return true
}
