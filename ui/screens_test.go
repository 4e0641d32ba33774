package ui

import (
	"strconv"
	"testing"
)

func TestOrdersGolden(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		h := newHarness(t, harnessOpts{})
		s := h.run(sz.w, sz.h, harnessOpts{})
		v := s.waitText("loaded")
		checkGolden(t, "orders_"+itoaT(sz.w)+"x"+itoaT(sz.h), v)
	}
}

func itoaT(n int) string {
	return strconv.Itoa(n)
}
