package forage

import (
	"encoding/json"
	"fmt"
	"time"

	"paydesk/model"
)

// ---------------------------------------------------------------- statuses

// orderStatus maps Order.status. The docs spell canceled both ways.
func orderStatus(s string) model.Status {
	switch s {
	case "draft":
		return model.StatusDraft
	case "processing":
		return model.StatusProcessing
	case "succeeded":
		return model.StatusSucceeded
	case "failed":
		return model.StatusFailed
	case "canceled", "cancelled":
		return model.StatusCanceled
	}
	return model.StatusUnknown
}

// paymentStatus maps OrderPayment.status and OrderRefund.status (same enum;
// refunds have been seen in requires_confirmation in the docs' example).
// requires_confirmation is not final, so a refund in it holds money and
// shows as in flight.
func paymentStatus(s string) model.Status {
	switch s {
	case "requires_confirmation":
		return model.StatusRequiresAction
	case "processing":
		return model.StatusProcessing
	case "succeeded":
		return model.StatusSucceeded
	case "failed":
		return model.StatusFailed
	case "canceled", "cancelled":
		return model.StatusCanceled
	}
	return model.StatusUnknown
}

// methodLabel names a funding_type for the agent.
func methodLabel(fundingType string) string {
	switch fundingType {
	case "ebt_snap":
		return "EBT SNAP"
	case "ebt_cash":
		return "EBT Cash"
	case "benefit":
		return "Benefit"
	case "credit_tpp":
		return "Card (TPP)"
	}
	return fundingType
}

// ---------------------------------------------------------------- decoders

func decodeReceipt(w *wireReceipt) *model.Receipt {
	if w == nil {
		return nil
	}
	r := &model.Receipt{
		RefNumber:       string(w.RefNumber),
		TransactionType: string(w.TransactionType),
		Message:         string(w.Message),
		Last4:           string(w.Last4),
		SnapAmount:      w.SnapAmount.orZero(),
		CashAmount:      w.EBTCashAmount.orZero(),
		OtherAmount:     w.OtherAmount.orZero(),
		SalesTax:        w.SalesTaxApplied.orZero(),
		IsVoided:        w.IsVoided,
		Created:         w.Created.t,
	}
	if w.Balance != nil {
		r.Balance = &model.Balance{Snap: w.Balance.Snap.m, Cash: w.Balance.NonSnap.m, Updated: w.Balance.Updated.t}
	}
	return r
}

// decodeOrderObject reads an Order (without its payments and refunds, which
// come from their own endpoints). It returns the wire ref lists too.
func decodeOrderObject(raw []byte) (*model.Order, *wireOrder, error) {
	var w wireOrder
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, decodeErr("order", err)
	}
	if !validRef(string(w.Ref)) {
		return nil, nil, decodeErr("order", fmt.Errorf("ref %q is not a Forage ref", clipRunes(string(w.Ref), 20)))
	}
	o := &model.Order{
		Provider:        ProviderID,
		ID:              string(w.Ref),
		Ref:             string(w.Ref),
		Status:          orderStatus(string(w.Status)),
		ProviderStatus:  string(w.Status),
		Currency:        currency,
		SuccessDate:     w.SuccessDate.ptr(),
		CustomerID:      string(w.CustomerID),
		ExternalOrderID: string(w.ExternalOrderID),
		Fields:          wireFields(raw, orderFieldOrder),
	}
	// Orders expire 30 minutes after they are created [C], and the Order
	// has no created field: expires_at less 30 minutes is its creation time
	// until a payment says otherwise (see assemble).
	if !w.ExpiresAt.t.IsZero() {
		o.Created = w.ExpiresAt.t.Add(-orderLifetime)
	}
	// Total: the order's own totals while the API version still sends them,
	// else the receipt's, else (see assemble) the payments'.
	switch {
	case w.SnapTotal.m != nil || w.EBTCashTotal.m != nil || w.RemainingTotal.m != nil:
		o.Total = sum(w.SnapTotal.orZero(), w.EBTCashTotal.orZero(), w.RemainingTotal.orZero())
	case w.Receipt != nil:
		o.Total = sum(w.Receipt.SnapAmount.orZero(), w.Receipt.EBTCashAmount.orZero(), w.Receipt.OtherAmount.orZero())
	}
	return o, &w, nil
}

const orderLifetime = 30 * time.Minute

func sum(ms ...model.Money) model.Money {
	t := model.Zero(currency)
	for _, m := range ms {
		t, _ = t.Add(m)
	}
	return t
}

// decodePayment reads one OrderPayment.
func decodePayment(raw []byte) (*model.Payment, map[string]json.RawMessage, error) {
	var w wirePayment
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, nil, decodeErr("payment", err)
	}
	if !validRef(string(w.Ref)) {
		return nil, nil, decodeErr("payment", fmt.Errorf("ref %q is not a Forage ref", clipRunes(string(w.Ref), 20)))
	}
	amt, err := w.Amount.required("amount")
	if err != nil {
		return nil, nil, decodeErr("payment "+string(w.Ref), err)
	}
	p := &model.Payment{
		Provider:        ProviderID,
		ID:              string(w.Ref),
		OrderID:         string(w.Order),
		Method:          methodLabel(string(w.FundingType)),
		FundingType:     string(w.FundingType),
		Amount:          amt,
		Status:          paymentStatus(string(w.Status)),
		ProviderStatus:  string(w.Status),
		Description:     string(w.Description),
		PaymentMethod:   string(w.PaymentMethod),
		CustomerID:      string(w.CustomerID),
		ExternalOrderID: string(w.ExternalOrderID),
		Metadata:        w.Metadata.m,
		MetadataTotal:   w.Metadata.total,
		Created:         w.Created.t,
		Updated:         w.Updated.t,
		SuccessDate:     w.SuccessDate.ptr(),
		LastError:       w.LastProcessingError.e,
		Receipt:         decodeReceipt(w.Receipt),
		RefundIDs:       []string(w.Refunds),
		Fields:          wireFields(raw, paymentFieldOrder),
	}
	if p.Receipt != nil && p.Receipt.Last4 != "" {
		p.Card = &model.Card{Scheme: "EBT", Last4: p.Receipt.Last4}
	}
	return p, w.Metadata.raw, nil
}

// decodeRefund reads one OrderRefund.
func decodeRefund(raw []byte) (*model.Refund, error) {
	var w wireRefund
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, decodeErr("refund", err)
	}
	if !validRef(string(w.Ref)) {
		return nil, decodeErr("refund", fmt.Errorf("ref %q is not a Forage ref", clipRunes(string(w.Ref), 20)))
	}
	amt, err := w.Amount.required("amount")
	if err != nil {
		return nil, decodeErr("refund "+string(w.Ref), err)
	}
	r := &model.Refund{
		Provider:       ProviderID,
		ID:             string(w.Ref),
		OrderID:        string(w.Order),
		PaymentID:      string(w.Payment),
		Amount:         amt,
		Status:         paymentStatus(string(w.Status)),
		ProviderStatus: string(w.Status),
		Reason:         string(w.Reason),
		Metadata:       w.Metadata.m,
		MetadataTotal:  w.Metadata.total,
		Created:        w.Created.t,
		Updated:        w.Updated.t,
		LastError:      w.LastProcessingError.e,
		Receipt:        decodeReceipt(w.Receipt),
		Fields:         wireFields(raw, refundFieldOrder),
	}
	if r.Status == model.StatusFailed {
		// The OrderRefund docs point at last_processing_error, the
		// PaymentRefund docs at receipt.message: use whichever is there.
		switch {
		case r.LastError != nil && r.LastError.Message != "":
			r.FailureReason = r.LastError.Message
		case r.LastError != nil && r.LastError.Code != "":
			r.FailureReason = r.LastError.Code
		case r.Receipt != nil:
			r.FailureReason = r.Receipt.Message
		}
	}
	return r, nil
}

// decodeList reads a plain JSON array (the payments and refunds lists have
// no pagination wrapper).
func decodeList(raw []byte, what string) ([]json.RawMessage, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, decodeErr(what, err)
	}
	return items, nil
}

func decodePayments(raw []byte) ([]model.Payment, map[string]map[string]json.RawMessage, error) {
	items, err := decodeList(raw, "payments")
	if err != nil {
		return nil, nil, err
	}
	out := make([]model.Payment, 0, len(items))
	metas := make(map[string]map[string]json.RawMessage, len(items))
	for _, it := range items {
		p, meta, err := decodePayment(it)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, *p)
		metas[p.ID] = meta
	}
	return out, metas, nil
}

func decodeRefunds(raw []byte) ([]model.Refund, error) {
	items, err := decodeList(raw, "refunds")
	if err != nil {
		return nil, err
	}
	out := make([]model.Refund, 0, len(items))
	for _, it := range items {
		r, err := decodeRefund(it)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, nil
}

// assemble completes an order with its payments and refunds: derived
// creation time, a total when the API version sends none, and the
// refunded / partly refunded status (ProviderStatus stays Forage's word).
func assemble(o *model.Order, payments []model.Payment, refunds []model.Refund) {
	o.Payments, o.Refunds = payments, refunds
	for _, p := range payments {
		if !p.Created.IsZero() && (o.Created.IsZero() || p.Created.Before(o.Created)) {
			o.Created = p.Created
		}
		if p.Updated.After(o.Updated) {
			o.Updated = p.Updated
		}
	}
	for _, r := range refunds {
		if r.Updated.After(o.Updated) {
			o.Updated = r.Updated
		}
	}
	if o.Total.Currency == "" {
		t := model.Zero(currency)
		for _, p := range payments {
			if p.Status != model.StatusCanceled && p.Status != model.StatusFailed {
				t, _ = t.Add(p.Amount)
			}
		}
		o.Total = t
	}
	if o.Status == model.StatusSucceeded {
		paid, refunded := o.Paid(), o.Refunded()
		switch c, err := refunded.Cmp(paid); {
		case err != nil || !refunded.IsPositive():
		case c >= 0:
			o.Status = model.StatusRefunded
		default:
			o.Status = model.StatusPartlyRefunded
		}
	}
}

// decodeReportRow reads one Order Report row. Amounts: SNAP, EBT Cash and
// credit/debit paid (a Fully Hosted order may be paid partly by card, which
// is what explains a total above the EBT paid). While the paid amounts are
// null (the order neither succeeded nor failed) they are not known and show
// as such, and Total is what the order is for (its eligible totals plus the
// remainder). The row has no date: ListOrders knows it from the day it asked.
func decodeReportRow(raw []byte) (model.OrderSummary, error) {
	var w wireReportRow
	if err := json.Unmarshal(raw, &w); err != nil {
		return model.OrderSummary{}, decodeErr("report row", err)
	}
	if !validRef(string(w.Ref)) {
		return model.OrderSummary{}, decodeErr("report row", fmt.Errorf("ref %q is not a Forage ref", clipRunes(string(w.Ref), 20)))
	}
	paid := func(a amount) model.Money {
		if a.m == nil {
			return model.Money{} // null: not paid (yet), shown as not known
		}
		return *a.m
	}
	snap, cash, other := w.SnapPaid, w.EBTCashPaid, w.CreditDebitPaid
	if snap.m == nil && cash.m == nil && other.m == nil {
		snap, cash, other = w.SnapEligibleTotal, w.EBTCashEligibleTotal, w.RemainingTotal
	}
	return model.OrderSummary{
		Provider:       ProviderID,
		ID:             string(w.Ref),
		Ref:            string(w.Ref),
		Status:         orderStatus(string(w.Status)),
		ProviderStatus: string(w.Status),
		Amounts:        []model.Money{paid(w.SnapPaid), paid(w.EBTCashPaid), paid(w.CreditDebitPaid)},
		Total:          sum(snap.orZero(), cash.orZero(), other.orZero()),
	}, nil
}

// clipRunes cuts s to n runes and marks the cut with "…" (api.truncRunes
// cuts bytes and marks nothing: a different contract, hence a different name).
func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
