package journal

import (
	"context"
	"net/http"
	"testing"
	"time"

	"paydesk/api"
	fsandbox "paydesk/api/sandbox/forage"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// The key window is the provider's, but the journal judges it by the clock
// of whichever host resolves the intent. With the journal shared (one
// PostgreSQL, two paydesk serve hosts, or a state directory moved between
// machines), the host that resolves may run behind the host that sent by as
// much as the skew the journal itself allows between clocks (Options.Skew,
// 2 minutes). Forage's window is 10 minutes and the replay margin 1 minute:
// host B, 2 minutes behind, replays at 10m30s real time, Forage no longer
// knows the key, and the customer is refunded twice.
func TestReviewReplayPastKeyWindowOnASlowerClock(t *testing.T) {
	clk := sandboxtest.NewClock(time.Now())
	sb := fsandbox.New(fsandbox.Options{Orders: 5, Seed: 7, RefundLatency: -1, RateLimit: 1 << 30,
		Now: clk.Now, IdempotencyTTL: 10 * time.Minute})
	hs := sandboxtest.Serve(t, sb)
	e := &sandboxEnv{t: t, sb: sb, url: hs.URL}
	e.clean = e.client(http.DefaultTransport)
	o := e.newOrder()
	c := e.client(http.DefaultTransport)
	if w := c.Capabilities().KeyWindow; w != 10*time.Minute {
		t.Fatalf("the Forage client's key window is %s; this test assumes 10m", w)
	}
	dir := t.TempDir()
	ctx := context.Background()

	// Host A sends the refund and dies before recording the answer.
	a, err := Open(Options{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	a.testHook = func(step string) {
		if step == "after_call" {
			panic("host A dies")
		}
	}
	func() {
		defer func() { _ = recover() }()
		_, _ = Wrap(c, a, "desk-1").RefundPayment(ctx, o.ID, o.Payments[0].ID,
			api.RefundPaymentRequest{Amount: model.MustParse("10.00", "USD"), Reason: "damaged", IdempotencyKey: "review-key-window-1"})
	}()
	a.testHook = nil

	// 10m30s later (real time, and the provider's), host B, whose clock is
	// 2 minutes behind (within Options.Skew), resolves it.
	clk.Advance(10*time.Minute + 30*time.Second)
	b, err := Open(Options{Dir: dir, Now: func() time.Time { return clk.Now().Add(-2 * time.Minute) }})
	if err != nil {
		t.Fatal(err)
	}
	out := b.Recover(ctx, map[string]api.Provider{"forage": c})
	by, _ := e.refundsByIntent(o.ID)
	n := 0
	for marker, rs := range by {
		if marker != "" {
			n += len(rs)
		}
	}
	if n != 1 {
		t.Errorf("one confirmation made %d refunds at Forage (recovery: %+v)", n, out)
	}
}
