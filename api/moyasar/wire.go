package moyasar

import (
	"bytes"
	"encoding/json"
	"fmt"

	"paydesk/api"
)

// Wire types: the JSON of the MPG merchant API, as documented. They are kept
// apart from the sandbox server's types on purpose.

type wireMerchant struct {
	ID             string `json:"id"`
	AcquirerID     string `json:"acquirer_id"`
	Name           string `json:"name"`
	ArabicName     string `json:"arabic_name"`
	MerchantID     string `json:"merchant_id"`
	RulePrecedence string `json:"rule_precedence"`
}

type wireSource struct {
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

type wireAirline struct {
	Reference string `json:"reference"`
}

type wireSubMerchant struct {
	ID             string `json:"id"`
	RegisteredName string `json:"registered_name"`
	TradingName    string `json:"trading_name"`
	Email          string `json:"email"`
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
	RetrievalReference    *string `json:"retrieval_reference"`
	STAN                  *string `json:"stan"`
	AuthCode              *string `json:"auth_code"`
	Amount                int64   `json:"amount"`
	RefundedAmount        int64   `json:"refunded_amount"`
	CreatedAt             string  `json:"created_at"`
}

type wireOrder struct {
	ID                  string           `json:"id"`
	Merchant            *wireMerchant    `json:"merchant"`
	Currency            string           `json:"currency"`
	Amount              int64            `json:"amount"`
	CapturedAmount      int64            `json:"captured_amount"`
	RefundedAmount      int64            `json:"refunded_amount"`
	VoidedAmount        int64            `json:"voided_amount"`
	Description         *string          `json:"description"`
	CreatedAt           string           `json:"created_at"`
	UpdatedAt           string           `json:"updated_at"`
	Source              *wireSource      `json:"source"`
	ReauthorizedOrderID *string          `json:"reauthorized_order_id"`
	Airline             *wireAirline     `json:"airline"`
	SubMerchant         *wireSubMerchant `json:"sub_merchant"`
	Agreement           json.RawMessage  `json:"agreement"`
	Transactions        []wireTxn        `json:"transactions"`
}

type wireMeta struct {
	CurrentPage *int `json:"current_page"`
	NextPage    *int `json:"next_page"`
	PrevPage    *int `json:"prev_page"`
}

type wireOrderList struct {
	Orders []wireOrder `json:"orders"`
	Meta   wireMeta    `json:"meta"`
}

// wireError is every non-2xx body: {"message": "...", "errors": {"field": ["..."]}}.
// errors values are decoded leniently (a list of strings or one string).
type wireError struct {
	Message string                     `json:"message"`
	Errors  map[string]json.RawMessage `json:"errors"`
}

// Transaction statuses and types as MPG spells them.
const (
	txnInitiated   = "initiated"
	txnApproved    = "approved"
	txnFailed      = "failed"
	txnTimeout     = "timeout"
	txnSystemError = "system_error"

	typePurchase  = "purchase"
	typeAuthorize = "authorize"
	typeCapture   = "capture"
	typeVoid      = "void"
	typeRefund    = "refund"
	typeReversal  = "reversal"
	typeVerify    = "verify"
	typeExtension = "extension"
)

// Amounts are integers in minor units. A null one would decode as 0 without
// a word, and a refunded_amount read as 0 overstates what is refundable, so
// null money fields are refused as an unreadable answer.
func (w *wireOrder) UnmarshalJSON(b []byte) error {
	type plain wireOrder
	// A list (transactions) or object longer than paydesk reads is refused
	// before it is decoded (api.CheckBounds).
	if err := api.CheckBounds(b); err != nil {
		return err
	}
	if err := refuseNull(b, "amount", "captured_amount", "refunded_amount", "voided_amount"); err != nil {
		return err
	}
	return json.Unmarshal(b, (*plain)(w))
}

func (x *wireTxn) UnmarshalJSON(b []byte) error {
	type plain wireTxn
	if err := refuseNull(b, "amount", "refunded_amount"); err != nil {
		return err
	}
	return json.Unmarshal(b, (*plain)(x))
}

func refuseNull(b []byte, fields ...string) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for _, f := range fields {
		if v, ok := m[f]; ok && string(bytes.TrimSpace(v)) == "null" {
			return fmt.Errorf("moyasar: %s is null", f)
		}
	}
	return nil
}
