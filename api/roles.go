package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/shopspring/decimal"
	"golang.org/x/time/rate"

	"paydesk/model"
)

// Role is what one person at a terminal may do. Roles are enforced by Guard,
// in the api layer under every screen and key, as ReadOnly is: a screen that
// forgets to hide a key still cannot move money through a guarded provider.
type Role int

const (
	// RoleViewer reads only.
	RoleViewer Role = iota + 1
	// RoleAgent edits metadata and refunds up to the refund limit.
	RoleAgent
	// RoleApprover does what an agent does, and approves others' requests.
	RoleApprover
	// RoleAdmin does everything, with no refund limit.
	RoleAdmin
)

// ParseRole reads a role as written in the users file.
func ParseRole(s string) (Role, error) {
	switch s {
	case "viewer":
		return RoleViewer, nil
	case "agent":
		return RoleAgent, nil
	case "approver":
		return RoleApprover, nil
	case "admin":
		return RoleAdmin, nil
	}
	return 0, fmt.Errorf("role must be viewer, agent, approver or admin")
}

func (r Role) String() string {
	switch r {
	case RoleViewer:
		return "viewer"
	case RoleAgent:
		return "agent"
	case RoleApprover:
		return "approver"
	case RoleAdmin:
		return "admin"
	}
	return "none"
}

// ErrForbidden is returned for an action the caller's role does not allow.
var ErrForbidden = errors.New("not allowed for this role")

// ErrTooManyMoneyActions is returned when one key moves money faster than
// its per-minute allowance: a stolen key or a stuck hand cannot empty the
// merchant's balance in a loop.
var ErrTooManyMoneyActions = errors.New("too many money actions from this key in the last minute: wait, then try again")

// RoleError says which role was refused what; errors.Is(err, ErrForbidden).
type RoleError struct {
	Role   Role
	Action string
	// Limit is set when the action was refused for its amount.
	Limit *model.Money
}

func (e *RoleError) Error() string {
	if e.Limit != nil {
		return fmt.Sprintf("Refused: %s may refund at most %s in one action; nothing was sent (an admin may refund more).", e.Role.withArticle(), e.Limit)
	}
	return fmt.Sprintf("Refused: %s may not %s; nothing was sent.", e.Role.withArticle(), e.Action)
}

// withArticle is "an agent", "a viewer".
func (r Role) withArticle() string {
	switch r {
	case RoleAgent, RoleApprover, RoleAdmin:
		return "an " + r.String()
	}
	return "a " + r.String()
}

func (e *RoleError) Unwrap() error { return ErrForbidden }

// RefundLimits is the most an agent or approver may refund in one action,
// per currency; Default applies to a currency not listed, in that currency.
type RefundLimits struct {
	Default     decimal.Decimal
	PerCurrency map[string]decimal.Decimal
}

// DefaultRefundLimits is 100.00 in the order's currency.
func DefaultRefundLimits() RefundLimits {
	return RefundLimits{Default: decimal.NewFromInt(100)}
}

// For is the limit in one currency.
func (l RefundLimits) For(currency string) model.Money {
	if v, ok := l.PerCurrency[currency]; ok {
		return model.Money{Amount: v, Currency: currency}
	}
	return model.Money{Amount: l.Default, Currency: currency}
}

// Guard wraps a provider so that only what role allows gets through: viewers
// change nothing; agents and approvers edit metadata and refund up to the
// limit; admins do everything. A refused call returns a *RoleError before
// any request is made, and the capabilities offer only what the role may do,
// so the screens do not offer keys that would be refused.
//
// money, when not nil, is the key's allowance of money actions (refunds and
// cancels), shared by every session of that key; one token per action.
func Guard(p Provider, role Role, limits RefundLimits, money *rate.Limiter) Provider {
	return GuardWith(p, GuardOptions{Role: role, Limits: limits, Money: money})
}

// GuardOptions configure a guard beyond the role: who is at the terminal,
// and, for four-eyes approval, where requests are kept and audited.
type GuardOptions struct {
	// Account names the provider account the guarded client acts on (base
	// URL, plus the merchant for Forage): approval requests are for one
	// account and approved only through a guard over the same one.
	Account string
	Role    Role
	Limits  RefundLimits
	// Money is the key's allowance of money actions (nil: no limit).
	Money *rate.Limiter
	// Who is the person at the terminal (name, role, key fingerprint).
	Who Person
	// Approvals, when set, turns a refund above the limit into an approval
	// request instead of a refusal, and lets approvers approve.
	Approvals ApprovalStore
	// Audit writes one audit line per approval transition, naming both
	// identities. A request or approval whose line cannot be written is
	// refused. Required with Approvals.
	Audit func(ApprovalAudit) error
	// Bus, when set, is told about every money action and approval
	// transition, so every session showing the order reads it again.
	Bus *Bus
	// Now is the clock (tests fix it to expire requests); nil: time.Now.
	Now func() time.Time
	// TTL is how long a request waits (0: DefaultApprovalTTL).
	TTL time.Duration
	// NewID mints request ids and idempotency keys (nil: UUIDv7).
	NewID func() string
}

// ApprovalAudit is one approval transition for the audit log: the request
// as it now stands (maker, and approver once there is one) and who moved it.
type ApprovalAudit struct {
	Approval   Approval
	By         Person
	Transition ApprovalState // requested, approved, rejected, expired, sent, finished
	// Refused is set when the transition was asked for and refused (own
	// request, expired, changed order): the line says who tried.
	Refused string
}

// GuardWith is Guard with approvals, a bus and an identity.
func GuardWith(p Provider, o GuardOptions) Provider {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.TTL <= 0 {
		o.TTL = DefaultApprovalTTL
	}
	if o.NewID == nil {
		o.NewID = newUUID
	}
	o.Who.Role = o.Role
	return guard{p: p, role: o.Role, limits: o.Limits, money: o.Money, o: o}
}

func newUUID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// RoleOf reports the role p is guarded for, if it is.
func RoleOf(p Provider) (Role, bool) {
	g, ok := p.(guard)
	return g.role, ok
}

// guard writes every Provider method out (no embedding), so a method added
// to Provider later does not compile until someone decides who may call it.
type guard struct {
	p      Provider
	role   Role
	limits RefundLimits
	money  *rate.Limiter
	o      GuardOptions
}

// spend takes one money action from the key's allowance. It runs after the
// role checks, so a refused action costs nothing.
func (g guard) spend() error {
	if g.money != nil && !g.money.Allow() {
		return ErrTooManyMoneyActions
	}
	return nil
}

func (g guard) ID() string   { return g.p.ID() }
func (g guard) Name() string { return g.p.Name() }

func (g guard) Capabilities() Capabilities {
	c := g.p.Capabilities()
	switch g.role {
	case RoleAdmin:
	case RoleAgent, RoleApprover:
		c.CancelPayment = false
		c.CanCancel = nil
	default:
		c.RefundOrder, c.RefundPayment, c.UpdatePayment, c.UpdateRefund, c.CancelPayment = false, false, false, false, false
		c.CanCancel = nil
	}
	return c
}

func (g guard) ListOrders(ctx context.Context, q OrderQuery) (OrderPage, error) {
	return g.p.ListOrders(ctx, q)
}

func (g guard) GetOrder(ctx context.Context, id string) (*model.Order, error) {
	return g.p.GetOrder(ctx, id)
}

func (g guard) GetRefund(ctx context.Context, orderID, refundID string) (*model.Refund, error) {
	return g.p.GetRefund(ctx, orderID, refundID)
}

// editor: metadata edits are for agents and up.
func (g guard) editor(action string) error {
	if g.role >= RoleAgent {
		return nil
	}
	return &RoleError{Role: g.role, Action: action}
}

// refunder checks a refund of amount against the role and its limit.
func (g guard) refunder(amount model.Money) error {
	switch {
	case g.role == RoleAdmin:
		return nil
	case g.role < RoleAgent:
		return &RoleError{Role: g.role, Action: "refund"}
	case amount.Currency == "" || amount.Amount.IsNegative():
		// An amount the guard cannot read is not an amount it can allow.
		return &RoleError{Role: g.role, Action: "refund an unstated amount"}
	}
	limit := g.limits.For(amount.Currency)
	if amount.Amount.GreaterThan(limit.Amount) {
		return &RoleError{Role: g.role, Action: "refund", Limit: &limit}
	}
	return nil
}

func (g guard) UpdatePayment(ctx context.Context, orderID, paymentID string, u PaymentUpdate) (*model.Payment, error) {
	if err := g.editor("edit metadata"); err != nil {
		return nil, err
	}
	defer g.changed(orderID)
	return g.p.UpdatePayment(ctx, orderID, paymentID, u)
}

func (g guard) UpdateRefund(ctx context.Context, orderID, refundID string, u RefundUpdate) (*model.Refund, error) {
	if err := g.editor("edit metadata"); err != nil {
		return nil, err
	}
	defer g.changed(orderID)
	return g.p.UpdateRefund(ctx, orderID, refundID, u)
}

// changed tells every session that the order may have changed. It runs
// after the call whatever its outcome: an unknown outcome may have moved
// money, and a re-read costs one shared request.
func (g guard) changed(orderID string) {
	g.o.Bus.Publish(Event{Kind: EventMoney, Provider: g.p.ID(), OrderID: orderID})
}

// overLimit reports whether err refused an amount above the limit that an
// approval request can carry instead.
func (g guard) overLimit(err error) bool {
	var re *RoleError
	return g.o.Approvals != nil && errors.As(err, &re) && re.Limit != nil &&
		(g.role == RoleAgent || g.role == RoleApprover)
}

// RefundOrder is checked against Expected, the amount the agent confirmed,
// and, below admin, against what the order has left now: a whole-order
// refund moves whatever is left, which may have grown since the agent looked.
// Above the limit, with approvals on, it becomes a request for the
// confirmed total (a *PendingApprovalError) and nothing is sent.
func (g guard) RefundOrder(ctx context.Context, orderID string, r RefundOrderRequest) (*RefundResult, error) {
	err := g.refunder(r.Expected)
	if err != nil && !g.overLimit(err) {
		return nil, err
	}
	ref := ""
	if g.role != RoleAdmin {
		o, rerr := g.p.GetOrder(ctx, orderID)
		if rerr != nil {
			return nil, rerr
		}
		ref = o.Ref
		if err == nil {
			err = g.refunder(o.Refundable())
		}
		if err != nil && !g.overLimit(err) {
			return nil, err
		}
	}
	if err != nil {
		return nil, g.request(Approval{
			Action: ApprovalRefundOrder, OrderID: orderID, OrderRef: ref,
			Amount: r.Expected.Fixed(), Currency: r.Expected.Currency, Reason: r.Reason,
			Metadata: r.Metadata, ExternalOrderID: r.ExternalOrderID,
		})
	}
	if err := g.spend(); err != nil {
		return nil, err
	}
	defer g.changed(orderID)
	return g.p.RefundOrder(ctx, orderID, r)
}

func (g guard) RefundPayment(ctx context.Context, orderID, paymentID string, r RefundPaymentRequest) (*RefundResult, error) {
	if err := g.refunder(r.Amount); err != nil {
		if !g.overLimit(err) {
			return nil, err
		}
		ref := ""
		if o, rerr := g.p.GetOrder(ctx, orderID); rerr == nil {
			ref = o.Ref // only for the approver's screen; the id is what is sent
		}
		return nil, g.request(Approval{
			Action: ApprovalRefundPayment, OrderID: orderID, OrderRef: ref, PaymentID: paymentID,
			Amount: r.Amount.Fixed(), Currency: r.Amount.Currency, Reason: r.Reason,
			Metadata: r.Metadata, ExternalOrderID: r.ExternalOrderID,
		})
	}
	if err := g.spend(); err != nil {
		return nil, err
	}
	defer g.changed(orderID)
	return g.p.RefundPayment(ctx, orderID, paymentID, r)
}

// CancelPayment voids a payment: money the customer was promised, with no
// limit to check it against, so only admins may.
func (g guard) CancelPayment(ctx context.Context, orderID, paymentID string, r CancelRequest) (*model.Payment, error) {
	if g.role != RoleAdmin {
		return nil, &RoleError{Role: g.role, Action: "cancel a payment"}
	}
	if err := g.spend(); err != nil {
		return nil, err
	}
	defer g.changed(orderID)
	return g.p.CancelPayment(ctx, orderID, paymentID, r)
}
