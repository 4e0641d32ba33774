package api

import (
	"context"

	"paydesk/model"
)

// ReadOnly wraps a provider so that nothing can change through it: every
// mutating method returns ErrReadOnly before any request is made, and the
// capabilities offer no actions. The guard sits in the api layer, under every
// screen and key, so a forgotten check in the UI cannot move money.
func ReadOnly(p Provider) Provider { return readOnly{p} }

// IsReadOnly reports whether p is wrapped by ReadOnly.
func IsReadOnly(p Provider) bool {
	_, ok := p.(readOnly)
	return ok
}

type readOnly struct{ p Provider }

func (r readOnly) ID() string   { return r.p.ID() }
func (r readOnly) Name() string { return r.p.Name() }

func (r readOnly) Capabilities() Capabilities {
	c := r.p.Capabilities()
	c.RefundOrder, c.RefundPayment, c.UpdatePayment, c.UpdateRefund, c.CancelPayment = false, false, false, false, false
	c.CanCancel = nil
	return c
}

func (r readOnly) ListOrders(ctx context.Context, q OrderQuery) (OrderPage, error) {
	return r.p.ListOrders(ctx, q)
}

func (r readOnly) GetOrder(ctx context.Context, id string) (*model.Order, error) {
	return r.p.GetOrder(ctx, id)
}

func (r readOnly) GetRefund(ctx context.Context, orderID, refundID string) (*model.Refund, error) {
	return r.p.GetRefund(ctx, orderID, refundID)
}

func (readOnly) UpdatePayment(context.Context, string, string, PaymentUpdate) (*model.Payment, error) {
	return nil, ErrReadOnly
}

func (readOnly) UpdateRefund(context.Context, string, string, RefundUpdate) (*model.Refund, error) {
	return nil, ErrReadOnly
}

func (readOnly) RefundOrder(context.Context, string, RefundOrderRequest) (*RefundResult, error) {
	return nil, ErrReadOnly
}

func (readOnly) RefundPayment(context.Context, string, string, RefundPaymentRequest) (*RefundResult, error) {
	return nil, ErrReadOnly
}

func (readOnly) CancelPayment(context.Context, string, string, CancelRequest) (*model.Payment, error) {
	return nil, ErrReadOnly
}
