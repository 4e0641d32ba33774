package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"paydesk/model"
)

// countingProvider records which methods reached it. It stands in for a real
// client only to prove that the guard stops calls before any provider code
// runs; the clients themselves are tested against the sandboxes.
type countingProvider struct{ calls []string }

func (c *countingProvider) ID() string   { return "test" }
func (c *countingProvider) Name() string { return "Test" }
func (c *countingProvider) Capabilities() Capabilities {
	return Capabilities{RefundOrder: true, RefundPayment: true, UpdatePayment: true, UpdateRefund: true, CancelPayment: true, CanCancel: func(*model.Payment) bool { return true }}
}
func (c *countingProvider) ListOrders(context.Context, OrderQuery) (OrderPage, error) {
	c.calls = append(c.calls, "list")
	return OrderPage{}, nil
}
func (c *countingProvider) GetOrder(context.Context, string) (*model.Order, error) {
	c.calls = append(c.calls, "get")
	return &model.Order{}, nil
}
func (c *countingProvider) GetRefund(context.Context, string, string) (*model.Refund, error) {
	c.calls = append(c.calls, "getrefund")
	return &model.Refund{}, nil
}
func (c *countingProvider) UpdatePayment(context.Context, string, string, PaymentUpdate) (*model.Payment, error) {
	c.calls = append(c.calls, "update")
	return nil, nil
}
func (c *countingProvider) UpdateRefund(context.Context, string, string, RefundUpdate) (*model.Refund, error) {
	c.calls = append(c.calls, "updaterefund")
	return nil, nil
}
func (c *countingProvider) RefundOrder(context.Context, string, RefundOrderRequest) (*RefundResult, error) {
	c.calls = append(c.calls, "refundorder")
	return nil, nil
}
func (c *countingProvider) RefundPayment(context.Context, string, string, RefundPaymentRequest) (*RefundResult, error) {
	c.calls = append(c.calls, "refundpayment")
	return nil, nil
}
func (c *countingProvider) CancelPayment(context.Context, string, string, CancelRequest) (*model.Payment, error) {
	c.calls = append(c.calls, "cancel")
	return nil, nil
}

func TestReadOnlyRefusesEveryChange(t *testing.T) {
	inner := &countingProvider{}
	p := ReadOnly(inner)
	ctx := context.Background()
	_, e1 := p.RefundOrder(ctx, "o", RefundOrderRequest{Reason: "x"})
	_, e2 := p.RefundPayment(ctx, "o", "p", RefundPaymentRequest{Amount: model.MustParse("1", "USD")})
	_, e3 := p.UpdatePayment(ctx, "o", "p", PaymentUpdate{Metadata: model.Metadata{"a": "b"}})
	_, e4 := p.UpdateRefund(ctx, "o", "r", RefundUpdate{})
	_, e5 := p.CancelPayment(ctx, "o", "p", CancelRequest{})
	for i, err := range []error{e1, e2, e3, e4, e5} {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("mutation %d: err = %v, want ErrReadOnly", i+1, err)
		}
	}
	if len(inner.calls) != 0 {
		t.Fatalf("calls reached the provider through the guard: %v", inner.calls)
	}
	if _, err := p.GetOrder(ctx, "o"); err != nil || len(inner.calls) != 1 {
		t.Fatalf("reads must pass: %v %v", err, inner.calls)
	}
	c := p.Capabilities()
	if c.RefundOrder || c.RefundPayment || c.UpdatePayment || c.UpdateRefund || c.CancelPayment || c.CanCancel != nil {
		t.Fatalf("read-only capabilities still offer actions: %+v", c)
	}
	if !IsReadOnly(p) || IsReadOnly(inner) {
		t.Fatal("IsReadOnly wrong")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	const v = "sk_live_very_secret_value"
	s := NewSecret(v)
	type cfg struct {
		Key  Secret
		Name string
	}
	c := cfg{Key: s, Name: "x"}
	var outs []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		outs = append(outs, fmt.Sprintf(f, s), fmt.Sprintf(f, c), fmt.Sprintf(f, &c))
	}
	j, _ := json.Marshal(c)
	outs = append(outs, string(j), s.String())
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("cfg", "key", s, "cfg", c)
	outs = append(outs, buf.String())
	for _, o := range outs {
		if strings.Contains(o, v) || strings.Contains(o, fmt.Sprintf("%x", v)) {
			t.Fatalf("secret printed: %s", o)
		}
	}
	if s.Reveal() != v {
		t.Fatal("Reveal lost the value")
	}
}

func TestErrorText(t *testing.T) {
	e := &Error{Provider: "Forage", Op: "refund order abc", HTTPStatus: 400, Code: "wait_for_batch_refund", Message: "Active refunds pending",
		Fields: []FieldError{{Field: "reason", Message: "required"}}}
	got := e.Error()
	for _, want := range []string{"Forage", "400", "wait_for_batch_refund", "Active refunds pending", "reason: required"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	u := &Error{Unknown: true, Err: context.DeadlineExceeded}
	if !IsOutcomeUnknown(fmt.Errorf("wrapped: %w", u)) || !errors.Is(u, context.DeadlineExceeded) {
		t.Error("unknown outcome not detectable through wrapping")
	}
	if IsOutcomeUnknown(e) {
		t.Error("a 400 reads as unknown")
	}
}
