package digitalriver

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/shopspring/decimal"

	"paydesk/api"
	sbx "paydesk/api/sandbox/digitalriver"
	"paydesk/model"
)

// TestChargesUnderPaymentAndLegacyTopLevel: API version 2021-03-23 moved an
// order's charges to payment.charges; the client reads them there, falls back
// to the old top-level charges only when payment is absent, and never lists a
// charge twice when an answer carries both.
func TestChargesUnderPaymentAndLegacyTopLevel(t *testing.T) {
	charge := `{"id":"c1","createdTime":"2021-04-01T10:00:00Z","currency":"USD","amount":10.5,"state":"pending","sourceId":"s1"}`
	cases := []struct {
		name, body string
		want       []string
	}{
		{"current", `{"id":"o1","currency":"USD","state":"accepted","payment":{"sources":[{"id":"s1","type":"creditCard"}],"charges":[` + charge + `],"session":{"id":"x","state":"complete"}}}`, []string{"c1"}},
		{"legacy", `{"id":"o1","currency":"USD","state":"accepted","charges":[` + charge + `]}`, []string{"c1"}},
		{"both", `{"id":"o1","currency":"USD","state":"accepted","charges":[` + charge + `],"payment":{"charges":[` + charge + `]}}`, []string{"c1"}},
		{"none", `{"id":"o1","currency":"USD","state":"accepted"}`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w wireOrder
			if err := json.Unmarshal([]byte(c.body), &w); err != nil {
				t.Fatal(err)
			}
			o, err := w.toModel(nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Payments) != len(c.want) {
				t.Fatalf("payments %d, want %d", len(o.Payments), len(c.want))
			}
			for i, id := range c.want {
				p := o.Payments[i]
				if p.ID != id || p.Status != model.StatusProcessing || p.ProviderStatus != "pending" {
					t.Fatalf("payment %d: %+v", i, p)
				}
			}
		})
	}
}

// TestPartialRefundIsOrderLevel: the console asks for an order-level partial
// refund (no payment id); the body names only the order, and the limit is the
// order's availableToRefundAmount.
func TestPartialRefundIsOrderLevel(t *testing.T) {
	f := newFixture(t, sbx.Options{Seed: 5})
	ctx := context.Background()
	o := f.fresh()
	amt := model.Money{Amount: decimal.NewFromInt(1), Currency: o.Currency}
	res, err := f.c.RefundPayment(ctx, o.ID, "", api.RefundPaymentRequest{IdempotencyKey: "order-part-1", Amount: amt, Reason: "late"})
	if err != nil || len(res.Refunds) != 1 || res.Refunds[0].OrderID != o.ID {
		t.Fatalf("order-level partial refund: %v %+v", err, res)
	}
	over, _ := o.AvailableToRefund.Add(model.MustParse("1", o.Currency))
	_, err = f.c.RefundPayment(ctx, o.ID, "", api.RefundPaymentRequest{IdempotencyKey: "order-part-2", Amount: over, Reason: "late"})
	if e, ok := api.AsError(err); !ok || e.Code != "amount_too_large" || e.HTTPStatus != 0 {
		t.Fatalf("over the order's limit: %v", err)
	}
	if _, err := f.c.RefundPayment(ctx, o.ID, "no-such-charge", api.RefundPaymentRequest{IdempotencyKey: "order-part-3", Amount: amt, Reason: "x"}); err == nil {
		t.Fatal("a charge id that is not on the order was accepted")
	}
}
