package ui

import (
	"strings"
	"testing"

	"paydesk/api/journal"
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

// The status line says how many earlier actions are being checked, then how
// the check ended.
func TestRecoveryMessages(t *testing.T) {
	for _, tc := range []struct {
		pr   journal.RecoveryProgress
		want string
		done bool
	}{
		{journal.RecoveryProgress{Total: 3, Checked: 1}, "Checking 3 earlier money actions… 1 done", false},
		{journal.RecoveryProgress{Total: 1, Checked: 1, Done: true}, "Checked 1 earlier money action: all resolved.", true},
		{journal.RecoveryProgress{Total: 3, Checked: 3, Open: 2, Done: true}, "2 earlier money actions still have an unknown outcome", true},
		{journal.RecoveryProgress{Done: true}, "", true},
	} {
		m := NewRecoveryMsg(tc.pr)
		if m.Done != tc.done || !strings.HasPrefix(m.Text, tc.want) || (tc.want == "" && m.Text != "") {
			t.Errorf("NewRecoveryMsg(%+v) = %+v, want %q", tc.pr, m, tc.want)
		}
	}
}
