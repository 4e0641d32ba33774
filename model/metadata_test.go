package model

import (
	"strings"
	"testing"
)

// Everything the agent types that goes to a provider passes the PII guard,
// and nothing passes that the confirmation would draw differently from the
// bytes sent (a reason once reached a provider with a whole card number
// while the confirmation showed "card •••• 1111").
func TestFreeTextSentToAProviderIsGuarded(t *testing.T) {
	cases := []struct {
		field, value, want string
	}{
		{"reason", "card 4111111111111111 ssn 078-05-1120 mail a@b.co", "looks like a card number"},
		{"reason", "customer ssn 078-05-1120", "social security number"},
		{"reason", "mail a@b.co please", "email address"},
		{"reason", "call +1 415 555 2671", "phone number"},
		{"reason", "at 1732712345678 ms", "the screen would mask"},
		{"reason", "refund \u202eevil", "cannot show as typed"},
		{"external order id", "4111-1111-1111-1111", "looks like a card number"},
		{"external order id", "a@b.co", "email address"},
		{"external order id", "x\u2066y", "cannot show as typed"},
	}
	for _, c := range cases {
		var fe *FieldError
		if c.field == "reason" {
			fe = ValidateReason(c.value, 0)
		} else {
			fe = ValidateExternalOrderID(c.value)
		}
		if fe == nil {
			t.Errorf("%s %q was accepted", c.field, c.value)
			continue
		}
		if fe.Field != c.field || !strings.Contains(fe.Rule, c.want) {
			t.Errorf("%s %q: refused as %q, want the field named and %q", c.field, c.value, fe.Error(), c.want)
		}
		if strings.Contains(fe.Error(), "4111") || strings.Contains(fe.Error(), "078-05") {
			t.Errorf("the refusal repeats the personal data: %q", fe.Error())
		}
	}
	for _, ok := range []string{"customer changed their mind", "ticket CS-1182 / order 2026-11-20", "duplicate charge, ref 9911002233"} {
		if fe := ValidateReason(ok, 64); fe != nil {
			t.Errorf("reason %q refused: %v", ok, fe)
		}
		if fe := ValidateExternalOrderID(ok); fe != nil {
			t.Errorf("external order id %q refused: %v", ok, fe)
		}
	}
}

func TestWrittenMetadataShowsAsSent(t *testing.T) {
	errs := ValidateMetadata(Metadata{"ts": "1732712345678", "note": "a\u202eb"})
	if got := errs.For("metadata.ts"); !strings.Contains(got, "the screen would mask") {
		t.Errorf("metadata.ts: %q", got)
	}
	if got := errs.For("metadata.note"); !strings.Contains(got, "cannot show as typed") {
		t.Errorf("metadata.note: %q", got)
	}
	if errs := ValidateMetadata(Metadata{"ticket": "CS-1182"}); len(errs) != 0 {
		t.Errorf("plain metadata refused: %v", errs)
	}
}
