package digitalriver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

const maxBody = 1 << 20
const maxMetadata = 8 << 10

func (s *Server) handleRefunds(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		s.listRefunds(w, r)
	case http.MethodPost:
		s.createRefund(w, r)
	default:
		methodNotAllowed(w, "GET, POST")
	}
}

func (s *Server) handleRefund(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		id := r.PathValue("id")
		now := ms(s.now())
		s.mu.Lock()
		rf := s.refundByID[id]
		if rf == nil {
			s.mu.Unlock()
			writeErr(w, refundNotFound(id))
			return
		}
		v := s.refundView(rf, now)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, v)
	case http.MethodPost:
		s.updateRefund(w, r)
	default:
		methodNotAllowed(w, "GET, POST")
	}
}

func refundNotFound(id string) *errStatus {
	return newErr(http.StatusNotFound, "not_found", "id", "refund "+id+" not found")
}

func (s *Server) listRefunds(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lq, e := parseListQuery(q)
	if e != nil {
		writeErr(w, e)
		return
	}
	tf, e := parseTimeFilter(q, "createdTime")
	if e != nil {
		writeErr(w, e)
		return
	}
	ids := idsFilter(q)
	orderID, state, reason, failure := q.Get("orderId"), q.Get("state"), q.Get("reason"), q.Get("failureReason")
	now := ms(s.now())

	s.mu.Lock()
	var cur *cursorKey
	if id, param := cursorParam(lq); id != "" {
		rf := s.refundByID[id]
		if rf == nil {
			s.mu.Unlock()
			writeErr(w, badParam(param, "no refund with id "+id))
			return
		}
		cur = &cursorKey{rf.created, rf.id}
	}
	var filtered []*refund
	for _, rf := range s.refunds {
		if ids != nil && !ids[rf.id] || orderID != "" && rf.order.id != orderID ||
			reason != "" && rf.reason != reason || !tf.ok(rf.created) {
			continue
		}
		if state != "" || failure != "" {
			st, _ := s.state(rf, now)
			if state != "" && st != state || failure != "" && (st != "failed" || failure != expiredCardFailure) {
				continue
			}
		}
		filtered = append(filtered, rf)
	}
	data, more := page(filtered, func(rf *refund) cursorKey { return cursorKey{rf.created, rf.id} }, lq, cur)
	out := listView[refundView]{HasMore: more, Data: make([]refundView, 0, len(data))}
	for _, rf := range data {
		out.Data = append(out.Data, s.refundView(rf, now))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// readObject reads a JSON object body into its raw members.
func readObject(r *http.Request) (map[string]json.RawMessage, *errStatus) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, newErr(http.StatusBadRequest, "invalid_request", "", "could not read the request body")
	}
	if len(body) > maxBody {
		return nil, newErr(http.StatusBadRequest, "invalid_request", "", "request body too large")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, newErr(http.StatusBadRequest, "invalid_request", "", "the request body must be a JSON object")
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool {
	return raw == nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func str(m map[string]json.RawMessage, name string) (string, bool, *errStatus) {
	raw, ok := m[name]
	if !ok || isNull(raw) {
		return "", false, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false, badParam(name, name+" must be a string")
	}
	return v, true, nil
}

var numberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

func number(raw json.RawMessage, name string) (decimal.Decimal, bool, *errStatus) {
	if isNull(raw) {
		return decimal.Zero, false, nil
	}
	t := string(bytes.TrimSpace(raw))
	if !numberRE.MatchString(t) {
		return decimal.Zero, false, badParam(name, name+" must be a JSON number")
	}
	d, err := decimal.NewFromString(t)
	if err != nil {
		return decimal.Zero, false, badParam(name, name+" must be a JSON number")
	}
	return d, true, nil
}

func metadataParam(m map[string]json.RawMessage) (json.RawMessage, bool, *errStatus) {
	raw, ok := m["metadata"]
	if !ok {
		return nil, false, nil
	}
	if isNull(raw) {
		return nil, true, nil
	}
	if len(raw) > maxMetadata {
		return nil, false, badParam("metadata", "metadata is larger than 8 KiB")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, false, badParam("metadata", "metadata must be a JSON object")
	}
	return append(json.RawMessage(nil), raw...), true, nil
}

// refundTypes are the refund types of API builds 2021-10 and later (the
// 2020-12 and 2021-01 builds also had "fees").
var refundTypes = map[string]bool{"shipping": true, "tax": true, "duty": true, "importer_tax": true}

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

func (s *Server) createRefund(w http.ResponseWriter, r *http.Request) {
	if s.popFault(faultUnavailable) != nil {
		writeErr(w, newErr(http.StatusServiceUnavailable, "service_unavailable", "", "the service is temporarily unavailable"))
		return
	}
	m, e := readObject(r)
	if e != nil {
		writeErr(w, e)
		return
	}
	rf, e := s.buildRefund(m)
	if e != nil {
		writeErr(w, e)
		return
	}
	f := s.popFault(faultErrorAfterCommit, faultResetAfterCommit, faultHangAfterCommit)
	if f == nil {
		writeJSON(w, http.StatusCreated, rf)
		return
	}
	s.applyFault(w, r, *f, rf)
}

// buildRefund validates a create body and, when valid, records the refund.
func (s *Server) buildRefund(m map[string]json.RawMessage) (refundView, *errStatus) {
	allowed := []string{"orderId", "invoiceId", "currency", "amount", "percent", "items", "type", "reason", "metadata"}
	var unknown []string
	for k := range m {
		found := false
		for _, a := range allowed {
			found = found || k == a
		}
		if !found {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return refundView{}, badParam(unknown[0], "unknown parameter "+unknown[0])
	}
	orderID, hasOrder, e := str(m, "orderId")
	if e != nil {
		return refundView{}, e
	}
	invoiceID, hasInvoice, e := str(m, "invoiceId")
	if e != nil {
		return refundView{}, e
	}
	switch {
	case hasOrder && hasInvoice:
		return refundView{}, badParam("invoiceId", "provide orderId or invoiceId, not both")
	case !hasOrder && !hasInvoice:
		return refundView{}, newErr(http.StatusBadRequest, "missing_parameter", "orderId", "orderId or invoiceId is required")
	case hasInvoice:
		return refundView{}, badParam("invoiceId", "no invoice with id "+invoiceID)
	}
	currency, hasCur, e := str(m, "currency")
	if e != nil {
		return refundView{}, e
	}
	if !hasCur {
		return refundView{}, newErr(http.StatusBadRequest, "missing_parameter", "currency", "currency is required")
	}
	if !currencyRE.MatchString(currency) {
		return refundView{}, badParam("currency", "currency must be a three-letter ISO 4217 code")
	}
	reason, _, e := str(m, "reason")
	if e != nil {
		return refundView{}, e
	}
	if utf8.RuneCountInString(reason) > 64 {
		return refundView{}, badParam("reason", "reason must be at most 64 characters")
	}
	typ, _, e := str(m, "type")
	if e != nil {
		return refundView{}, e
	}
	if typ != "" && !refundTypes[typ] {
		return refundView{}, badParam("type", "type must be one of shipping, tax, duty, importer_tax")
	}
	meta, _, e := metadataParam(m)
	if e != nil {
		return refundView{}, e
	}
	amt, hasAmt, e := number(m["amount"], "amount")
	if e != nil {
		return refundView{}, e
	}
	pct, hasPct, e := number(m["percent"], "percent")
	if e != nil {
		return refundView{}, e
	}
	type itemReq struct {
		ItemID   string          `json:"itemId"`
		SkuID    string          `json:"skuId"`
		Quantity *int            `json:"quantity"`
		Amount   json.RawMessage `json:"amount"`
		Type     string          `json:"type"`
	}
	var items []itemReq
	hasItems := false
	if raw, ok := m["items"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &items); err != nil {
			return refundView{}, badParam("items", "items must be an array of {itemId or skuId, quantity, amount}")
		}
		hasItems = true
		if len(items) == 0 {
			return refundView{}, badParam("items", "items must not be empty")
		}
	}
	n := 0
	for _, b := range []bool{hasAmt, hasPct, hasItems} {
		if b {
			n++
		}
	}
	if n == 0 {
		return refundView{}, newErr(http.StatusBadRequest, "missing_parameter", "amount", "one of amount, percent or items is required")
	}
	if n > 1 {
		return refundView{}, badParam("amount", "provide only one of amount, percent or items")
	}

	now := ms(s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orderByID[orderID]
	if o == nil {
		return refundView{}, badParam("orderId", "no order with id "+orderID)
	}
	if currency != o.currency {
		return refundView{}, badParam("currency",
			fmt.Sprintf("currency %s does not match the order currency %s", currency, o.currency))
	}
	if !o.hasCompleteCapture() {
		return refundView{}, newErr(http.StatusConflict, "conflict", "orderId",
			"order "+o.id+" has no complete capture; cancel it through fulfillments instead")
	}
	exp := exponent(o.currency)
	rf := &refund{id: "re_" + uuid.NewString(), created: now, updated: now, order: o,
		currency: o.currency, typ: typ, reason: reason, metadata: meta}
	switch {
	case hasAmt:
		if !amt.IsPositive() {
			return refundView{}, badParam("amount", "amount must be greater than 0")
		}
		if !amt.Equal(amt.Truncate(exp)) {
			return refundView{}, badParam("amount", fmt.Sprintf("amount has more than %d decimal places for %s", exp, o.currency))
		}
		rf.amount = amt
	case hasPct:
		if pct.LessThan(decimal.New(1, -2)) || pct.GreaterThan(decimal.NewFromInt(100)) {
			return refundView{}, badParam("percent", "percent must be from 0.01 to 100")
		}
		rf.amount = o.captured().Mul(pct).Div(decimal.NewFromInt(100)).Truncate(exp)
		if !rf.amount.IsPositive() {
			return refundView{}, badParam("percent", "percent yields a zero amount")
		}
	default:
		total := decimal.Zero
		for i, ir := range items {
			p := fmt.Sprintf("items[%d]", i)
			var it *item
			for _, x := range o.items {
				if ir.ItemID != "" && x.id == ir.ItemID || ir.ItemID == "" && ir.SkuID != "" && x.skuID == ir.SkuID {
					it = x
					break
				}
			}
			if it == nil {
				return refundView{}, badParam(p+".itemId", "no such item on order "+o.id)
			}
			qty := 1
			if ir.Quantity != nil {
				qty = *ir.Quantity
			}
			usedAmt, usedQty := s.itemUsed(o, it, now)
			if qty < 1 || qty > it.quantity-usedQty {
				return refundView{}, badParam(p+".quantity", fmt.Sprintf("quantity must be from 1 to %d", it.quantity-usedQty))
			}
			ia, has, e := number(ir.Amount, p+".amount")
			if e != nil {
				return refundView{}, e
			}
			if !has {
				ia = it.amount.Div(decimal.NewFromInt(int64(it.quantity))).Mul(decimal.NewFromInt(int64(qty))).Truncate(exp)
			}
			if !ia.IsPositive() || !ia.Equal(ia.Truncate(exp)) {
				return refundView{}, badParam(p+".amount", "item amount must be positive with at most "+fmt.Sprint(exp)+" decimals")
			}
			if ia.GreaterThan(it.amount.Sub(usedAmt)) {
				return refundView{}, badParam(p+".amount",
					fmt.Sprintf("item %s has only %s %s left to refund", it.id, it.amount.Sub(usedAmt), o.currency))
			}
			rf.items = append(rf.items, refundItem{itemID: it.id, skuID: it.skuID, quantity: qty, amount: ia})
			total = total.Add(ia)
		}
		rf.amount = total
	}
	if avail := s.available(o, now); rf.amount.GreaterThan(avail) {
		// Digital River answers an over-refund as invalid_parameter on
		// amountRequested, whichever of amount, percent or items asked.
		return refundView{}, badParam("amountRequested",
			fmt.Sprintf("refund of %s %s exceeds availableToRefundAmount %s", rf.amount, o.currency, avail))
	}
	rf.allocs = s.allocate(o, rf.amount, now)
	o.refunds = append(o.refunds, rf)
	s.refunds = append(s.refunds, rf)
	sortRefunds(s.refunds)
	s.refundByID[rf.id] = rf
	return s.refundView(rf, now), nil
}

func (s *Server) updateRefund(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m, e := readObject(r)
	if e != nil {
		writeErr(w, e)
		return
	}
	for k := range m {
		if k != "metadata" {
			writeErr(w, badParam(k, "only metadata can be updated"))
			return
		}
	}
	meta, ok, e := metadataParam(m)
	if e != nil {
		writeErr(w, e)
		return
	}
	if !ok {
		writeErr(w, newErr(http.StatusBadRequest, "missing_parameter", "metadata", "metadata is required"))
		return
	}
	now := ms(s.now())
	s.mu.Lock()
	rf := s.refundByID[id]
	if rf == nil {
		s.mu.Unlock()
		writeErr(w, refundNotFound(id))
		return
	}
	rf.metadata = meta
	if now.After(rf.updated) {
		rf.updated = now
	}
	v := s.refundView(rf, now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}
