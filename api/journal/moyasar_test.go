package journal

import (
	"context"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/moyasar"
	msandbox "paydesk/api/sandbox/moyasar"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// Moyasar keys refunds by a client-chosen transaction_id in the body (derived
// from the idempotency key) and remembers it 24 hours: a crash after the call
// is replayed with the same id; past the window it is found by reading.
func TestMoyasarCrashAfterCall(t *testing.T) {
	hs := sandboxtest.Serve(t, msandbox.New(msandbox.Options{Orders: 40, Seed: 5, RefundLatency: -1, ProcessingWindow: -1}))
	c, err := moyasar.New(moyasar.Config{BaseURL: hs.URL, APIKey: api.NewSecret(msandbox.DefaultAPIKey), Limiter: rate.NewLimiter(rate.Inf, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var orders []*model.Order
	walkOrders(t, c, func(o *model.Order) bool {
		if len(o.Payments) > 0 && !o.HasRefundInFlight() && o.Refundable().Amount.GreaterThanOrEqual(model.MustParse("2", o.Currency).Amount) {
			orders = append(orders, o)
		}
		return len(orders) < 2
	})
	if len(orders) < 2 {
		t.Fatalf("only %d refundable orders", len(orders))
	}
	for i, late := range []bool{false, true} {
		o := orders[i]
		now := time.Now
		j, err := Open(Options{Dir: t.TempDir(), Now: func() time.Time { return now() }})
		if err != nil {
			t.Fatal(err)
		}
		j.testHook = func(step string) {
			if step == "after_call" {
				panic("crash")
			}
		}
		amount := model.MustParse("1", o.Currency)
		func() {
			defer func() { _ = recover() }()
			_, _ = Wrap(c, j, "alice").RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{Amount: amount, Reason: "crash"})
		}()
		j.testHook = nil
		if late {
			now = func() time.Time { return time.Now().Add(25 * time.Hour) }
		}
		out := j.Recover(ctx, map[string]api.Provider{"moyasar": c})
		if len(out) != 1 || out[0].Intent.State != StateSucceeded || len(out[0].Intent.RefundIDs) != 1 {
			t.Fatalf("late=%v: recover %+v", late, out)
		}
		wantSends := 2
		if late {
			wantSends = 1
		}
		if out[0].Intent.Sends != wantSends {
			t.Fatalf("late=%v: sends %d, want %d (%s)", late, out[0].Intent.Sends, wantSends, out[0].Intent.Note)
		}
		after, err := c.GetOrder(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(after.Refunds), len(o.Refunds)+1; got != want {
			t.Fatalf("late=%v: %d refunds on the order, want %d", late, got, want)
		}
		t.Logf("late=%v: %s; refund %s", late, out[0].Intent.Note, out[0].Intent.RefundIDs[0])
	}
}
