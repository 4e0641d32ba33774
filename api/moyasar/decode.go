package moyasar

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"paydesk/model"
)

// maxWireAmount bounds any amount read from the wire (MPG's own limit is
// 100,000,000 minor units per request; sums can be larger).
const maxWireAmount = 1_000_000_000_000

// DecodeOrder decodes one MPG order object (GET /v1/orders/:id, or the answer
// to refund and void) into the model.
func DecodeOrder(body []byte) (*model.Order, error) {
	var w wireOrder
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("moyasar: decoding order: %w", err)
	}
	return toOrder(&w)
}

// orderView is an order mapped to the model plus the facts the client needs
// that the model has no field for.
type orderView struct {
	*model.Order
	authorized, voided int64             // approved sums from the transactions, minor units
	refunded           int64             // refunded_amount, or more if the refund transactions say so
	txnIDs             map[string]string // transaction id -> type
}

func toOrder(w *wireOrder) (*model.Order, error) {
	v, err := view(w)
	if err != nil {
		return nil, err
	}
	return v.Order, nil
}

func view(w *wireOrder) (*orderView, error) {
	id := strings.TrimSpace(w.ID)
	if id == "" {
		return nil, errors.New("moyasar: order without an id")
	}
	cur := strings.ToUpper(strings.TrimSpace(w.Currency))
	if _, err := model.Exponent(cur); err != nil {
		return nil, fmt.Errorf("moyasar: order %s: %w", id, err)
	}
	var bad error
	money := func(minor int64, what string) model.Money {
		if minor < 0 || minor > maxWireAmount {
			if bad == nil {
				bad = fmt.Errorf("moyasar: order %s: %s %d is out of range", id, what, minor)
			}
			return model.Zero(cur)
		}
		m, _ := model.FromMinor(minor, cur)
		return m
	}
	card := cardOf(w.Source)
	o := &model.Order{
		Provider: ProviderID, ID: id, Ref: id, Currency: cur,
		Created: parseTime(w.CreatedAt), Updated: parseTime(w.UpdatedAt),
		Description: str(w.Description), Total: money(w.Amount, "amount"),
	}
	v := &orderView{Order: o, txnIDs: map[string]string{}}
	captured, refunded := money(w.CapturedAmount, "captured_amount"), money(w.RefundedAmount, "refunded_amount")
	money(w.VoidedAmount, "voided_amount")

	// Transactions oldest first; ties keep the provider's order.
	txns := slices.Clone(w.Transactions)
	slices.SortStableFunc(txns, func(a, b wireTxn) int { return parseTime(a.CreatedAt).Compare(parseTime(b.CreatedAt)) })

	// Approved reversals, by the transaction they undo: a transaction whose
	// outcome was uncertain (a timeout, say) that the gateway then reversed
	// moved no money.
	reversed := map[string]wireTxn{}
	for _, x := range txns {
		if lower(x.Type) == typeReversal && lower(x.Status) == txnApproved && str(x.ReversedTransactionID) != "" {
			reversed[lower(str(x.ReversedTransactionID))] = x
		}
	}

	var auths, others []wireTxn
	hasCapture := false
	var derivedRefunded int64 // approved, unreversed refund transactions
	for _, x := range txns {
		rev, isReversed := reversed[lower(x.ID)]
		v.txnIDs[lower(x.ID)] = lower(x.Type)
		amt := money(x.Amount, "transaction amount")
		switch lower(x.Type) {
		case typePurchase, typeCapture:
			if isReversed {
				p := payment(o, x, amt, card, model.StatusVoided)
				markReversed(&p.ProviderStatus, &p.LastError, rev)
				o.Payments = append(o.Payments, p)
				continue
			}
			hasCapture = true
			o.Payments = append(o.Payments, payment(o, x, amt, card, txnStatus(x.Status)))
		case typeAuthorize:
			auths = append(auths, x)
			if lower(x.Status) == txnApproved {
				v.authorized += x.Amount
			}
		case typeRefund:
			r := refund(o, x, amt)
			if isReversed {
				// Not refunded: the reversal frees the amount it held.
				r.Status = model.StatusFailed
				markReversed(&r.ProviderStatus, &r.LastError, rev)
				r.FailureReason = r.LastError.Message
			} else if lower(x.Status) == txnApproved {
				derivedRefunded += x.Amount
			}
			o.Refunds = append(o.Refunds, r)
		case typeVoid:
			if lower(x.Status) == txnApproved && !isReversed {
				v.voided += x.Amount
			}
			others = append(others, x)
		default: // verify, extension, reversal, and types not yet known:
			// details of the order, shown as fields; none is a payment.
			others = append(others, x)
		}
	}
	if bad != nil {
		return nil, bad
	}
	// An authorization is shown as a payment only while nothing is captured:
	// it is what the agent can void. Once captured, the captures are the
	// payments and the authorization is a detail of the order.
	if !hasCapture {
		left := v.voided
		for _, x := range auths {
			st := txnStatus(x.Status)
			if lower(x.Status) == txnApproved {
				st = model.StatusRequiresAction
				if left >= x.Amount {
					st, left = model.StatusVoided, left-x.Amount
				}
			}
			o.Payments = append(o.Payments, payment(o, x, money(x.Amount, "amount"), card, st))
		}
	} else {
		others = append(auths, others...)
	}
	attribute(o)

	// What is left to refund: the provider's captured sum less every refund
	// that may hold money (approved, in flight or of unknown outcome).
	avail := captured
	for _, r := range o.Refunds {
		if r.Status != model.StatusFailed {
			avail, _ = avail.Sub(r.Amount)
		}
	}
	if !avail.IsPositive() {
		avail = model.Zero(cur)
	}
	o.AvailableToRefund = &avail

	// The published example keeps a capture's refunded_amount at 0 after a
	// full refund: what was refunded is read from the refund transactions
	// too, and the larger of the two counts.
	v.refunded = max(w.RefundedAmount, derivedRefunded)
	o.Status, o.ProviderStatus = orderStatus(w, v, txns)
	for _, p := range o.Payments {
		if p.Status == model.StatusSucceeded && p.SuccessDate != nil {
			o.SuccessDate = p.SuccessDate
			break
		}
	}
	o.Fields = orderFields(w, card, captured, refunded, others)
	return v, nil
}

// orderStatus derives a status: MPG orders have none of their own.
func orderStatus(w *wireOrder, v *orderView, txns []wireTxn) (model.Status, string) {
	switch {
	case w.CapturedAmount > 0 && v.refunded >= w.CapturedAmount:
		return model.StatusRefunded, "refunded"
	case w.CapturedAmount > 0 && v.refunded > 0:
		return model.StatusPartlyRefunded, "partially refunded"
	case w.CapturedAmount > 0:
		return model.StatusSucceeded, "captured"
	case v.authorized > 0 && v.voided >= v.authorized:
		return model.StatusVoided, "voided"
	case v.authorized > 0:
		return model.StatusRequiresAction, "authorized"
	}
	// Nothing approved: the last purchase or authorization says why.
	for i := len(txns) - 1; i >= 0; i-- {
		switch lower(txns[i].Type) {
		case typePurchase, typeAuthorize, typeCapture:
			st := lower(txns[i].Status)
			if st == txnFailed {
				return model.StatusFailed, "declined"
			}
			return txnStatus(st), st
		}
	}
	return model.StatusDraft, "no transactions"
}

// txnStatus maps a transaction status. timeout and system_error mean the
// gateway could not tell whether money moved: never "failed".
func txnStatus(s string) model.Status {
	switch lower(s) {
	case txnInitiated:
		return model.StatusProcessing
	case txnApproved:
		return model.StatusSucceeded
	case txnFailed:
		return model.StatusFailed
	}
	return model.StatusUnknown // timeout, system_error, anything new
}

func payment(o *model.Order, x wireTxn, amt model.Money, card *cardWithType, st model.Status) model.Payment {
	created := parseTime(x.CreatedAt)
	p := model.Payment{
		Provider: ProviderID, ID: strings.TrimSpace(x.ID), OrderID: o.ID, Amount: amt,
		Status: st, ProviderStatus: lower(x.Status), Description: o.Description,
		Created: created, Updated: created, Fields: txnFields(x, o.Currency),
	}
	if card != nil {
		c := card.Card
		p.Card = &c
		p.Method = card.Scheme + " •••• " + card.Last4
		p.FundingType = card.fundingType
		p.PaymentMethod = card.Masked()
	}
	if st == model.StatusSucceeded || lower(x.Status) == txnApproved {
		p.SuccessDate = &created
	}
	p.LastError = lastError(x)
	p.Receipt = receipt(x, card, created)
	return p
}

func refund(o *model.Order, x wireTxn, amt model.Money) model.Refund {
	created := parseTime(x.CreatedAt)
	r := model.Refund{
		Provider: ProviderID, ID: strings.TrimSpace(x.ID), OrderID: o.ID, Amount: amt,
		Status: txnStatus(x.Status), ProviderStatus: lower(x.Status),
		Created: created, Updated: created, Fields: txnFields(x, o.Currency),
		LastError: lastError(x), Receipt: receipt(x, nil, created),
	}
	if r.Status == model.StatusFailed || r.Status == model.StatusUnknown {
		r.FailureReason = str(x.Message)
	}
	return r
}

// markReversed records that a reversal transaction undid a transaction:
// provider status "reversed", and the reverse_reason (request_timeout,
// gateway_timeout, response_error, delivery_error) as the error code.
func markReversed(status *string, lastErr **model.ProcessingError, rev wireTxn) {
	*status = "reversed"
	reason := lower(str(rev.ReverseReason))
	msg := "reversed by the gateway (transaction " + strings.TrimSpace(rev.ID) + "): no money moved"
	if reason != "" {
		msg = "reversed by the gateway after " + strings.ReplaceAll(reason, "_", " ") + " (transaction " + strings.TrimSpace(rev.ID) + "): no money moved"
	}
	*lastErr = &model.ProcessingError{Code: reason, Message: msg}
}

func lastError(x wireTxn) *model.ProcessingError {
	switch lower(x.Status) {
	case txnFailed, txnTimeout, txnSystemError:
		msg := str(x.Message)
		if msg == "" {
			msg = lower(x.Status)
		}
		return &model.ProcessingError{Code: str(x.ResponseCode), Message: msg}
	}
	return nil
}

func receipt(x wireTxn, card *cardWithType, created time.Time) *model.Receipt {
	r := &model.Receipt{RefNumber: str(x.RetrievalReference), TransactionType: lower(x.Type),
		Message: str(x.Message), Created: created}
	if card != nil {
		r.Last4 = card.Last4
	}
	return r
}

// attribute assigns each refund to a payment. MPG refunds the order, not a
// transaction, so refunds fill the succeeded payments oldest first, each up to
// its amount; this keeps model.Order.RefundableOn honest per payment.
func attribute(o *model.Order) {
	var targets []int
	for i, p := range o.Payments {
		if p.Status == model.StatusSucceeded {
			targets = append(targets, i)
		}
	}
	if len(targets) == 0 {
		return
	}
	used := make([]model.Money, len(o.Payments))
	for i := range used {
		used[i] = model.Zero(o.Currency)
	}
	fits := func(i int, amt model.Money) bool {
		sum, err := used[i].Add(amt)
		if err != nil {
			return false
		}
		c, err := sum.Cmp(o.Payments[i].Amount)
		return err == nil && c <= 0
	}
	for ri := range o.Refunds {
		r := &o.Refunds[ri]
		pick := targets[len(targets)-1]
		for _, i := range targets {
			if fits(i, r.Amount) {
				pick = i
				break
			}
		}
		r.PaymentID = o.Payments[pick].ID
		o.Payments[pick].RefundIDs = append(o.Payments[pick].RefundIDs, r.ID)
		if r.Status != model.StatusFailed {
			used[pick], _ = used[pick].Add(r.Amount)
		}
	}
}

func cardOf(s *wireSource) *cardWithType {
	if s == nil {
		return nil
	}
	c := &cardWithType{Card: model.Card{Scheme: lower(s.Scheme)}, fundingType: lower(s.Type)}
	// Never more than a BIN and the last four, whatever the provider sends.
	if bin := digitsOnly(s.FirstDigits); len(bin) >= 6 {
		if len(bin) > 8 {
			bin = bin[:6]
		}
		c.BIN = bin
	}
	if last := digitsOnly(s.LastDigits); len(last) >= 4 {
		c.Last4 = last[len(last)-4:]
	}
	if s.Month >= 1 && s.Month <= 12 && s.Year >= 1000 && s.Year <= 9999 {
		c.Expiry = fmt.Sprintf("%02d/%04d", s.Month, s.Year)
	}
	if c.Scheme == "" {
		c.Scheme = "card"
	}
	return c
}

// cardWithType is the masked card plus the source type (card, apple_pay).
type cardWithType struct {
	model.Card
	fundingType string
}

func digitsOnly(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return ""
		}
	}
	return s
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func minorText(minor int64, cur string) string {
	m, err := model.FromMinor(minor, cur)
	if err != nil {
		return strconv.FormatInt(minor, 10)
	}
	return fmt.Sprintf("%s (%d minor units)", m, minor)
}

func txnFields(x wireTxn, cur string) []model.Field {
	return []model.Field{
		{Name: "id", Value: x.ID},
		{Name: "type", Value: x.Type},
		{Name: "status", Value: x.Status},
		{Name: "source_type", Value: x.SourceType},
		{Name: "amount", Value: minorText(x.Amount, cur)},
		{Name: "refunded_amount", Value: minorText(x.RefundedAmount, cur)},
		{Name: "message", Value: str(x.Message)},
		{Name: "response_code", Value: str(x.ResponseCode)},
		{Name: "retrieval_reference", Value: str(x.RetrievalReference)},
		{Name: "stan", Value: str(x.STAN)},
		{Name: "auth_code", Value: str(x.AuthCode)},
		{Name: "reverse_reason", Value: str(x.ReverseReason)},
		{Name: "justification", Value: str(x.Justification)},
		{Name: "reversed_transaction_id", Value: str(x.ReversedTransactionID)},
		{Name: "created_at", Value: x.CreatedAt},
	}
}

func orderFields(w *wireOrder, c *cardWithType, captured, refunded model.Money, others []wireTxn) []model.Field {
	f := []model.Field{{Name: "id", Value: w.ID}}
	if m := w.Merchant; m != nil {
		f = append(f,
			model.Field{Name: "merchant.name", Value: m.Name},
			model.Field{Name: "merchant.arabic_name", Value: m.ArabicName},
			model.Field{Name: "merchant.merchant_id", Value: m.MerchantID},
			model.Field{Name: "merchant.id", Value: m.ID},
			model.Field{Name: "merchant.acquirer_id", Value: m.AcquirerID},
			model.Field{Name: "merchant.rule_precedence", Value: m.RulePrecedence})
	}
	cur := strings.ToUpper(strings.TrimSpace(w.Currency))
	f = append(f,
		model.Field{Name: "currency", Value: cur},
		model.Field{Name: "amount", Value: minorText(w.Amount, cur)},
		model.Field{Name: "captured_amount", Value: minorText(w.CapturedAmount, cur)},
		model.Field{Name: "refunded_amount", Value: minorText(w.RefundedAmount, cur)},
		model.Field{Name: "voided_amount", Value: minorText(w.VoidedAmount, cur)},
		model.Field{Name: "description", Value: str(w.Description)},
		model.Field{Name: "created_at", Value: w.CreatedAt},
		model.Field{Name: "updated_at", Value: w.UpdatedAt})
	if s := w.Source; s != nil && c != nil {
		f = append(f,
			model.Field{Name: "source.type", Value: s.Type},
			model.Field{Name: "source.scheme", Value: s.Scheme},
			model.Field{Name: "source.card", Value: c.Masked()},
			model.Field{Name: "source.expiry", Value: c.Expiry},
			model.Field{Name: "source.issuer", Value: str(s.Issuer)},
			model.Field{Name: "source.card_type", Value: str(s.CardType)},
			model.Field{Name: "source.category", Value: str(s.Category)},
			model.Field{Name: "source.country_alpha2", Value: str(s.CountryAlpha2)})
	}
	f = append(f, model.Field{Name: "reauthorized_order_id", Value: str(w.ReauthorizedOrderID)})
	if w.Airline != nil {
		f = append(f, model.Field{Name: "airline.reference", Value: w.Airline.Reference})
	}
	if sm := w.SubMerchant; sm != nil {
		f = append(f,
			model.Field{Name: "sub_merchant.id", Value: sm.ID},
			model.Field{Name: "sub_merchant.registered_name", Value: sm.RegisteredName},
			model.Field{Name: "sub_merchant.trading_name", Value: sm.TradingName},
			model.Field{Name: "sub_merchant.email", Value: sm.Email})
	}
	if a := strings.TrimSpace(string(w.Agreement)); a != "" && a != "null" {
		f = append(f, model.Field{Name: "agreement", Value: a})
	}
	for _, x := range others {
		f = append(f, model.Field{
			Name:  "transaction " + x.ID,
			Value: fmt.Sprintf("%s %s %s at %s", x.Type, x.Status, minorText(x.Amount, cur), x.CreatedAt),
		})
	}
	return f
}

// summary maps a list row. An order the client cannot read (say, a currency
// it does not know) still gets a row, marked unknown, so it is not hidden.
func summary(w *wireOrder) model.OrderSummary {
	v, err := view(w)
	if err != nil {
		return model.OrderSummary{Provider: ProviderID, ID: w.ID, Ref: w.ID, Status: model.StatusUnknown,
			ProviderStatus: "unreadable", Created: parseTime(w.CreatedAt), Reference: err.Error()}
	}
	o := v.Order
	captured, _ := model.FromMinor(w.CapturedAmount, o.Currency)
	// What the order screen says was refunded (refunded_amount may stay 0
	// while refund transactions say otherwise), so list and order agree.
	refunded, _ := model.FromMinor(v.refunded, o.Currency)
	s := model.OrderSummary{
		Provider: ProviderID, ID: o.ID, Ref: o.Ref, Status: o.Status, ProviderStatus: o.ProviderStatus,
		Created: o.Created, Amounts: []model.Money{captured, refunded}, Total: o.Total,
	}
	if c := cardOf(w.Source); c != nil {
		// Last four first: a narrow column must not cut what agents match on.
		s.Reference = strings.TrimSpace("•••• " + c.Last4 + " " + c.Scheme)
	}
	return s
}

func decodeView(body []byte) (*orderView, error) {
	var w wireOrder
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("moyasar: decoding order: %w", err)
	}
	return view(&w)
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
