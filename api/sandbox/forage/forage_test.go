package forage

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"paydesk/api/sandbox/sandboxtest"
)

type env struct {
	t     *testing.T
	srv   *Server
	hs    *httptest.Server
	clk   *sandboxtest.Clock
	token string
	n     int
	// version is the API-Version header sent; "" = 2024-05-07, "-" = none.
	version string
}

const lat = 3 * time.Second

func newEnv(t *testing.T, o Options) *env {
	t.Helper()
	clk := sandboxtest.NewClock(time.Date(2026, 11, 20, 18, 30, 0, 0, time.UTC))
	o.Now = clk.Now
	if o.Orders == 0 {
		o.Orders = 120
	}
	o.Seed = 42
	o.RefundLatency = lat
	srv := New(o)
	hs := sandboxtest.Serve(t, srv)
	e := &env{t: t, srv: srv, hs: hs, clk: clk}
	e.token = e.getToken("")
	return e
}

func (e *env) getToken(extra string) string {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.hs.URL+"/o/token/", strings.NewReader("grant_type=client_credentials"+extra))
	req.SetBasicAuth("demo-client", "demo-secret")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	st, body := e.send(req)
	if st != 200 {
		e.t.Fatalf("token: %d %s", st, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
	}
	mustUnmarshal(e.t, body, &tok)
	if tok.TokenType != "Bearer" || tok.Scope == "" || tok.ExpiresIn <= 0 {
		e.t.Fatalf("token answer %s", body)
	}
	return tok.AccessToken
}

func (e *env) send(req *http.Request) (int, []byte) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// do sends an authenticated request; key "" means no Idempotency-Key, "auto"
// a fresh one.
func (e *env) do(method, path, key, body string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, e.hs.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Merchant-Account", "9000055")
	req.Header.Set("Content-Type", "application/json")
	if key == "auto" {
		e.n++
		key = fmt.Sprintf("key%d", e.n)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if e.version != "-" {
		req.Header.Set("API-Version", cmp.Or(e.version, "2024-05-07"))
	}
	return e.send(req)
}

func mustUnmarshal(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

type errEnv struct {
	Path   string `json:"path"`
	Errors []struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Source  struct {
			Resource string `json:"resource"`
			Ref      string `json:"ref"`
		} `json:"source"`
	} `json:"errors"`
	Detail string `json:"detail"`
}

func wantErr(t *testing.T, st int, body []byte, wantStatus int, code string) errEnv {
	t.Helper()
	if st != wantStatus {
		t.Fatalf("status %d, want %d: %s", st, wantStatus, body)
	}
	var ee errEnv
	mustUnmarshal(t, body, &ee)
	if len(ee.Errors) == 0 || ee.Errors[0].Code != code {
		t.Fatalf("want code %s, got %s", code, body)
	}
	return ee
}

type refundOut struct {
	Ref                 string           `json:"ref"`
	Order               string           `json:"order"`
	Payment             string           `json:"payment"`
	Amount              string           `json:"amount"`
	Status              string           `json:"status"`
	Updated             string           `json:"updated"`
	Created             string           `json:"created"`
	Metadata            json.RawMessage  `json:"metadata"`
	LastProcessingError *json.RawMessage `json:"last_processing_error"`
	Receipt             struct {
		TransactionType string `json:"transaction_type"`
		Message         string `json:"message"`
		Balance         struct {
			ID      int64  `json:"id"`
			Snap    string `json:"snap"`
			NonSnap string `json:"non_snap"`
			Updated string `json:"updated"`
		} `json:"balance"`
	} `json:"receipt"`
}

type paymentOut struct {
	Ref                 string          `json:"ref"`
	Amount              string          `json:"amount"`
	Description         string          `json:"description"`
	Status              string          `json:"status"`
	FundingType         string          `json:"funding_type"`
	PaymentMethod       string          `json:"payment_method"`
	ExternalOrderID     *string         `json:"external_order_id"`
	Metadata            json.RawMessage `json:"metadata"`
	LastProcessingError json.RawMessage `json:"last_processing_error"`
	Receipt             json.RawMessage `json:"receipt"`
}

type orderOut struct {
	Ref      string   `json:"ref"`
	Status   string   `json:"status"`
	Payments []string `json:"payments"`
	Refunds  []string `json:"refunds"`
}

// findOrder returns a seeded order matching f (test-only peek at the data).
func (e *env) findOrder(f func(o *order) bool) *order {
	e.t.Helper()
	e.srv.mu.Lock()
	defer e.srv.mu.Unlock()
	for _, o := range e.srv.orderList {
		if f(o) {
			return o
		}
	}
	e.t.Fatal("no matching seeded order")
	return nil
}

func (e *env) plainSucceeded(minPayments int) *order {
	return e.findOrder(func(o *order) bool {
		return o.status == "succeeded" && len(o.refunds) == 0 && len(o.payments) >= minPayments &&
			o.last4 != "3311" && o.last4 != "3309"
	})
}

func TestToken(t *testing.T) {
	e := newEnv(t, Options{Orders: 30})
	if !strings.HasPrefix(e.token, "sandbox_") || len(e.token) != len("sandbox_")+30 {
		t.Fatalf("token %q", e.token)
	}
	// Bad credentials.
	req, _ := http.NewRequest("POST", e.hs.URL+"/o/token/", strings.NewReader("grant_type=client_credentials"))
	req.SetBasicAuth("demo-client", "nope")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	st, body := e.send(req)
	wantErr(t, st, body, 401, "invalid_client")
	// Wrong grant.
	req, _ = http.NewRequest("POST", e.hs.URL+"/o/token/", strings.NewReader("grant_type=password"))
	req.SetBasicAuth("demo-client", "demo-secret")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	st, body = e.send(req)
	wantErr(t, st, body, 400, "unsupported_grant_type")
	// Short-lived token expires with the clock.
	e.token = e.getToken("&expiration=60&scope=pinpad_only")
	o := e.plainSucceeded(1)
	if st, body := e.do("GET", "/api/orders/"+o.ref+"/", "", ""); st != 200 {
		t.Fatalf("fresh token: %d %s", st, body)
	}
	e.clk.Advance(61 * time.Second)
	st, body = e.do("GET", "/api/orders/"+o.ref+"/", "", "")
	ee := wantErr(t, st, body, 401, "invalid_token")
	if ee.Errors[0].Message != "Incorrect authentication credentials." {
		t.Fatalf("message %q", ee.Errors[0].Message)
	}
}

func TestAuthAndErrorEnvelopes(t *testing.T) {
	e := newEnv(t, Options{Orders: 30})
	o := e.plainSucceeded(1)
	path := "/api/orders/" + o.ref + "/"

	req, _ := http.NewRequest("GET", e.hs.URL+path, nil)
	req.Header.Set("Merchant-Account", "9000055")
	st, body := e.send(req)
	var d errEnv
	mustUnmarshal(t, body, &d)
	if st != 401 || d.Detail != "Authentication credentials were not provided." {
		t.Fatalf("no auth: %d %s", st, body)
	}

	req, _ = http.NewRequest("GET", e.hs.URL+path, nil)
	req.Header.Set("Authorization", "Bearer sandbox_nottherightone")
	req.Header.Set("Merchant-Account", "9000055")
	st, body = e.send(req)
	wantErr(t, st, body, 401, "invalid_token")

	req, _ = http.NewRequest("GET", e.hs.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	st, body = e.send(req)
	ee := wantErr(t, st, body, 400, "missing_merchant_account")
	if ee.Errors[0].Message != "No merchant account FNS number was provided." || ee.Errors[0].Source.Resource != "Merchant_Account_Header" || ee.Path != path {
		t.Fatalf("merchant error %s", body)
	}

	st, body = e.do("GET", "/api/orders/0123456789/", "", "")
	ee = wantErr(t, st, body, 404, "resource_not_found")
	if ee.Errors[0].Source.Resource != "Orders" || ee.Errors[0].Source.Ref != "0123456789" || ee.Path != "/api/orders/0123456789/" {
		t.Fatalf("404 envelope %s", body)
	}
	st, body = e.do("GET", path+"payments/ffffffffff/", "", "")
	ee = wantErr(t, st, body, 404, "resource_not_found")
	if ee.Errors[0].Source.Resource != "Payments" {
		t.Fatalf("payment 404 %s", body)
	}
	st, body = e.do("GET", path+"refunds/ffffffffff/", "", "")
	wantErr(t, st, body, 404, "resource_not_found")
	st, body = e.do("GET", "/api/orders/"+o.ref, "", "")
	wantErr(t, st, body, 404, "not_found")
	st, body = e.do("DELETE", path, "", "")
	wantErr(t, st, body, 405, "method_not_allowed")

	// Order shape.
	st, body = e.do("GET", path, "", "")
	if st != 200 {
		t.Fatalf("get order %d %s", st, body)
	}
	var m map[string]json.RawMessage
	mustUnmarshal(t, body, &m)
	for _, k := range []string{"ref", "snap_total", "ebt_cash_total", "remaining_total", "product_list", "status",
		"delivery_address", "is_delivery", "supported_benefits", "success_date", "receipt", "customer_id",
		"expires_at", "psp_customer_id", "external_order_id", "payments", "refunds", "previous_errors"} {
		if _, ok := m[k]; !ok {
			t.Errorf("order lacks %s", k)
		}
	}
	if !bytes.Contains(m["receipt"], []byte(`"transaction_type":"Order"`)) {
		t.Errorf("receipt %s", m["receipt"])
	}
	// Payments list is a plain array.
	st, body = e.do("GET", path+"payments/", "", "")
	var ps []paymentOut
	mustUnmarshal(t, body, &ps)
	if st != 200 || len(ps) != len(o.payments) || ps[0].Status != "succeeded" || string(ps[0].Receipt) == "null" {
		t.Fatalf("payments %d %s", st, body)
	}
}

func TestReportPaging(t *testing.T) {
	e := newEnv(t, Options{Orders: 250})
	base := "/reporting/orders/?start_date=2026-01-01&end_date=2026-12-31"
	st, body := e.do("GET", "/reporting/orders/?start_date=2026-01-01", "", "")
	wantErr(t, st, body, 400, "invalid_input_data")
	st, body = e.do("GET", base+"&limit=1001", "", "")
	wantErr(t, st, body, 400, "invalid_input_data")

	type page struct {
		Next     *string                      `json:"next"`
		Previous *string                      `json:"previous"`
		Results  []map[string]json.RawMessage `json:"results"`
	}
	get := func(u string) page {
		t.Helper()
		if strings.HasPrefix(u, "http") {
			pu, err := url.Parse(u)
			if err != nil || pu.Host != strings.TrimPrefix(e.hs.URL, "http://") {
				t.Fatalf("bad page url %q", u)
			}
			u = pu.RequestURI()
		}
		st, body := e.do("GET", u, "", "")
		if st != 200 {
			t.Fatalf("report %d %s", st, body)
		}
		var p page
		mustUnmarshal(t, body, &p)
		return p
	}
	p1 := get(base + "&limit=100")
	if p1.Previous != nil || p1.Next == nil || len(p1.Results) != 100 {
		t.Fatalf("page1: prev %v next %v n %d", p1.Previous, p1.Next, len(p1.Results))
	}
	row := p1.Results[0]
	// Exactly the documented columns: no created, success_date,
	// external_order_id or customer_id.
	documented := []string{"ref", "status", "snap_eligible_total", "ebt_cash_eligible_total",
		"remaining_total", "sales_tax_applied", "snap_paid", "ebt_cash_paid", "credit_debit_paid"}
	for _, k := range documented {
		if _, ok := row[k]; !ok {
			t.Errorf("row lacks %s", k)
		}
	}
	for k := range row {
		if !slices.Contains(documented, k) {
			t.Errorf("row has undocumented %s", k)
		}
	}
	if v := row["snap_eligible_total"]; len(v) == 0 || v[0] == '"' {
		t.Errorf("amount is not a JSON number: %s", v)
	}
	p2 := get(*p1.Next)
	p3 := get(*p2.Next)
	if len(p2.Results) != 100 || len(p3.Results) != 50 || p3.Next != nil || p2.Previous == nil {
		t.Fatalf("pages %d %d next3 %v", len(p2.Results), len(p3.Results), p3.Next)
	}
	seen := map[string]bool{}
	for _, p := range []page{p1, p2, p3} {
		for _, r := range p.Results {
			var ref string
			mustUnmarshal(t, r["ref"], &ref)
			if seen[ref] {
				t.Fatalf("duplicate %s", ref)
			}
			seen[ref] = true
		}
	}
	back := get(*p2.Previous)
	if len(back.Results) != 100 || string(back.Results[0]["ref"]) != string(p1.Results[0]["ref"]) {
		t.Fatalf("previous page differs")
	}
	// status=succeeded lists succeeded orders only.
	ps := get(base + "&status=succeeded&limit=1000")
	for _, r := range ps.Results {
		if string(r["status"]) != `"succeeded"` || string(r["snap_paid"]) == "null" {
			t.Fatalf("succeeded filter row %v", r)
		}
	}
	if len(ps.Results) == 0 || len(ps.Results) >= 250 {
		t.Fatalf("succeeded rows %d", len(ps.Results))
	}
}

func TestRefundAll(t *testing.T) {
	e := newEnv(t, Options{})
	o := e.plainSucceeded(2)
	path := "/api/orders/" + o.ref + "/refund_all/"
	st, body := e.do("POST", path, "auto", `{"metadata":{}}`)
	wantErr(t, st, body, 400, "invalid_input_data")
	st, body = e.do("POST", path, "", `{"reason":"x","metadata":{}}`)
	ee := wantErr(t, st, body, 400, "missing_idempotency_key")
	if ee.Errors[0].Source.Resource != "Idempotency_Key" {
		t.Fatalf("source %s", body)
	}

	st, body = e.do("POST", path, "auto", `{"reason":"Order could not be delivered.","metadata":{"ticket":"T-1"}}`)
	if st != 200 {
		t.Fatalf("refund_all %d %s", st, body)
	}
	var out orderOut
	mustUnmarshal(t, body, &out)
	if len(out.Refunds) != len(o.payments) {
		t.Fatalf("refunds %v for %d payments", out.Refunds, len(o.payments))
	}
	st, body = e.do("POST", path, "auto", `{"reason":"again","metadata":{}}`)
	wantErr(t, st, body, 400, "wait_for_batch_refund")

	e.clk.Advance(lat)
	for _, rref := range out.Refunds {
		st, body := e.do("GET", "/api/orders/"+o.ref+"/refunds/"+rref+"/", "", "")
		var r refundOut
		mustUnmarshal(t, body, &r)
		if st != 200 || r.Status != "succeeded" || string(r.Metadata) != `{"ticket":"T-1"}` {
			t.Fatalf("refund after latency %d %s", st, body)
		}
	}
	st, body = e.do("POST", path, "auto", `{"reason":"again","metadata":{}}`)
	wantErr(t, st, body, 400, "order_already_refunded")

	st, body = e.do("GET", "/api/orders/"+o.ref+"/refunds/", "", "")
	var list []refundOut
	mustUnmarshal(t, body, &list)
	if st != 200 || len(list) != len(out.Refunds) {
		t.Fatalf("list refunds %d %s", st, body)
	}
}

func TestRefundAllAfterPartialRefundsOnlyTheRest(t *testing.T) {
	e := newEnv(t, Options{})
	o := e.plainSucceeded(1)
	p := e.srv.payments[o.payments[0]]
	st, body := e.do("POST", "/api/orders/"+o.ref+"/refunds/", "auto",
		fmt.Sprintf(`{"payment_ref":%q,"amount":"0.01","reason":"r","metadata":{}}`, p.ref))
	if st != 201 {
		t.Fatalf("partial %d %s", st, body)
	}
	e.clk.Advance(lat)
	st, body = e.do("POST", "/api/orders/"+o.ref+"/refund_all/", "auto", `{"reason":"rest","metadata":{}}`)
	if st != 200 {
		t.Fatalf("refund_all %d %s", st, body)
	}
	var out orderOut
	mustUnmarshal(t, body, &out)
	if len(out.Refunds) != len(o.payments)+1 {
		t.Fatalf("refunds %v", out.Refunds)
	}
	st, body = e.do("GET", "/api/orders/"+o.ref+"/refunds/"+out.Refunds[1]+"/", "", "")
	var r refundOut
	mustUnmarshal(t, body, &r)
	if r.Amount != p.amount.Sub(decimalCent()).StringFixed(2) || r.Payment != p.ref {
		t.Fatalf("rest amount %s, payment %s", r.Amount, p.amount)
	}
}

func TestIdempotency(t *testing.T) {
	e := newEnv(t, Options{})
	o := e.plainSucceeded(1)
	p := e.srv.payments[o.payments[0]]
	path := "/api/orders/" + o.ref + "/refunds/"
	b1 := fmt.Sprintf(`{"payment_ref":%q,"amount":"0.05","reason":"dup test","metadata":{"a":1,"b":"x"}}`, p.ref)
	b1again := fmt.Sprintf(` { "metadata":{"b":"x", "a":1}, "reason":"dup test", "amount":"0.05", "payment_ref":%q }`, p.ref)
	st1, r1 := e.do("POST", path, "K-1", b1)
	if st1 != 201 {
		t.Fatalf("create %d %s", st1, r1)
	}
	e.clk.Advance(10 * lat) // even after it settled, the replay is the stored answer
	st2, r2 := e.do("POST", path, "K-1", b1again)
	if st2 != 201 || !bytes.Equal(r1, r2) {
		t.Fatalf("replay %d %s\nvs %s", st2, r2, r1)
	}
	if n := len(e.srv.payments[p.ref].refunds); n != 1 {
		t.Fatalf("replay created a refund: %d", n)
	}
	st, body := e.do("POST", path, "K-1", strings.Replace(b1, "0.05", "0.06", 1))
	ee := wantErr(t, st, body, 400, "cannot_change_request")
	if ee.Errors[0].Source.Resource != "Idempotency_Key" {
		t.Fatalf("source %s", body)
	}
	// Same key on another path is a different key.
	st, body = e.do("POST", "/api/orders/"+o.ref+"/refund_all/", "K-1", `{"reason":"r","metadata":{}}`)
	if st != 200 {
		t.Fatalf("other path same key %d %s", st, body)
	}
	// Concurrent duplicates: one side effect, identical answers.
	o2 := e.plainSucceeded(1)
	p2 := e.srv.payments[o2.payments[0]]
	b := fmt.Sprintf(`{"payment_ref":%q,"amount":0.03,"reason":"race","metadata":{}}`, p2.ref)
	var wg sync.WaitGroup
	answers := make([][]byte, 6)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, answers[i] = e.do("POST", "/api/orders/"+o2.ref+"/refunds/", "race-key", b)
		}()
	}
	wg.Wait()
	for _, a := range answers[1:] {
		if !bytes.Equal(a, answers[0]) {
			t.Fatalf("concurrent answers differ:\n%s\n%s", a, answers[0])
		}
	}
	e.srv.mu.Lock()
	n := len(p2.refunds)
	e.srv.mu.Unlock()
	if n != 1 {
		t.Fatalf("concurrent duplicates made %d refunds", n)
	}
	// Keys expire after the TTL.
	e.clk.Advance(24*time.Hour + time.Second)
	// (refund_all above took the rest, so the re-run is a business error,
	// not cannot_change_request.)
	st, body = e.do("POST", path, "K-1", strings.Replace(b1, "0.05", "0.06", 1))
	wantErr(t, st, body, 400, "refund_exceeds_order_total")
}

func TestPartialRefundValidation(t *testing.T) {
	e := newEnv(t, Options{})
	o := e.plainSucceeded(1)
	p := e.srv.payments[o.payments[0]]
	path := "/api/orders/" + o.ref + "/refunds/"
	req := func(amount string) (int, []byte) {
		return e.do("POST", path, "auto", fmt.Sprintf(`{"payment_ref":%q,"amount":%s,"reason":"r","metadata":{}}`, p.ref, amount))
	}
	st, body := req(`"0.001"`)
	wantErr(t, st, body, 400, "invalid_input_data")
	st, body = req(`0`)
	wantErr(t, st, body, 400, "invalid_input_data")
	st, body = e.do("POST", path, "auto", fmt.Sprintf(`{"payment_ref":%q,"amount":"1.00","metadata":{}}`, p.ref))
	wantErr(t, st, body, 400, "invalid_input_data")
	almost := p.amount.Sub(decimalCent())
	st, body = req(almost.StringFixed(2)) // a JSON number
	var r refundOut
	mustUnmarshal(t, body, &r)
	if st != 201 || r.Status != "processing" || r.Amount != almost.StringFixed(2) || r.Receipt.TransactionType != "Refund" {
		t.Fatalf("create %d %s", st, body)
	}
	st, body = req(`"0.02"`)
	wantErr(t, st, body, 400, "refund_exceeds_order_total")
	st, body = req(`"0.01"`)
	if st != 201 {
		t.Fatalf("last cent %d %s", st, body)
	}
	st, body = req(`"0.01"`)
	wantErr(t, st, body, 400, "refund_exceeds_order_total")

	// Not succeeded.
	f := e.findOrder(func(o *order) bool { return o.status == "failed" })
	st, body = e.do("POST", "/api/orders/"+f.ref+"/refunds/", "auto",
		fmt.Sprintf(`{"payment_ref":%q,"amount":"1.00","reason":"r","metadata":{}}`, f.payments[0]))
	wantErr(t, st, body, 400, "order_not_succeeded")

	// Older than 90 days.
	e.clk.Advance(91 * 24 * time.Hour)
	e.token = e.getToken("")
	o2 := e.plainSucceeded(1)
	st, body = e.do("POST", "/api/orders/"+o2.ref+"/refunds/", "auto",
		fmt.Sprintf(`{"payment_ref":%q,"amount":"0.01","reason":"r","metadata":{}}`, o2.payments[0]))
	wantErr(t, st, body, 400, "cannot_refund_after_90_days")
}

func TestRefundSettlesAndBalanceMoves(t *testing.T) {
	e := newEnv(t, Options{})
	o := e.plainSucceeded(1)
	p := e.srv.payments[o.payments[0]]
	st, body := e.do("POST", "/api/orders/"+o.ref+"/refunds/", "auto",
		fmt.Sprintf(`{"payment_ref":%q,"amount":"1.00","reason":"r","metadata":{}}`, p.ref))
	var r0 refundOut
	mustUnmarshal(t, body, &r0)
	if st != 201 || r0.Status != "processing" {
		t.Fatalf("create %d %s", st, body)
	}
	get := func() refundOut {
		t.Helper()
		_, body := e.do("GET", "/api/orders/"+o.ref+"/refunds/"+r0.Ref+"/", "", "")
		var r refundOut
		mustUnmarshal(t, body, &r)
		return r
	}
	e.clk.Advance(lat - time.Millisecond)
	if r := get(); r.Status != "processing" {
		t.Fatalf("early: %s", r.Status)
	}
	e.clk.Advance(time.Millisecond)
	r1 := get()
	if r1.Status != "succeeded" || r1.Receipt.Message != "Approved" || r1.LastProcessingError != nil {
		t.Fatalf("at latency: %+v", r1)
	}
	field := func(r refundOut) string {
		if p.fundingType == "ebt_snap" {
			return r.Receipt.Balance.Snap
		}
		return r.Receipt.Balance.NonSnap
	}
	e.clk.Advance(lat)
	r2 := get()
	if r2.Receipt.Balance.Updated == r1.Receipt.Balance.Updated || field(r2) == field(r1) {
		t.Fatalf("balance did not move: %+v / %+v", r1.Receipt.Balance, r2.Receipt.Balance)
	}
	e.clk.Advance(lat)
	r3 := get()
	if r3.Receipt.Balance.Updated == r2.Receipt.Balance.Updated || field(r3) != field(r2) {
		t.Fatalf("second move: %+v / %+v", r2.Receipt.Balance, r3.Receipt.Balance)
	}
	e.clk.Advance(10 * lat)
	r4 := get()
	if r4.Receipt.Balance != r3.Receipt.Balance || r4.Updated != r3.Updated {
		t.Fatalf("not settled: %+v / %+v", r3, r4)
	}
}

func TestRefundFailsOnTestCard(t *testing.T) {
	e := newEnv(t, Options{})
	o := e.findOrder(func(o *order) bool { return o.last4 == "3311" && o.status == "succeeded" })
	var cash *payment
	for _, pref := range o.payments {
		if e.srv.payments[pref].fundingType == "ebt_cash" {
			cash = e.srv.payments[pref]
		}
	}
	if cash == nil {
		t.Fatal("3311 order without EBT Cash payment")
	}
	st, body := e.do("POST", "/api/orders/"+o.ref+"/refunds/", "auto",
		fmt.Sprintf(`{"payment_ref":%q,"amount":"0.50","reason":"r","metadata":{}}`, cash.ref))
	if st != 201 {
		t.Fatalf("create %d %s", st, body)
	}
	var r refundOut
	mustUnmarshal(t, body, &r)
	e.clk.Advance(lat)
	_, body = e.do("GET", "/api/orders/"+o.ref+"/refunds/"+r.Ref+"/", "", "")
	mustUnmarshal(t, body, &r)
	if r.Status != "failed" || r.LastProcessingError == nil || !strings.Contains(string(*r.LastProcessingError), `"code":"ebt_error_91"`) ||
		r.Receipt.Message == "Approved" {
		t.Fatalf("failed refund %s", body)
	}
}

func TestUpdateRules(t *testing.T) {
	e := newEnv(t, Options{})
	o := e.plainSucceeded(1)
	p := e.srv.payments[o.payments[0]]
	path := "/api/orders/" + o.ref + "/payments/" + p.ref + "/"
	hostileMeta := `{"note":"\u001b]52;c;ZWNobyBwd25lZA==\u0007after","bidi":"refund \u202e0001 DRS\u202c","n":[1,2.50,null,true],"<tag>":"&"}`
	body := `{"metadata":` + hostileMeta + `,"external_order_id":"EXT-NEW","amount":999,"description":"changed","payment_method":"aaaaaaaaaa"}`
	st, resp := e.do("PATCH", path, "", body)
	var up paymentOut
	mustUnmarshal(t, resp, &up)
	if st != 200 || up.Amount != p.amount.StringFixed(2) || up.Description == "changed" || up.PaymentMethod == "aaaaaaaaaa" ||
		up.ExternalOrderID == nil || *up.ExternalOrderID != "EXT-NEW" {
		t.Fatalf("succeeded update %d %s", st, resp)
	}
	var want, got any
	mustUnmarshal(t, []byte(hostileMeta), &want)
	mustUnmarshal(t, up.Metadata, &got)
	if fmt.Sprintf("%#v", want) != fmt.Sprintf("%#v", got) || !bytes.Contains(resp, []byte("2.50")) {
		t.Fatalf("metadata changed:\n%s\n%s", hostileMeta, up.Metadata)
	}
	// Legacy POST update, no Idempotency-Key needed; too-long external_order_id.
	st, resp = e.do("POST", path, "", `{"external_order_id":"`+strings.Repeat("x", 65)+`"}`)
	wantErr(t, st, resp, 400, "invalid_input_data")
	st, resp = e.do("POST", path, "", `{"external_order_id":null}`)
	mustUnmarshal(t, resp, &up)
	if st != 200 || up.ExternalOrderID != nil {
		t.Fatalf("legacy update %d %s", st, resp)
	}
	st, resp = e.do("POST", path, "", `[1]`)
	wantErr(t, st, resp, 400, "cannot_parse_request_body")

	// requires_confirmation: most fields editable; cancel works.
	d := e.findOrder(func(o *order) bool { return o.status == "draft" })
	dp := d.payments[0]
	dpath := "/api/orders/" + d.ref + "/payments/" + dp + "/"
	st, resp = e.do("PATCH", dpath, "", `{"amount":"12.34","description":"new desc","funding_type":"ebt_cash","customer_id":"c1"}`)
	mustUnmarshal(t, resp, &up)
	if st != 200 || up.Amount != "12.34" || up.Description != "new desc" || up.FundingType != "ebt_cash" || string(up.Receipt) != "null" {
		t.Fatalf("draft update %d %s", st, resp)
	}
	st, resp = e.do("POST", dpath+"cancel/", "", "")
	wantErr(t, st, resp, 400, "missing_idempotency_key")
	st, resp = e.do("POST", dpath+"cancel/", "auto", "")
	mustUnmarshal(t, resp, &up)
	if st != 200 || up.Status != "canceled" {
		t.Fatalf("cancel %d %s", st, resp)
	}
	st, resp = e.do("POST", path+"cancel/", "auto", "")
	wantErr(t, st, resp, 400, "cannot_cancel_payment")

	// failed: payment_method editable, amount not; last_processing_error is an object.
	f := e.findOrder(func(o *order) bool { return o.status == "failed" })
	fpath := "/api/orders/" + f.ref + "/payments/" + f.payments[0] + "/"
	st, resp = e.do("PATCH", fpath, "", `{"payment_method":"bbbbbbbbbb","amount":"1.00"}`)
	mustUnmarshal(t, resp, &up)
	if st != 200 || up.PaymentMethod != "bbbbbbbbbb" || up.Amount == "1.00" || up.Status != "failed" ||
		!bytes.HasPrefix(up.LastProcessingError, []byte(`{"code":"ebt_error_`)) {
		t.Fatalf("failed update %d %s", st, resp)
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{Orders: 30, RateLimit: 5, RateWindow: time.Minute})
	o := e.plainSucceeded(1)
	// The token request used one.
	for i := 0; i < 4; i++ {
		if st, body := e.do("GET", "/api/orders/"+o.ref+"/", "", ""); st != 200 {
			t.Fatalf("req %d: %d %s", i, st, body)
		}
	}
	req, _ := http.NewRequest("GET", e.hs.URL+"/api/orders/"+o.ref+"/", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Merchant-Account", "9000055")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantErr(t, resp.StatusCode, b, 429, "too_many_requests")
	if resp.Header.Get("Retry-After") != "60" {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	e.clk.Advance(time.Minute)
	if st, body := e.do("GET", "/api/orders/"+o.ref+"/", "", ""); st != 200 {
		t.Fatalf("after window: %d %s", st, body)
	}
}

func TestSeedDeterministicAndHostile(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	a := New(Options{Seed: 7, Now: func() time.Time { return now }})
	b := New(Options{Seed: 7, Now: func() time.Time { return now }})
	c := New(Options{Seed: 8, Now: func() time.Time { return now }})
	dump := func(s *Server) string {
		var sb strings.Builder
		for _, o := range s.orderList {
			j, _ := marshal(s.orderJSON(o, now))
			sb.Write(j)
			for _, p := range o.payments {
				j, _ := marshal(s.paymentJSON(s.payments[p], now))
				sb.Write(j)
			}
			for _, r := range o.refunds {
				j, _ := marshal(s.refundJSON(s.refunds[r], now))
				sb.Write(j)
			}
		}
		return sb.String()
	}
	da, db := dump(a), dump(b)
	if da != db {
		t.Fatal("same seed, different data")
	}
	if da == dump(c) {
		t.Fatal("different seed, same data")
	}
	if len(a.orderList) != 200 {
		t.Fatalf("orders %d", len(a.orderList))
	}
	hostileOrders, processing, statuses := 0, 0, map[string]int{}
	for _, o := range a.orderList {
		j, _ := marshal(a.orderJSON(o, now))
		s := string(j)
		for _, p := range o.payments {
			pj, _ := marshal(a.paymentJSON(a.payments[p], now))
			s += string(pj)
		}
		for _, r := range o.refunds {
			rj, _ := marshal(a.refundJSON(a.refunds[r], now))
			s += string(rj)
			if a.refundState(a.refunds[r], now).status == "processing" {
				processing++
			}
		}
		if strings.Contains(s, `\u001b`) || strings.Contains(s, "\u202e") || strings.Contains(s, `\r`) ||
			strings.Contains(s, `\n`) || strings.Contains(s, "\u200b") || strings.Contains(s, `\b`) {
			hostileOrders++
		}
		statuses[o.status]++
		if len(o.ref) != 10 || strings.Trim(o.ref, "0123456789abcdef") != "" {
			t.Fatalf("ref %q", o.ref)
		}
		if now.Sub(o.created) > 90*24*time.Hour {
			t.Fatalf("order older than 90 days")
		}
	}
	if hostileOrders == 0 || hostileOrders >= 10 {
		t.Fatalf("hostile orders %d", hostileOrders)
	}
	if processing < 2 || statuses["succeeded"] < 120 || statuses["failed"] == 0 || statuses["canceled"] == 0 || statuses["draft"] == 0 {
		t.Fatalf("mix: processing %d statuses %v", processing, statuses)
	}
}

func TestSandboxExtensions(t *testing.T) {
	e := newEnv(t, Options{Orders: 30})
	resp, err := http.Get(e.hs.URL + "/sandbox/health/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health %v %v", err, resp)
	}
	resp.Body.Close()
	resp, err = http.Post(e.hs.URL+"/sandbox/orders/", "application/json",
		strings.NewReader(`{"snap_total":"20.00","ebt_cash_total":"5.50","card_last4":"3309","external_order_id":"DEMO-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var o orderOut
	mustUnmarshal(t, b, &o)
	if resp.StatusCode != 201 || o.Status != "succeeded" || len(o.Payments) != 2 {
		t.Fatalf("create %d %s", resp.StatusCode, b)
	}
	st, body := e.do("POST", "/api/orders/"+o.Ref+"/refund_all/", "auto", `{"reason":"demo","metadata":{}}`)
	if st != 200 {
		t.Fatalf("refund_all on demo order %d %s", st, body)
	}
	mustUnmarshal(t, body, &o)
	e.clk.Advance(lat)
	statuses := map[string]string{}
	for _, r := range o.Refunds {
		_, body := e.do("GET", "/api/orders/"+o.Ref+"/refunds/"+r+"/", "", "")
		var ro refundOut
		mustUnmarshal(t, body, &ro)
		statuses[ro.Amount] = ro.Status
	}
	if statuses["20.00"] != "failed" || statuses["5.50"] != "succeeded" {
		t.Fatalf("3309 card: %v", statuses)
	}
}

func decimalCent() decimal.Decimal { return decimal.New(1, -2) }

// TestAPIVersionHeader: refund receipts exist from API version 2024-01-08;
// before it (and without the header, on the dashboard's default version,
// the original release) a new OrderRefund answers requires_confirmation with
// receipt null, as the docs' example does, and reads carry no receipt.
func TestAPIVersionHeader(t *testing.T) {
	for _, tc := range []struct {
		version string // "-" = no header
		receipt bool
	}{{"2024-01-08", true}, {"2024-05-07", true}, {"2023-05-15", false}, {"-", false}, {"default", false}} {
		t.Run(tc.version, func(t *testing.T) {
			e := newEnv(t, Options{})
			e.version = tc.version
			o := e.plainSucceeded(1)
			p := e.srv.payments[o.payments[0]]
			path := "/api/orders/" + o.ref + "/refunds/"
			st, body := e.do("POST", path, "auto", fmt.Sprintf(`{"payment_ref":%q,"amount":"0.01","reason":"r","metadata":{}}`, p.ref))
			var m map[string]json.RawMessage
			mustUnmarshal(t, body, &m)
			if st != 201 {
				t.Fatalf("create %d %s", st, body)
			}
			if got := string(m["receipt"]) != "null"; got != tc.receipt {
				t.Fatalf("receipt on create %s with version %s", m["receipt"], tc.version)
			}
			if !tc.receipt && string(m["status"]) != `"requires_confirmation"` {
				t.Fatalf("status on create %s, want requires_confirmation", m["status"])
			}
			var ref string
			mustUnmarshal(t, m["ref"], &ref)
			st, body = e.do("GET", path+ref+"/", "", "")
			mustUnmarshal(t, body, &m)
			if st != 200 || (string(m["receipt"]) != "null") != tc.receipt {
				t.Fatalf("read %d receipt %s with version %s", st, m["receipt"], tc.version)
			}
			st, body = e.do("GET", path, "", "")
			var list []map[string]json.RawMessage
			mustUnmarshal(t, body, &list)
			for _, r := range list {
				if (string(r["receipt"]) != "null") != tc.receipt {
					t.Fatalf("list receipt %s with version %s", r["receipt"], tc.version)
				}
			}
		})
	}
}
