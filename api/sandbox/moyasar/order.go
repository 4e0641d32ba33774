package moyasar

import (
	"time"

	"github.com/google/uuid"
)

// Transaction statuses and types as MPG spells them.
const (
	statusInitiated   = "initiated"
	statusApproved    = "approved"
	statusFailed      = "failed"
	statusTimeout     = "timeout"
	statusSystemError = "system_error"

	typePurchase  = "purchase"
	typeAuthorize = "authorize"
	typeCapture   = "capture"
	typeVoid      = "void"
	typeRefund    = "refund"
	typeReversal  = "reversal"
	typeVerify    = "verify"
	typeExtension = "extension"
)

const timeLayout = "2006-01-02T15:04:05Z"

type merchant struct {
	ID             string `json:"id"`
	AcquirerID     string `json:"acquirer_id"`
	Name           string `json:"name"`
	ArabicName     string `json:"arabic_name"`
	MerchantID     string `json:"merchant_id"`
	RulePrecedence string `json:"rule_precedence"`

	currency string
}

type source struct {
	Type          string  `json:"type"`
	Issuer        *string `json:"issuer"`
	CardType      *string `json:"card_type"`
	Category      *string `json:"category"`
	CountryAlpha2 *string `json:"country_alpha2"`
	Scheme        string  `json:"scheme"`
	FirstDigits   string  `json:"first_digits"`
	LastDigits    string  `json:"last_digits"`
	Month         int     `json:"month"`
	Year          int     `json:"year"`
}

type airline struct {
	Reference string `json:"reference"`
}

type subMerchant struct {
	ID             string `json:"id"`
	RegisteredName string `json:"registered_name"`
	TradingName    string `json:"trading_name"`
	Email          string `json:"email"`
}

type agreement struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// order is the stored state. Money totals are derived from the transactions
// when the order is rendered, so they can never disagree with them.
type order struct {
	ID                  string
	Merchant            *merchant
	Currency            string
	Amount              int64
	Description         string
	CreatedAt           time.Time
	UpdatedAt           time.Time
	Source              source
	ReauthorizedOrderID *string
	Airline             *airline
	SubMerchant         *subMerchant
	Agreement           *agreement
	Txns                []*txn

	// refundOutcome is what a new refund on this order settles to.
	refundOutcome string
	// reverseTimeouts: a refund that times out is reversed by the gateway
	// one RefundLatency later (card LastDigitsRefundReversed).
	reverseTimeouts bool
}

type txn struct {
	ID                    string
	Status                string
	Type                  string
	SourceType            string
	ReverseReason         *string
	Justification         *string
	ReversedTransactionID *string
	Message               *string
	ResponseCode          *string
	RetrievalReference    string
	STAN                  string
	AuthCode              *string
	Amount                int64
	CreatedAt             time.Time

	// For refunds still "initiated": when and how they settle.
	settleAt time.Time
	outcome  string
	// For refunds the gateway will reverse: the reversal's id and time.
	reversalID string
	reverseAt  time.Time
}

// wireOrder is the JSON shape of an order (field order as in the MPG docs).
type wireOrder struct {
	ID                  string       `json:"id"`
	Merchant            *merchant    `json:"merchant"`
	Currency            string       `json:"currency"`
	Amount              int64        `json:"amount"`
	CapturedAmount      int64        `json:"captured_amount"`
	RefundedAmount      int64        `json:"refunded_amount"`
	VoidedAmount        int64        `json:"voided_amount"`
	Description         string       `json:"description"`
	CreatedAt           string       `json:"created_at"`
	UpdatedAt           string       `json:"updated_at"`
	Source              source       `json:"source"`
	ReauthorizedOrderID *string      `json:"reauthorized_order_id"`
	Airline             *airline     `json:"airline"`
	SubMerchant         *subMerchant `json:"sub_merchant"`
	Agreement           *agreement   `json:"agreement"`
	Transactions        []wireTxn    `json:"transactions"`
}

type wireTxn struct {
	ID                    string  `json:"id"`
	Status                string  `json:"status"`
	Type                  string  `json:"type"`
	SourceType            string  `json:"source_type"`
	ReverseReason         *string `json:"reverse_reason"`
	Justification         *string `json:"justification"`
	ReversedTransactionID *string `json:"reversed_transaction_id"`
	Message               *string `json:"message"`
	ResponseCode          *string `json:"response_code"`
	RetrievalReference    string  `json:"retrieval_reference"`
	STAN                  string  `json:"stan"`
	AuthCode              *string `json:"auth_code"`
	Amount                int64   `json:"amount"`
	RefundedAmount        int64   `json:"refunded_amount"`
	CreatedAt             string  `json:"created_at"`
}

type totals struct {
	authorized, captured, refunded, pendingRefund, voided int64
}

func (o *order) totals() totals {
	var t totals
	for _, x := range o.Txns {
		switch {
		case x.Type == typeAuthorize && x.Status == statusApproved:
			t.authorized += x.Amount
		case (x.Type == typePurchase || x.Type == typeCapture) && x.Status == statusApproved:
			t.captured += x.Amount
		case x.Type == typeRefund && x.Status == statusApproved:
			t.refunded += x.Amount
		case x.Type == typeRefund && x.Status == statusInitiated:
			t.pendingRefund += x.Amount
		case x.Type == typeVoid && x.Status == statusApproved:
			t.voided += x.Amount
		}
	}
	return t
}

// settle moves refunds whose latency has passed from initiated to their outcome.
// It reports whether anything changed.
func (o *order) settle(now time.Time) bool {
	changed := false
	for _, x := range o.Txns[:len(o.Txns):len(o.Txns)] {
		if x.Type != typeRefund {
			continue
		}
		if x.Status == statusInitiated && !now.Before(x.settleAt) {
			applyOutcome(x, x.outcome)
			if x.settleAt.After(o.UpdatedAt) {
				o.UpdatedAt = x.settleAt
			}
			changed = true
		}
		if x.Status == statusTimeout && x.reversalID != "" && !now.Before(x.reverseAt) {
			o.Txns = append(o.Txns, reversalOf(x, x.reversalID, x.reverseAt))
			x.reversalID = ""
			if x.reverseAt.After(o.UpdatedAt) {
				o.UpdatedAt = x.reverseAt
			}
			changed = true
		}
	}
	return changed
}

// reversalOf is the gateway's reversal of a transaction whose outcome it
// could not learn (here: a refund that timed out): approved, same amount,
// reverse_reason request_timeout, naming what it undoes.
func reversalOf(x *txn, id string, at time.Time) *txn {
	r := &txn{ID: id, Type: typeReversal, SourceType: x.SourceType, Amount: x.Amount, CreatedAt: at,
		ReverseReason: ptr("request_timeout"), ReversedTransactionID: ptr(x.ID),
		RetrievalReference: x.RetrievalReference, STAN: x.STAN}
	applyOutcome(r, statusApproved)
	return r
}

// hasInitiated reports whether a refund is still in flight.
func (o *order) hasInitiated() bool {
	for _, x := range o.Txns {
		if x.Status == statusInitiated {
			return true
		}
	}
	return false
}

func applyOutcome(x *txn, outcome string) {
	x.Status = outcome
	switch outcome {
	case statusApproved:
		x.Message, x.ResponseCode = ptr("APPROVED"), ptr("00")
	case statusFailed:
		x.Message, x.ResponseCode = ptr("DECLINED"), ptr("05")
	case statusTimeout:
		x.Message, x.ResponseCode = ptr("TIMEOUT"), nil
	case statusSystemError:
		x.Message, x.ResponseCode = ptr("SYSTEM_ERROR"), ptr("96")
	}
}

func (o *order) wire() wireOrder {
	t := o.totals()
	w := wireOrder{
		ID: o.ID, Merchant: o.Merchant, Currency: o.Currency, Amount: o.Amount,
		CapturedAmount: t.captured, RefundedAmount: t.refunded, VoidedAmount: t.voided,
		Description: o.Description,
		CreatedAt:   o.CreatedAt.Format(timeLayout), UpdatedAt: o.UpdatedAt.Format(timeLayout),
		Source: o.Source, ReauthorizedOrderID: o.ReauthorizedOrderID, Airline: o.Airline,
		SubMerchant: o.SubMerchant, Agreement: o.Agreement,
		Transactions: make([]wireTxn, 0, len(o.Txns)),
	}
	// Approved refunds are attributed to the approved purchase/capture
	// transactions in order, each up to its own amount.
	left := t.refunded
	for _, x := range o.Txns {
		wt := x.wire()
		if (x.Type == typePurchase || x.Type == typeCapture) && x.Status == statusApproved && left > 0 {
			wt.RefundedAmount = min(left, x.Amount)
			left -= wt.RefundedAmount
		}
		w.Transactions = append(w.Transactions, wt)
	}
	return w
}

func (x *txn) wire() wireTxn {
	return wireTxn{
		ID: x.ID, Status: x.Status, Type: x.Type, SourceType: x.SourceType,
		ReverseReason: x.ReverseReason, Justification: x.Justification,
		ReversedTransactionID: x.ReversedTransactionID, Message: x.Message,
		ResponseCode: x.ResponseCode, RetrievalReference: x.RetrievalReference,
		STAN: x.STAN, AuthCode: x.AuthCode, Amount: x.Amount,
		CreatedAt: x.CreatedAt.Format(timeLayout),
	}
}

func ptr[T any](v T) *T { return &v }

// newUUIDv7 builds a UUIDv7 from t and random bits drawn from next, so seeded
// ids are deterministic.
func newUUIDv7(t time.Time, next func() uint64) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	r1, r2 := next(), next()
	for i := 0; i < 5; i++ {
		b[6+i] = byte(r1 >> (8 * i))
	}
	for i := 0; i < 5; i++ {
		b[11+i] = byte(r2 >> (8 * i))
	}
	b[6] = 0x70 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	return uuid.UUID(b).String()
}
