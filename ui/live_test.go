package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"paydesk/api"
	"paydesk/model"
)

// refundNow makes a partial refund through the client, so an order has a
// refund in flight for the console to watch.
func (h *harness) refundNow(ref string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o, err := h.prov.GetOrder(ctx, ref)
	if err != nil {
		h.t.Fatal(err)
	}
	for i := range o.Payments {
		p := &o.Payments[i]
		if o.RefundableOn(p).IsPositive() {
			_, err := h.prov.RefundPayment(ctx, o.ID, p.ID, api.RefundPaymentRequest{
				IdempotencyKey: "live-test-" + p.ID,
				Amount:         model.Money{Amount: decimal.RequireFromString("1.00"), Currency: o.Currency},
				Reason:         "live test",
				Metadata:       model.Metadata{"case": "live"},
			})
			if err != nil {
				h.t.Fatal(err)
			}
			return
		}
	}
	h.t.Fatal("nothing refundable on " + ref)
}

func refundable(o *model.Order) bool {
	return o.Status == model.StatusSucceeded && o.Refundable().Amount.GreaterThan(decimal.NewFromInt(2)) && !o.HasRefundInFlight()
}

// settleWait is how long to watch the poll counter for.
const settleWait = 400 * time.Millisecond

func TestLiveRefundStatusSettlesThenStops(t *testing.T) {
	o := harnessOpts{refresh: 40 * time.Millisecond, latency: 3 * time.Second}
	h := newHarness(t, o)
	ref := h.findOrder(func(o *model.Order) bool { return refundable(o) && len(o.Refunds) == 0 })
	h.refundNow(ref)
	s := h.run(80, 24, o)
	s.openOrder(ref)
	v := s.waitText("● live")
	if !strings.Contains(v, "◔ processing") {
		t.Fatalf("the new refund is not shown processing:\n%s", v)
	}
	// p pauses: no more reads while paused.
	s.keys("p")
	s.waitText("❚❚ paused")
	n := h.counter().getOrder.Load()
	time.Sleep(settleWait)
	if m := h.counter().getOrder.Load(); m > n+1 { // one may have been in flight
		t.Fatalf("%d reads while paused", m-n)
	}
	s.keys("p")
	s.waitText("● live")

	// The refund succeeds after the latency; Forage then moves the balance
	// twice more (at 2× and 3× the latency). Jump past all of it.
	h.clock.Advance(4 * o.latency)
	s.waitText("✓ settled")
	v = s.waitText("✓ succeeded")
	n = h.counter().getOrder.Load()
	time.Sleep(settleWait)
	if m := h.counter().getOrder.Load(); m != n {
		t.Fatalf("still polling after every refund settled: %d more reads", m-n)
	}
	if !strings.Contains(v, "updated just now") {
		t.Fatalf("no freshness shown:\n%s", v)
	}
	// The clock moves on; the badge says how old the reading is.
	h.clock.Advance(3 * time.Second)
	s.waitText("updated 3s ago")
}

func TestLeavingTheScreenStopsItsPolling(t *testing.T) {
	o := harnessOpts{refresh: 30 * time.Millisecond}
	h := newHarness(t, o)
	ref := h.findOrder(func(o *model.Order) bool { return refundable(o) && len(o.Refunds) == 0 })
	h.refundNow(ref)
	s := h.run(80, 24, o)
	s.openOrder(ref)
	s.waitText("● live")
	before := h.counter().getOrder.Load()
	time.Sleep(150 * time.Millisecond)
	if h.counter().getOrder.Load() == before {
		t.Fatal("the order screen is not polling its processing refund")
	}
	s.keys("esc")
	s.waitText("loaded")
	time.Sleep(100 * time.Millisecond) // an answer in flight may still land
	n := h.counter().getOrder.Load()
	time.Sleep(settleWait)
	if m := h.counter().getOrder.Load(); m != n {
		t.Fatalf("the order screen kept polling after it was left: %d reads", m-n)
	}
}

func TestRefundScreenPollsGetRefund(t *testing.T) {
	o := harnessOpts{refresh: 30 * time.Millisecond}
	h := newHarness(t, o)
	ref := h.findOrder(func(o *model.Order) bool { return refundable(o) && len(o.Refunds) == 0 })
	h.refundNow(ref)
	s := h.run(120, 40, o)
	s.openOrder(ref)
	s.keys("right", "enter")
	v := s.waitText("PROCESSING")
	if !strings.Contains(v, "Still processing") {
		t.Fatalf("no processing note:\n%s", v)
	}
	s.waitFor("GetRefund polls", func(string) bool { return h.counter().getRefund.Load() >= 3 })
	h.clock.Advance(4 * 3 * time.Second)
	v = s.waitText("SUCCEEDED")
	v = s.waitText("Bal. settled  yes")
	if !strings.Contains(v, "✓ settled") {
		t.Fatalf("badge not settled:\n%s", v)
	}
}

func TestUnknownIsNeverFailed(t *testing.T) {
	got := statusCell(model.StatusUnknown)
	if !strings.Contains(got, "outcome unknown") || strings.Contains(got, "fail") {
		t.Fatalf("unknown reads %q", got)
	}
}

func TestBackoff(t *testing.T) {
	var l live
	for i, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second} {
		l.errStreak = i
		if got := l.delay(2 * time.Second); got != want {
			t.Errorf("errStreak %d: delay %v, want %v", i, got, want)
		}
	}
}

// TestRefundJourneyShowsTheNewRefundAtOnce goes through the lead's refund
// form and typed confirmation; when the flow pops back with ActionDone the
// order screen shows the refund at once, says so, and watches it settle.
func TestRefundJourneyShowsTheNewRefundAtOnce(t *testing.T) {
	o := harnessOpts{refresh: 40 * time.Millisecond}
	h := newHarness(t, o)
	ref := h.findOrder(func(o *model.Order) bool { return refundable(o) && len(o.Refunds) == 0 })
	s := h.run(80, 24, o)
	s.openOrder(ref)
	s.waitText("No refunds yet.")
	s.keys("f")
	s.waitText("Amount (USD)")
	// huh moves between fields with commands: wait for each focus.
	s.typeText("1.00")
	s.waitText("> 1.00")
	s.keys("enter")
	s.waitText("┃ Reason")
	s.typeText("customer call")
	s.waitText("> customer call")
	s.keys("enter")
	s.waitText("┃ Metadata")
	s.keys("enter")
	s.waitText("┃ External")
	s.keys("enter")
	s.waitText("Type " + ref)
	s.typeText(ref)
	s.keys("enter")
	v := s.waitText("Refunds (1)")
	if !strings.Contains(v, "◔ processing") || !strings.Contains(v, "customer call") {
		t.Fatalf("the new refund is not shown processing:\n%s", v)
	}
	s.waitText("● live")
	h.clock.Advance(4 * 3 * time.Second)
	v = s.waitText("✓ settled")
	if !strings.Contains(v, "◑ partly refunded") {
		t.Fatalf("the order did not reload after the refund settled:\n%s", v)
	}
}

func TestAPollNeverHidesARefundJustRequested(t *testing.T) {
	pending := remember(nil, ActionDone{Refunds: []model.Refund{{ID: "new", Status: model.StatusProcessing}}})
	o := withPending(&model.Order{Refunds: []model.Refund{{ID: "old", Status: model.StatusSucceeded}}}, pending)
	if o.Refund("new") == nil || len(pending) != 1 {
		t.Fatalf("a read that lags lost the new refund: %+v", o.Refunds)
	}
	o = withPending(&model.Order{Refunds: []model.Refund{{ID: "old"}, {ID: "new", Status: model.StatusSucceeded}}}, pending)
	if len(o.Refunds) != 2 || len(pending) != 0 || o.Refund("new").Status != model.StatusSucceeded {
		t.Fatalf("the provider's reading did not take over: %+v, pending %v", o.Refunds, pending)
	}
}

// TestAgoClockRedrawsOnlyWhileVisible: an idle screen still says how old
// its reading is (a tick every agoEvery re-draws it), and leaving the
// screen ends the chain.
func TestAgoClockRedrawsOnlyWhileVisible(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.context(80, 24, harnessOpts{})
	ref := h.findOrder(richOrder)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o, err := h.prov.GetOrder(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	s := newOrderScreen(c, 0, ref).(*orderScreen)
	s.ago.start(&s.base)
	s.Update(orderLoadedMsg{gen: s.live.begin(), order: o})
	if !strings.Contains(s.View(), "updated just now") {
		t.Fatalf("fresh:\n%s", s.View())
	}
	h.clock.Advance(8 * time.Second)
	if _, cmd := s.Update(agoTickMsg{gen: s.ago.gen}); cmd == nil {
		t.Fatal("the clock chain stopped while the screen is visible")
	}
	if !strings.Contains(s.View(), "updated 8s ago") {
		t.Fatalf("after 8s:\n%s", s.View())
	}
	gen := s.ago.gen
	s.Suspend()
	if _, cmd := s.Update(agoTickMsg{gen: gen}); cmd != nil {
		t.Fatal("the clock chain outlived the screen")
	}
}

func TestUnknownRefundReadsPlainly(t *testing.T) {
	c := &Context{Width: 80, Height: 24, Styles: testStyles(), Keys: DefaultKeys(false),
		Providers: []api.Provider{benchProvider{}}, Refresh: time.Second, Timeout: time.Second,
		Now: func() time.Time { return testStart }}
	usd := func(s string) model.Money { return model.Money{Amount: decimal.RequireFromString(s), Currency: "USD"} }
	o := &model.Order{ID: "o1", Ref: "o1", Currency: "USD", Status: model.StatusSucceeded,
		Payments: []model.Payment{{ID: "p1", Amount: usd("10.00"), Status: model.StatusSucceeded}},
		Refunds:  []model.Refund{{ID: "r1", PaymentID: "p1", Amount: usd("4.00"), Status: model.StatusUnknown, ProviderStatus: "gateway_timeout"}}}
	rs := newRefundScreen(c, 0, o, "r1")
	rs.SetSize(80, c.BodyHeight())
	v := rs.View()
	if !strings.Contains(v, "OUTCOME UNKNOWN") || !strings.Contains(v, "NOT failed") || strings.Contains(v, "FAILED") {
		t.Fatalf("unknown refund:\n%s", v)
	}
	os := newOrderScreen(c, 0, "o1").(*orderScreen)
	os.SetSize(80, c.BodyHeight())
	os.Update(orderLoadedMsg{gen: os.live.begin(), order: o})
	v = os.View()
	if !strings.Contains(v, "? outcome unknown") || strings.Contains(v, "failed") || !strings.Contains(v, "● live") {
		t.Fatalf("order with an unknown refund:\n%s", v)
	}
	if !strings.Contains(v, "Pending       4.00 USD") {
		t.Fatalf("an unknown refund is not counted as pending:\n%s", v)
	}
}
