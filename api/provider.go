// Package api is what the console calls: the Provider interface every payment
// provider client implements, the Capabilities that tell the UI which actions
// to offer, typed errors, secrets that never print, and the shared HTTP
// transport (deadlines, retries with the same idempotency key, rate limits).
// One subpackage per provider maps its wire format to paydesk/model.
package api

import (
	"context"
	"time"

	"paydesk/model"
)

// Provider is one payment provider as the console sees it. Every method takes
// a context; callers give it a deadline. Methods a provider cannot do return
// ErrNotSupported and are switched off in Capabilities, so the UI never offers
// them.
type Provider interface {
	// ID is a short stable name ("forage"), used in the journal and audit log.
	ID() string
	// Name is what the header shows ("Forage").
	Name() string
	Capabilities() Capabilities

	// ListOrders returns one page of orders, newest first.
	ListOrders(ctx context.Context, q OrderQuery) (OrderPage, error)
	// GetOrder returns an order with its payments and refunds, by id or ref.
	GetOrder(ctx context.Context, orderID string) (*model.Order, error)
	// GetRefund re-reads one refund (for live status).
	GetRefund(ctx context.Context, orderID, refundID string) (*model.Refund, error)

	// UpdatePayment changes a payment's metadata and the few other fields the
	// provider lets change in the payment's current status.
	UpdatePayment(ctx context.Context, orderID, paymentID string, u PaymentUpdate) (*model.Payment, error)
	// UpdateRefund changes a refund's metadata (Digital River).
	UpdateRefund(ctx context.Context, orderID, refundID string, u RefundUpdate) (*model.Refund, error)
	// RefundOrder refunds everything still refundable on the order.
	RefundOrder(ctx context.Context, orderID string, r RefundOrderRequest) (*RefundResult, error)
	// RefundPayment refunds part (or all) of one payment.
	RefundPayment(ctx context.Context, orderID, paymentID string, r RefundPaymentRequest) (*RefundResult, error)
	// CancelPayment cancels a payment that has not moved money.
	CancelPayment(ctx context.Context, orderID, paymentID string, r CancelRequest) (*model.Payment, error)
}

// Capabilities describe what a provider can do and how its data looks, so the
// UI is built from them and never from provider names.
type Capabilities struct {
	RefundOrder          bool // refund the entire order in one action
	RefundPayment        bool // refund part of one payment
	UpdatePayment        bool // edit a payment's metadata
	UpdateRefund         bool // edit a refund's metadata
	CancelPayment        bool
	OrderRange           bool // ListOrders honours From/To
	Filters              OrderFilters
	PartialRefundOnOrder bool // partial refunds are taken from the order, not one payment (Digital River)
	RefundExternalID     bool // refunds carry an external order id (Forage)
	RefundReason         bool // the provider stores a refund's reason
	RefundMetadata       bool // the provider stores metadata on a refund

	// Idempotency says how a retried money request is recognised.
	Idempotency IdempotencyKind
	// KeyWindow is how long the provider remembers an idempotency key; past
	// it a retry must reconcile by reading instead of sending. 0 = no keys.
	KeyWindow time.Duration

	// AmountColumns name the OrderSummary.Amounts columns ("SNAP paid", ...).
	AmountColumns []string
	// ReferenceColumn names OrderSummary.Reference ("External id").
	ReferenceColumn string
	// RefundsNotListed: list rows say nothing of refunds (Forage's Order
	// Report says "succeeded" for a refunded order), so the refund state is
	// known only for orders read in full.
	RefundsNotListed bool
	// ReasonMaxLen limits refund reasons (0 = no published limit).
	ReasonMaxLen int
	// MinorUnits is true when the wire takes integer minor units, so the
	// confirmation shows both forms.
	MinorUnits bool
	// EditableFields lists the payment fields besides metadata that can change
	// in the given provider status, and why the others cannot.
	EditableFields func(p *model.Payment) []EditableField
	// CanCancel says whether a payment in its current status can be canceled.
	CanCancel func(p *model.Payment) bool
}

// Cancelable reports whether payment p can be canceled now: the provider
// cancels payments and p's status allows it. The one place that asks, so a
// screen never offers c on a nil CanCancel or a payment that is gone.
func (c Capabilities) Cancelable(p *model.Payment) bool {
	return c.CancelPayment && c.CanCancel != nil && p != nil && c.CanCancel(p)
}

// RefundsPartOfPayment reports whether part of one payment can be refunded
// by itself; a provider that takes partial refunds from the order (Digital
// River) refunds part of the order instead.
func (c Capabilities) RefundsPartOfPayment() bool {
	return c.RefundPayment && !c.PartialRefundOnOrder
}

// EditableField is one non-metadata field of a payment in the edit form.
type EditableField struct {
	Name    string // "external_order_id", "payment_method"
	Label   string
	Enabled bool
	Why     string // shown when disabled: what the provider would do with it
}

// IdempotencyKind is how a provider de-duplicates a retried request.
type IdempotencyKind int

const (
	// IdempotencyNone: the provider cannot recognise a retry; an unknown
	// outcome is resolved by reading the order's refunds (Digital River).
	IdempotencyNone IdempotencyKind = iota
	// IdempotencyHeader: an Idempotency-Key header (Forage).
	IdempotencyHeader
	// IdempotencyBodyID: a client-chosen id inside the body (Moyasar's
	// transaction_id).
	IdempotencyBodyID
)

// OrderQuery asks for one page of orders. Filters a provider cannot apply
// are listed as false in Capabilities.Filters and ignored.
type OrderQuery struct {
	From, To time.Time // zero = the provider's default range
	Cursor   string    // from the previous page's Next; "" = first page
	Limit    int       // 0 = provider default

	Currency   string       // ISO code
	UpstreamID string       // the merchant's own order id (Digital River upstreamIds)
	CardScheme string       // visa, mastercard, mada, amex
	CardLast4  string       // last four digits of the card
	AmountMin  *model.Money // order amount at least
	AmountMax  *model.Money // order amount at most
	SortBy     OrderSort    // "" = newest first
	Ascending  bool         // with SortBy: smallest / oldest first
}

// OrderSort names a server-side sort of an order list.
type OrderSort string

const (
	SortCreated OrderSort = "created"
	SortAmount  OrderSort = "amount"
)

// OrderFilters says which OrderQuery filters a provider applies itself.
type OrderFilters struct {
	Currency, Card, Amount, Sort bool
	// Upstream: the list finds orders by the merchant's own order id
	// (OrderQuery.UpstreamID), so search asks the provider itself.
	Upstream bool
}

// OrderPage is one page of orders and the cursor of the next ("" = last page).
type OrderPage struct {
	Orders []model.OrderSummary
	Next   string
}

// PaymentUpdate is an edit of one payment. Nil pointers leave fields alone.
type PaymentUpdate struct {
	// Metadata is the complete new set; nil leaves metadata alone.
	Metadata        model.Metadata
	ExternalOrderID *string
	PaymentMethod   *string
	IdempotencyKey  string
}

// RefundUpdate is an edit of one refund's metadata.
type RefundUpdate struct {
	Metadata       model.Metadata
	IdempotencyKey string
}

// RefundOrderRequest refunds everything left on an order. IdempotencyKey is
// chosen once per logical refund by the caller and reused on every retry.
type RefundOrderRequest struct {
	IdempotencyKey  string
	Reason          string
	Metadata        model.Metadata
	ExternalOrderID string
	// Expected is the total the agent confirmed. Clients that compute the
	// amount themselves (Digital River, Moyasar) send exactly this.
	Expected model.Money
}

// RefundPaymentRequest refunds part of one payment.
type RefundPaymentRequest struct {
	IdempotencyKey  string
	Amount          model.Money
	Reason          string
	Metadata        model.Metadata
	ExternalOrderID string
}

// CancelRequest cancels one payment.
type CancelRequest struct {
	IdempotencyKey string
}

// RefundResult is what a money action produced: the refunds it created, as far
// as the provider said, and the order afterwards when the provider returned it.
type RefundResult struct {
	Refunds []model.Refund
	Order   *model.Order
}
