package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"

	"paydesk/model/pii"
)

// Card numbers in provider text are masked wherever text is drawn.
func TestLineMasksCardNumbers(t *testing.T) {
	for _, in := range []string{
		"card 4111111111111111 declined",
		"card 4111 1111 1111 1111 declined",
		"ebt 9999 1234 5678 9012",
	} {
		got := Line(in)
		if strings.Contains(got, "4111111111111111") || strings.Contains(got, "1111 1111 1111") || strings.Contains(got, "1234 5678") {
			t.Errorf("Line(%q) = %q: card digits visible", in, got)
		}
		if Line(got) != got {
			t.Errorf("not idempotent after masking: %q -> %q", got, Line(got))
		}
	}
	if got := Line("order 93c7dad6b5 for 20.00 at 2026-11-22"); got != "order 93c7dad6b5 for 20.00 at 2026-11-22" {
		t.Errorf("ordinary text changed: %q", got)
	}
}

// cardsInOtherDigits are card numbers as a provider's text may hold them:
// in the digits of another script, in full-width forms, or grouped with the
// separators people type. The agent-input guard (model/pii) reads each as a
// card number; the display must mask each.
var cardsInOtherDigits = []struct{ name, in, last4 string }{
	{"arabic-indic", "بطاقة ٤١١١١١١١١١١١١١١١ مرفوضة", "1111"},
	{"extended arabic-indic grouped", "کارت ۴۱۱۱ ۱۱۱۱ ۱۱۱۱ ۱۲۳۴ رد شد", "1234"},
	{"full-width", "card ４１１１１１１１１１１１１２３４ declined", "1234"},
	{"full-width dashes", "４１１１－１１１１－１１１１－１２３４", "1234"},
	{"devanagari", "कार्ड ४१११११११११११११११", "1111"},
	{"mixed scripts", "4111 ١١١١ １１１１ 1234", "1234"},
	{"dots", "card 4111.1111.1111.1234 declined", "1234"},
	{"ebt in arabic-indic", "٩٩٩٩ ٠٠٠٠ ٠٠٠٠ ٠٠٠١", "0001"},
	{"between bidi overrides", "refund \u202e٤١١١١١١١١١١١١٢٣٤\u202c", "1234"},
}

// TestLineMasksCardNumbersInAnyDigits: what the guard calls a card number
// (pii.Detect), Line and Block mask, in whatever digits it is written; the
// masked text is no card number to the guard either.
func TestLineMasksCardNumbersInAnyDigits(t *testing.T) {
	for _, tc := range cardsInOtherDigits {
		if k, _ := pii.Detect(tc.in); k != pii.Card {
			t.Fatalf("%s: the guard does not read %q as a card (%q): the case tests nothing", tc.name, tc.in, k)
		}
		for fn, f := range map[string]func(string) string{"Line": Line, "Block": Block} {
			got := f(tc.in)
			if k, why := pii.Detect(got); k == pii.Card {
				t.Errorf("%s: %s(%q) = %q: still a card number to the guard (%s)", tc.name, fn, tc.in, got, why)
			}
			if !strings.Contains(got, pii.Mask+tc.last4) {
				t.Errorf("%s: %s(%q) = %q, want the mask and last four %s", tc.name, fn, tc.in, got, tc.last4)
			}
			if f(got) != got {
				t.Errorf("%s: %s not idempotent: %q -> %q", tc.name, fn, got, f(got))
			}
		}
	}
	for _, in := range []string{
		"طلب ١٢٣٤ بمبلغ ٢٠٫٠٠ ريال",                // short runs of Arabic-Indic digits
		"２０２６年１１月２２日 ２０．００",                        // a full-width date and amount
		"order 93c7dad6b5 for 20.00 at 2026-11-22", // ASCII, as before
		"v1.2.3 build 2026.11.22 id 550e8400-e29b-41d4-a716-446655440000",
	} {
		if got := Line(in); got != in {
			t.Errorf("ordinary text changed: %q -> %q", in, got)
		}
	}
}

// TestHostileCorpusAroundOtherDigitCards: each hostile string of the shared
// and embedded corpora, with a card number in other digits beside it and
// inside it, never leaves a card number the guard would see on screen.
func TestHostileCorpusAroundOtherDigitCards(t *testing.T) {
	for _, path := range []string{"../../../shared/hostile-strings.jsonl", "testdata/hostile-strings.jsonl"} {
		for _, e := range readCorpus(t, path) {
			for _, c := range cardsInOtherDigits {
				half := len(e.Value) / 2
				for half > 0 && !utf8.RuneStart(e.Value[half]) {
					half--
				}
				for _, in := range []string{
					e.Value + " " + c.in + " " + e.Value,
					e.Value[:half] + c.in + e.Value[half:],
				} {
					for fn, f := range map[string]func(string) string{"Line": Line, "Block": Block} {
						if got := f(in); func() bool { k, _ := pii.Detect(got); return k == pii.Card }() {
							t.Errorf("%s + %s: %s(%q) = %q still shows a card number", e.Name, c.name, fn, short(in), short(got))
						}
					}
				}
			}
		}
	}
}
