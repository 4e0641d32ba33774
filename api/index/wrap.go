package index

import (
	"context"

	"paydesk/api"
	"paydesk/model"
)

// Provider feeds the index from everything read through it: list pages,
// order reads, and the orders money actions return. It changes nothing on
// the way: every method passes its arguments and results through. Each
// Provider method is written out (no embedding), so a method added to
// api.Provider later fails to compile here instead of slipping past.
type Provider struct {
	inner   api.Provider
	ix      *Index
	account string
	kind    RefKind
	// report: list rows carry no refund state (AddReportRow).
	report bool
}

// Wrap puts the index around p. account tells apart two accounts of the
// same provider (the base URL and merchant), so a sandbox's orders never
// answer a search against the live account.
func Wrap(p api.Provider, ix *Index, account string) *Provider {
	ix.Register(p.ID(), account)
	kind := RefOther
	switch p.Capabilities().ReferenceColumn {
	case "External id", "Upstream id":
		kind = RefExternal
	case "Card":
		kind = RefCard
	}
	return &Provider{inner: p, ix: ix, account: account, kind: kind, report: p.Capabilities().RefundsNotListed}
}

// Index is the index this provider feeds.
func (p *Provider) Index() *Index { return p.ix }

// Account is the account the provider's orders are indexed under.
func (p *Provider) Account() string { return p.account }

func (p *Provider) ID() string                     { return p.inner.ID() }
func (p *Provider) Name() string                   { return p.inner.Name() }
func (p *Provider) Capabilities() api.Capabilities { return p.inner.Capabilities() }

func (p *Provider) ListOrders(ctx context.Context, q api.OrderQuery) (api.OrderPage, error) {
	pg, err := p.inner.ListOrders(ctx, q)
	if err == nil {
		for i := range pg.Orders {
			if p.report {
				p.ix.AddReportRow(p.account, &pg.Orders[i], p.kind)
			} else {
				p.ix.AddSummary(p.account, &pg.Orders[i], p.kind)
			}
		}
	}
	return pg, err
}

func (p *Provider) GetOrder(ctx context.Context, orderID string) (*model.Order, error) {
	o, err := p.inner.GetOrder(ctx, orderID)
	if err == nil {
		p.ix.AddOrder(p.account, o)
	}
	return o, err
}

func (p *Provider) GetRefund(ctx context.Context, orderID, refundID string) (*model.Refund, error) {
	return p.inner.GetRefund(ctx, orderID, refundID)
}

func (p *Provider) UpdatePayment(ctx context.Context, orderID, paymentID string, u api.PaymentUpdate) (*model.Payment, error) {
	return p.inner.UpdatePayment(ctx, orderID, paymentID, u)
}

func (p *Provider) UpdateRefund(ctx context.Context, orderID, refundID string, u api.RefundUpdate) (*model.Refund, error) {
	return p.inner.UpdateRefund(ctx, orderID, refundID, u)
}

func (p *Provider) RefundOrder(ctx context.Context, orderID string, r api.RefundOrderRequest) (*api.RefundResult, error) {
	res, err := p.inner.RefundOrder(ctx, orderID, r)
	p.result(res)
	return res, err
}

func (p *Provider) RefundPayment(ctx context.Context, orderID, paymentID string, r api.RefundPaymentRequest) (*api.RefundResult, error) {
	res, err := p.inner.RefundPayment(ctx, orderID, paymentID, r)
	p.result(res)
	return res, err
}

func (p *Provider) CancelPayment(ctx context.Context, orderID, paymentID string, r api.CancelRequest) (*model.Payment, error) {
	return p.inner.CancelPayment(ctx, orderID, paymentID, r)
}

// result records the order a money action returned, when it returned one
// whole (Forage refund_all, Moyasar): the list then shows its new state.
func (p *Provider) result(res *api.RefundResult) {
	if res != nil && res.Order != nil && len(res.Order.Payments) > 0 {
		p.ix.AddOrder(p.account, res.Order)
	}
}
