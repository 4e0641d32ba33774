package forage

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

const refundWindow = 90 * 24 * time.Hour

// body is a decoded JSON object body whose values stay raw.
type body map[string]json.RawMessage

func parseObject(raw []byte) (body, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return body{}, true
	}
	if raw[0] != '{' {
		return nil, false
	}
	var b body
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, false
	}
	for k, v := range b {
		if string(v) == "null" {
			b[k] = nil
		}
	}
	return b, true
}

func (b body) has(k string) bool { _, ok := b[k]; return ok }

// str reads an optional string field: (value, present-and-non-null, ok).
func (b body) str(k string) (string, bool, bool) {
	v := b[k]
	if v == nil {
		return "", false, true
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", true, false
	}
	return s, true, true
}

func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}

func isNumber(v json.RawMessage) bool {
	var n json.Number
	return len(v) > 0 && v[0] != '"' && json.Unmarshal(v, &n) == nil
}

// amount parses a money amount given as a JSON string or number.
func parseAmount(v json.RawMessage) (decimal.Decimal, string) {
	if v == nil {
		return zero, "This field is required."
	}
	text := string(v)
	if len(v) > 0 && v[0] == '"' {
		if err := json.Unmarshal(v, &text); err != nil {
			return zero, "A valid number is required."
		}
	}
	d, err := decimal.NewFromString(strings.TrimSpace(text))
	if err != nil {
		return zero, "A valid number is required."
	}
	if !d.Equal(d.Round(2)) {
		return zero, "Ensure that there are no more than 2 decimal places."
	}
	if d.LessThan(decimal.New(1, -2)) {
		return zero, "Ensure this value is greater than or equal to 0.01."
	}
	return d, ""
}

func fieldErr(path, resource, ref, field, msg string) result {
	return errResult(http.StatusBadRequest, path, "invalid_input_data", field+": "+msg, resource, ref)
}

func parseErr(path, resource, ref string) result {
	return errResult(http.StatusBadRequest, path, "cannot_parse_request_body",
		"The request body could not be parsed as a JSON object.", resource, ref)
}

// externalOrderID validates an optional external_order_id (string <= 64 or null).
func externalOrderID(b body, path, resource, ref string) (*string, bool, result) {
	if !b.has("external_order_id") {
		return nil, false, result{}
	}
	s, present, ok := b.str("external_order_id")
	if !ok {
		return nil, false, fieldErr(path, resource, ref, "external_order_id", "Not a valid string.")
	}
	if !present {
		return nil, true, result{}
	}
	if utf8.RuneCountInString(s) > 64 {
		return nil, false, fieldErr(path, resource, ref, "external_order_id", "Ensure this field has no more than 64 characters.")
	}
	return &s, true, result{}
}

// ---------------------------------------------------------------- payments

func (s *Server) updatePayment(path string, p *payment, raw []byte, now time.Time) result {
	b, ok := parseObject(raw)
	if !ok {
		return parseErr(path, "Payments", p.ref)
	}
	// Fields every status may change.
	var meta json.RawMessage
	if b.has("metadata") {
		if !isObject(b["metadata"]) {
			return fieldErr(path, "Payments", p.ref, "metadata", "Expected a dictionary of items.")
		}
		meta = append(json.RawMessage{}, b["metadata"]...)
	}
	eoid, setEOID, res := externalOrderID(b, path, "Payments", p.ref)
	if res.status != 0 {
		return res
	}
	// Fields by status; others are silently ignored.
	var pm *string
	editPM := p.status == "failed" || p.status == "requires_confirmation"
	if editPM && b.has("payment_method") {
		v, present, ok := b.str("payment_method")
		if !ok || !present || v == "" {
			return fieldErr(path, "Payments", p.ref, "payment_method", "This field may not be blank.")
		}
		pm = &v
	}
	type change func()
	var changes []change
	if p.status == "requires_confirmation" {
		if b.has("amount") {
			d, msg := parseAmount(b["amount"])
			if msg != "" {
				return fieldErr(path, "Payments", p.ref, "amount", msg)
			}
			changes = append(changes, func() { p.amount = d })
		}
		if b.has("funding_type") {
			v, _, ok := b.str("funding_type")
			switch {
			case !ok:
				return fieldErr(path, "Payments", p.ref, "funding_type", "Not a valid string.")
			case v != "ebt_snap" && v != "ebt_cash" && v != "benefit" && v != "credit_tpp":
				return fieldErr(path, "Payments", p.ref, "funding_type", fmt.Sprintf("%q is not a valid choice.", v))
			}
			changes = append(changes, func() { p.fundingType = v })
		}
		if b.has("description") {
			v, _, ok := b.str("description")
			if !ok {
				return fieldErr(path, "Payments", p.ref, "description", "Not a valid string.")
			}
			changes = append(changes, func() { p.description = v })
		}
		for _, f := range []string{"customer_id", "external_location_id"} {
			if !b.has(f) {
				continue
			}
			v, present, ok := b.str(f)
			if !ok || utf8.RuneCountInString(v) > 64 {
				return fieldErr(path, "Payments", p.ref, f, "Ensure this field is a string of no more than 64 characters.")
			}
			var ptr *string
			if present {
				ptr = &v
			}
			if f == "customer_id" {
				changes = append(changes, func() { p.customerID = ptr })
			} else {
				changes = append(changes, func() { p.externalLocationID = ptr })
			}
		}
		for _, f := range []string{"merchant_fixed_settlement", "platform_fixed_settlement"} {
			if !b.has(f) {
				continue
			}
			v := b[f]
			if v != nil && !isNumber(v) {
				return fieldErr(path, "Payments", p.ref, f, "A valid number is required.")
			}
			v = append(json.RawMessage(nil), v...)
			if f == "merchant_fixed_settlement" {
				changes = append(changes, func() { p.merchantFixed = v })
			} else {
				changes = append(changes, func() { p.platformFixed = v })
			}
		}
	}
	// All validated: apply.
	if meta != nil {
		p.metadata = meta
	}
	if setEOID {
		p.externalOrderID = eoid
	}
	if pm != nil {
		p.paymentMethod = *pm
	}
	for _, c := range changes {
		c()
	}
	p.updated = now
	return jsonResult(http.StatusOK, s.paymentJSON(p, now))
}

func (s *Server) cancelPayment(path string, p *payment, now time.Time) result {
	if p.status != "requires_confirmation" && p.status != "failed" {
		return errResult(http.StatusBadRequest, path, "cannot_cancel_payment",
			fmt.Sprintf("Payment with status %s cannot be canceled. Only payments that require confirmation or failed can be canceled.", p.status),
			"Payments", p.ref)
	}
	p.status = "canceled"
	p.updated = now
	return jsonResult(http.StatusOK, s.paymentJSON(p, now))
}

// ---------------------------------------------------------------- refunds

func (s *Server) newRefund(o *order, p *payment, amount decimal.Decimal, reason string, meta json.RawMessage,
	eoid *string, created time.Time) *refund {
	rf := &refund{ref: s.newRef(), order: o.ref, payment: p.ref, fundingType: p.fundingType, reason: reason,
		amount: amount, metadata: meta, externalOrderID: eoid, created: created, last4: o.last4,
		baseSnap: o.balSnap, baseCash: o.balCash}
	rf.balanceID = o.balanceID
	for _, rref := range o.refunds {
		prev := s.refunds[rref]
		if s.refundState(prev, created).status == "failed" {
			continue
		}
		if prev.fundingType == "ebt_snap" {
			rf.baseSnap = rf.baseSnap.Add(prev.amount)
		} else {
			rf.baseCash = rf.baseCash.Add(prev.amount)
		}
	}
	if (o.last4 == "3311" && p.fundingType == "ebt_cash") || (o.last4 == "3309" && p.fundingType == "ebt_snap") {
		rf.fail = &procErr{Code: "ebt_error_91",
			Message: "Received failure response from EBT network: Issuer or switch inoperative. Please try again later."}
	}
	s.refunds[rf.ref] = rf
	o.refunds = append(o.refunds, rf.ref)
	p.refunds = append(p.refunds, rf.ref)
	return rf
}

// refundCommon validates reason, metadata and external_order_id.
func refundCommon(b body, path string) (string, json.RawMessage, *string, bool, result) {
	reason, present, ok := b.str("reason")
	if !ok {
		return "", nil, nil, false, fieldErr(path, "Refunds", "", "reason", "Not a valid string.")
	}
	if !present || strings.TrimSpace(reason) == "" {
		return "", nil, nil, false, fieldErr(path, "Refunds", "", "reason", "This field is required.")
	}
	meta := b["metadata"]
	if meta == nil {
		return "", nil, nil, false, fieldErr(path, "Refunds", "", "metadata", "This field is required.")
	}
	if !isObject(meta) {
		return "", nil, nil, false, fieldErr(path, "Refunds", "", "metadata", "Expected a dictionary of items.")
	}
	eoid, set, res := externalOrderID(b, path, "Refunds", "")
	if res.status != 0 {
		return "", nil, nil, false, res
	}
	return reason, append(json.RawMessage{}, meta...), eoid, set, result{}
}

func (s *Server) createRefund(path string, o *order, raw []byte, now time.Time) result {
	b, ok := parseObject(raw)
	if !ok {
		return parseErr(path, "Refunds", "")
	}
	pref, present, ok := b.str("payment_ref")
	if !ok || !present || pref == "" {
		return fieldErr(path, "Refunds", "", "payment_ref", "This field is required.")
	}
	amount, msg := parseAmount(b["amount"])
	if msg != "" {
		return fieldErr(path, "Refunds", "", "amount", msg)
	}
	reason, meta, eoid, setEOID, res := refundCommon(b, path)
	if res.status != 0 {
		return res
	}
	for _, f := range []string{"merchant_fixed_settlement", "platform_fixed_settlement"} {
		if v := b[f]; v != nil && !isNumber(v) {
			return fieldErr(path, "Refunds", "", f, "A valid number is required.")
		}
	}
	p, res := s.findPayment(path, o, pref)
	if p == nil {
		return res
	}
	if o.status != "succeeded" {
		return errResult(http.StatusBadRequest, path, "order_not_succeeded",
			fmt.Sprintf("Order %s has status %s; only succeeded orders can be refunded.", o.ref, o.status), "Orders", o.ref)
	}
	if p.status != "succeeded" {
		return errResult(http.StatusBadRequest, path, "payment_not_succeeded",
			fmt.Sprintf("Payment %s has status %s; only succeeded payments can be refunded.", p.ref, p.status), "Payments", p.ref)
	}
	if p.successDate != nil && now.Sub(*p.successDate) > refundWindow {
		return errResult(http.StatusBadRequest, path, "cannot_refund_after_90_days",
			"EBT refunds cannot be issued more than 90 days after the original payment.", "Payments", p.ref)
	}
	left := s.refundable(p, now)
	if amount.GreaterThan(left) {
		return errResult(http.StatusBadRequest, path, "refund_exceeds_order_total",
			fmt.Sprintf("Refund amount %s exceeds the %s left to refund on payment %s.", money(amount), money(left), p.ref),
			"Refunds", p.ref)
	}
	if !setEOID {
		eoid = o.externalOrderID
	}
	rf := s.newRefund(o, p, amount, reason, meta, eoid, now)
	rf.merchantFixed = append(json.RawMessage(nil), b["merchant_fixed_settlement"]...)
	rf.platformFixed = append(json.RawMessage(nil), b["platform_fixed_settlement"]...)
	return jsonResult(http.StatusCreated, s.refundJSON(rf, now))
}

func (s *Server) refundAll(path string, o *order, raw []byte, now time.Time) result {
	b, ok := parseObject(raw)
	if !ok {
		return parseErr(path, "Orders", o.ref)
	}
	reason, meta, eoid, setEOID, res := refundCommon(b, path)
	if res.status != 0 {
		return res
	}
	if o.status != "succeeded" {
		return errResult(http.StatusBadRequest, path, "order_not_succeeded",
			fmt.Sprintf("Order %s has status %s; only succeeded orders can be refunded.", o.ref, o.status), "Orders", o.ref)
	}
	for _, rref := range o.refunds {
		if s.refundState(s.refunds[rref], now).status == "processing" {
			return errResult(http.StatusBadRequest, path, "wait_for_batch_refund",
				"Active refunds pending. Wait until every refund of this order has resolved, then try again.", "Orders", o.ref)
		}
	}
	if !setEOID {
		eoid = o.externalOrderID
	}
	type todo struct {
		p    *payment
		left decimal.Decimal
	}
	var work []todo
	tooOld := false
	for _, pref := range o.payments {
		p := s.payments[pref]
		if p.status != "succeeded" {
			continue
		}
		left := s.refundable(p, now)
		if !left.IsPositive() {
			continue
		}
		if p.successDate != nil && now.Sub(*p.successDate) > refundWindow {
			tooOld = true
			continue
		}
		work = append(work, todo{p, left})
	}
	if len(work) == 0 {
		if tooOld {
			return errResult(http.StatusBadRequest, path, "cannot_refund_after_90_days",
				"EBT refunds cannot be issued more than 90 days after the original payment.", "Orders", o.ref)
		}
		return errResult(http.StatusBadRequest, path, "order_already_refunded",
			fmt.Sprintf("Order %s has already been fully refunded.", o.ref), "Orders", o.ref)
	}
	for _, t := range work {
		s.newRefund(o, t.p, t.left, reason, meta, eoid, now)
	}
	return jsonResult(http.StatusOK, s.orderJSON(o, now))
}

// ---------------------------------------------------------------- report

func (s *Server) handleReport(r *http.Request) result {
	path := r.URL.Path
	q := r.URL.Query()
	bad := func(field, msg string) result {
		return errResult(http.StatusBadRequest, path, "invalid_input_data", field+": "+msg, "Orders", "")
	}
	day := func(f string) (time.Time, result) {
		v := q.Get(f)
		if v == "" {
			return time.Time{}, bad(f, "This field is required.")
		}
		t, err := time.ParseInLocation("2006-01-02", v, s.loc)
		if err != nil {
			return time.Time{}, bad(f, "Date has wrong format. Use YYYY-MM-DD.")
		}
		return t, result{}
	}
	start, res := day("start_date")
	if res.status != 0 {
		return res
	}
	end, res := day("end_date")
	if res.status != 0 {
		return res
	}
	if end.Before(start) {
		return bad("end_date", "end_date must not be before start_date.")
	}
	endExcl := end.AddDate(0, 0, 1)
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return bad("limit", "Ensure this value is an integer between 1 and 1000.")
		}
		limit = n
	}
	status := q.Get("status")
	if status != "" && status != "succeeded" {
		return bad("status", fmt.Sprintf("%q is not a valid choice. The only supported value is succeeded.", status))
	}
	var cur *cursor
	if v := q.Get("cursor"); v != "" {
		c, ok := decodeCursor(v)
		if !ok {
			return bad("cursor", "Invalid cursor.")
		}
		cur = &c
	}

	s.mu.Lock()
	type item struct {
		key time.Time
		o   *order
	}
	var items []item
	for _, o := range s.orderList {
		key := o.created
		if status == "succeeded" {
			if o.status != "succeeded" || o.successDate == nil {
				continue
			}
			key = *o.successDate
		}
		if key.Before(start) || !key.Before(endExcl) {
			continue
		}
		items = append(items, item{key, o})
	}
	// Newest first; ties by ref.
	sort.Slice(items, func(i, j int) bool {
		if !items[i].key.Equal(items[j].key) {
			return items[i].key.After(items[j].key)
		}
		return items[i].o.ref > items[j].o.ref
	})
	less := func(it item, c cursor) bool { // it comes before the cursor position
		k := it.key.UnixMicro()
		return k > c.key || (k == c.key && it.o.ref > c.ref)
	}
	lo, hi := 0, len(items)
	if cur != nil {
		pos := sort.Search(len(items), func(i int) bool { return !less(items[i], *cur) })
		if cur.dir == "n" {
			// Everything strictly after the cursor row.
			if pos < len(items) && items[pos].key.UnixMicro() == cur.key && items[pos].o.ref == cur.ref {
				pos++
			}
			lo = pos
			hi = min(lo+limit, len(items))
		} else {
			hi = pos
			lo = max(hi-limit, 0)
		}
	} else {
		hi = min(limit, len(items))
	}
	rows := []reportRow{}
	for _, it := range items[lo:hi] {
		rows = append(rows, s.reportRow(it.o))
	}
	var next, prev *string
	if hi < len(items) && hi > lo {
		last := items[hi-1]
		u := s.pageURL(r, cursor{dir: "n", key: last.key.UnixMicro(), ref: last.o.ref})
		next = &u
	}
	if lo > 0 && lo < len(items) {
		first := items[lo]
		u := s.pageURL(r, cursor{dir: "p", key: first.key.UnixMicro(), ref: first.o.ref})
		prev = &u
	}
	s.mu.Unlock()
	return jsonResult(http.StatusOK, map[string]any{"next": next, "previous": prev, "results": rows})
}

type cursor struct {
	dir string
	key int64
	ref string
}

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("%s|%d|%s", c.dir, c.key, c.ref)))
}

func decodeCursor(v string) (cursor, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return cursor{}, false
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 || (parts[0] != "n" && parts[0] != "p") {
		return cursor{}, false
	}
	k, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return cursor{}, false
	}
	return cursor{dir: parts[0], key: k, ref: parts[2]}, true
}

func (s *Server) pageURL(r *http.Request, c cursor) string {
	q := r.URL.Query()
	q.Set("cursor", c.encode())
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return u.String()
}
