package model

import (
	"slices"
	"time"
)

// Field is one provider field shown verbatim on a detail screen, in the order
// the provider documents it. Clients fill it so the screens can show "every
// field" of an object without the model knowing each provider's wire format.
type Field struct {
	Name  string
	Value string
}

// OrderSummary is one row of an order list. Amounts line up with the
// provider's Capabilities.AmountColumns (Forage: SNAP paid, EBT Cash paid).
type OrderSummary struct {
	Provider       string
	ID             string // what GetOrder takes
	Ref            string // what the agent reads and types; often the same as ID
	Status         Status
	ProviderStatus string
	Created        time.Time
	// DateOnly: only the calendar day of Created is known (Forage's Order
	// Report is asked one day at a time and carries no time); Created is
	// that day's start in the provider's zone, and no time may be shown.
	DateOnly  bool
	Amounts   []Money
	Total     Money
	Reference string // the provider's secondary id (external order id, description)
}

// Order is one order with its payments and refunds.
type Order struct {
	Provider        string
	ID              string
	Ref             string
	Status          Status
	ProviderStatus  string
	Currency        string
	Created         time.Time
	Updated         time.Time
	SuccessDate     *time.Time
	CustomerID      string
	ExternalOrderID string
	Description     string
	Total           Money
	Payments        []Payment
	Refunds         []Refund
	Metadata        Metadata
	// AvailableToRefund is what the provider itself says is left to refund,
	// when it says so (Digital River). nil means compute it from the payments.
	AvailableToRefund *Money
	Fields            []Field
	// MetadataTotal is how many metadata keys the provider sent when there
	// were more than MaxReadMetadataKeys and only those were kept; 0 when
	// Metadata holds them all (see MetadataNote).
	MetadataTotal int
}

// Payment is money taken on an order: a Forage OrderPayment, a Moyasar
// purchase or capture transaction, a Digital River charge.
type Payment struct {
	Provider        string
	ID              string
	OrderID         string
	Method          string // what the agent reads: "EBT SNAP", "mada •••• 0001"
	FundingType     string // provider's own tender name, e.g. ebt_snap
	Amount          Money
	Status          Status
	ProviderStatus  string
	Description     string
	PaymentMethod   string // provider's reference to the card or account used
	CustomerID      string
	ExternalOrderID string
	Metadata        Metadata
	Created         time.Time
	Updated         time.Time
	SuccessDate     *time.Time
	LastError       *ProcessingError
	Receipt         *Receipt
	RefundIDs       []string
	Card            *Card
	Fields          []Field
	// MetadataTotal is how many metadata keys the provider sent when there
	// were more than MaxReadMetadataKeys and only those were kept; 0 when
	// Metadata holds them all (see MetadataNote).
	MetadataTotal int
}

// Refund is money returned, against an order and usually one payment.
type Refund struct {
	Provider       string
	ID             string
	OrderID        string
	PaymentID      string // "" when the provider refunds the order as a whole
	Amount         Money
	Status         Status
	ProviderStatus string
	Reason         string
	FailureReason  string
	Metadata       Metadata
	Created        time.Time
	Updated        time.Time
	LastError      *ProcessingError
	Receipt        *Receipt
	Fields         []Field
	// MetadataTotal is how many metadata keys the provider sent when there
	// were more than MaxReadMetadataKeys and only those were kept; 0 when
	// Metadata holds them all (see MetadataNote).
	MetadataTotal int
}

// ProcessingError is the provider's last error on a payment or refund.
type ProcessingError struct {
	Code    string
	Message string
}

// Receipt is what the payment network said about a transaction.
type Receipt struct {
	RefNumber       string
	TransactionType string
	Message         string
	Last4           string
	SnapAmount      Money
	CashAmount      Money
	OtherAmount     Money
	SalesTax        Money
	IsVoided        bool
	Balance         *Balance
	Created         time.Time
}

// Balance is the cardholder's remaining EBT balance after a transaction.
// Forage keeps moving it for a while after a refund succeeds.
type Balance struct {
	Snap    *Money
	Cash    *Money
	Updated time.Time
}

// Card is a masked card: never more than the BIN and the last four digits.
type Card struct {
	Scheme string
	BIN    string
	Last4  string
	Expiry string
}

// Masked is "mada 446552•• •••• 0001"-style text, or "•••• 0001" without a BIN.
func (c *Card) Masked() string {
	if c == nil {
		return ""
	}
	s := "•••• " + c.Last4
	if c.BIN != "" {
		s = c.BIN + "•• " + s
	}
	if c.Scheme != "" {
		s = c.Scheme + " " + s
	}
	return s
}

// counts reports whether a refund in this status holds money against what is
// still refundable. Processing and unknown refunds count: if they turn out to
// have succeeded, a second refund would have been one too many.
func counts(s Status) bool {
	switch s {
	case StatusFailed, StatusCanceled, StatusVoided, StatusExpired:
		return false
	}
	return true
}

// sumRefunds adds up the refunds that match keep, in the order's currency.
// ok is false when one of them is in another currency: the sum then means
// nothing, and callers that decide what may be refunded must not use it.
func (o *Order) sumRefunds(keep func(r *Refund) bool) (sum Money, ok bool) {
	sum = Zero(o.Currency)
	for i := range o.Refunds {
		if keep(&o.Refunds[i]) {
			next, err := sum.Add(o.Refunds[i].Amount)
			if err != nil {
				return sum, false
			}
			sum = next
		}
	}
	return sum, true
}

// total is sumRefunds for display: a mixed-currency set shows what adds up.
func (o *Order) total(keep func(r *Refund) bool) Money {
	sum, _ := o.sumRefunds(keep)
	return sum
}

// heldOn sums the refunds against one payment that hold money (see counts):
// succeeded, in flight and unknown.
func (o *Order) heldOn(paymentID string) Money {
	return o.total(o.holds(paymentID))
}

func (o *Order) holds(paymentID string) func(r *Refund) bool {
	return func(r *Refund) bool { return r.PaymentID == paymentID && counts(r.Status) }
}

// RefundedOn sums the refunds against one payment that succeeded, the figure
// an agent reads as "refunded" (in-flight ones show as pending).
func (o *Order) RefundedOn(paymentID string) Money {
	return o.total(func(r *Refund) bool { return r.PaymentID == paymentID && r.Status == StatusSucceeded })
}

// RefundableOn is what is still refundable on one payment: its amount less the
// refunds holding money, never below zero; zero unless the payment succeeded.
func (o *Order) RefundableOn(p *Payment) Money {
	if p.Status != StatusSucceeded {
		return Zero(o.Currency)
	}
	held, ok := o.sumRefunds(o.holds(p.ID))
	if !ok {
		return Zero(o.Currency) // a refund in another currency: nothing is safe to offer
	}
	left, err := p.Amount.Sub(held)
	if err != nil || !left.IsPositive() {
		return Zero(o.Currency)
	}
	return left
}

// Paid sums the succeeded payments.
func (o *Order) Paid() Money {
	sum := Zero(o.Currency)
	for _, p := range o.Payments {
		if p.Status == StatusSucceeded {
			sum, _ = sum.Add(p.Amount)
		}
	}
	return sum
}

// Refunded sums refunds that succeeded.
func (o *Order) Refunded() Money {
	return o.total(func(r *Refund) bool { return r.Status == StatusSucceeded })
}

// Pending sums refunds still in flight or of unknown outcome.
func (o *Order) Pending() Money {
	return o.total(func(r *Refund) bool { return !r.Status.Final() })
}

// Refundable is what is still refundable on the whole order. When the
// provider states it (Digital River), the smaller of its figure and ours wins.
func (o *Order) Refundable() Money {
	sum := Zero(o.Currency)
	for i := range o.Payments {
		sum, _ = sum.Add(o.RefundableOn(&o.Payments[i]))
	}
	if o.AvailableToRefund != nil {
		if c, err := o.AvailableToRefund.Cmp(sum); err == nil && (c < 0 || len(o.Payments) == 0) {
			return *o.AvailableToRefund
		}
	}
	return sum
}

// PlannedRefund is one line of a whole-order refund: what will come back from
// one payment, net of refunds already made.
type PlannedRefund struct {
	Payment *Payment
	Amount  Money
}

// RefundPlan lists what refunding the entire order returns, payment by payment.
func (o *Order) RefundPlan() []PlannedRefund {
	var plan []PlannedRefund
	for i := range o.Payments {
		p := &o.Payments[i]
		if amt := o.RefundableOn(p); amt.IsPositive() {
			plan = append(plan, PlannedRefund{Payment: p, Amount: amt})
		}
	}
	return plan
}

// HasRefundInFlight reports whether any refund on the order is not final.
func (o *Order) HasRefundInFlight() bool {
	return slices.ContainsFunc(o.Refunds, func(r Refund) bool { return !r.Status.Final() })
}

// Payment finds a payment by id.
func (o *Order) Payment(id string) *Payment {
	for i := range o.Payments {
		if o.Payments[i].ID == id {
			return &o.Payments[i]
		}
	}
	return nil
}

// Refund finds a refund by id.
func (o *Order) Refund(id string) *Refund {
	for i := range o.Refunds {
		if o.Refunds[i].ID == id {
			return &o.Refunds[i]
		}
	}
	return nil
}

// RefundsOf lists the refunds against one payment.
func (o *Order) RefundsOf(paymentID string) []Refund {
	var out []Refund
	for _, r := range o.Refunds {
		if r.PaymentID == paymentID {
			out = append(out, r)
		}
	}
	return out
}

// Settled reports whether a refund needs no more polling, given the previous
// reading: its status is final and, where the receipt carries an EBT balance,
// the balance's update time did not move since the last poll. Forage advises
// waiting for exactly that before showing the balance.
func (r *Refund) Settled(prev *Refund) bool {
	if !r.Status.Final() {
		return false
	}
	if r.Receipt == nil || r.Receipt.Balance == nil {
		return true
	}
	if prev == nil || prev.Receipt == nil || prev.Receipt.Balance == nil || !prev.Status.Final() {
		return false
	}
	return r.Receipt.Balance.Updated.Equal(prev.Receipt.Balance.Updated)
}
