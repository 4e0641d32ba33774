package digitalriver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"paydesk/api/sandbox/sandboxtest"
)

const key = "sk_test_demo"

type env struct {
	t   *testing.T
	srv *httptest.Server
	clk *sandboxtest.Clock
}

func newEnv(t *testing.T, o Options) *env {
	t.Helper()
	clk := sandboxtest.NewClock(time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC))
	if o.Now == nil {
		o.Now = clk.Now
	}
	if o.RatePerSecond == 0 {
		o.RatePerSecond = -1
	}
	srv := sandboxtest.Serve(t, New(o))
	return &env{t: t, srv: srv, clk: clk}
}

// do sends a request and decodes a JSON answer into out (if non-nil).
func (e *env) do(method, path string, body any, out any) (int, http.Header, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		default:
			buf, err := json.Marshal(b)
			if err != nil {
				e.t.Fatal(err)
			}
			rd = bytes.NewReader(buf)
		}
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode, resp.Header, raw
}

type tOrder struct {
	ID                      string          `json:"id"`
	CreatedTime             time.Time       `json:"createdTime"`
	Currency                string          `json:"currency"`
	State                   string          `json:"state"`
	TotalAmount             decimal.Decimal `json:"totalAmount"`
	CapturedAmount          decimal.Decimal `json:"capturedAmount"`
	RefundedAmount          decimal.Decimal `json:"refundedAmount"`
	AvailableToRefundAmount decimal.Decimal `json:"availableToRefundAmount"`
	// Since API version 2021-03-23 charges live under payment.charges.
	Payment struct {
		Charges []struct {
			ID      string `json:"id"`
			State   string `json:"state"`
			Refunds []struct {
				Amount decimal.Decimal `json:"amount"`
				State  string          `json:"state"`
			} `json:"refunds"`
		} `json:"charges"`
	} `json:"payment"`
	Items []struct {
		ID       string          `json:"id"`
		Amount   decimal.Decimal `json:"amount"`
		Quantity int             `json:"quantity"`
	} `json:"items"`
	Metadata map[string]any `json:"metadata"`
}

type tRefund struct {
	ID             string          `json:"id"`
	CreatedTime    time.Time       `json:"createdTime"`
	OrderID        string          `json:"orderId"`
	Currency       string          `json:"currency"`
	Amount         decimal.Decimal `json:"amount"`
	RefundedAmount decimal.Decimal `json:"refundedAmount"`
	State          string          `json:"state"`
	FailureReason  string          `json:"failureReason"`
	Reason         string          `json:"reason"`
	Metadata       json.RawMessage `json:"metadata"`
	Charges        []struct {
		ID      string `json:"id"`
		Refunds []struct {
			State string `json:"state"`
		} `json:"refunds"`
	} `json:"charges"`
}

type tList[T any] struct {
	HasMore bool `json:"hasMore"`
	Data    []T  `json:"data"`
}

type tErr struct {
	Type   string `json:"type"`
	Errors []struct {
		Code      string `json:"code"`
		Parameter string `json:"parameter"`
		Message   string `json:"message"`
	} `json:"errors"`
}

func (e *env) expectErr(status int, got int, raw []byte, typ, code, param string) {
	e.t.Helper()
	var b tErr
	if err := json.Unmarshal(raw, &b); err != nil {
		e.t.Fatalf("error body %q: %v", raw, err)
	}
	if got != status || b.Type != typ || len(b.Errors) != 1 ||
		(code != "" && b.Errors[0].Code != code) || b.Errors[0].Parameter != param || b.Errors[0].Message == "" {
		e.t.Fatalf("want %d %s/%s/%s, got %d %s", status, typ, code, param, got, raw)
	}
}

func (e *env) scenarios() map[string][]string {
	var m map[string][]string
	if st, _, raw := e.do("GET", "/sandbox/scenarios", nil, &m); st != 200 {
		e.t.Fatalf("scenarios: %d %s", st, raw)
	}
	return m
}

func (e *env) order(id string) tOrder {
	var o tOrder
	if st, _, raw := e.do("GET", "/orders/"+id, nil, &o); st != 200 {
		e.t.Fatalf("order %s: %d %s", id, st, raw)
	}
	return o
}

func TestAuth(t *testing.T) {
	e := newEnv(t, Options{Orders: 5})
	for _, h := range []string{"", "Bearer wrong", "Basic " + key, key} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/orders", nil)
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e.expectErr(401, resp.StatusCode, raw, "unauthorized", "unauthorized", "")
	}
	if st, _, raw := e.do("GET", "/orders", nil, nil); st != 200 {
		t.Fatalf("good key: %d %s", st, raw)
	}
}

func TestOrderPagingBothWays(t *testing.T) {
	e := newEnv(t, Options{Orders: 53, Seed: 7})
	var all []tOrder
	path := "/orders?limit=7"
	for pages := 0; ; pages++ {
		var l tList[tOrder]
		if st, _, raw := e.do("GET", path, nil, &l); st != 200 {
			t.Fatalf("%s: %d %s", path, st, raw)
		}
		all = append(all, l.Data...)
		if !l.HasMore {
			break
		}
		if pages > 20 {
			t.Fatal("paging does not end")
		}
		path = "/orders?limit=7&startingAfter=" + l.Data[len(l.Data)-1].ID
	}
	if len(all) != 53 {
		t.Fatalf("got %d orders, want 53", len(all))
	}
	seen := map[string]bool{}
	for i, o := range all {
		if seen[o.ID] {
			t.Fatalf("duplicate %s", o.ID)
		}
		seen[o.ID] = true
		if len(o.ID) != 12 {
			t.Fatalf("id %q is not 12 digits", o.ID)
		}
		if i > 0 && o.CreatedTime.After(all[i-1].CreatedTime) {
			t.Fatalf("not newest first at %d", i)
		}
	}
	// Walk back from the oldest with endingBefore.
	var back []tOrder
	cursor := all[len(all)-1].ID
	for {
		var l tList[tOrder]
		e.do("GET", "/orders?limit=10&endingBefore="+cursor, nil, &l)
		back = append(l.Data, back...)
		if !l.HasMore {
			break
		}
		cursor = l.Data[0].ID
	}
	if len(back) != 52 {
		t.Fatalf("backward walk got %d, want 52", len(back))
	}
	for i := range back {
		if back[i].ID != all[i].ID {
			t.Fatalf("backward walk differs at %d", i)
		}
	}
	for _, bad := range []string{"0", "101", "x", ""} {
		st, _, raw := e.do("GET", "/orders?limit="+bad, nil, nil)
		e.expectErr(400, st, raw, "bad_request", "invalid_parameter", "limit")
	}
	st, _, raw := e.do("GET", "/orders?startingAfter=nope", nil, nil)
	e.expectErr(400, st, raw, "bad_request", "invalid_parameter", "startingAfter")
	st, _, raw = e.do("GET", "/orders/000000000000", nil, nil)
	e.expectErr(404, st, raw, "not_found", "not_found", "id")

	// Filters.
	var l tList[tOrder]
	e.do("GET", "/orders?limit=100&ids="+all[3].ID+"&ids[]="+all[5].ID, nil, &l)
	if len(l.Data) != 2 || l.Data[0].ID != all[3].ID || l.Data[1].ID != all[5].ID {
		t.Fatalf("ids filter: %+v", l.Data)
	}
	mid := all[20].CreatedTime.Format(time.RFC3339Nano)
	e.do("GET", "/orders?limit=100&createdTime[gte]="+url.QueryEscape(mid), nil, &l)
	if len(l.Data) != 21 {
		t.Fatalf("createdTime[gte]: %d", len(l.Data))
	}
	e.do("GET", "/orders?limit=100&currency=USD&state=complete", nil, &l)
	for _, o := range l.Data {
		if o.Currency != "USD" || o.State != "complete" {
			t.Fatalf("filter leak: %+v", o)
		}
	}
}

func TestSeedDeterministicAndShaped(t *testing.T) {
	a := newEnv(t, Options{Orders: 200, Seed: 42})
	b := newEnv(t, Options{Orders: 200, Seed: 42})
	_, _, ra := a.do("GET", "/orders?limit=100", nil, nil)
	_, _, rb := b.do("GET", "/orders?limit=100", nil, nil)
	if !bytes.Equal(ra, rb) {
		t.Fatal("same seed and clock gave different data")
	}
	_, _, ra = a.do("GET", "/refunds?limit=100", nil, nil)
	_, _, rb = b.do("GET", "/refunds?limit=100", nil, nil)
	if !bytes.Equal(ra, rb) {
		t.Fatal("same seed and clock gave different refunds")
	}
	sc := a.scenarios()
	for _, tag := range []string{tagNotCaptured, tagRefundWillFail, tagPendingInfo, tagHostile,
		tagPartlyRefunded, tagFullyRefunded, "currency_JPY", "currency_EUR", "currency_GBP", "refundable"} {
		if len(sc[tag]) == 0 {
			t.Errorf("no order for scenario %s", tag)
		}
	}
	if n := len(sc[tagHostile]); n*20 >= 200 {
		t.Errorf("%d hostile orders, want under 5%%", n)
	}
	if len(sc[tagPendingInfo]) != 2 {
		t.Errorf("pending_information orders: %v", sc[tagPendingInfo])
	}
	var l tList[tRefund]
	a.do("GET", "/refunds?limit=100&state=expired", nil, &l)
	if len(l.Data) != 1 {
		t.Errorf("expired refunds: %d", len(l.Data))
	}
	a.do("GET", "/refunds?limit=100&state=failed", nil, &l)
	for _, rf := range l.Data {
		if rf.FailureReason != "expired_or_canceled_card" {
			t.Errorf("failed refund without failureReason: %+v", rf)
		}
	}
	for _, id := range sc["currency_JPY"] {
		o := a.order(id)
		if !o.TotalAmount.Equal(o.TotalAmount.Truncate(0)) {
			t.Errorf("JPY order %s has decimals: %s", id, o.TotalAmount)
		}
	}
	o := a.order(sc[tagHostile][0])
	if note, _ := o.Metadata["note"].(string); note == "" {
		t.Errorf("hostile order without note: %+v", o.Metadata)
	}
}

func createBody(o tOrder, amt string) string {
	return fmt.Sprintf(`{"orderId":%q,"currency":%q,"amount":%s,"reason":"requested_by_customer","metadata":{"paydesk_intent":"k1"}}`,
		o.ID, o.Currency, amt)
}

func TestCreateRefundSettles(t *testing.T) {
	e := newEnv(t, Options{Orders: 120, Seed: 3, RefundLatency: 3 * time.Second})
	sc := e.scenarios()
	o := e.order(sc["refundable"][0])
	part := o.AvailableToRefundAmount.Div(decimal.NewFromInt(2)).Truncate(exponent(o.Currency))
	var rf tRefund
	st, _, raw := e.do("POST", "/refunds", createBody(o, part.String()), &rf)
	if st != 201 || rf.State != "pending" || !strings.HasPrefix(rf.ID, "re_") || !rf.Amount.Equal(part) ||
		!rf.RefundedAmount.IsZero() || rf.OrderID != o.ID || len(rf.Charges) == 0 {
		t.Fatalf("create: %d %s", st, raw)
	}
	if string(rf.Metadata) != `{"paydesk_intent":"k1"}` {
		t.Fatalf("metadata: %s", rf.Metadata)
	}
	mid := e.order(o.ID)
	if !mid.AvailableToRefundAmount.Equal(o.AvailableToRefundAmount.Sub(part)) || !mid.RefundedAmount.Equal(o.RefundedAmount) {
		t.Fatalf("pending not counted: before %s after %s", o.AvailableToRefundAmount, mid.AvailableToRefundAmount)
	}
	e.clk.Advance(2 * time.Second)
	e.do("GET", "/refunds/"+rf.ID, nil, &rf)
	if rf.State != "pending" {
		t.Fatalf("settled early: %s", rf.State)
	}
	e.clk.Advance(time.Second)
	e.do("GET", "/refunds/"+rf.ID, nil, &rf)
	if rf.State != "succeeded" || !rf.RefundedAmount.Equal(part) || rf.Charges[0].Refunds[0].State != "complete" {
		t.Fatalf("not settled: %+v", rf)
	}
	after := e.order(o.ID)
	if !after.RefundedAmount.Equal(o.RefundedAmount.Add(part)) || !after.AvailableToRefundAmount.Equal(mid.AvailableToRefundAmount) {
		t.Fatalf("order after: refunded %s avail %s", after.RefundedAmount, after.AvailableToRefundAmount)
	}

	// List by orderId finds it; a second POST is a second refund (no idempotency).
	st, _, raw = e.do("POST", "/refunds", createBody(o, "1"), nil)
	if st != 201 {
		t.Fatalf("second create: %d %s", st, raw)
	}
	var l tList[tRefund]
	e.do("GET", "/refunds?orderId="+o.ID+"&limit=100", nil, &l)
	found := 0
	for _, r := range l.Data {
		if r.OrderID != o.ID {
			t.Fatalf("orderId filter leak: %+v", r)
		}
		if string(r.Metadata) == `{"paydesk_intent":"k1"}` {
			found++
		}
	}
	if found != 2 {
		t.Fatalf("want 2 marked refunds, got %d of %d", found, len(l.Data))
	}
	if l.Data[0].CreatedTime.Before(l.Data[len(l.Data)-1].CreatedTime) {
		t.Fatal("refunds not newest first")
	}

	// Refund the rest, then the order is returned.
	rest := e.order(o.ID).AvailableToRefundAmount
	if st, _, raw := e.do("POST", "/refunds", createBody(o, rest.String()), nil); st != 201 {
		t.Fatalf("rest: %d %s", st, raw)
	}
	e.clk.Advance(5 * time.Second)
	if got := e.order(o.ID); !got.AvailableToRefundAmount.IsZero() || got.State != "returned" {
		t.Fatalf("fully refunded order: %s %s", got.State, got.AvailableToRefundAmount)
	}
}

func TestCreateRefundErrors(t *testing.T) {
	e := newEnv(t, Options{Orders: 120, Seed: 3})
	sc := e.scenarios()
	o := e.order(sc["refundable"][0])
	over := o.AvailableToRefundAmount.Add(decimal.New(1, -exponent(o.Currency))).String()
	cases := []struct {
		name, body       string
		status           int
		typ, code, param string
	}{
		{"over", createBody(o, over), 400, "bad_request", "invalid_parameter", "amountRequested"},
		{"reason65", fmt.Sprintf(`{"orderId":%q,"currency":%q,"amount":1,"reason":%q}`, o.ID, o.Currency, strings.Repeat("r", 65)), 400, "bad_request", "invalid_parameter", "reason"},
		{"currency", fmt.Sprintf(`{"orderId":%q,"currency":"XXX","amount":1}`, o.ID), 400, "bad_request", "invalid_parameter", "currency"},
		{"fees type", fmt.Sprintf(`{"orderId":%q,"currency":%q,"amount":1,"type":"fees"}`, o.ID, o.Currency), 400, "bad_request", "invalid_parameter", "type"},
		{"nocurrency", fmt.Sprintf(`{"orderId":%q,"amount":1}`, o.ID), 400, "bad_request", "missing_parameter", "currency"},
		{"two", fmt.Sprintf(`{"orderId":%q,"currency":%q,"amount":1,"percent":10}`, o.ID, o.Currency), 400, "bad_request", "invalid_parameter", "amount"},
		{"none", fmt.Sprintf(`{"orderId":%q,"currency":%q}`, o.ID, o.Currency), 400, "bad_request", "missing_parameter", "amount"},
		{"percent", fmt.Sprintf(`{"orderId":%q,"currency":%q,"percent":100.5}`, o.ID, o.Currency), 400, "bad_request", "invalid_parameter", "percent"},
		{"string amount", fmt.Sprintf(`{"orderId":%q,"currency":%q,"amount":"1.00"}`, o.ID, o.Currency), 400, "bad_request", "invalid_parameter", "amount"},
		{"decimals", fmt.Sprintf(`{"orderId":%q,"currency":%q,"amount":1.001}`, o.ID, o.Currency), 400, "bad_request", "invalid_parameter", "amount"},
		{"unknown order", `{"orderId":"999999999999","currency":"USD","amount":1}`, 400, "bad_request", "invalid_parameter", "orderId"},
		{"unknown field", fmt.Sprintf(`{"orderId":%q,"currency":%q,"amount":1,"idempotencyKey":"x"}`, o.ID, o.Currency), 400, "bad_request", "invalid_parameter", "idempotencyKey"},
		{"not captured", func() string {
			n := e.order(sc[tagNotCaptured][0])
			return createBody(n, "1")
		}(), 409, "conflict", "conflict", "orderId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, _, raw := e.do("POST", "/refunds", c.body, nil)
			(&env{t: t}).expectErr(c.status, st, raw, c.typ, c.code, c.param)
		})
	}
	// 64 characters (runes) is fine; percent 100 after a partial is too large.
	if st, _, raw := e.do("POST", "/refunds", fmt.Sprintf(`{"orderId":%q,"currency":%q,"amount":1,"reason":%q}`,
		o.ID, o.Currency, strings.Repeat("é", 64)), nil); st != 201 {
		t.Fatalf("64-rune reason: %d %s", st, raw)
	}
	st, _, raw := e.do("POST", "/refunds", fmt.Sprintf(`{"orderId":%q,"currency":%q,"percent":100}`, o.ID, o.Currency), nil)
	e.expectErr(400, st, raw, "bad_request", "invalid_parameter", "amountRequested")
	if n := len(e.listAll("/refunds?orderId=" + o.ID)); n != len(e.listAll("/refunds?orderId="+o.ID)) || n == 0 {
		t.Fatal("list unstable")
	}
}

func (e *env) listAll(path string) []tRefund {
	var l tList[tRefund]
	e.do("GET", path+"&limit=100", nil, &l)
	return l.Data
}

func TestExpiredCardRefundFails(t *testing.T) {
	e := newEnv(t, Options{Orders: 200, Seed: 11, RefundLatency: time.Second})
	sc := e.scenarios()
	var target tOrder
	for _, id := range sc[tagRefundWillFail] {
		if o := e.order(id); o.AvailableToRefundAmount.IsPositive() {
			target = o
			break
		}
	}
	if target.ID == "" {
		t.Skip("no refund_will_fail order with room left")
	}
	var rf tRefund
	if st, _, raw := e.do("POST", "/refunds", createBody(target, "1"), &rf); st != 201 {
		t.Fatalf("%d %s", st, raw)
	}
	e.clk.Advance(time.Second)
	e.do("GET", "/refunds/"+rf.ID, nil, &rf)
	if rf.State != "failed" || rf.FailureReason != "expired_or_canceled_card" {
		t.Fatalf("want failed: %+v", rf)
	}
	if got := e.order(target.ID); !got.AvailableToRefundAmount.Equal(target.AvailableToRefundAmount) {
		t.Fatal("failed refund still counts against the order")
	}
}

func TestItemsAndPercentRefund(t *testing.T) {
	e := newEnv(t, Options{Orders: 120, Seed: 5})
	sc := e.scenarios()
	o := e.order(sc["refundable"][1])
	body := fmt.Sprintf(`{"orderId":%q,"currency":%q,"items":[{"itemId":%q,"quantity":1}]}`, o.ID, o.Currency, o.Items[0].ID)
	var rf tRefund
	if st, _, raw := e.do("POST", "/refunds", body, &rf); st != 201 {
		t.Fatalf("items: %d %s", st, raw)
	}
	unit := o.Items[0].Amount.Div(decimal.NewFromInt(int64(o.Items[0].Quantity))).Truncate(exponent(o.Currency))
	if !rf.Amount.Equal(unit) {
		t.Fatalf("item refund amount %s, want %s", rf.Amount, unit)
	}
	o2 := e.order(sc["refundable"][2])
	if !o2.RefundedAmount.IsZero() || !o2.AvailableToRefundAmount.Equal(o2.CapturedAmount) {
		t.Skip("order already partly refunded")
	}
	if st, _, raw := e.do("POST", "/refunds", fmt.Sprintf(`{"orderId":%q,"currency":%q,"percent":10}`, o2.ID, o2.Currency), &rf); st != 201 {
		t.Fatalf("percent: %d %s", st, raw)
	}
	want := o2.CapturedAmount.Div(decimal.NewFromInt(10)).Truncate(exponent(o2.Currency))
	if !rf.Amount.Equal(want) {
		t.Fatalf("percent amount %s, want %s", rf.Amount, want)
	}
}

func TestMetadataUpdate(t *testing.T) {
	e := newEnv(t, Options{Orders: 60, Seed: 9})
	var l tList[tRefund]
	e.do("GET", "/refunds?limit=1", nil, &l)
	if len(l.Data) != 1 {
		t.Fatal("no seeded refund")
	}
	id := l.Data[0].ID
	meta := `{"b":"x\u001b[2Jy","a":1,"ok":true}`
	var rf tRefund
	st, _, raw := e.do("POST", "/refunds/"+id, `{"metadata":`+meta+`}`, &rf)
	if st != 200 || string(rf.Metadata) != meta {
		t.Fatalf("update: %d %s", st, raw)
	}
	e.do("GET", "/refunds/"+id, nil, &rf)
	if string(rf.Metadata) != meta {
		t.Fatalf("stored metadata %s", rf.Metadata)
	}
	st, _, raw = e.do("POST", "/refunds/"+id, `{"metadata":{},"amount":5}`, nil)
	e.expectErr(400, st, raw, "bad_request", "invalid_parameter", "amount")
	st, _, raw = e.do("POST", "/refunds/"+id, `{"metadata":[1]}`, nil)
	e.expectErr(400, st, raw, "bad_request", "invalid_parameter", "metadata")
	st, _, raw = e.do("POST", "/refunds/re_nope", `{"metadata":{}}`, nil)
	e.expectErr(404, st, raw, "not_found", "not_found", "id")
}

func TestRefundPaging(t *testing.T) {
	e := newEnv(t, Options{Orders: 200, Seed: 1})
	all := e.listAll("/refunds?x=1")
	if len(all) < 8 {
		t.Fatalf("only %d seeded refunds", len(all))
	}
	var got []tRefund
	path := "/refunds?limit=3"
	for {
		var l tList[tRefund]
		e.do("GET", path, nil, &l)
		got = append(got, l.Data...)
		if !l.HasMore {
			break
		}
		path = "/refunds?limit=3&startingAfter=" + l.Data[len(l.Data)-1].ID
	}
	if len(got) != len(all) {
		t.Fatalf("paged %d, want %d", len(got), len(all))
	}
	var l tList[tRefund]
	e.do("GET", "/refunds?limit=2&endingBefore="+all[5].ID, nil, &l)
	if !l.HasMore || len(l.Data) != 2 || l.Data[0].ID != all[3].ID || l.Data[1].ID != all[4].ID {
		t.Fatalf("endingBefore page wrong: %+v", l)
	}
	e.do("GET", "/refunds?ids="+all[1].ID+","+all[2].ID, nil, &l)
	if len(l.Data) != 2 {
		t.Fatalf("ids: %d", len(l.Data))
	}
	st, _, raw := e.do("GET", "/refunds?limit=5&startingAfter="+all[1].ID+"&endingBefore="+all[4].ID, nil, nil)
	e.expectErr(400, st, raw, "bad_request", "invalid_parameter", "startingAfter")
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Options{Orders: 5, RatePerSecond: 3})
	var limited *http.Header
	var body []byte
	for i := 0; i < 10 && limited == nil; i++ {
		st, h, raw := e.do("GET", "/orders?limit=1", nil, nil)
		if st == 429 {
			limited, body = &h, raw
		}
	}
	if limited == nil {
		t.Fatal("never limited")
	}
	e.expectErr(429, 429, body, "too_many_requests", "too_many_requests", "")
	ra, err := strconv.Atoi(limited.Get("Retry-After"))
	if err != nil || ra < 1 {
		t.Fatalf("Retry-After %q", limited.Get("Retry-After"))
	}
	// Sandbox extras are not limited.
	if st, _, _ := e.do("GET", "/sandbox/scenarios", nil, nil); st != 200 {
		t.Fatalf("scenarios limited: %d", st)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t, Options{Orders: 120, Seed: 3})
	o := e.order(e.scenarios()["refundable"][0])
	count := func() int { return len(e.listAll("/refunds?orderId=" + o.ID)) }
	n0 := count()

	e.do("POST", "/sandbox/faults", `{"kind":"unavailable"}`, nil)
	st, _, raw := e.do("POST", "/refunds", createBody(o, "1"), nil)
	e.expectErr(503, st, raw, "service_unavailable", "service_unavailable", "")
	if count() != n0 {
		t.Fatal("unavailable created a refund")
	}

	e.do("POST", "/sandbox/faults", `{"kind":"error_after_commit"}`, nil)
	st, _, raw = e.do("POST", "/refunds", createBody(o, "1"), nil)
	e.expectErr(500, st, raw, "internal_server_error", "internal_server_error", "")
	if count() != n0+1 {
		t.Fatal("error_after_commit did not commit")
	}

	e.do("POST", "/sandbox/faults", `{"kind":"reset_after_commit"}`, nil)
	req, _ := http.NewRequest("POST", e.srv.URL+"/refunds", strings.NewReader(createBody(o, "1")))
	req.Header.Set("Authorization", "Bearer "+key)
	if resp, err := e.srv.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("reset_after_commit answered")
	}
	if count() != n0+2 {
		t.Fatal("reset_after_commit did not commit")
	}

	e.do("POST", "/sandbox/faults", `{"kind":"hang_after_commit","delayMs":2000}`, nil)
	c := &http.Client{Timeout: 200 * time.Millisecond}
	req, _ = http.NewRequest("POST", e.srv.URL+"/refunds", strings.NewReader(createBody(o, "1")))
	req.Header.Set("Authorization", "Bearer "+key)
	_, err := c.Do(req)
	var ue *url.Error
	if !errors.As(err, &ue) || !ue.Timeout() {
		t.Fatalf("hang_after_commit: %v", err)
	}
	if count() != n0+3 {
		t.Fatal("hang_after_commit did not commit")
	}
	if st, _, raw := e.do("POST", "/refunds", createBody(o, "1"), nil); st != 201 {
		t.Fatalf("after faults: %d %s", st, raw)
	}
}

func TestMethodAndRoute(t *testing.T) {
	e := newEnv(t, Options{Orders: 5})
	st, h, raw := e.do("DELETE", "/refunds", nil, nil)
	e.expectErr(405, st, raw, "method_not_allowed", "method_not_allowed", "")
	if h.Get("Allow") == "" {
		t.Fatal("no Allow header")
	}
	st, _, raw = e.do("GET", "/nope", nil, nil)
	e.expectErr(404, st, raw, "not_found", "not_found", "")
}

// TestShapeOfAPIVersion20210323 pins what the 2021-03-23 API moved: charges
// under order.payment (with sources and session), no top-level charges, and
// a refund object without updatedTime.
func TestShapeOfAPIVersion20210323(t *testing.T) {
	e := newEnv(t, Options{Orders: 60, Seed: 3})
	sc := e.scenarios()
	id := sc["refundable"][0]
	st, _, raw := e.do("GET", "/orders/"+id, "", nil)
	if st != 200 {
		t.Fatalf("get order: %d %s", st, raw)
	}
	var o map[string]json.RawMessage
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	if _, ok := o["charges"]; ok {
		t.Fatal("order has a top-level charges array: that is the pre-2021-03-23 shape")
	}
	var pay map[string]json.RawMessage
	if err := json.Unmarshal(o["payment"], &pay); err != nil {
		t.Fatalf("payment: %v in %s", err, raw)
	}
	for _, k := range []string{"charges", "sources", "session"} {
		if _, ok := pay[k]; !ok {
			t.Errorf("order.payment has no %s", k)
		}
	}
	got := e.order(id)
	st, _, raw = e.do("POST", "/refunds", createBody(got, "1"), nil)
	if st != 201 {
		t.Fatalf("create: %d %s", st, raw)
	}
	var rf map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rf); err != nil {
		t.Fatal(err)
	}
	if _, ok := rf["updatedTime"]; ok {
		t.Fatal("refund has updatedTime; the OrderRefund object has none")
	}
}
