package digitalriver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"golang.org/x/time/rate"

	"paydesk/api"
	sbx "paydesk/api/sandbox/digitalriver"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

const testKey = "sk_test_demo"

type fixture struct {
	t   *testing.T
	srv *httptest.Server
	clk *sandboxtest.Clock
	c   *Client
}

func newFixture(t *testing.T, o sbx.Options) *fixture {
	t.Helper()
	clk := sandboxtest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	if o.Now == nil {
		o.Now = clk.Now
	}
	if o.RatePerSecond == 0 {
		o.RatePerSecond = -1
	}
	if o.Orders == 0 {
		o.Orders = 120
	}
	srv := sandboxtest.Serve(t, sbx.New(o))
	c, err := New(Config{
		BaseURL: srv.URL, APIKey: api.NewSecret(testKey),
		Limiter: rate.NewLimiter(rate.Inf, 1),
		Retry:   api.RetryPolicy{Base: 10 * time.Millisecond, Cap: 50 * time.Millisecond, AttemptTimeout: 2 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, srv: srv, clk: clk, c: c}
}

// sandbox calls a /sandbox/ extra directly.
func (f *fixture) sandbox(method, path, body string, out any) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		f.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) scenario(name string) []string {
	var m map[string][]string
	f.sandbox("GET", "/sandbox/scenarios", "", &m)
	if len(m[name]) == 0 {
		f.t.Fatalf("no %s order", name)
	}
	return m[name]
}

func (f *fixture) order(id string) *model.Order {
	f.t.Helper()
	o, err := f.c.GetOrder(context.Background(), id)
	if err != nil {
		f.t.Fatalf("GetOrder %s: %v", id, err)
	}
	return o
}

// fresh returns a captured order with one charge and no refunds yet.
func (f *fixture) fresh() *model.Order {
	for _, id := range f.scenario("refundable") {
		o := f.order(id)
		if len(o.Refunds) == 0 && len(o.Payments) == 1 {
			return o
		}
	}
	f.t.Fatal("no fresh order")
	return nil
}

func (f *fixture) marked(orderID, key string) int {
	rs, err := f.c.FindIntent(context.Background(), orderID, key)
	if err != nil {
		f.t.Fatal(err)
	}
	return len(rs)
}

func TestListOrdersPages(t *testing.T) {
	f := newFixture(t, sbx.Options{Orders: 57, Seed: 2})
	ctx := context.Background()
	seen := map[string]bool{}
	q := api.OrderQuery{Limit: 10}
	var prev time.Time
	for pages := 0; ; pages++ {
		p, err := f.c.ListOrders(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Orders {
			if seen[o.ID] {
				t.Fatalf("duplicate %s", o.ID)
			}
			seen[o.ID] = true
			if !prev.IsZero() && o.Created.After(prev) {
				t.Fatal("not newest first")
			}
			prev = o.Created
			if len(o.Amounts) != 2 || o.Total.Currency == "" || o.Status == "" || o.Reference == "" {
				t.Fatalf("summary: %+v", o)
			}
		}
		if p.Next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("no end")
		}
		q.Cursor = p.Next
	}
	if len(seen) != 57 {
		t.Fatalf("listed %d orders, want 57", len(seen))
	}
	// A date range narrows the list.
	p, err := f.c.ListOrders(ctx, api.OrderQuery{From: f.clk.Now().Add(-10 * 24 * time.Hour), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Orders) == 0 || len(p.Orders) >= 57 {
		t.Fatalf("range gave %d orders", len(p.Orders))
	}
}

func TestGetOrderMapsChargesAndRefunds(t *testing.T) {
	f := newFixture(t, sbx.Options{Orders: 200, Seed: 4})
	o := f.order(f.scenario("partly_refunded")[0])
	if o.Status != model.StatusPartlyRefunded || o.AvailableToRefund == nil || len(o.Refunds) == 0 || len(o.Payments) == 0 {
		t.Fatalf("order: status %s, refunds %d, payments %d", o.Status, len(o.Refunds), len(o.Payments))
	}
	for _, r := range o.Refunds {
		if r.Status != model.StatusSucceeded || r.OrderID != o.ID || r.Amount.Currency != o.Currency {
			t.Fatalf("refund %+v", r)
		}
	}
	if c, _ := o.Refundable().Cmp(*o.AvailableToRefund); c != 0 {
		t.Fatalf("Refundable %s vs available %s", o.Refundable(), o.AvailableToRefund)
	}
	p := o.Payments[len(o.Payments)-1] // a failed first attempt may come before
	if p.Status != model.StatusSucceeded || p.SuccessDate == nil || p.PaymentMethod == "" || len(p.Fields) == 0 {
		t.Fatalf("payment %+v", p)
	}
	// A not-captured order: requires action, nothing refundable.
	n := f.order(f.scenario("not_captured")[0])
	if n.Status != model.StatusRequiresAction && n.Status != model.StatusProcessing || n.Refundable().IsPositive() {
		t.Fatalf("not captured: %s %s", n.Status, n.Refundable())
	}
	// Hostile metadata comes through untouched (the UI sanitises).
	h := f.order(f.scenario("hostile_metadata")[0])
	if h.Metadata["note"] == "" {
		t.Fatal("hostile note lost")
	}
	// Expired and pending_information map to failed and processing.
	for _, id := range f.scenario("pending_information") {
		for _, r := range f.order(id).Refunds {
			switch r.ProviderStatus {
			case "expired":
				if r.Status != model.StatusFailed {
					t.Fatalf("expired -> %s", r.Status)
				}
			case "pending_information":
				if r.Status != model.StatusProcessing {
					t.Fatalf("pending_information -> %s", r.Status)
				}
			}
		}
	}
	if _, err := f.c.GetOrder(context.Background(), "000000000000"); api.StatusOf(err) != 404 {
		t.Fatalf("unknown order: %v", err)
	}
}

func TestRefundPaymentSettles(t *testing.T) {
	f := newFixture(t, sbx.Options{Seed: 5, RefundLatency: 3 * time.Second})
	ctx := context.Background()
	o := f.fresh()
	amt := model.Money{Amount: decimal.NewFromInt(1), Currency: o.Currency}
	res, err := f.c.RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{
		IdempotencyKey: "intent-1", Amount: amt, Reason: "damaged item",
		Metadata: model.Metadata{"ticket": "CS-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refunds) != 1 {
		t.Fatalf("refunds %+v", res.Refunds)
	}
	r := res.Refunds[0]
	if r.Status != model.StatusProcessing || r.ProviderStatus != "pending" || r.Metadata[IntentKey] != "intent-1" ||
		r.Metadata["ticket"] != "CS-1" || r.PaymentID != o.Payments[0].ID {
		t.Fatalf("created %+v", r)
	}
	// The same key again: the existing refund, no second one.
	res2, err := f.c.RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{
		IdempotencyKey: "intent-1", Amount: amt, Reason: "damaged item",
	})
	if err != nil || len(res2.Refunds) != 1 || res2.Refunds[0].ID != r.ID {
		t.Fatalf("repeat: %v %+v", err, res2)
	}
	f.clk.Advance(3 * time.Second)
	got, err := f.c.GetRefund(ctx, o.ID, r.ID)
	if err != nil || got.Status != model.StatusSucceeded {
		t.Fatalf("settled: %v %+v", err, got)
	}
	after := f.order(o.ID)
	if len(after.Refunds) != 1 || after.Status != model.StatusPartlyRefunded {
		t.Fatalf("after: %s with %d refunds", after.Status, len(after.Refunds))
	}
	if _, err := f.c.GetRefund(ctx, "other", r.ID); err == nil {
		t.Fatal("refund of another order accepted")
	}
}

func TestRefundOrderWhole(t *testing.T) {
	f := newFixture(t, sbx.Options{Seed: 6})
	ctx := context.Background()
	o := f.fresh()
	avail := *o.AvailableToRefund
	// A stale confirmation sends nothing.
	stale, _ := avail.Add(model.MustParse("1", o.Currency))
	_, err := f.c.RefundOrder(ctx, o.ID, api.RefundOrderRequest{IdempotencyKey: "k-stale", Reason: "x", Expected: stale})
	if api.CodeOf(err) != "amount_changed" || api.IsOutcomeUnknown(err) {
		t.Fatalf("stale: %v", err)
	}
	if n := f.marked(o.ID, "k-stale"); n != 0 {
		t.Fatal("stale confirmation sent a refund")
	}
	res, err := f.c.RefundOrder(ctx, o.ID, api.RefundOrderRequest{IdempotencyKey: "k-all", Reason: "order lost", Expected: avail})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := res.Refunds[0].Amount.Cmp(avail); c != 0 {
		t.Fatalf("refunded %s, want %s", res.Refunds[0].Amount, avail)
	}
	after := f.order(o.ID)
	if after.Refundable().IsPositive() || !after.HasRefundInFlight() {
		t.Fatalf("after: refundable %s", after.Refundable())
	}
	// Nothing left: refused without sending.
	_, err = f.c.RefundOrder(ctx, o.ID, api.RefundOrderRequest{IdempotencyKey: "k-again", Reason: "x", Expected: avail})
	if api.CodeOf(err) != "nothing_to_refund" {
		t.Fatalf("again: %v", err)
	}
}

func TestJPYWholeAmounts(t *testing.T) {
	f := newFixture(t, sbx.Options{Orders: 200, Seed: 8})
	for _, id := range f.scenario("currency_JPY") {
		o := f.order(id)
		if o.Refundable().IsPositive() && len(o.Refunds) == 0 && o.Status == model.StatusSucceeded {
			res, err := f.c.RefundPayment(context.Background(), o.ID, o.Payments[0].ID, api.RefundPaymentRequest{
				IdempotencyKey: "jpy", Amount: model.MustParse("100", "JPY"), Reason: "goodwill"})
			if err != nil || res.Refunds[0].Amount.Fixed() != "100" {
				t.Fatalf("JPY refund: %v %+v", err, res)
			}
			return
		}
	}
	t.Skip("no fresh JPY order")
}

// Faults the sandbox injects after committing the refund: the client must
// end with exactly one refund and report it, never a second.
func TestUnknownOutcomeIsReconciled(t *testing.T) {
	for _, kind := range []string{"error_after_commit", "reset_after_commit", "hang_after_commit"} {
		t.Run(kind, func(t *testing.T) {
			f := newFixture(t, sbx.Options{Seed: 9})
			f.c.t.Retry.AttemptTimeout = 300 * time.Millisecond
			o := f.fresh()
			f.sandbox("POST", "/sandbox/faults", `{"kind":"`+kind+`","delayMs":1500}`, nil)
			res, err := f.c.RefundPayment(context.Background(), o.ID, o.Payments[0].ID, api.RefundPaymentRequest{
				IdempotencyKey: "k-" + kind, Amount: model.MustParse("1", o.Currency), Reason: "test"})
			if err != nil {
				t.Fatalf("not reconciled: %v", err)
			}
			if len(res.Refunds) != 1 || res.Refunds[0].Metadata[IntentKey] != "k-"+kind {
				t.Fatalf("result %+v", res)
			}
			if n := len(f.order(o.ID).Refunds); n != 1 {
				t.Fatalf("%d refunds on the order, want 1", n)
			}
		})
	}
}

// A 503 before anything was created: the outcome stays unknown (nothing was
// re-sent), and the next call with the same key reads, finds nothing, sends once.
func TestUnknownNotFoundIsNotResent(t *testing.T) {
	f := newFixture(t, sbx.Options{Seed: 10})
	o := f.fresh()
	f.sandbox("POST", "/sandbox/faults", `{"kind":"unavailable","count":1}`, nil)
	req := api.RefundPaymentRequest{IdempotencyKey: "k-503", Amount: model.MustParse("2", o.Currency), Reason: "test"}
	_, err := f.c.RefundPayment(context.Background(), o.ID, o.Payments[0].ID, req)
	if !api.IsOutcomeUnknown(err) || api.StatusOf(err) != 503 {
		t.Fatalf("want unknown 503, got %v", err)
	}
	if n := f.marked(o.ID, "k-503"); n != 0 {
		t.Fatalf("%d refunds after a 503", n)
	}
	if _, err := f.c.RefundPayment(context.Background(), o.ID, o.Payments[0].ID, req); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.RefundPayment(context.Background(), o.ID, o.Payments[0].ID, req); err != nil {
		t.Fatal(err)
	}
	if n := f.marked(o.ID, "k-503"); n != 1 {
		t.Fatalf("%d refunds, want exactly 1", n)
	}
}

// A 409 after the POST was sent is not a refusal the client may settle on
// its own: one immediate read finding no marker proves nothing while the
// provider may still be committing, so the outcome stays unknown (typed, with
// Digital River's code) and the journal keeps reading until its settle window
// has passed.
func TestConflictAfterSendStaysUnknown(t *testing.T) {
	f := newFixture(t, sbx.Options{Seed: 11})
	ctx := context.Background()
	nw, _, err := f.c.order(ctx, f.scenario("not_captured")[0])
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.c.create(ctx, "refund order "+nw.ID, nw, model.MustParse("1", nw.Currency), "early", nil, "k-409")
	e, ok := api.AsError(err)
	if !ok || e.HTTPStatus != 409 || e.Code != "conflict" || !api.IsOutcomeUnknown(err) {
		t.Fatalf("409 after send: want an unknown outcome with code conflict, got %#v", err)
	}
	if n := f.marked(nw.ID, "k-409"); n != 0 {
		t.Fatalf("%d refunds after a 409", n)
	}
}

// Server refusals reach the agent as typed errors with per-field detail.
func TestServerErrorsAreTyped(t *testing.T) {
	f := newFixture(t, sbx.Options{Seed: 11})
	ctx := context.Background()
	o := f.fresh()
	w, refunds, err := f.c.order(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	_ = refunds
	big, _ := o.AvailableToRefund.Add(model.MustParse("1", o.Currency))
	_, err = f.c.create(ctx, "refund order "+o.ID, w, big, "too much", nil, "k-big")
	e, ok := api.AsError(err)
	if !ok || e.HTTPStatus != 400 || e.Code != "invalid_parameter" || e.Unknown || len(e.Fields) != 1 || e.Fields[0].Field != "amount" {
		t.Fatalf("over-refund: %#v", err)
	}
	// Client-side checks refuse before sending.
	_, err = f.c.RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{
		IdempotencyKey: "k-r", Amount: model.MustParse("1", o.Currency), Reason: strings.Repeat("r", 65)})
	if e, ok := api.AsError(err); !ok || e.Fields[0].Field != "reason" {
		t.Fatalf("reason: %v", err)
	}
	_, err = f.c.RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{
		Amount: model.MustParse("1", o.Currency), Reason: "no key"})
	if err == nil {
		t.Fatal("refund without an idempotency key")
	}
	// Wrong key: 401, typed.
	bad, _ := New(Config{BaseURL: f.srv.URL, APIKey: api.NewSecret("sk_test_wrong"), Limiter: rate.NewLimiter(rate.Inf, 1)})
	_, err = bad.ListOrders(ctx, api.OrderQuery{})
	if api.StatusOf(err) != 401 || api.CodeOf(err) != "unauthorized" {
		t.Fatalf("401: %v", err)
	}
}

func TestUpdateRefundMetadata(t *testing.T) {
	f := newFixture(t, sbx.Options{Seed: 12})
	ctx := context.Background()
	o := f.fresh()
	res, err := f.c.RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{
		IdempotencyKey: "k-meta", Amount: model.MustParse("1", o.Currency), Reason: "meta"})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Refunds[0].ID
	r, err := f.c.UpdateRefund(ctx, o.ID, id, api.RefundUpdate{Metadata: model.Metadata{"ticket": "CS-9", "note": "called back"}})
	if err != nil {
		t.Fatal(err)
	}
	want := model.Metadata{"ticket": "CS-9", "note": "called back", IntentKey: "k-meta"}
	if len(r.Metadata) != len(want) || r.Metadata["ticket"] != "CS-9" || r.Metadata[IntentKey] != "k-meta" {
		t.Fatalf("metadata %v", r.Metadata)
	}
	// A value the refund already holds goes back byte for byte: the console
	// validates only what the agent wrote, and rewriting a stored value
	// behind the agent's back would be worse than showing it safely.
	odd := "a\x1b[2Jb"
	r, err = f.c.UpdateRefund(ctx, o.ID, id, api.RefundUpdate{Metadata: model.Metadata{"ticket": "CS-9", "note": odd}})
	if err != nil || r.Metadata["note"] != odd {
		t.Fatalf("a stored value did not round-trip: %v %q", err, r.Metadata["note"])
	}
}

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	f := newFixture(t, sbx.Options{Orders: 5, RatePerSecond: 2})
	start := time.Now()
	for i := 0; i < 4; i++ {
		if _, err := f.c.ListOrders(context.Background(), api.OrderQuery{Limit: 1}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if time.Since(start) < 900*time.Millisecond {
		t.Fatalf("4 requests at 2/s took only %s: Retry-After ignored?", time.Since(start))
	}
}

func TestNewRefusesUnsafeConfig(t *testing.T) {
	for _, c := range []Config{
		{BaseURL: "http://api.digitalriver.com", APIKey: api.NewSecret("sk_x")},
		{BaseURL: "https://api.digitalriver.com"},
		{BaseURL: "ftp://x", APIKey: api.NewSecret("sk_x")},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("accepted %+v", c.BaseURL)
		}
	}
	if _, err := New(Config{BaseURL: "http://127.0.0.1:7003", APIKey: api.NewSecret("sk_test_demo")}); err != nil {
		t.Fatal(err)
	}
}

// The Orders list filters by the merchant's own order id (upstreamIds,
// [C] in the reference): the client asks it, and the sandbox answers only
// that order; an unknown upstream id is an empty page, not an error.
func TestListOrdersByUpstreamID(t *testing.T) {
	f := newFixture(t, sbx.Options{Orders: 57, Seed: 2})
	ctx := context.Background()
	all, err := f.c.ListOrders(ctx, api.OrderQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := all.Orders[len(all.Orders)/2]
	if want.Reference == "" {
		t.Fatalf("order %s has no upstream id", want.ID)
	}
	pg, err := f.c.ListOrders(ctx, api.OrderQuery{UpstreamID: want.Reference, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Orders) != 1 || pg.Orders[0].ID != want.ID {
		t.Fatalf("upstream id %s listed %d orders (%+v), want %s alone", want.Reference, len(pg.Orders), pg.Orders, want.ID)
	}
	none, err := f.c.ListOrders(ctx, api.OrderQuery{UpstreamID: "ORD-NOT-THERE", Limit: 10})
	if err != nil || len(none.Orders) != 0 {
		t.Fatalf("unknown upstream id: %d orders, %v", len(none.Orders), err)
	}
	if !f.c.Capabilities().Filters.Upstream {
		t.Fatal("the client does not say it filters by upstream id")
	}
}
