package pii

import "testing"

// TestReviewCardWithInvisibleSeparators: a card number copied from a web
// page or a PDF often carries invisible characters between its groups
// (zero-width space, soft hyphen, word joiner). The search sends what was
// typed to every provider as is, so the guard must read such a number as
// the card number it is to whoever reads the provider's logs.
func TestReviewCardWithInvisibleSeparators(t *testing.T) {
	for _, q := range []string{
		"4111\u200b1111\u200b1111\u200b1111",
		"4111\u00ad1111\u00ad1111\u00ad1111",
		"4111\u20601111\u20601111\u20601111",
		"4111\ufeff1111\ufeff1111\ufeff1111",
		"\u200b4111111111111111",
	} {
		if kind, _ := Detect(q); kind != Card {
			t.Errorf("Detect(%q) = %q, want a card number", q, kind)
		}
	}
}
