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

// A first load the shared budget cannot serve says so as information, as
// the live screens do, and is asked again by itself: not "✗ Could not
// load", for the orders list and for an order.
func TestThrottledFirstLoadIsInformation(t *testing.T) {
	// The limiter keeps real time: a short budget and a shorter deadline.
	every := 700 * time.Millisecond
	lim := rate.NewLimiter(rate.Every(every), 1)
	lim.Allow() // spent: the next request is further away than the deadline
	o := harnessOpts{limiter: lim}
	h := newHarness(t, o)
	c := h.context(80, 24, o)
	c.Timeout = 300 * time.Millisecond
	s := h.runCtx(c)
	v := s.waitText("Throttled")
	if !strings.Contains(v, "next try in") || strings.Contains(v, "✗") || strings.Contains(v, "Could not") {
		t.Fatalf("a throttled first page reads as a failure:\n%s", v)
	}
	lim.SetLimit(rate.Inf)
	s.waitText("loaded") // asked again by itself once the wait is over

	lim.SetLimit(rate.Every(every))
	lim.SetBurst(1)
	lim.Allow()
	s.keys("enter")
	v = s.waitText("Throttled")
	if !strings.Contains(v, "next refresh in") || strings.Contains(v, "✗") || strings.Contains(v, "Could not") {
		t.Fatalf("a throttled first read of an order reads as a failure:\n%s", v)
	}
}

// A search a provider's spent budget could not ask says so as information
// naming the provider, not as "✗ could not be asked".
func TestThrottledSearchIsInformation(t *testing.T) {
	lim := rate.NewLimiter(rate.Inf, 1)
	o := harnessOpts{limiter: lim}
	h := newHarness(t, o)
	c := h.context(80, 24, o)
	c.Timeout = 300 * time.Millisecond
	s := h.runCtx(c)
	s.waitText("loaded")
	lim.SetLimit(rate.Every(time.Minute))
	lim.SetBurst(1)
	lim.Allow()
	s.keys("g")
	s.waitText("Find:")
	s.typeText("ffff000011")
	s.keys("enter")
	v := s.waitText("was not asked")
	if !strings.Contains(v, "Throttled: Forage was not asked") || strings.Contains(v, "✗") {
		t.Fatalf("a throttled search reads as a failure:\n%s", v)
	}
}
