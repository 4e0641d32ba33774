package ui

import (
	"strings"
	"testing"
)

// Start-up recovery runs while the console is up: its progress stays on the
// status line (keys and other, fading statuses do not lose it) until it is
// done, when the outcome replaces it.
func TestRecoveryProgressOnTheStatusLine(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	s := h.run(80, 24, harnessOpts{})
	s.waitText("Orders")
	s.tm.Send(RecoveryMsg{Text: "Checking 2 earlier actions… their orders accept no money action until checked"})
	s.waitText("Checking 2 earlier actions…")
	s.keys("j")
	s.tm.Send(StatusMsg{Text: "something else"})
	s.waitText("something else")
	h.clock.Advance(statusFade + 1)
	s.keys("k")
	s.waitText("Checking 2 earlier actions…")
	s.tm.Send(RecoveryMsg{Text: "Checked 2 earlier actions: all resolved.", Done: true})
	v := s.waitText("Checked 2 earlier actions: all resolved.")
	if strings.Contains(v, "Checking 2") {
		t.Fatalf("progress still shown after Done:\n%s", v)
	}
}
