package digitalriver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"paydesk/api"
	"paydesk/model"
)

// money decodes a wire amount; absent means zero.
func money(raw json.RawMessage, currency, field string) (model.Money, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return model.Zero(currency), nil
	}
	m, err := model.ParseJSONAmount(raw, currency)
	if err == nil {
		_, err = m.Minor() // must fit int64 minor units: anything bigger is not money
	}
	if err != nil {
		return model.Money{}, fmt.Errorf("%s: %w", field, err)
	}
	return m, nil
}

// metadataOf turns DR metadata (string, bool or number values) into
// model.Metadata; non-strings keep their JSON text. total is how many keys
// were sent when some were dropped at decode, else 0.
func metadataOf(m wireMetadata) (md model.Metadata, total int) {
	if len(m) == 0 {
		return nil, 0
	}
	out := make(model.Metadata, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case metaCut:
			total = int(x)
		case string:
			out[k] = x
		default:
			b, _ := json.Marshal(x)
			out[k] = string(b)
		}
	}
	return out, total
}

// RefundStatus maps a Digital River refund state to the model.
func RefundStatus(state string) model.Status {
	switch state {
	case "pending_information", "pending":
		return model.StatusProcessing
	case "succeeded":
		return model.StatusSucceeded
	case "failed", "expired":
		return model.StatusFailed
	}
	// Unknown states (the docs' example says "created") may still move money:
	// never call them failed.
	return model.StatusUnknown
}

// ChargeStatus maps a charge state to the model.
func ChargeStatus(state string) model.Status {
	switch state {
	case "capturable":
		return model.StatusRequiresAction // authorised; the merchant must fulfil
	case "pending", "processing":
		return model.StatusProcessing
	case "complete":
		return model.StatusSucceeded
	case "cancelled":
		return model.StatusCanceled
	case "failed":
		return model.StatusFailed
	}
	return model.StatusUnknown
}

// orderStatus maps an order state, refining captured orders by their refunds.
func orderStatus(state string, captured, refunded model.Money) model.Status {
	switch state {
	case "complete", "returned":
		if refunded.IsPositive() {
			if c, err := refunded.Cmp(captured); err == nil && c >= 0 {
				return model.StatusRefunded
			}
			return model.StatusPartlyRefunded
		}
		if state == "returned" {
			return model.StatusRefunded
		}
		return model.StatusSucceeded
	case "accepted", "dispute":
		return model.StatusRequiresAction
	case "pending_payment", "in_review", "fulfilled":
		return model.StatusProcessing
	case "cancelled":
		return model.StatusCanceled
	case "blocked":
		return model.StatusFailed
	}
	return model.StatusUnknown
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func field(fs *[]model.Field, name, value string) {
	if value != "" {
		*fs = append(*fs, model.Field{Name: name, Value: value})
	}
}

// refundItems flattens items that may come as a list or a list of lists.
func refundItems(raw []json.RawMessage) ([]wireRefundItem, error) {
	var out []wireRefundItem
	for _, r := range raw {
		t := bytes.TrimSpace(r)
		if len(t) > 0 && t[0] == '[' {
			var inner []wireRefundItem
			if err := json.Unmarshal(t, &inner); err != nil {
				return nil, fmt.Errorf("items: %w", err)
			}
			out = append(out, inner...)
			continue
		}
		var it wireRefundItem
		if err := json.Unmarshal(t, &it); err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		out = append(out, it)
	}
	return out, nil
}

// decodeRefund parses one refund object into the model.
func decodeRefund(body []byte) (*model.Refund, error) {
	if err := api.CheckBounds(body); err != nil {
		return nil, fmt.Errorf("digitalriver: decoding refund: %w", err)
	}
	var w wireRefund
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("digitalriver: decoding refund: %w", err)
	}
	r, err := w.toModel()
	if err != nil {
		return nil, fmt.Errorf("digitalriver: refund %q: %w", w.ID, err)
	}
	return r, nil
}

func (w *wireRefund) toModel() (*model.Refund, error) {
	if w.ID == "" {
		return nil, fmt.Errorf("no id")
	}
	if _, err := model.Exponent(w.Currency); err != nil {
		return nil, err
	}
	amt, err := money(w.Amount, w.Currency, "amount")
	if err != nil {
		return nil, err
	}
	refunded, err := money(w.RefundedAmount, w.Currency, "refundedAmount")
	if err != nil {
		return nil, err
	}
	items, err := refundItems(w.Items)
	if err != nil {
		return nil, err
	}
	r := &model.Refund{
		Provider:       ProviderID,
		ID:             w.ID,
		OrderID:        w.OrderID,
		Amount:         amt,
		Status:         RefundStatus(w.State),
		ProviderStatus: w.State,
		Reason:         w.Reason,
		FailureReason:  w.FailureReason,
		Created:        w.CreatedTime,
		Updated:        w.CreatedTime,
	}
	r.Metadata, r.MetadataTotal = metadataOf(w.Metadata)
	// The refund object has no updatedTime: its latest change is the newest
	// charge-level refund entry.
	for _, c := range w.Charges {
		for _, cr := range c.Refunds {
			if cr.CreatedTime.After(r.Updated) {
				r.Updated = cr.CreatedTime
			}
		}
	}
	// A refund spread over one charge belongs to that charge; one spread over
	// several is the order's (Digital River refunds are order-level).
	if len(w.Charges) == 1 {
		r.PaymentID = w.Charges[0].ID
	}
	if w.FailureReason != "" {
		r.LastError = &model.ProcessingError{Code: w.FailureReason, Message: failureText(w.FailureReason)}
	}
	fs := &r.Fields
	field(fs, "id", w.ID)
	field(fs, "state", w.State)
	field(fs, "orderId", w.OrderID)
	field(fs, "invoiceId", w.InvoiceID)
	field(fs, "currency", w.Currency)
	field(fs, "type", w.Type)
	field(fs, "amount", amt.String())
	field(fs, "refundedAmount", refunded.String())
	field(fs, "reason", w.Reason)
	field(fs, "failureReason", w.FailureReason)
	field(fs, "createdTime", ts(w.CreatedTime))
	if w.ExpiresTime != nil {
		field(fs, "expiresTime", ts(*w.ExpiresTime))
	}
	if w.TokenInformation != nil && w.TokenInformation.Token != "" {
		// The token lets a customer enter bank details: never shown.
		v := "present"
		if w.TokenInformation.ExpiresTime != nil {
			v += ", expires " + ts(*w.TokenInformation.ExpiresTime)
		}
		field(fs, "tokenInformation", v)
	}
	field(fs, "liveMode", strconv.FormatBool(w.LiveMode))
	for i, it := range items {
		a, err := money(it.Amount, w.Currency, "items.amount")
		if err != nil {
			return nil, err
		}
		desc := strings.TrimSpace(strings.Join([]string{it.Type, it.ItemID, it.SkuID}, " "))
		field(fs, fmt.Sprintf("items[%d]", i), fmt.Sprintf("%s × %d, %s", desc, it.Quantity, a))
	}
	for i, c := range w.Charges {
		var parts []string
		for _, cr := range c.Refunds {
			a, err := money(cr.Amount, w.Currency, "charges.refunds.amount")
			if err != nil {
				return nil, err
			}
			parts = append(parts, a.String()+" "+cr.State)
		}
		field(fs, fmt.Sprintf("charges[%d]", i), c.ID+": "+strings.Join(parts, ", "))
	}
	if note := model.MetadataNote(len(r.Metadata), r.MetadataTotal); note != "" {
		field(fs, "metadata", note) // first, so the cut is seen before the keys
	}
	for _, k := range sortedKeys(r.Metadata) {
		field(fs, "metadata."+k, r.Metadata[k])
	}
	return r, nil
}

func failureText(code string) string {
	switch code {
	case "expired_or_canceled_card":
		return "the card is expired or canceled; refund the customer another way"
	}
	return code
}

func sortedKeys(m model.Metadata) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// charges returns the order's charges: payment.charges (API version
// 2021-03-23 and later), or the top-level charges of an older version when
// payment is absent. Never both: a current answer that also carried the old
// key would otherwise list every charge twice.
func (w *wireOrder) charges() []wireCharge {
	if w.Payment != nil {
		return w.Payment.Charges
	}
	return w.LegacyCharges
}

// sourceType names the payment source a charge was made from, "" if unknown.
func (w *wireOrder) sourceType(id string) string {
	if w.Payment == nil || id == "" {
		return ""
	}
	for _, s := range w.Payment.Sources {
		if s.ID == id {
			return s.Type
		}
	}
	return ""
}

// summary maps an order to a list row.
func (w *wireOrder) summary() (model.OrderSummary, error) {
	if _, err := model.Exponent(w.Currency); err != nil {
		return model.OrderSummary{}, fmt.Errorf("digitalriver: order %q: %w", w.ID, err)
	}
	total, err := money(w.TotalAmount, w.Currency, "totalAmount")
	if err != nil {
		return model.OrderSummary{}, err
	}
	captured, err := money(w.CapturedAmount, w.Currency, "capturedAmount")
	if err != nil {
		return model.OrderSummary{}, err
	}
	refunded, err := money(w.RefundedAmount, w.Currency, "refundedAmount")
	if err != nil {
		return model.OrderSummary{}, err
	}
	return model.OrderSummary{
		Provider:       ProviderID,
		ID:             w.ID,
		Ref:            w.ID,
		Status:         orderStatus(w.State, captured, refunded),
		ProviderStatus: w.State,
		Created:        w.CreatedTime,
		Amounts:        []model.Money{captured, refunded},
		Total:          total,
		Reference:      w.UpstreamID,
	}, nil
}

// toModel maps an order and its refunds (listed separately) to the model.
func (w *wireOrder) toModel(refunds []wireRefund) (*model.Order, error) {
	s, err := w.summary()
	if err != nil {
		return nil, err
	}
	cur := w.Currency
	amounts := map[string]model.Money{}
	for name, raw := range map[string]json.RawMessage{
		"subtotal": w.Subtotal, "totalTax": w.TotalTax, "capturedAmount": w.CapturedAmount,
		"refundedAmount": w.RefundedAmount, "cancelledAmount": w.CancelledAmount,
		"availableToRefundAmount": w.AvailableToRefundAmount,
	} {
		m, err := money(raw, cur, name)
		if err != nil {
			return nil, fmt.Errorf("digitalriver: order %q: %w", w.ID, err)
		}
		amounts[name] = m
	}
	avail := amounts["availableToRefundAmount"]
	o := &model.Order{
		Provider:          ProviderID,
		ID:                w.ID,
		Ref:               w.ID,
		Status:            s.Status,
		ProviderStatus:    w.State,
		Currency:          cur,
		Created:           w.CreatedTime,
		Updated:           w.UpdatedTime,
		ExternalOrderID:   w.UpstreamID,
		Total:             s.Total,
		AvailableToRefund: &avail,
	}
	o.Metadata, o.MetadataTotal = metadataOf(w.Metadata)
	if o.Updated.IsZero() {
		o.Updated = o.Created
	}
	if t, ok := w.StateTransitions["complete"]; ok {
		o.SuccessDate = &t
	}
	for _, rw := range refunds {
		r, err := rw.toModel()
		if err != nil {
			return nil, fmt.Errorf("digitalriver: refund %q: %w", rw.ID, err)
		}
		if r.OrderID == "" {
			r.OrderID = w.ID
		}
		o.Refunds = append(o.Refunds, *r)
	}
	for _, c := range w.charges() {
		p, err := chargeToPayment(w.ID, cur, c)
		if err != nil {
			return nil, fmt.Errorf("digitalriver: order %q: %w", w.ID, err)
		}
		field(&p.Fields, "source.type", w.sourceType(c.SourceID))
		for _, r := range refunds {
			for _, rc := range r.Charges {
				if rc.ID == c.ID {
					p.RefundIDs = append(p.RefundIDs, r.ID)
				}
			}
		}
		o.Payments = append(o.Payments, p)
	}
	fs := &o.Fields
	field(fs, "id", w.ID)
	field(fs, "state", w.State)
	field(fs, "upstreamId", w.UpstreamID)
	field(fs, "currency", cur)
	field(fs, "totalAmount", s.Total.String())
	for _, name := range []string{"subtotal", "totalTax", "capturedAmount", "refundedAmount", "cancelledAmount", "availableToRefundAmount"} {
		field(fs, name, amounts[name].String())
	}
	field(fs, "fraudState", w.FraudState)
	field(fs, "createdTime", ts(w.CreatedTime))
	field(fs, "updatedTime", ts(w.UpdatedTime))
	states := make([]string, 0, len(w.StateTransitions))
	for k := range w.StateTransitions {
		states = append(states, k)
	}
	sort.Slice(states, func(i, j int) bool {
		return w.StateTransitions[states[i]].Before(w.StateTransitions[states[j]]) ||
			w.StateTransitions[states[i]].Equal(w.StateTransitions[states[j]]) && states[i] < states[j]
	})
	for _, k := range states {
		field(fs, "stateTransitions."+k, ts(w.StateTransitions[k]))
	}
	field(fs, "liveMode", strconv.FormatBool(w.LiveMode))
	for i, it := range w.Items {
		a, err := money(it.Amount, cur, "items.amount")
		if err != nil {
			return nil, fmt.Errorf("digitalriver: order %q: %w", w.ID, err)
		}
		ia, err := money(it.AvailableToRefundAmount, cur, "items.availableToRefundAmount")
		if err != nil {
			return nil, fmt.Errorf("digitalriver: order %q: %w", w.ID, err)
		}
		field(fs, fmt.Sprintf("items[%d]", i), fmt.Sprintf("%s %s × %d, %s (refundable %s)", it.ID, it.SkuID, it.Quantity, a, ia))
	}
	if note := model.MetadataNote(len(o.Metadata), o.MetadataTotal); note != "" {
		field(fs, "metadata", note) // first, so the cut is seen before the keys
	}
	for _, k := range sortedKeys(o.Metadata) {
		field(fs, "metadata."+k, o.Metadata[k])
	}
	return o, nil
}

func chargeToPayment(orderID, cur string, c wireCharge) (model.Payment, error) {
	amt, err := money(c.Amount, cur, "charges.amount")
	if err != nil {
		return model.Payment{}, err
	}
	p := model.Payment{
		Provider:       ProviderID,
		ID:             c.ID,
		OrderID:        orderID,
		Method:         "Digital River charge",
		FundingType:    c.Type,
		Amount:         amt,
		Status:         ChargeStatus(c.State),
		ProviderStatus: c.State,
		PaymentMethod:  c.SourceID,
		Created:        c.CreatedTime,
		Updated:        c.CreatedTime,
	}
	fs := &p.Fields
	field(fs, "id", c.ID)
	field(fs, "state", c.State)
	field(fs, "type", c.Type)
	field(fs, "amount", amt.String())
	field(fs, "captured", strconv.FormatBool(c.Captured))
	field(fs, "refunded", strconv.FormatBool(c.Refunded))
	field(fs, "sourceId", c.SourceID)
	field(fs, "failureCode", c.FailureCode)
	field(fs, "failureMessage", c.FailureMessage)
	field(fs, "createdTime", ts(c.CreatedTime))
	for i, cp := range c.Captures {
		a, err := money(cp.Amount, cur, "captures.amount")
		if err != nil {
			return model.Payment{}, err
		}
		if cp.CreatedTime.After(p.Updated) {
			p.Updated = cp.CreatedTime
		}
		if cp.State == "complete" && p.SuccessDate == nil {
			t := cp.CreatedTime
			p.SuccessDate = &t
		}
		field(fs, fmt.Sprintf("captures[%d]", i), fmt.Sprintf("%s %s %s %s", cp.ID, a, cp.State, ts(cp.CreatedTime)))
	}
	for i, cr := range c.Refunds {
		a, err := money(cr.Amount, cur, "charges.refunds.amount")
		if err != nil {
			return model.Payment{}, err
		}
		if cr.CreatedTime.After(p.Updated) {
			p.Updated = cr.CreatedTime
		}
		field(fs, fmt.Sprintf("refunds[%d]", i), fmt.Sprintf("%s %s %s", a, cr.State, ts(cr.CreatedTime)))
	}
	return p, nil
}
