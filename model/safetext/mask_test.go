package safetext

import (
	"strings"
	"testing"
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
