package sandbox

// The sandbox side of the contract fixtures in api/testdata/contract: for
// every endpoint the clients use, the sandbox's answer must have the field
// set and JSON types of the published example for that endpoint (no invented
// fields), and every field the clients read must be there. The comparison is
// over JSON data only, so the sandbox and the clients still share no code.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

const contractDir = "../testdata/contract"

func fixture(t *testing.T, provider, name string) any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(contractDir, provider, name))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s/%s: %v", provider, name, err)
	}
	return v
}

// shape compares an answer with the fixture of its endpoint.
type shape struct {
	t    *testing.T
	name string
	// free are paths whose object keys are data, not fields (metadata).
	free []string
	// refs give the fixture for a path whose example value is null or an
	// empty list (path "receipt", or "payments[]" for list elements).
	refs map[string]any
	// extra lists keys documented for a path beyond the example's, with the
	// source that documents them (see the README beside the fixtures).
	extra map[string][]string
	errs  []string
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

// norm writes every list index as "[]", the form refs, extra and free use.
func norm(path string) string { return indexRE.ReplaceAllString(path, "[]") }

func (s *shape) isFree(path string) bool {
	n := norm(path)
	last := n[strings.LastIndex(n, ".")+1:]
	for _, f := range s.free {
		if f == n || (!strings.Contains(f, ".") && f == last) {
			return true
		}
	}
	return false
}

func (s *shape) fail(format string, a ...any) { s.errs = append(s.errs, fmt.Sprintf(format, a...)) }

// merge is the union of the example's elements (their keys, first non-null
// value wins), so one list element is compared with every field the
// example shows on any element.
func merge(elems []any) any {
	var out map[string]any
	for _, e := range elems {
		m, ok := e.(map[string]any)
		if !ok {
			return e
		}
		if out == nil {
			out = map[string]any{}
		}
		for k, v := range m {
			if cur, ok := out[k]; !ok || cur == nil {
				out[k] = v
			}
		}
	}
	if out == nil {
		return nil
	}
	return out
}

func (s *shape) compare(path string, got, want any) {
	if want == nil || (kind(want) == "array" && len(want.([]any)) == 0) {
		if r, ok := s.refs[norm(path)]; ok {
			want = r
		}
	}
	if got == nil || want == nil {
		return // nullable in the example or in the answer: no type to hold it to
	}
	if kind(got) != kind(want) {
		s.fail("%s: %s in the answer, %s in the example", path, kind(got), kind(want))
		return
	}
	switch g := got.(type) {
	case map[string]any:
		if s.isFree(path) {
			return
		}
		w := want.(map[string]any)
		keys := make([]string, 0, len(g))
		for k := range g {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := strings.TrimPrefix(path+"."+k, ".")
			wv, ok := w[k]
			if !ok {
				if !slices.Contains(s.extra[norm(path)], k) {
					s.fail("%s: not in the published example (invented field)", p)
				}
				continue
			}
			s.compare(p, g[k], wv)
		}
	case []any:
		w := want.([]any)
		if len(w) == 0 {
			if r, ok := s.refs[norm(path)+"[]"]; ok {
				w = []any{r}
			} else {
				return
			}
		}
		// Digital River's docs render items as a list of lists; the SDK
		// types it as a flat list. Compare with the flattened example.
		if kind(w[0]) == "array" && len(g) > 0 && kind(g[0]) != "array" {
			var flat []any
			for _, x := range w {
				flat = append(flat, x.([]any)...)
			}
			w = flat
		}
		m := merge(w)
		for i, x := range g {
			s.compare(fmt.Sprintf("%s[%d]", path, i), x, m)
		}
	}
}

// at returns the value at a dotted path ("payment.charges[0].id"); ok is
// false when a step is missing.
func at(v any, path string) (any, bool) {
	for _, step := range strings.Split(path, ".") {
		idx := -1
		if i := strings.Index(step, "["); i >= 0 {
			fmt.Sscanf(step[i:], "[%d]", &idx)
			step = step[:i]
		}
		if step != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[step]; !ok {
				return nil, false
			}
		}
		if idx >= 0 {
			l, ok := v.([]any)
			if !ok || idx >= len(l) {
				return nil, false
			}
			v = l[idx]
		}
	}
	return v, true
}

// check compares an answer with its fixture and requires the paths the
// client reads.
func (s *shape) check(got, want any, reads ...string) {
	s.t.Helper()
	s.compare("", got, want)
	for _, p := range reads {
		if _, ok := at(got, p); !ok {
			s.fail("%s: the client reads it, the answer lacks it", p)
		}
	}
	for _, e := range s.errs {
		s.t.Errorf("%s: %s", s.name, e)
	}
	s.errs = nil
}

type wire struct {
	t    *testing.T
	base string
	hdr  http.Header
}

func (w wire) do(method, path string, body any, status int) any {
	w.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, w.base+path, rd)
	for k, v := range w.hdr {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		w.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, status, raw)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	return v
}

func startContract(t *testing.T) *Sandbox {
	t.Helper()
	s, err := Start(Config{
		Orders: 200, Seed: 9, RefundLatency: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestContractForage(t *testing.T) {
	s := startContract(t)
	token, _ := forageToken(t, s)
	w := wire{t: t, base: s.URL("forage"), hdr: http.Header{
		"Authorization": {"Bearer " + token}, "Merchant-Account": {ForageMerchantAccount},
		"Api-Version": {"2024-05-07"},
	}}
	receipt := fixture(t, "forage", "receipt.json")
	free := []string{"metadata", "receipt.balance"}

	day := time.Now().Format("2006-01-02")
	report := w.do("GET", "/reporting/orders/?start_date=2020-01-01&end_date="+day+"&limit=1000", nil, 200)
	(&shape{t: t, name: "GET /reporting/orders/"}).check(report, fixture(t, "forage", "order_report_page.json"),
		"next", "results[0].ref", "results[0].status", "results[0].snap_eligible_total",
		"results[0].ebt_cash_eligible_total", "results[0].remaining_total", "results[0].snap_paid",
		"results[0].ebt_cash_paid", "results[0].credit_debit_paid")

	// An order with payments and refunds, so every list has elements.
	var ref string
	rows, _ := at(report, "results")
	for _, r := range rows.([]any) {
		m := r.(map[string]any)
		if m["status"] != "succeeded" {
			continue
		}
		o := w.do("GET", "/api/orders/"+m["ref"].(string)+"/", nil, 200)
		if rs, _ := at(o, "refunds"); len(rs.([]any)) > 0 {
			ref = m["ref"].(string)
			break
		}
	}
	if ref == "" {
		t.Fatal("no succeeded Forage order with refunds in the sandbox")
	}
	order := w.do("GET", "/api/orders/"+ref+"/", nil, 200)
	(&shape{t: t, name: "GET /api/orders/{ref}/", free: free, refs: map[string]any{"receipt": receipt}}).
		check(order, fixture(t, "forage", "order.json"), "ref", "status", "payments", "refunds", "external_order_id", "success_date")

	pay := fixture(t, "forage", "order_payment.json")
	payments := w.do("GET", "/api/orders/"+ref+"/payments/", nil, 200)
	ps := &shape{t: t, name: "GET /api/orders/{ref}/payments/", free: free,
		refs: map[string]any{"[].receipt": receipt},
		// Documented beside the example (seed 004): settlement amounts and
		// external_location_id when sent on create; the client also
		// accepts an optional receipt (reference 3.2).
		extra: map[string][]string{"[]": {"receipt", "merchant_fixed_settlement", "platform_fixed_settlement", "external_location_id"}}}
	ps.check(payments, []any{pay}, "[0].ref", "[0].amount", "[0].status", "[0].funding_type", "[0].refunds")

	rf := fixture(t, "forage", "order_refund.json")
	refunds := w.do("GET", "/api/orders/"+ref+"/refunds/", nil, 200)
	refundShape := func(name string) *shape {
		return &shape{t: t, name: name, free: append(free, "[].receipt.balance"),
			refs: map[string]any{"receipt": receipt, "[].receipt": receipt},
			// external_order_id on refunds: version 2023-05-15 lists it for
			// the refund endpoints (reference 4.2/4.3).
			extra: map[string][]string{"": {"external_order_id"}, "[]": {"external_order_id"}}}
	}
	refundShape("GET /api/orders/{ref}/refunds/").check(refunds, []any{rf}, "[0].ref", "[0].payment", "[0].amount", "[0].status")
	first, _ := at(refunds, "[0].ref")
	one := w.do("GET", "/api/orders/"+ref+"/refunds/"+first.(string)+"/", nil, 200)
	refundShape("GET /api/orders/{ref}/refunds/{r}/").check(one, rf, "ref", "payment", "amount", "status", "receipt")

	// A new partial refund on a recent payment nothing was refunded from.
	created := false
	for _, r := range rows.([]any) {
		m := r.(map[string]any)
		if created || m["status"] != "succeeded" {
			continue
		}
		o := m["ref"].(string)
		for _, p := range w.do("GET", "/api/orders/"+o+"/payments/", nil, 200).([]any) {
			pm := p.(map[string]any)
			if rs, _ := pm["refunds"].([]any); pm["status"] != "succeeded" || len(rs) > 0 {
				continue
			}
			w.hdr.Set("Idempotency-Key", "contract-1")
			got := w.do("POST", "/api/orders/"+o+"/refunds/", map[string]any{"payment_ref": pm["ref"], "amount": "0.01",
				"reason": "contract", "metadata": map[string]any{}}, 201)
			w.hdr.Del("Idempotency-Key")
			refundShape("POST /api/orders/{ref}/refunds/").check(got, rf, "ref", "status", "amount", "payment")
			created = true
			break
		}
	}
	if !created {
		t.Fatal("no succeeded payment to refund")
	}

	notFound := w.do("GET", "/api/orders/0000000000/", nil, 404)
	(&shape{t: t, name: "404 envelope"}).check(notFound, fixture(t, "forage", "error.json"), "errors[0].code", "errors[0].message")
	noAuth := wire{t: t, base: s.URL("forage"), hdr: http.Header{"Merchant-Account": {ForageMerchantAccount}}}.
		do("GET", "/api/orders/"+ref+"/", nil, 401)
	(&shape{t: t, name: "401 detail"}).check(noAuth, fixture(t, "forage", "error_detail.json"), "detail")
}

func TestContractMoyasar(t *testing.T) {
	s := startContract(t)
	w := wire{t: t, base: s.URL("moyasar"), hdr: http.Header{"Authorization": {"Bearer " + MoyasarAPIKey}}}
	order := fixture(t, "moyasar", "order_refund_200.json")
	free := []string{"agreement"}
	// Fields the client reads on an order.
	reads := []string{"id", "currency", "amount", "captured_amount", "refunded_amount", "voided_amount",
		"created_at", "updated_at", "source", "transactions[0].id", "transactions[0].type", "transactions[0].status",
		"transactions[0].amount", "transactions[0].reversed_transaction_id", "transactions[0].reverse_reason"}

	list := w.do("GET", "/v1/orders?items=100", nil, 200)
	var listReads []string
	for _, r := range reads {
		listReads = append(listReads, "orders[0]."+r)
	}
	(&shape{t: t, name: "GET /v1/orders", free: free}).check(list, fixture(t, "moyasar", "order_list_page.json"),
		append(listReads, "meta.current_page", "meta.next_page")...)

	// Every order of the list (all transaction types the seed makes) has the
	// published shape.
	var refundable string
	for page := 1; ; page++ {
		l := w.do("GET", fmt.Sprintf("/v1/orders?items=100&page=%d", page), nil, 200)
		os, _ := at(l, "orders")
		for i, o := range os.([]any) {
			(&shape{t: t, name: fmt.Sprintf("order %d of page %d", i, page), free: free}).check(o, order, reads...)
			m := o.(map[string]any)
			if refundable == "" && m["captured_amount"].(json.Number).String() != "0" && m["refunded_amount"].(json.Number).String() == "0" {
				if last, _ := at(m, "source.last_digits"); last != "0002" && last != "0003" && last != "0004" && last != "0005" {
					refundable = m["id"].(string)
				}
			}
		}
		if next, _ := at(l, "meta.next_page"); next == nil {
			break
		}
	}
	got := w.do("POST", "/v1/orders/"+refundable+"/refund", map[string]any{"amount": 1}, 200)
	(&shape{t: t, name: "POST /v1/orders/:id/refund", free: free}).check(got, order, reads...)
	one := w.do("GET", "/v1/orders/"+refundable, nil, 200)
	(&shape{t: t, name: "GET /v1/orders/:id", free: free}).check(one, order, reads...)

	bad := w.do("POST", "/v1/orders/"+refundable+"/refund", map[string]any{"amount": 0}, 422)
	(&shape{t: t, name: "422", free: []string{"errors"}}).check(bad, fixture(t, "moyasar", "error_422.json"), "message", "errors.amount")
	noAuth := wire{t: t, base: s.URL("moyasar")}.do("GET", "/v1/orders/"+refundable, nil, 401)
	(&shape{t: t, name: "401"}).check(noAuth, fixture(t, "moyasar", "error_401.json"), "message")
}

func TestContractDigitalRiver(t *testing.T) {
	s := startContract(t)
	w := wire{t: t, base: s.URL("digitalriver"), hdr: http.Header{"Authorization": {"Bearer " + DigitalRiverAPIKey}}}
	order := fixture(t, "digitalriver", "order.json")
	free := []string{"metadata", "stateTransitions"}
	reads := []string{"id", "createdTime", "currency", "totalAmount", "state", "capturedAmount", "refundedAmount",
		"availableToRefundAmount", "payment.charges"}

	list := w.do("GET", "/orders?limit=100", nil, 200)
	var listReads []string
	for _, r := range reads {
		listReads = append(listReads, "data[0]."+r)
	}
	(&shape{t: t, name: "GET /orders", free: free}).check(list, fixture(t, "digitalriver", "order_list.json"),
		append(listReads, "hasMore")...)

	// An order with charges and refunds, and one still refundable.
	var withRefunds, refundable string
	data, _ := at(list, "data")
	for _, o := range data.([]any) {
		if withRefunds != "" && refundable != "" {
			break
		}
		time.Sleep(50 * time.Millisecond) // under the sandbox's 25 requests a second for test keys
		id := o.(map[string]any)["id"].(string)
		rl := w.do("GET", "/refunds?orderId="+id, nil, 200)
		if d, _ := at(rl, "data"); withRefunds == "" && len(d.([]any)) > 0 {
			withRefunds = id
		}
		if a, _ := at(o, "availableToRefundAmount"); refundable == "" && a.(json.Number).String() != "0" {
			refundable = id
		}
	}
	if withRefunds == "" || refundable == "" {
		t.Fatal("no Digital River order with refunds, or none refundable")
	}
	one := w.do("GET", "/orders/"+withRefunds, nil, 200)
	(&shape{t: t, name: "GET /orders/{id}", free: free}).check(one, order,
		append(reads, "payment.charges[0].id", "payment.charges[0].state", "payment.charges[0].amount")...)

	refund := fixture(t, "digitalriver", "refund.json")
	// RefundItem documents itemId and refundedAmount besides the example's
	// keys (SDK lib/Model/RefundItem.php).
	itemExtra := []string{"itemId", "refundedAmount"}
	rs := func(name string, prefix string) *shape {
		return &shape{t: t, name: name, free: []string{"metadata"},
			extra: map[string][]string{norm(prefix + "items[0]"): itemExtra}}
	}
	rl := w.do("GET", "/refunds?orderId="+withRefunds, nil, 200)
	rs("GET /refunds?orderId=", "data[0].").check(rl, fixture(t, "digitalriver", "refund_list.json"),
		"hasMore", "data[0].id", "data[0].state", "data[0].amount", "data[0].currency", "data[0].createdTime")
	rid, _ := at(rl, "data[0].id")
	got := w.do("GET", "/refunds/"+rid.(string), nil, 200)
	rs("GET /refunds/{id}", "").check(got, refund, "id", "state", "amount", "currency", "orderId", "charges")

	o, _ := at(w.do("GET", "/orders/"+refundable, nil, 200), "")
	cur := o.(map[string]any)["currency"]
	created := w.do("POST", "/refunds", map[string]any{"orderId": refundable, "currency": cur, "amount": 1,
		"reason": "contract", "metadata": map[string]any{"paydesk_intent": "contract-1"}}, 201)
	rs("POST /refunds", "").check(created, refund, "id", "state", "amount", "currency", "metadata")
	cid, _ := at(created, "id")
	upd := w.do("POST", "/refunds/"+cid.(string), map[string]any{"metadata": map[string]any{"ticket": "CS-1"}}, 200)
	rs("POST /refunds/{id}", "").check(upd, refund, "id", "metadata")

	avail, _ := at(w.do("GET", "/orders/"+refundable, nil, 200), "availableToRefundAmount")
	over := w.do("POST", "/refunds", map[string]any{"orderId": refundable, "currency": cur,
		"amount": json.Number(decimal.RequireFromString(avail.(json.Number).String()).Add(decimal.NewFromInt(1)).String())}, 400)
	(&shape{t: t, name: "over-refund"}).check(over, fixture(t, "digitalriver", "error_400.json"),
		"type", "errors[0].code", "errors[0].parameter", "errors[0].message")
	if p, _ := at(over, "errors[0].parameter"); p != "amountRequested" {
		t.Errorf("over-refund names %v, want amountRequested", p)
	}
}

// TestShapeCatchesDrift proves the checker itself: an invented field, a
// wrong JSON type and a missing read each fail, inside lists too.
func TestShapeCatchesDrift(t *testing.T) {
	want := map[string]any{"a": json.Number("1"), "l": []any{map[string]any{"x": "s"}}}
	for name, c := range map[string]struct {
		got   any
		reads []string
	}{
		"invented": {map[string]any{"a": json.Number("1"), "created": "2026-01-01"}, nil},
		"type":     {map[string]any{"a": "1.00"}, nil},
		"in list":  {map[string]any{"l": []any{map[string]any{"x": "s", "y": true}}}, nil},
		"missing":  {map[string]any{"l": []any{}}, []string{"a"}},
	} {
		s := &shape{t: t, name: name}
		s.compare("", c.got, want)
		for _, p := range c.reads {
			if _, ok := at(c.got, p); !ok {
				s.fail("%s missing", p)
			}
		}
		if len(s.errs) == 0 {
			t.Errorf("%s: drift not caught", name)
		}
	}
	ok := &shape{t: t, name: "same"}
	ok.compare("", map[string]any{"a": json.Number("2"), "l": []any{map[string]any{"x": "t"}}}, want)
	if len(ok.errs) != 0 {
		t.Errorf("a matching answer fails: %v", ok.errs)
	}
}
