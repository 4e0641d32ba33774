package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"

	"paydesk/model"
)

// TestTooSmallNoticeSwallowsKeys is issue 8 item 9: a confirmation half
// typed, the terminal shrunk below what it needs, the rest typed and enter
// pressed while only the notice shows. Nothing may reach the provider, and
// the half-typed word is gone when the confirmation shows again.
func TestTooSmallNoticeSwallowsKeys(t *testing.T) {
	t.Parallel()
	o := harnessOpts{refresh: time.Hour}
	h, wl := newForageHarness(t, o)
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Refunds) == 0 && goodCard(o) && plainOrder(o)
	})
	s := h.run(80, 24, o)
	s.openOrder(ref)
	s.refundAllToConfirm("customer returned the basket")
	mark := len(wl.list())
	s.typeText(ref[:5])
	s.waitText("› " + ref[:5])
	s.resize(50, 14)
	v := s.waitText("needs a terminal")
	for i, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w > 50 {
			t.Errorf("notice line %d is %d cells wide at 50x14: %q", i, w, l)
		}
	}
	s.typeText(ref[5:])
	s.keys("enter")
	s.keys("esc") // swallowed too: the confirmation must still be there
	// Give the keys time to act if they were going to.
	time.Sleep(300 * time.Millisecond)
	wl.none(t, mark, "keys typed behind the too-small notice")
	s.resize(80, 24)
	v = s.waitText("and press enter to confirm")
	if strings.Contains(v, "› "+ref[:5]) {
		t.Fatalf("the half-typed confirmation survived the shrink:\n%s", v)
	}
	wl.none(t, mark, "after growing back")
}

// TestNoticeFitsItsWidth: below the smallest layout the notice still reads
// in full, wrapped to the width it has.
func TestNoticeFitsItsWidth(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	s := h.run(40, 10, harnessOpts{})
	v := s.waitText("needs a terminal")
	flat := strings.Join(strings.Fields(v), " ")
	if !strings.Contains(flat, "paydesk needs a terminal of at least "+itoaT(MinWidth)+"x"+itoaT(MinHeight)) {
		t.Fatalf("the notice is cut:\n%s", v)
	}
	for i, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w > 40 {
			t.Errorf("line %d is %d cells wide at 40x10: %q", i, w, l)
		}
	}
}
