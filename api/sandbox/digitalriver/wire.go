package digitalriver

import (
	"encoding/json"
	"time"

	"github.com/shopspring/decimal"
)

// amount marshals a decimal as a bare JSON number in major units (9.99).
// A local type, so the process-wide decimal.MarshalJSONWithoutQuotes switch
// stays untouched.
type amount decimal.Decimal

func (a amount) MarshalJSON() ([]byte, error) { return []byte(decimal.Decimal(a).String()), nil }

type captureView struct {
	ID          string    `json:"id"`
	Amount      amount    `json:"amount"`
	State       string    `json:"state"`
	CreatedTime time.Time `json:"createdTime"`
}

type chargeRefundView struct {
	CreatedTime time.Time `json:"createdTime"`
	Amount      amount    `json:"amount"`
	State       string    `json:"state"`
}

type chargeView struct {
	ID          string             `json:"id"`
	CreatedTime time.Time          `json:"createdTime"`
	Currency    string             `json:"currency"`
	Amount      amount             `json:"amount"`
	State       string             `json:"state"`
	OrderID     string             `json:"orderId"`
	Captured    bool               `json:"captured"`
	Refunded    bool               `json:"refunded"`
	SourceID    string             `json:"sourceId"`
	Type        string             `json:"type"`
	Captures    []captureView      `json:"captures"`
	Refunds     []chargeRefundView `json:"refunds"`
	LiveMode    bool               `json:"liveMode"`
}

// sourceView is one payment source of an order (a subset of Digital River's
// Source object; no clientSecret: the console never needs it).
type sourceView struct {
	ID          string    `json:"id"`
	CreatedTime time.Time `json:"createdTime"`
	Type        string    `json:"type"`
	Currency    string    `json:"currency"`
	Amount      amount    `json:"amount"`
	Reusable    bool      `json:"reusable"`
	State       string    `json:"state"`
	LiveMode    bool      `json:"liveMode"`
}

// sessionView is the order's payment session (no clientSecret either).
type sessionView struct {
	ID                             string `json:"id"`
	AmountContributed              amount `json:"amountContributed"`
	AmountRemainingToBeContributed amount `json:"amountRemainingToBeContributed"`
	State                          string `json:"state"`
}

// paymentView is order.payment: since API version 2021-03-23 an order's
// charges, sources and session live here, not at the top level.
type paymentView struct {
	Sources []sourceView `json:"sources"`
	Charges []chargeView `json:"charges"`
	Session *sessionView `json:"session,omitempty"`
}

type itemView struct {
	ID                      string `json:"id"`
	SkuID                   string `json:"skuId"`
	Amount                  amount `json:"amount"`
	Quantity                int    `json:"quantity"`
	AvailableToRefundAmount amount `json:"availableToRefundAmount"`
}

type orderView struct {
	ID                      string               `json:"id"`
	CreatedTime             time.Time            `json:"createdTime"`
	UpdatedTime             time.Time            `json:"updatedTime"`
	UpstreamID              string               `json:"upstreamId"`
	Currency                string               `json:"currency"`
	TotalAmount             amount               `json:"totalAmount"`
	Subtotal                amount               `json:"subtotal"`
	TotalTax                amount               `json:"totalTax"`
	State                   string               `json:"state"`
	StateTransitions        map[string]time.Time `json:"stateTransitions"`
	FraudState              string               `json:"fraudState"`
	CapturedAmount          amount               `json:"capturedAmount"`
	RefundedAmount          amount               `json:"refundedAmount"`
	CancelledAmount         amount               `json:"cancelledAmount"`
	AvailableToRefundAmount amount               `json:"availableToRefundAmount"`
	Payment                 paymentView          `json:"payment"`
	Items                   []itemView           `json:"items"`
	Metadata                map[string]any       `json:"metadata,omitempty"`
	LiveMode                bool                 `json:"liveMode"`
}

type refundItemView struct {
	ItemID         string `json:"itemId,omitempty"`
	SkuID          string `json:"skuId,omitempty"`
	Quantity       int    `json:"quantity,omitempty"`
	Amount         amount `json:"amount"`
	RefundedAmount amount `json:"refundedAmount"`
}

type tokenView struct {
	Token       string    `json:"token"`
	ExpiresTime time.Time `json:"expiresTime"`
}

type refundChargeView struct {
	ID       string             `json:"id"`
	Captured bool               `json:"captured"`
	Refunded bool               `json:"refunded"`
	SourceID string             `json:"sourceId"`
	Refunds  []chargeRefundView `json:"refunds"`
}

type refundView struct {
	ID               string             `json:"id"`
	CreatedTime      time.Time          `json:"createdTime"`
	OrderID          string             `json:"orderId"`
	Currency         string             `json:"currency"`
	Type             string             `json:"type,omitempty"`
	Amount           amount             `json:"amount"`
	RefundedAmount   amount             `json:"refundedAmount"`
	Items            []refundItemView   `json:"items"`
	Reason           string             `json:"reason,omitempty"`
	FailureReason    string             `json:"failureReason,omitempty"`
	State            string             `json:"state"`
	TokenInformation *tokenView         `json:"tokenInformation"`
	ExpiresTime      *time.Time         `json:"expiresTime,omitempty"`
	LiveMode         bool               `json:"liveMode"`
	Charges          []refundChargeView `json:"charges"`
	Metadata         json.RawMessage    `json:"metadata,omitempty"`
}

type listView[T any] struct {
	HasMore bool `json:"hasMore"`
	Data    []T  `json:"data"`
}

// state is the refund's lifecycle state at now and when it entered it.
func (s *Server) state(rf *refund, now time.Time) (string, time.Time) {
	if rf.pendingInfo {
		if now.Before(rf.expires) {
			return "pending_information", rf.created
		}
		return "expired", rf.expires
	}
	settle := rf.created.Add(s.latency)
	if now.Before(settle) {
		return "pending", rf.created
	}
	if rf.order.willFail {
		return "failed", settle
	}
	return "succeeded", settle
}

// chargeState maps a refund state to the charge-level refund entry state.
func chargeState(st string) string {
	switch st {
	case "succeeded":
		return "complete"
	case "failed", "expired":
		return "failed"
	}
	return "pending"
}

// live reports whether a refund in state st counts against the ceiling.
func live(st string) bool { return st != "failed" && st != "expired" }

// sums returns the succeeded and pending (incl. pending_information) totals.
func (s *Server) sums(o *order, now time.Time) (refunded, pending decimal.Decimal) {
	for _, rf := range o.refunds {
		switch st, _ := s.state(rf, now); st {
		case "succeeded":
			refunded = refunded.Add(rf.amount)
		case "pending", "pending_information":
			pending = pending.Add(rf.amount)
		}
	}
	return refunded, pending
}

// available is captured - (completed + pending refunds), never negative.
func (s *Server) available(o *order, now time.Time) decimal.Decimal {
	refunded, pending := s.sums(o, now)
	a := o.captured().Sub(refunded).Sub(pending)
	if a.IsNegative() {
		return decimal.Zero
	}
	return a
}

// allocate splits amt across the order's complete charges.
func (s *Server) allocate(o *order, amt decimal.Decimal, now time.Time) []allocation {
	used := map[*charge]decimal.Decimal{}
	for _, rf := range o.refunds {
		if st, _ := s.state(rf, now); live(st) {
			for _, a := range rf.allocs {
				used[a.charge] = used[a.charge].Add(a.amount)
			}
		}
	}
	var out []allocation
	left := amt
	for _, c := range o.charges {
		if !left.IsPositive() {
			break
		}
		room := c.captured().Sub(used[c])
		if !room.IsPositive() {
			continue
		}
		take := decimal.Min(room, left)
		out = append(out, allocation{charge: c, amount: take})
		left = left.Sub(take)
	}
	return out
}

// itemUsed is the amount of live item refunds against it.
func (s *Server) itemUsed(o *order, it *item, now time.Time) (decimal.Decimal, int) {
	sum, qty := decimal.Zero, 0
	for _, rf := range o.refunds {
		if st, _ := s.state(rf, now); !live(st) {
			continue
		}
		for _, ri := range rf.items {
			if ri.itemID == it.id {
				sum = sum.Add(ri.amount)
				qty += ri.quantity
			}
		}
	}
	return sum, qty
}

func (s *Server) orderState(o *order, now time.Time) string {
	if o.baseState == "complete" {
		refunded, _ := s.sums(o, now)
		if c := o.captured(); c.IsPositive() && refunded.Equal(c) {
			return "returned"
		}
	}
	return o.baseState
}

func (s *Server) orderView(o *order, now time.Time) orderView {
	refunded, _ := s.sums(o, now)
	avail := s.available(o, now)
	v := orderView{
		ID: o.id, CreatedTime: o.created, UpdatedTime: o.created, UpstreamID: o.upstreamID,
		Currency: o.currency, TotalAmount: amount(o.total), Subtotal: amount(o.subtotal),
		TotalTax: amount(o.tax), State: s.orderState(o, now), FraudState: "passed",
		StateTransitions:        map[string]time.Time{"accepted": o.created},
		CapturedAmount:          amount(o.captured()),
		RefundedAmount:          amount(refunded),
		CancelledAmount:         amount(o.cancelled()),
		AvailableToRefundAmount: amount(avail),
		Payment: paymentView{Sources: []sourceView{}, Charges: []chargeView{},
			Session: &sessionView{ID: o.sessionID(), AmountContributed: amount(o.total),
				AmountRemainingToBeContributed: amount(decimal.Zero), State: "complete"}},
		Items: []itemView{},
	}
	if len(o.metadata) > 0 {
		v.Metadata = o.metadata
	}
	touch := func(t time.Time) {
		if t.After(v.UpdatedTime) && !t.After(now) {
			v.UpdatedTime = t
		}
	}
	perCharge := map[*charge][]chargeRefundView{}
	for _, rf := range o.refunds { // creation order
		st, at := s.state(rf, now)
		touch(at)
		touch(rf.updated)
		for _, a := range rf.allocs {
			perCharge[a.charge] = append(perCharge[a.charge],
				chargeRefundView{CreatedTime: rf.created, Amount: amount(a.amount), State: chargeState(st)})
		}
	}
	for _, c := range o.charges {
		v.Payment.Sources = append(v.Payment.Sources, sourceView{ID: c.sourceID, CreatedTime: o.created,
			Type: "creditCard", Currency: o.currency, Amount: amount(c.amount), State: "consumed"})
		cv := chargeView{ID: c.id, CreatedTime: c.created, Currency: o.currency, Amount: amount(c.amount),
			State: c.state, OrderID: o.id, Captured: c.captured().IsPositive(), SourceID: c.sourceID,
			Type: "customer_initiated", Captures: []captureView{}, Refunds: perCharge[c]}
		for _, cp := range c.captures {
			cv.Captures = append(cv.Captures, captureView{ID: cp.id, Amount: amount(cp.amount), State: cp.state, CreatedTime: cp.created})
			touch(cp.created)
			switch cp.state {
			case "complete":
				v.StateTransitions["fulfilled"] = cp.created
				v.StateTransitions["complete"] = cp.created
			case "pending":
				v.StateTransitions["fulfilled"] = cp.created
			}
		}
		for _, r := range cv.Refunds {
			if r.State != "failed" {
				cv.Refunded = true
			}
		}
		if cv.Refunds == nil {
			cv.Refunds = []chargeRefundView{}
		}
		v.Payment.Charges = append(v.Payment.Charges, cv)
	}
	if o.baseState == "cancelled" {
		v.StateTransitions["cancelled"] = o.created.Add(time.Hour)
		touch(o.created.Add(time.Hour))
	}
	for _, it := range o.items {
		used, _ := s.itemUsed(o, it, now)
		ia := decimal.Min(it.amount.Sub(used), avail)
		if ia.IsNegative() {
			ia = decimal.Zero
		}
		v.Items = append(v.Items, itemView{ID: it.id, SkuID: it.skuID, Amount: amount(it.amount),
			Quantity: it.quantity, AvailableToRefundAmount: amount(ia)})
	}
	return v
}

func (s *Server) refundView(rf *refund, now time.Time) refundView {
	st, _ := s.state(rf, now)
	v := refundView{
		ID: rf.id, CreatedTime: rf.created, OrderID: rf.order.id,
		Currency: rf.currency, Type: rf.typ, Amount: amount(rf.amount),
		RefundedAmount: amount(decimal.Zero), Items: []refundItemView{}, Reason: rf.reason,
		State: st, Charges: []refundChargeView{}, Metadata: rf.metadata,
	}
	if st == "succeeded" {
		v.RefundedAmount = amount(rf.amount)
	}
	if st == "failed" {
		v.FailureReason = expiredCardFailure
	}
	if rf.pendingInfo {
		exp := rf.expires
		v.ExpiresTime = &exp
		if st == "pending_information" {
			v.TokenInformation = &tokenView{Token: rf.token, ExpiresTime: rf.expires}
		}
	}
	for _, ri := range rf.items {
		iv := refundItemView{ItemID: ri.itemID, SkuID: ri.skuID, Quantity: ri.quantity,
			Amount: amount(ri.amount), RefundedAmount: amount(decimal.Zero)}
		if st == "succeeded" {
			iv.RefundedAmount = amount(ri.amount)
		}
		v.Items = append(v.Items, iv)
	}
	for _, a := range rf.allocs {
		v.Charges = append(v.Charges, refundChargeView{
			ID: a.charge.id, Captured: a.charge.captured().IsPositive(), Refunded: live(st),
			SourceID: a.charge.sourceID,
			Refunds:  []chargeRefundView{{CreatedTime: rf.created, Amount: amount(a.amount), State: chargeState(st)}},
		})
	}
	return v
}
