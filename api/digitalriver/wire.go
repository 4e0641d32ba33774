package digitalriver

import (
	"encoding/json"
	"time"

	"paydesk/api"
	"paydesk/model"
)

// Wire types: the subset of Digital River's JSON the console reads. Amounts
// stay raw until the currency is known, then go through model.ParseJSONAmount,
// which refuses NaN, exponents and more decimals than the currency allows.

type wireCapture struct {
	ID          string          `json:"id"`
	Amount      json.RawMessage `json:"amount"`
	State       string          `json:"state"`
	CreatedTime time.Time       `json:"createdTime"`
}

type wireChargeRefund struct {
	CreatedTime time.Time       `json:"createdTime"`
	Amount      json.RawMessage `json:"amount"`
	State       string          `json:"state"`
}

type wireCharge struct {
	ID             string             `json:"id"`
	CreatedTime    time.Time          `json:"createdTime"`
	Currency       string             `json:"currency"`
	Amount         json.RawMessage    `json:"amount"`
	State          string             `json:"state"`
	Captured       bool               `json:"captured"`
	Refunded       bool               `json:"refunded"`
	SourceID       string             `json:"sourceId"`
	Type           string             `json:"type"`
	FailureCode    string             `json:"failureCode"`
	FailureMessage string             `json:"failureMessage"`
	Captures       []wireCapture      `json:"captures"`
	Refunds        []wireChargeRefund `json:"refunds"`
}

// wireSource is the part of a payment source the console shows.
type wireSource struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// wirePayment is order.payment (API version 2021-03-23 and later).
type wirePayment struct {
	Sources []wireSource `json:"sources"`
	Charges []wireCharge `json:"charges"`
}

type wireItem struct {
	ID                      string          `json:"id"`
	SkuID                   string          `json:"skuId"`
	Amount                  json.RawMessage `json:"amount"`
	Quantity                int             `json:"quantity"`
	AvailableToRefundAmount json.RawMessage `json:"availableToRefundAmount"`
}

type wireOrder struct {
	ID                      string               `json:"id"`
	CreatedTime             time.Time            `json:"createdTime"`
	UpdatedTime             time.Time            `json:"updatedTime"`
	UpstreamID              string               `json:"upstreamId"`
	Currency                string               `json:"currency"`
	TotalAmount             json.RawMessage      `json:"totalAmount"`
	Subtotal                json.RawMessage      `json:"subtotal"`
	TotalTax                json.RawMessage      `json:"totalTax"`
	State                   string               `json:"state"`
	StateTransitions        map[string]time.Time `json:"stateTransitions"`
	FraudState              string               `json:"fraudState"`
	CapturedAmount          json.RawMessage      `json:"capturedAmount"`
	RefundedAmount          json.RawMessage      `json:"refundedAmount"`
	CancelledAmount         json.RawMessage      `json:"cancelledAmount"`
	AvailableToRefundAmount json.RawMessage      `json:"availableToRefundAmount"`
	Payment                 *wirePayment         `json:"payment"`
	// LegacyCharges is the top-level charges array of API versions before
	// 2021-03-23. Read only when payment is absent (see the package doc).
	LegacyCharges []wireCharge `json:"charges"`
	Items         []wireItem   `json:"items"`
	Metadata      wireMetadata `json:"metadata"`
	LiveMode      bool         `json:"liveMode"`
}

type wireRefundItem struct {
	Type           string          `json:"type"`
	ItemID         string          `json:"itemId"`
	SkuID          string          `json:"skuId"`
	Quantity       int             `json:"quantity"`
	Amount         json.RawMessage `json:"amount"`
	RefundedAmount json.RawMessage `json:"refundedAmount"`
}

type wireRefundCharge struct {
	ID       string             `json:"id"`
	Captured bool               `json:"captured"`
	Refunded bool               `json:"refunded"`
	SourceID string             `json:"sourceId"`
	Refunds  []wireChargeRefund `json:"refunds"`
}

type wireToken struct {
	Token       string     `json:"token"`
	ExpiresTime *time.Time `json:"expiresTime"`
}

type wireRefund struct {
	ID               string             `json:"id"`
	CreatedTime      time.Time          `json:"createdTime"`
	OrderID          string             `json:"orderId"`
	InvoiceID        string             `json:"invoiceId"`
	Currency         string             `json:"currency"`
	Type             string             `json:"type"`
	Amount           json.RawMessage    `json:"amount"`
	RefundedAmount   json.RawMessage    `json:"refundedAmount"`
	Items            []json.RawMessage  `json:"items"` // flat, or the docs' array of arrays
	Reason           string             `json:"reason"`
	FailureReason    string             `json:"failureReason"`
	State            string             `json:"state"`
	TokenInformation *wireToken         `json:"tokenInformation"`
	ExpiresTime      *time.Time         `json:"expiresTime"`
	LiveMode         bool               `json:"liveMode"`
	Charges          []wireRefundCharge `json:"charges"`
	Metadata         wireMetadata       `json:"metadata"`
}

type wireList[T any] struct {
	HasMore bool `json:"hasMore"`
	Data    []T  `json:"data"`
}

type wireError struct {
	Type   string `json:"type"`
	Errors []struct {
		Code      string `json:"code"`
		Parameter string `json:"parameter"`
		Message   string `json:"message"`
	} `json:"errors"`
}

// wireMetadata is DR metadata as sent, at most model.MaxReadMetadataKeys
// keys of it (api.ObjectMembers): a million-key object is counted, not
// decoded. When keys were dropped, the count rides in the map under
// cutKey with a value of type metaCut, which no JSON value can have, so the
// map still indexes like the plain one it replaces.
type wireMetadata map[string]any

type metaCut int

const cutKey = "\x00paydesk:metadata-total"

func (m *wireMetadata) UnmarshalJSON(b []byte) error {
	kept, total, ok := api.ObjectMembers(b)
	if !ok {
		*m = nil
		var plain map[string]any // null reads as none; a non-object is refused as before
		return json.Unmarshal(b, &plain)
	}
	out := make(wireMetadata, len(kept)+1)
	for _, kv := range kept {
		var v any
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			return err
		}
		out[kv.Key] = v
	}
	if total > len(kept) {
		out[cutKey] = metaCut(total)
	}
	*m = out
	return nil
}

// createBody is POST /refunds. Field order and the fixed-scale amount keep
// the bytes identical for identical requests.
type createBody struct {
	OrderID  string         `json:"orderId"`
	Currency string         `json:"currency"`
	Amount   json.Number    `json:"amount"`
	Reason   string         `json:"reason,omitempty"`
	Metadata model.Metadata `json:"metadata"`
}
