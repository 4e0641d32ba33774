package ui

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/model"
)

// When the provider budget every session shares is spent, a live screen
// says "throttled, next refresh in Ns" and keeps the order it shows,
// instead of reporting a failure.
func TestSpentBudgetSaysThrottledNotFailed(t *testing.T) {
	lim := rate.NewLimiter(rate.Inf, 1)
	o := harnessOpts{refresh: 40 * time.Millisecond, limiter: lim}
	h := newHarness(t, o)
	ref := h.findOrder(func(o *model.Order) bool { return refundable(o) && len(o.Refunds) == 0 })
	h.refundNow(ref) // a refund settling: the screen keeps polling
	s := h.run(80, 24, o)
	s.openOrder(ref)
	// The budget runs dry: one request every 30 s from now on.
	lim.SetLimit(rate.Every(30 * time.Second))
	lim.SetBurst(1)
	lim.Allow()
	v := s.waitText("Throttled")
	if !strings.Contains(v, "next refresh in") || strings.Contains(v, "✗") {
		t.Fatalf("the spent budget reads as a failure:\n%s", v)
	}
	if !strings.Contains(v, "Payments (") {
		t.Fatalf("the order went away while throttled:\n%s", v)
	}
}
