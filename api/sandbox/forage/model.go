package forage

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

type product struct {
	name        string
	upc         string
	unitPrice   decimal.Decimal
	quantity    int
	eligibility string // snap, ebt_cash, non_ebt
}

type address struct {
	city, country, line1, line2, state, zip string
}

type procErr struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type order struct {
	ref             string
	status          string // draft, succeeded, failed, canceled
	created         time.Time
	successDate     *time.Time
	customerID      *string
	externalOrderID *string
	products        []product
	addr            address
	isDelivery      bool
	snapTotal       decimal.Decimal
	cashTotal       decimal.Decimal
	remaining       decimal.Decimal // paid by credit/debit (non-EBT)
	salesTax        decimal.Decimal
	payments        []string
	refunds         []string
	// The EBT card used for every payment of the order and its balance
	// right after capture.
	last4     string
	balSnap   decimal.Decimal
	balCash   decimal.Decimal
	balanceID int64
}

type payment struct {
	ref, order         string
	fundingType        string
	description        string
	paymentMethod      string
	status             string
	amount             decimal.Decimal
	metadata           json.RawMessage
	created, updated   time.Time
	successDate        *time.Time
	lastErr            *procErr
	customerID         *string
	externalOrderID    *string
	externalLocationID *string
	merchantFixed      json.RawMessage
	platformFixed      json.RawMessage
	refunds            []string
}

type refund struct {
	ref, order, payment string
	fundingType         string
	reason              string
	amount              decimal.Decimal
	metadata            json.RawMessage
	externalOrderID     *string
	merchantFixed       json.RawMessage
	platformFixed       json.RawMessage
	created             time.Time
	last4               string
	fail                *procErr // non-nil: the refund fails when it resolves
	baseSnap, baseCash  decimal.Decimal
	balanceID           int64
}

// ---------------------------------------------------------------- refund lifecycle

type refundView struct {
	status  string
	updated time.Time
	snap    decimal.Decimal
	cash    decimal.Decimal
	balUpd  time.Time
	lastErr *procErr
	message string
}

// refundState computes a refund's state at now from its creation time.
func (s *Server) refundState(rf *refund, now time.Time) refundView {
	l := s.opts.RefundLatency
	v := refundView{status: "processing", updated: rf.created, snap: rf.baseSnap, cash: rf.baseCash,
		balUpd: rf.created, message: "Processing"}
	resolve := rf.created.Add(l)
	if now.Before(resolve) {
		return v
	}
	v.updated, v.balUpd = resolve, resolve
	if rf.fail != nil {
		v.status, v.lastErr, v.message = "failed", rf.fail, rf.fail.Message
		return v
	}
	v.status, v.message = "succeeded", "Approved"
	for i := 2; i <= 3; i++ {
		at := rf.created.Add(time.Duration(i) * l)
		if now.Before(at) {
			break
		}
		v.updated, v.balUpd = at, at
		if rf.fundingType == "ebt_snap" {
			v.snap = rf.baseSnap.Add(rf.amount)
		} else {
			v.cash = rf.baseCash.Add(rf.amount)
		}
	}
	return v
}

// refundable is what is left to refund on p: its amount minus processing
// and succeeded refunds.
func (s *Server) refundable(p *payment, now time.Time) decimal.Decimal {
	left := p.amount
	for _, rref := range p.refunds {
		rf := s.refunds[rref]
		if s.refundState(rf, now).status != "failed" {
			left = left.Sub(rf.amount)
		}
	}
	return left
}

// ---------------------------------------------------------------- JSON views

type balanceJSON struct {
	ID      int64  `json:"id"`
	Snap    string `json:"snap"`
	NonSnap string `json:"non_snap"`
	Updated string `json:"updated"`
}

type receiptJSON struct {
	RefNumber       string       `json:"ref_number"`
	IsVoided        bool         `json:"is_voided"`
	SnapAmount      string       `json:"snap_amount"`
	EBTCashAmount   string       `json:"ebt_cash_amount"`
	OtherAmount     string       `json:"other_amount"`
	SalesTaxApplied string       `json:"sales_tax_applied"`
	Balance         *balanceJSON `json:"balance"`
	Last4           string       `json:"last_4"`
	Message         string       `json:"message"`
	TransactionType string       `json:"transaction_type"`
	Created         string       `json:"created"`
}

type productJSON struct {
	Name          string `json:"name"`
	UPC           string `json:"upc"`
	UnitPrice     string `json:"unit_price"`
	Quantity      int    `json:"quantity"`
	TaxRate       string `json:"tax_rate"`
	TaxesCharged  string `json:"taxes_charged"`
	TaxesExempted string `json:"taxes_exempted"`
	Eligibility   string `json:"eligibility"`
}

type addressJSON struct {
	City    string `json:"city"`
	Country string `json:"country"`
	Line1   string `json:"line1"`
	Line2   string `json:"line2"`
	State   string `json:"state"`
	Zipcode string `json:"zipcode"`
}

type orderJSON struct {
	Ref                  string        `json:"ref"`
	SnapTotal            string        `json:"snap_total"`
	EBTCashTotal         string        `json:"ebt_cash_total"`
	RemainingTotal       string        `json:"remaining_total"`
	ProductList          []productJSON `json:"product_list"`
	Status               string        `json:"status"`
	DeliveryAddress      addressJSON   `json:"delivery_address"`
	IsDelivery           bool          `json:"is_delivery"`
	SuccessRedirectURL   string        `json:"success_redirect_url"`
	CancelRedirectURL    string        `json:"cancel_redirect_url"`
	SupportedBenefits    []string      `json:"supported_benefits"`
	SuccessDate          *string       `json:"success_date"`
	Receipt              *receiptJSON  `json:"receipt"`
	CustomerID           *string       `json:"customer_id"`
	IsCommercialShipping *bool         `json:"is_commercial_shipping"`
	ExpiresAt            string        `json:"expires_at"`
	PSPCustomerID        *string       `json:"psp_customer_id"`
	ExternalOrderID      *string       `json:"external_order_id"`
	Payments             []string      `json:"payments"`
	Refunds              []string      `json:"refunds"`
	PreviousErrors       []any         `json:"previous_errors"`
}

type paymentJSON struct {
	Ref                     string          `json:"ref"`
	FundingType             string          `json:"funding_type"`
	Amount                  string          `json:"amount"`
	Description             string          `json:"description"`
	Metadata                json.RawMessage `json:"metadata"`
	PaymentMethod           string          `json:"payment_method"`
	Created                 string          `json:"created"`
	Updated                 string          `json:"updated"`
	Status                  string          `json:"status"`
	LastProcessingError     *procErr        `json:"last_processing_error"`
	SuccessDate             *string         `json:"success_date"`
	TPPLookupID             *string         `json:"tpp_lookup_id"`
	CustomerID              *string         `json:"customer_id"`
	ExternalOrderID         *string         `json:"external_order_id"`
	Refunds                 []string        `json:"refunds"`
	Order                   string          `json:"order"`
	MerchantFixedSettlement json.RawMessage `json:"merchant_fixed_settlement,omitempty"`
	PlatformFixedSettlement json.RawMessage `json:"platform_fixed_settlement,omitempty"`
	ExternalLocationID      *string         `json:"external_location_id,omitempty"`
	Receipt                 *receiptJSON    `json:"receipt"`
}

type refundJSON struct {
	Ref                     string          `json:"ref"`
	Order                   string          `json:"order"`
	Payment                 string          `json:"payment"`
	Merchant                string          `json:"merchant"`
	FundingType             string          `json:"funding_type"`
	Amount                  string          `json:"amount"`
	MerchantFixedSettlement json.RawMessage `json:"merchant_fixed_settlement,omitempty"`
	PlatformFixedSettlement json.RawMessage `json:"platform_fixed_settlement,omitempty"`
	Reason                  string          `json:"reason"`
	Metadata                json.RawMessage `json:"metadata"`
	Created                 string          `json:"created"`
	Updated                 string          `json:"updated"`
	Status                  string          `json:"status"`
	LastProcessingError     *procErr        `json:"last_processing_error"`
	Receipt                 *receiptJSON    `json:"receipt"`
	TPPLookupID             *string         `json:"tpp_lookup_id"`
	RefundErrors            []any           `json:"refund_errors"`
	ExternalOrderID         *string         `json:"external_order_id"`
}

var zero = decimal.Zero

func (s *Server) orderJSON(o *order, now time.Time) orderJSON {
	pl := []productJSON{}
	for _, p := range o.products {
		rate := "0.000000"
		if p.eligibility == "non_ebt" {
			rate = "0.087500"
		}
		pl = append(pl, productJSON{Name: p.name, UPC: p.upc, UnitPrice: money(p.unitPrice), Quantity: p.quantity,
			TaxRate: rate, TaxesCharged: "0.00", TaxesExempted: "0.00", Eligibility: p.eligibility})
	}
	j := orderJSON{
		Ref: o.ref, SnapTotal: money(o.snapTotal), EBTCashTotal: money(o.cashTotal), RemainingTotal: money(o.remaining),
		ProductList: pl, Status: o.status,
		DeliveryAddress:   addressJSON{o.addr.city, o.addr.country, o.addr.line1, o.addr.line2, o.addr.state, o.addr.zip},
		IsDelivery:        o.isDelivery,
		SupportedBenefits: []string{"snap", "ebt_cash", "non_ebt"},
		SuccessDate:       tsPtr(o.successDate),
		CustomerID:        o.customerID,
		ExpiresAt:         ts(o.created.Add(30 * time.Minute)),
		ExternalOrderID:   o.externalOrderID,
		Payments:          append([]string{}, o.payments...),
		Refunds:           append([]string{}, o.refunds...),
		PreviousErrors:    []any{},
	}
	switch o.status {
	case "succeeded":
		snap, cash := zero, zero
		for _, pref := range o.payments {
			p := s.payments[pref]
			if p.status != "succeeded" {
				continue
			}
			if p.fundingType == "ebt_snap" {
				snap = snap.Add(p.amount)
			} else {
				cash = cash.Add(p.amount)
			}
		}
		j.Receipt = &receiptJSON{RefNumber: o.ref, SnapAmount: money(snap), EBTCashAmount: money(cash),
			OtherAmount: money(o.remaining), SalesTaxApplied: money(o.salesTax),
			Balance: &balanceJSON{ID: o.balanceID, Snap: money(o.balSnap), NonSnap: money(o.balCash), Updated: ts(*o.successDate)},
			Last4:   o.last4, Message: "Approved", TransactionType: "Order", Created: ts(*o.successDate)}
	case "failed":
		msg, at := "Declined", o.created
		for _, pref := range o.payments {
			if p := s.payments[pref]; p.lastErr != nil {
				msg, at = p.lastErr.Message, p.updated
				break
			}
		}
		j.Receipt = &receiptJSON{RefNumber: o.ref, SnapAmount: "0.00", EBTCashAmount: "0.00", OtherAmount: "0.00",
			SalesTaxApplied: "0.00",
			Balance:         &balanceJSON{ID: o.balanceID, Snap: money(o.balSnap), NonSnap: money(o.balCash), Updated: ts(at)},
			Last4:           o.last4, Message: msg, TransactionType: "Order", Created: ts(at)}
	}
	return j
}

func (s *Server) paymentJSON(p *payment, now time.Time) paymentJSON {
	j := paymentJSON{
		Ref: p.ref, FundingType: p.fundingType, Amount: money(p.amount), Description: p.description,
		Metadata: p.metadata, PaymentMethod: p.paymentMethod, Created: ts(p.created), Updated: ts(p.updated),
		Status: p.status, LastProcessingError: p.lastErr, SuccessDate: tsPtr(p.successDate),
		CustomerID: p.customerID, ExternalOrderID: p.externalOrderID, Refunds: append([]string{}, p.refunds...),
		Order: p.order, MerchantFixedSettlement: p.merchantFixed, PlatformFixedSettlement: p.platformFixed,
		ExternalLocationID: p.externalLocationID,
	}
	o := s.orders[p.order]
	switch {
	case p.status == "succeeded" && p.successDate != nil:
		rc := &receiptJSON{RefNumber: p.ref, SnapAmount: "0.00", EBTCashAmount: "0.00", OtherAmount: "0.00",
			SalesTaxApplied: "0.00",
			Balance:         &balanceJSON{ID: o.balanceID, Snap: money(o.balSnap), NonSnap: money(o.balCash), Updated: ts(*p.successDate)},
			Last4:           o.last4, Message: "Approved", TransactionType: "Payment", Created: ts(*p.successDate)}
		if p.fundingType == "ebt_snap" {
			rc.SnapAmount = money(p.amount)
		} else {
			rc.EBTCashAmount = money(p.amount)
		}
		j.Receipt = rc
	case p.status == "failed":
		msg := "Declined"
		if p.lastErr != nil {
			msg = p.lastErr.Message
		}
		j.Receipt = &receiptJSON{RefNumber: p.ref, SnapAmount: "0.00", EBTCashAmount: "0.00", OtherAmount: "0.00",
			SalesTaxApplied: "0.00",
			Balance:         &balanceJSON{ID: o.balanceID, Snap: money(o.balSnap), NonSnap: money(o.balCash), Updated: ts(p.updated)},
			Last4:           o.last4, Message: msg, TransactionType: "Payment", Created: ts(p.updated)}
	}
	return j
}

func (s *Server) refundJSON(rf *refund, now time.Time) refundJSON {
	v := s.refundState(rf, now)
	rc := &receiptJSON{RefNumber: rf.ref, SnapAmount: "0.00", EBTCashAmount: "0.00", OtherAmount: "0.00",
		SalesTaxApplied: "0.00",
		Balance:         &balanceJSON{ID: rf.balanceID, Snap: money(v.snap), NonSnap: money(v.cash), Updated: ts(v.balUpd)},
		Last4:           rf.last4, Message: v.message, TransactionType: "Refund", Created: ts(rf.created)}
	if rf.fundingType == "ebt_snap" {
		rc.SnapAmount = money(rf.amount)
	} else {
		rc.EBTCashAmount = money(rf.amount)
	}
	return refundJSON{
		Ref: rf.ref, Order: rf.order, Payment: rf.payment, Merchant: s.opts.MerchantAccount,
		FundingType: rf.fundingType, Amount: money(rf.amount),
		MerchantFixedSettlement: rf.merchantFixed, PlatformFixedSettlement: rf.platformFixed,
		Reason: rf.reason, Metadata: rf.metadata, Created: ts(rf.created), Updated: ts(v.updated),
		Status: v.status, LastProcessingError: v.lastErr, Receipt: rc, RefundErrors: []any{},
		ExternalOrderID: rf.externalOrderID,
	}
}

// reportRow is one Order Report row; amounts are JSON numbers. These are the
// documented columns and no more: the report carries no created time,
// success date, external order id or customer id (the "Reports" and "Order
// report" pages), so a client must learn an order's day by asking one day
// at a time.
type reportRow struct {
	Ref                  string       `json:"ref"`
	Status               string       `json:"status"`
	SnapEligibleTotal    json.Number  `json:"snap_eligible_total"`
	EBTCashEligibleTotal json.Number  `json:"ebt_cash_eligible_total"`
	RemainingTotal       json.Number  `json:"remaining_total"`
	SalesTaxApplied      json.Number  `json:"sales_tax_applied"`
	SnapPaid             *json.Number `json:"snap_paid"`
	EBTCashPaid          *json.Number `json:"ebt_cash_paid"`
	CreditDebitPaid      *json.Number `json:"credit_debit_paid"`
}

func num(d decimal.Decimal) json.Number { return json.Number(d.StringFixed(2)) }

func (s *Server) reportRow(o *order) reportRow {
	row := reportRow{Ref: o.ref, Status: o.status,
		SnapEligibleTotal: num(o.snapTotal), EBTCashEligibleTotal: num(o.cashTotal),
		RemainingTotal: num(o.remaining), SalesTaxApplied: num(o.salesTax)}
	if o.status == "succeeded" || o.status == "failed" {
		snap, cash, other := zero, zero, zero
		for _, pref := range o.payments {
			p := s.payments[pref]
			if p.status != "succeeded" {
				continue
			}
			if p.fundingType == "ebt_snap" {
				snap = snap.Add(p.amount)
			} else {
				cash = cash.Add(p.amount)
			}
		}
		if o.status == "succeeded" {
			other = o.remaining
		}
		a, b, c := num(snap), num(cash), num(other)
		row.SnapPaid, row.EBTCashPaid, row.CreditDebitPaid = &a, &b, &c
	}
	return row
}

func refID(ref string) int64 {
	n, _ := strconv.ParseInt(ref[:7], 16, 64)
	return n + 10000
}
