package api

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/time/rate"

	"paydesk/model"
)

func TestViewerChangesNothing(t *testing.T) {
	inner := &countingProvider{}
	p := Guard(inner, RoleViewer, DefaultRefundLimits(), nil)
	ctx := context.Background()
	_, e1 := p.RefundOrder(ctx, "o", RefundOrderRequest{Expected: model.MustParse("1.00", "USD")})
	_, e2 := p.RefundPayment(ctx, "o", "p", RefundPaymentRequest{Amount: model.MustParse("1.00", "USD")})
	_, e3 := p.UpdatePayment(ctx, "o", "p", PaymentUpdate{Metadata: model.Metadata{"a": "b"}})
	_, e4 := p.UpdateRefund(ctx, "o", "r", RefundUpdate{})
	_, e5 := p.CancelPayment(ctx, "o", "p", CancelRequest{})
	for i, err := range []error{e1, e2, e3, e4, e5} {
		var re *RoleError
		if !errors.Is(err, ErrForbidden) || !errors.As(err, &re) || re.Role != RoleViewer {
			t.Errorf("mutation %d: err = %v, want a viewer RoleError", i+1, err)
		}
	}
	if len(inner.calls) != 0 {
		t.Fatalf("calls reached the provider through the guard: %v", inner.calls)
	}
	if _, err := p.ListOrders(ctx, OrderQuery{}); err != nil {
		t.Fatal(err)
	}
	c := p.Capabilities()
	if c.RefundOrder || c.RefundPayment || c.UpdatePayment || c.UpdateRefund || c.CancelPayment || c.CanCancel != nil {
		t.Errorf("a viewer is offered actions: %+v", c)
	}
	if r, ok := RoleOf(p); !ok || r != RoleViewer {
		t.Errorf("RoleOf = %v, %v", r, ok)
	}
}

func TestAgentRefundsUpToTheLimit(t *testing.T) {
	lim := DefaultRefundLimits()
	lim.PerCurrency = map[string]decimal.Decimal{"KWD": decimal.RequireFromString("30.000")}
	ctx := context.Background()
	for _, role := range []Role{RoleAgent, RoleApprover} {
		inner := &countingProvider{}
		p := Guard(inner, role, lim, nil)
		if _, err := p.RefundPayment(ctx, "o", "p", RefundPaymentRequest{Amount: model.MustParse("100.00", "USD")}); err != nil {
			t.Errorf("%s: 100.00 USD refused: %v", role, err)
		}
		_, err := p.RefundPayment(ctx, "o", "p", RefundPaymentRequest{Amount: model.MustParse("100.01", "USD")})
		var re *RoleError
		if !errors.As(err, &re) || re.Limit == nil || re.Limit.String() != model.MustParse("100.00", "USD").String() {
			t.Errorf("%s: 100.01 USD: err = %v, want the 100.00 USD limit", role, err)
		}
		if _, err := p.RefundPayment(ctx, "o", "p", RefundPaymentRequest{Amount: model.MustParse("30.001", "KWD")}); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: 30.001 KWD over the KWD limit: err = %v", role, err)
		}
		if _, err := p.RefundPayment(ctx, "o", "p", RefundPaymentRequest{}); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: an unstated amount passed: %v", role, err)
		}
		if _, err := p.RefundOrder(ctx, "o", RefundOrderRequest{Expected: model.MustParse("250.00", "USD")}); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: whole-order refund over the limit: err = %v", role, err)
		}
		if _, err := p.CancelPayment(ctx, "o", "p", CancelRequest{}); !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: cancel allowed: %v", role, err)
		}
		if _, err := p.UpdatePayment(ctx, "o", "p", PaymentUpdate{}); err != nil {
			t.Errorf("%s: metadata edit refused: %v", role, err)
		}
		want := []string{"refundpayment", "update"}
		if len(inner.calls) != len(want) || inner.calls[0] != want[0] || inner.calls[1] != want[1] {
			t.Errorf("%s: calls that reached the provider: %v, want %v", role, inner.calls, want)
		}
		c := p.Capabilities()
		if !c.RefundPayment || !c.RefundOrder || !c.UpdatePayment || c.CancelPayment || c.CanCancel != nil {
			t.Errorf("%s: capabilities %+v", role, c)
		}
	}
}

// A whole-order refund moves whatever is left: the guard reads the order,
// and an order with more left than the agent may refund is refused even
// when the confirmed amount was under the limit.
func TestAgentWholeOrderRefundReadsWhatIsLeft(t *testing.T) {
	inner := &countingProvider{}
	p := Guard(inner, RoleAgent, DefaultRefundLimits(), nil)
	_, err := p.RefundOrder(context.Background(), "o", RefundOrderRequest{Expected: model.MustParse("10.00", "USD")})
	if !errors.Is(err, ErrForbidden) {
		t.Fatalf("err = %v: an order whose remaining amount cannot be read was refunded", err)
	}
	if len(inner.calls) != 1 || inner.calls[0] != "get" {
		t.Fatalf("calls = %v, want only the read", inner.calls)
	}
}

func TestAdminDoesEverything(t *testing.T) {
	inner := &countingProvider{}
	p := Guard(inner, RoleAdmin, DefaultRefundLimits(), nil)
	ctx := context.Background()
	if _, err := p.RefundPayment(ctx, "o", "p", RefundPaymentRequest{Amount: model.MustParse("5000.00", "USD")}); err != nil {
		t.Error(err)
	}
	if _, err := p.CancelPayment(ctx, "o", "p", CancelRequest{}); err != nil {
		t.Error(err)
	}
	if c := p.Capabilities(); !c.CancelPayment || c.CanCancel == nil {
		t.Errorf("admin capabilities %+v", c)
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range []Role{RoleViewer, RoleAgent, RoleApprover, RoleAdmin} {
		if got, err := ParseRole(r.String()); err != nil || got != r {
			t.Errorf("ParseRole(%q) = %v, %v", r, got, err)
		}
	}
	if _, err := ParseRole("root"); err == nil {
		t.Error("unknown role accepted")
	}
}

// One key's money actions are rationed across all its sessions; refused
// actions cost nothing, reads and metadata edits are not counted.
func TestMoneyActionsPerKeyAreRationed(t *testing.T) {
	inner := &countingProvider{}
	lim := rate.NewLimiter(rate.Every(time.Hour), 2)
	a := Guard(inner, RoleAgent, DefaultRefundLimits(), lim)
	b := Guard(inner, RoleAgent, DefaultRefundLimits(), lim) // a second session of the same key
	ctx := context.Background()
	small := RefundPaymentRequest{Amount: model.MustParse("1.00", "USD")}
	if _, err := a.RefundPayment(ctx, "o", "p", RefundPaymentRequest{Amount: model.MustParse("500.00", "USD")}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("over the limit: %v", err)
	}
	for i := 0; i < 3; i++ {
		if _, err := a.UpdatePayment(ctx, "o", "p", PaymentUpdate{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.RefundPayment(ctx, "o", "p", small); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RefundPayment(ctx, "o", "p", small); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RefundPayment(ctx, "o", "p", small); !errors.Is(err, ErrTooManyMoneyActions) {
		t.Fatalf("third money action: err = %v", err)
	}
	if _, err := a.CancelPayment(ctx, "o", "p", CancelRequest{}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("cancel by an agent: %v", err)
	}
}

func TestRoleErrorReads(t *testing.T) {
	lim := model.MustParse("100.00", "USD")
	for _, c := range []struct {
		err  *RoleError
		want string
	}{
		{&RoleError{Role: RoleAgent, Action: "refund", Limit: &lim}, "Refused: an agent may refund at most " + lim.String() + " in one action; nothing was sent (an admin may refund more)."},
		{&RoleError{Role: RoleViewer, Action: "edit metadata"}, "Refused: a viewer may not edit metadata; nothing was sent."},
		{&RoleError{Role: RoleApprover, Action: "cancel a payment"}, "Refused: an approver may not cancel a payment; nothing was sent."},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
