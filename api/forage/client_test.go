package forage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/forage"
	sandbox "paydesk/api/sandbox/forage"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// These tests run the client against the real Forage sandbox over loopback.
// Nothing is mocked; a thin recorder in front of the sandbox counts what
// crossed the wire, and two tests put an old-API or lossy-network shim in
// front of it.

const (
	clientID = "demo-client"
	secret   = "demo-secret-9f3c1e"
	merchant = "9000055"
	latency  = 2 * time.Second
)

func newClock() *sandboxtest.Clock {
	return sandboxtest.NewClock(time.Date(2026, 3, 14, 18, 30, 0, 0, time.UTC))
}

// recorder counts requests by "METHOD /path/" and answers by status.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []string
	hits map[string]int
	stat map[int]int
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: 200}
	defer func() { // also when a shim aborts the connection
		r.mu.Lock()
		defer r.mu.Unlock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.Path)
		r.hits[req.Method+" "+req.URL.Path]++
		r.stat[sw.status]++
	}()
	r.next.ServeHTTP(sw, req)
}

func (r *recorder) count(key string) int { r.mu.Lock(); defer r.mu.Unlock(); return r.hits[key] }

func (r *recorder) status(s int) int { r.mu.Lock(); defer r.mu.Unlock(); return r.stat[s] }

func (r *recorder) total() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.reqs) }

type env struct {
	t      *testing.T
	srv    *httptest.Server
	rec    *recorder
	server *sandboxtest.Clock // the sandbox's clock
	local  *sandboxtest.Clock // the client's clock
	client *forage.Client
}

type envOpt struct {
	orders   int
	shim     func(http.Handler) http.Handler
	ownClock bool // the client gets its own clock (token expiry tests)
}

func newEnv(t *testing.T, o envOpt) *env {
	t.Helper()
	if o.orders == 0 {
		o.orders = 60
	}
	e := &env{t: t, server: newClock()}
	e.local = e.server
	if o.ownClock {
		e.local = newClock()
	}
	var h http.Handler = sandbox.New(sandbox.Options{
		Orders: o.orders, Seed: 42, RefundLatency: latency, Now: e.server.Now,
		ClientID: clientID, ClientSecret: secret, MerchantAccount: merchant,
	})
	if o.shim != nil {
		h = o.shim(h)
	}
	e.rec = &recorder{next: h, hits: map[string]int{}, stat: map[int]int{}}
	e.srv = sandboxtest.Serve(t, e.rec)
	e.client = e.newClient()
	return e
}

func (e *env) config() forage.Config {
	return forage.Config{
		BaseURL: e.srv.URL, ClientID: clientID, ClientSecret: api.NewSecret(secret),
		MerchantAccount: merchant, APIVersion: "2024-05-07", Now: e.local.Now,
		Limiter: rate.NewLimiter(rate.Inf, 0),
	}
}

func (e *env) newClient() *forage.Client {
	e.t.Helper()
	c, err := forage.New(e.config())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// createOrder makes a succeeded order through the sandbox-only extension.
func (e *env) createOrder(body string) string {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+"/sandbox/orders/", "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var o struct{ Ref string }
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil || resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("create order: %d %v", resp.StatusCode, err)
	}
	return o.Ref
}

func (e *env) getOrder(ref string) *model.Order {
	e.t.Helper()
	o, err := e.client.GetOrder(ctx(e.t), ref)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

func paymentOf(t *testing.T, o *model.Order, fundingType string) *model.Payment {
	t.Helper()
	for i := range o.Payments {
		if o.Payments[i].FundingType == fundingType {
			return &o.Payments[i]
		}
	}
	t.Fatalf("order %s has no %s payment", o.ID, fundingType)
	return nil
}

func wantCode(t *testing.T, err error, status int, code string) *api.Error {
	t.Helper()
	e, ok := api.AsError(err)
	if !ok {
		t.Fatalf("want *api.Error %d %s, got %v", status, code, err)
	}
	if e.HTTPStatus != status || e.Code != code || e.Message == "" || e.Provider != "forage" || e.Op == "" {
		t.Fatalf("want %d %s, got %+v", status, code, e)
	}
	return e
}

// ---------------------------------------------------------------- tests

func TestTokenCachedAndRefreshedOn401(t *testing.T) {
	e := newEnv(t, envOpt{ownClock: true})
	ref := e.createOrder(`{}`)
	// Many callers at once: one token fetch.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.client.GetOrder(ctx(t), ref)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.rec.count("POST /o/token/"); n != 1 {
		t.Fatalf("%d token fetches for concurrent first calls, want 1", n)
	}
	// The sandbox token lives 7 days. The server's clock passes it while
	// the client's does not: the client's cached token meets a 401, is
	// refreshed once, and the call succeeds.
	e.server.Advance(8 * 24 * time.Hour)
	if _, err := e.client.GetOrder(ctx(t), ref); err != nil {
		t.Fatal(err)
	}
	if n := e.rec.count("POST /o/token/"); n != 2 {
		t.Fatalf("%d token fetches after expiry, want 2", n)
	}
	if n := e.rec.status(http.StatusUnauthorized); n != 1 {
		t.Fatalf("%d 401 answers, want exactly 1", n)
	}
	// The client's own clock passing expires_in: a new token before any 401.
	e.local.Advance(8 * 24 * time.Hour)
	e.server.Advance(8 * 24 * time.Hour)
	if _, err := e.client.GetOrder(ctx(t), ref); err != nil {
		t.Fatal(err)
	}
	if n, u := e.rec.count("POST /o/token/"), e.rec.status(http.StatusUnauthorized); n != 3 || u != 1 {
		t.Fatalf("token fetches %d (want 3), 401s %d (want 1)", n, u)
	}
}

func TestWrongSecretIsAnErrorWithoutTheSecret(t *testing.T) {
	e := newEnv(t, envOpt{})
	cfg := e.config()
	cfg.ClientSecret = api.NewSecret("wrong-" + secret)
	c, err := forage.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListOrders(ctx(t), api.OrderQuery{})
	ae := wantCode(t, err, http.StatusUnauthorized, "invalid_client")
	if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v %#v", ae, ae), secret) {
		t.Fatalf("error shows the secret: %v", err)
	}
	if n := e.rec.count("POST /o/token/"); n != 1 {
		t.Fatalf("%d token attempts with bad credentials, want 1 (no retry loop)", n)
	}
}

func TestListOrdersCursorPages(t *testing.T) {
	e := newEnv(t, envOpt{orders: 120})
	all, err := e.client.ListOrders(ctx(t), api.OrderQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if all.Next != "" || len(all.Orders) < 20 {
		t.Fatalf("one big page: %d orders, next %q", len(all.Orders), all.Next)
	}
	// The default range is the last 30 days: seeded orders span 90.
	if len(all.Orders) >= 120 {
		t.Fatalf("%d orders in the default 30 days of 120 over 90 days", len(all.Orders))
	}
	var paged []string
	q := api.OrderQuery{Limit: 7}
	pages := 0
	for {
		page, err := e.client.ListOrders(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Orders) > 7 {
			t.Fatalf("page of %d", len(page.Orders))
		}
		for _, o := range page.Orders {
			paged = append(paged, o.ID)
		}
		if page.Next == "" {
			break
		}
		if pages > 100 {
			t.Fatal("cursor never ends")
		}
		q.Cursor = page.Next
	}
	var want []string
	for _, o := range all.Orders {
		want = append(want, o.ID)
	}
	if !slices.Equal(paged, want) {
		t.Fatalf("paged %d orders, want the same %d in order", len(paged), len(want))
	}
	if pages != (len(want)+6)/7 {
		t.Errorf("%d pages for %d orders", pages, len(want))
	}
	// Rows: newest day first, each dated by the day it was asked for;
	// SNAP, cash and card paid; total; status.
	for i, o := range all.Orders {
		if len(o.Amounts) != 3 || o.Total.Currency != "USD" || o.Status == "" || o.Provider != "forage" {
			t.Fatalf("row %+v", o)
		}
		if !o.DateOnly || o.Created.IsZero() {
			t.Fatalf("row without its day: %+v", o)
		}
		if i > 0 && o.Created.After(all.Orders[i-1].Created) {
			t.Fatalf("not newest first at %d", i)
		}
		if o.ProviderStatus == "succeeded" {
			sum, _ := o.Amounts[0].Add(o.Amounts[1])
			if c, _ := sum.Cmp(o.Total); c > 0 {
				t.Fatalf("SNAP+cash above total: %+v", o)
			}
		}
	}
	// A wider range finds all 120.
	now := e.local.Now()
	wide, err := e.client.ListOrders(ctx(t), api.OrderQuery{From: now.AddDate(0, 0, -100), To: now, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(wide.Orders) != 120 {
		t.Fatalf("%d orders over 100 days, want 120", len(wide.Orders))
	}
	// A cursor Forage did not make: Forage refuses it.
	if _, err := e.client.ListOrders(ctx(t), api.OrderQuery{Cursor: "bm90IGEgY3Vyc29y=="}); api.StatusOf(err) != http.StatusBadRequest {
		t.Fatalf("bad cursor: %v", err)
	}
}

func TestGetOrder(t *testing.T) {
	e := newEnv(t, envOpt{})
	ref := e.createOrder(`{"snap_total": "12.34", "ebt_cash_total": "5.00", "external_order_id": "ext-1"}`)
	o := e.getOrder(ref)
	if o.ID != ref || o.Ref != ref || o.Currency != "USD" || o.Status != model.StatusSucceeded ||
		o.ProviderStatus != "succeeded" || o.ExternalOrderID != "ext-1" || o.Created.IsZero() || o.SuccessDate == nil {
		t.Fatalf("order %+v", o)
	}
	if len(o.Payments) != 2 || len(o.Refunds) != 0 {
		t.Fatalf("payments %d refunds %d", len(o.Payments), len(o.Refunds))
	}
	snap, cash := paymentOf(t, o, "ebt_snap"), paymentOf(t, o, "ebt_cash")
	if snap.Method != "EBT SNAP" || cash.Method != "EBT Cash" || snap.Amount.Fixed() != "12.34" || cash.Amount.Fixed() != "5.00" {
		t.Fatalf("payments %+v %+v", snap, cash)
	}
	if snap.Status != model.StatusSucceeded || snap.Receipt == nil || snap.Card == nil || snap.OrderID != ref {
		t.Fatalf("snap payment %+v", snap)
	}
	if o.Total.Fixed() != "17.34" || o.Paid().Fixed() != "17.34" || o.Refundable().Fixed() != "17.34" {
		t.Fatalf("total %s paid %s refundable %s", o.Total, o.Paid(), o.Refundable())
	}
	if len(snap.Fields) < 16 || snap.Fields[0].Name != "ref" || snap.Fields[0].Value != snap.ID {
		t.Fatalf("payment fields %v", snap.Fields)
	}
	if len(o.Fields) < 20 {
		t.Fatalf("order fields %v", o.Fields)
	}
	// Unknown ref: a typed 404.
	_, err := e.client.GetOrder(ctx(t), "0000000000")
	ae := wantCode(t, err, http.StatusNotFound, "resource_not_found")
	if len(ae.Fields) != 1 || ae.Fields[0].Field != "Orders/0000000000" {
		t.Fatalf("fields %+v", ae.Fields)
	}
	// A ref that would change the URL never leaves the client.
	before := e.rec.total()
	for _, bad := range []string{"", "../o/token", "a/b", "x y", "abc?d=1"} {
		if _, err := e.client.GetOrder(ctx(t), bad); api.CodeOf(err) != "invalid_ref" {
			t.Fatalf("GetOrder(%q) = %v", bad, err)
		}
	}
	if e.rec.total() != before {
		t.Fatal("a bad ref was sent")
	}
}

func TestUpdateMetadataAndReadBack(t *testing.T) {
	e := newEnv(t, envOpt{})
	ref := e.createOrder(`{"snap_total": "10.00"}`)
	o := e.getOrder(ref)
	p := paymentOf(t, o, "ebt_snap")
	meta := p.Metadata.Clone()
	meta["ticket"] = "T-1234"
	meta["note"] = "customer called"
	ext := "ext-99"
	got, err := e.client.UpdatePayment(ctx(t), ref, p.ID, api.PaymentUpdate{Metadata: meta, ExternalOrderID: &ext, IdempotencyKey: "upd-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Metadata["ticket"] != "T-1234" || got.ExternalOrderID != "ext-99" {
		t.Fatalf("answer %+v", got)
	}
	back := paymentOf(t, e.getOrder(ref), "ebt_snap")
	if len(back.Metadata) != len(meta) || back.Metadata["note"] != "customer called" || back.ExternalOrderID != "ext-99" {
		t.Fatalf("read back %v %q", back.Metadata, back.ExternalOrderID)
	}
	if n := e.rec.count("PATCH /api/orders/" + ref + "/payments/" + p.ID + "/"); n != 1 {
		t.Fatalf("%d PATCHes", n)
	}
	// payment_method is ignored by Forage on a succeeded payment; the
	// capability says so.
	caps := e.client.Capabilities()
	if ef := caps.EditableFields(back); ef[1].Name != "payment_method" || ef[1].Enabled {
		t.Fatalf("editable %+v", ef)
	}
	// Too long an external order id is refused before sending.
	before := e.rec.total()
	long := strings.Repeat("x", 65)
	_, err = e.client.UpdatePayment(ctx(t), ref, p.ID, api.PaymentUpdate{ExternalOrderID: &long, IdempotencyKey: "upd-2"})
	var fe *model.FieldError
	if !errors.As(err, &fe) || api.CodeOf(err) != "invalid_input_data" || e.rec.total() != before {
		t.Fatalf("long external id: %v", err)
	}
}

func TestUpdateKeepsMetadataTypes(t *testing.T) {
	e := newEnv(t, envOpt{orders: 200})
	// The seeded hostile orders carry metadata with a number inside an
	// object ({"nested": {"x": ..., "n": 7}, "store_id": "0042"}).
	page, err := e.client.ListOrders(ctx(t), api.OrderQuery{From: e.local.Now().AddDate(0, 0, -100), To: e.local.Now(), Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range page.Orders {
		o := e.getOrder(s.ID)
		for _, p := range o.Payments {
			if _, ok := p.Metadata["nested"]; !ok {
				continue
			}
			m := p.Metadata.Clone()
			m["agent"] = "checked"
			got, err := e.client.UpdatePayment(ctx(t), o.ID, p.ID, api.PaymentUpdate{Metadata: m, IdempotencyKey: "keep-types"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Metadata["nested"] != p.Metadata["nested"] || got.Metadata["agent"] != "checked" {
				t.Fatalf("nested metadata changed: %q -> %q", p.Metadata["nested"], got.Metadata["nested"])
			}
			return
		}
	}
	t.Skip("no seeded payment with nested metadata")
}

// An older API answers 405 to PATCH: the client falls back to the legacy
// POST (seed 001) with the same body and key.
func TestUpdateFallsBackToLegacyPost(t *testing.T) {
	noPatch := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPatch {
				w.Header().Set("Allow", "GET, POST")
				w.WriteHeader(http.StatusMethodNotAllowed)
				fmt.Fprintf(w, `{"path":%q,"errors":[{"code":"method_not_allowed","message":"Method \"PATCH\" not allowed.","source":{"resource":"Payments","ref":""}}]}`, r.URL.Path)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, envOpt{shim: noPatch})
	ref := e.createOrder(`{"snap_total": "10.00"}`)
	p := paymentOf(t, e.getOrder(ref), "ebt_snap")
	got, err := e.client.UpdatePayment(ctx(t), ref, p.ID, api.PaymentUpdate{Metadata: model.Metadata{"k": "v"}, IdempotencyKey: "legacy-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Metadata["k"] != "v" {
		t.Fatalf("metadata %v", got.Metadata)
	}
	path := "/api/orders/" + ref + "/payments/" + p.ID + "/"
	if e.rec.count("PATCH "+path) != 1 || e.rec.count("POST "+path) != 1 {
		t.Fatalf("PATCH %d POST %d", e.rec.count("PATCH "+path), e.rec.count("POST "+path))
	}
}

func TestRefundAllThenWaitForBatchRefund(t *testing.T) {
	e := newEnv(t, envOpt{})
	ref := e.createOrder(`{"snap_total": "12.34", "ebt_cash_total": "5.00"}`)
	o := e.getOrder(ref)
	res, err := e.client.RefundOrder(ctx(t), ref, api.RefundOrderRequest{
		IdempotencyKey: "all-1", Reason: "Order could not be delivered.", Expected: o.Refundable(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refunds) != 2 || res.Order == nil || res.Order.ID != ref {
		t.Fatalf("result %+v", res)
	}
	var total model.Money = model.Zero("USD")
	for _, r := range res.Refunds {
		if r.Status != model.StatusProcessing || r.Reason != "Order could not be delivered." || r.OrderID != ref {
			t.Fatalf("refund %+v", r)
		}
		total, _ = total.Add(r.Amount)
	}
	if total.Fixed() != "17.34" {
		t.Fatalf("refunded %s", total)
	}
	if !res.Order.HasRefundInFlight() || res.Order.Status != model.StatusSucceeded {
		t.Fatalf("order after refund_all: %v in flight %v", res.Order.Status, res.Order.HasRefundInFlight())
	}
	// The same logical action sent again (same key, same body): Forage
	// replays its answer and the client reports the same refunds.
	again, err := e.client.RefundOrder(ctx(t), ref, api.RefundOrderRequest{
		IdempotencyKey: "all-1", Reason: "Order could not be delivered.", Expected: o.Refundable(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Refunds) != 2 || again.Refunds[0].ID != res.Refunds[0].ID || len(again.Order.Refunds) != 2 {
		t.Fatalf("replay: %+v", again.Refunds)
	}
	// A second refund_all while those process: 400 wait_for_batch_refund.
	_, err = e.client.RefundOrder(ctx(t), ref, api.RefundOrderRequest{IdempotencyKey: "all-2", Reason: "again"})
	wantCode(t, err, http.StatusBadRequest, "wait_for_batch_refund")
	// The refunds settle once the clock passes the latency.
	e.server.Advance(latency + time.Second)
	for _, r := range res.Refunds {
		got, err := e.client.GetRefund(ctx(t), ref, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != model.StatusSucceeded || got.Receipt == nil || got.Receipt.Message != "Approved" {
			t.Fatalf("settled refund %+v", got)
		}
	}
	after := e.getOrder(ref)
	if after.Status != model.StatusRefunded || after.ProviderStatus != "succeeded" || !after.Refundable().IsZero() {
		t.Fatalf("order %v/%s refundable %s", after.Status, after.ProviderStatus, after.Refundable())
	}
	// Nothing left.
	_, err = e.client.RefundOrder(ctx(t), ref, api.RefundOrderRequest{IdempotencyKey: "all-3", Reason: "again"})
	wantCode(t, err, http.StatusBadRequest, "order_already_refunded")
}

func TestRefundAllRefusesWhenMoreThanConfirmed(t *testing.T) {
	e := newEnv(t, envOpt{})
	ref := e.createOrder(`{"snap_total": "12.34", "ebt_cash_total": "5.00"}`)
	before := e.rec.count("POST /api/orders/" + ref + "/refund_all/")
	_, err := e.client.RefundOrder(ctx(t), ref, api.RefundOrderRequest{
		IdempotencyKey: "all-x", Reason: "r", Expected: model.MustParse("12.34", "USD"),
	})
	if api.CodeOf(err) != "refund_amount_changed" || e.rec.count("POST /api/orders/"+ref+"/refund_all/") != before {
		t.Fatalf("want a local refusal, got %v", err)
	}
}

func TestPartialRefundSettles(t *testing.T) {
	e := newEnv(t, envOpt{})
	ref := e.createOrder(`{"snap_total": "12.34", "ebt_cash_total": "5.00"}`)
	snap := paymentOf(t, e.getOrder(ref), "ebt_snap")
	res, err := e.client.RefundPayment(ctx(t), ref, snap.ID, api.RefundPaymentRequest{
		IdempotencyKey: "part-1", Amount: model.MustParse("5.5", "USD"), Reason: "Missing item",
		Metadata: model.Metadata{"ticket": "T-9"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refunds) != 1 {
		t.Fatalf("result %+v", res)
	}
	r := res.Refunds[0]
	if r.Amount.Fixed() != "5.50" || r.PaymentID != snap.ID || r.Status != model.StatusProcessing || r.Metadata["ticket"] != "T-9" {
		t.Fatalf("refund %+v", r)
	}
	o := e.getOrder(ref)
	if o.Status != model.StatusSucceeded || o.RefundableOn(o.Payment(snap.ID)).Fixed() != "6.84" {
		t.Fatalf("while processing: %v, refundable %s", o.Status, o.RefundableOn(o.Payment(snap.ID)))
	}
	e.server.Advance(latency)
	got, err := e.client.GetRefund(ctx(t), ref, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != model.StatusSucceeded {
		t.Fatalf("status %v", got.Status)
	}
	// The balance keeps moving after success (seed 000): watch it settle.
	e.server.Advance(2 * latency)
	later, err := e.client.GetRefund(ctx(t), ref, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if later.Receipt == nil || later.Receipt.Balance == nil || !later.Receipt.Balance.Updated.After(got.Receipt.Balance.Updated) {
		t.Fatalf("balance did not move: %+v -> %+v", got.Receipt, later.Receipt)
	}
	if o := e.getOrder(ref); o.Status != model.StatusPartlyRefunded {
		t.Fatalf("order %v, want partly refunded", o.Status)
	}
	// More than what is left: refused by Forage with a typed error.
	_, err = e.client.RefundPayment(ctx(t), ref, snap.ID, api.RefundPaymentRequest{
		IdempotencyKey: "part-2", Amount: model.MustParse("7.00", "USD"), Reason: "too much",
	})
	wantCode(t, err, http.StatusBadRequest, "refund_exceeds_order_total")
	// Refused locally: no key, three decimals, zero, another currency.
	before := e.rec.total()
	for _, req := range []api.RefundPaymentRequest{
		{Amount: model.MustParse("1.00", "USD"), Reason: "x"},
		{IdempotencyKey: "k", Amount: model.Money{Amount: model.MustParse("1.005", "KWD").Amount, Currency: "USD"}, Reason: "x"},
		{IdempotencyKey: "k", Amount: model.MustParse("0", "USD"), Reason: "x"},
		{IdempotencyKey: "k", Amount: model.MustParse("1.00", "EUR"), Reason: "x"},
		{IdempotencyKey: "k", Amount: model.MustParse("1.00", "USD"), Reason: " "},
		{IdempotencyKey: "bad key\n", Amount: model.MustParse("1.00", "USD"), Reason: "x"},
	} {
		if _, err := e.client.RefundPayment(ctx(t), ref, snap.ID, req); err == nil {
			t.Fatalf("%+v was accepted", req)
		}
	}
	if e.rec.total() != before {
		t.Fatal("an invalid refund was sent")
	}
}

func TestRefundFailureIsAStatus(t *testing.T) {
	e := newEnv(t, envOpt{})
	// Card ...3311 makes EBT Cash refunds fail (a documented test card).
	ref := e.createOrder(`{"snap_total": "3.00", "ebt_cash_total": "4.00", "card_last4": "3311"}`)
	cash := paymentOf(t, e.getOrder(ref), "ebt_cash")
	res, err := e.client.RefundPayment(ctx(t), ref, cash.ID, api.RefundPaymentRequest{
		IdempotencyKey: "fail-1", Amount: cash.Amount, Reason: "Damaged",
	})
	if err != nil {
		t.Fatal(err)
	}
	e.server.Advance(latency)
	r, err := e.client.GetRefund(ctx(t), ref, res.Refunds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != model.StatusFailed || r.FailureReason == "" || r.LastError == nil || r.LastError.Code == "" {
		t.Fatalf("failed refund %+v", r)
	}
	if o := e.getOrder(ref); o.Status != model.StatusSucceeded || o.RefundableOn(o.Payment(cash.ID)).Fixed() != "4.00" {
		t.Fatalf("a failed refund holds no money: %v %s", o.Status, o.RefundableOn(o.Payment(cash.ID)))
	}
}

func TestIdempotentRetryMakesOneRefund(t *testing.T) {
	e := newEnv(t, envOpt{})
	ref := e.createOrder(`{"snap_total": "20.00"}`)
	snap := paymentOf(t, e.getOrder(ref), "ebt_snap")
	req := api.RefundPaymentRequest{IdempotencyKey: "same-key", Amount: model.MustParse("2.00", "USD"), Reason: "Dup test"}
	a, err := e.client.RefundPayment(ctx(t), ref, snap.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.client.RefundPayment(ctx(t), ref, snap.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	if a.Refunds[0].ID != b.Refunds[0].ID {
		t.Fatalf("two refunds for one key: %s %s", a.Refunds[0].ID, b.Refunds[0].ID)
	}
	if o := e.getOrder(ref); len(o.Refunds) != 1 {
		t.Fatalf("%d refunds on the order", len(o.Refunds))
	}
	// Same key, different amount: Forage refuses.
	req.Amount = model.MustParse("3.00", "USD")
	_, err = e.client.RefundPayment(ctx(t), ref, snap.ID, req)
	wantCode(t, err, http.StatusBadRequest, "cannot_change_request")
}

// The first answer to a refund is lost on the wire after Forage acted on it.
// The transport sends the same bytes with the same key again and Forage
// replays its answer: one refund.
func TestLostAnswerIsReplayedNotRepeated(t *testing.T) {
	var once sync.Once
	lossy := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/refunds/") {
				drop := false
				once.Do(func() { drop = true })
				if drop {
					body, _ := readAll(r)
					r.Body = readCloser{bytes.NewReader(body)}
					next.ServeHTTP(httptest.NewRecorder(), r) // Forage acts...
					panic(http.ErrAbortHandler)               // ...and the answer is lost
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, envOpt{shim: lossy})
	ref := e.createOrder(`{"snap_total": "20.00"}`)
	snap := paymentOf(t, e.getOrder(ref), "ebt_snap")
	res, err := e.client.RefundPayment(ctx(t), ref, snap.ID, api.RefundPaymentRequest{
		IdempotencyKey: "lossy-1", Amount: model.MustParse("2.00", "USD"), Reason: "Network test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if o := e.getOrder(ref); len(o.Refunds) != 1 || o.Refunds[0].ID != res.Refunds[0].ID {
		t.Fatalf("refunds on the order: %+v", o.Refunds)
	}
	if n := e.rec.count("POST /api/orders/" + ref + "/refunds/"); n != 2 {
		t.Fatalf("%d refund POSTs, want 2 (one lost, one replayed)", n)
	}
}

func TestCancelPayment(t *testing.T) {
	e := newEnv(t, envOpt{})
	page, err := e.client.ListOrders(ctx(t), api.OrderQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	caps := e.client.Capabilities()
	for _, s := range page.Orders {
		if s.ProviderStatus != "draft" {
			continue
		}
		o := e.getOrder(s.ID)
		for _, p := range o.Payments {
			if !caps.CanCancel(&p) {
				continue
			}
			if _, err := e.client.CancelPayment(ctx(t), o.ID, p.ID, api.CancelRequest{}); api.CodeOf(err) != "missing_idempotency_key" {
				t.Fatalf("cancel without a key: %v", err)
			}
			got, err := e.client.CancelPayment(ctx(t), o.ID, p.ID, api.CancelRequest{IdempotencyKey: "cancel-" + p.ID})
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != model.StatusCanceled || got.ProviderStatus != "canceled" || caps.CanCancel(got) {
				t.Fatalf("canceled payment %+v", got)
			}
			// Canceling a succeeded payment: Forage refuses.
			ref := e.createOrder(`{"snap_total": "1.00"}`)
			sp := paymentOf(t, e.getOrder(ref), "ebt_snap")
			_, err = e.client.CancelPayment(ctx(t), ref, sp.ID, api.CancelRequest{IdempotencyKey: "cancel-x"})
			if e, ok := api.AsError(err); !ok || e.HTTPStatus != http.StatusBadRequest || e.Code == "" {
				t.Fatalf("cancel succeeded payment: %v", err)
			}
			return
		}
	}
	t.Fatal("no cancelable payment in the seeded data")
}

func TestUpdateRefundNotSupported(t *testing.T) {
	e := newEnv(t, envOpt{orders: 10})
	if _, err := e.client.UpdateRefund(ctx(t), "a", "b", api.RefundUpdate{}); !errors.Is(err, api.ErrNotSupported) {
		t.Fatal(err)
	}
	c := e.client.Capabilities()
	if c.UpdateRefund || !c.RefundOrder || !c.RefundPayment || !c.UpdatePayment || !c.CancelPayment || !c.OrderRange ||
		c.Idempotency != api.IdempotencyHeader || c.KeyWindow != 10*time.Minute ||
		!slices.Equal(c.AmountColumns, []string{"SNAP paid", "Cash paid", "Card paid"}) || c.ReferenceColumn != "External id" {
		t.Fatalf("capabilities %+v", c)
	}
	if e.client.ID() != "forage" || e.client.Name() != "Forage" {
		t.Fatal("id/name")
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func readAll(r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r.Body)
	return b.Bytes(), err
}
