package moyasar

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"paydesk/api"
	sbx "paydesk/api/sandbox/moyasar"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

type env struct {
	c     *Client
	clock *sandboxtest.Clock
	url   string
}

// newEnv starts the sandbox on loopback with a fixed clock and a client for it.
func newEnv(t *testing.T, orders int) *env {
	t.Helper()
	clk := sandboxtest.NewClock(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	srv := sandboxtest.Serve(t, sbx.New(sbx.Options{Orders: orders, Seed: 11, Now: clk.Now}))
	c, err := New(Config{BaseURL: srv.URL, APIKey: api.NewSecret(sbx.DefaultAPIKey),
		Limiter: rate.NewLimiter(rate.Inf, 1), Retry: api.RetryPolicy{MaxAttempts: 2, Base: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{c: c, clock: clk, url: srv.URL}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func (e *env) all(t *testing.T, q api.OrderQuery) []model.OrderSummary {
	t.Helper()
	var out []model.OrderSummary
	for {
		p, err := e.c.ListOrders(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Orders...)
		if p.Next == "" {
			return out
		}
		q.Cursor = p.Next
	}
}

// find returns the first order (newest first) whose mapped form pred accepts.
func (e *env) find(t *testing.T, pred func(*model.Order) bool) *model.Order {
	t.Helper()
	for _, s := range e.all(t, api.OrderQuery{Limit: 100}) {
		o, err := e.c.GetOrder(ctx(t), s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pred(o) {
			return o
		}
	}
	t.Fatal("no sandbox order matches")
	return nil
}

func key() string { return uuid.Must(uuid.NewV7()).String() }

func plain(o *model.Order) bool {
	return o.Status == model.StatusSucceeded && len(o.Payments) == 1 && len(o.Refunds) == 0 &&
		o.Payments[0].Card.Last4 > "0004" && o.Currency == "SAR"
}

func TestListOrdersWalksPagesNewestFirst(t *testing.T) {
	e := newEnv(t, 160)
	p, err := e.c.ListOrders(ctx(t), api.OrderQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Orders) != 100 || p.Next != "2" { // the console's page: MPG's most, 100
		t.Fatalf("first page: %d orders, next %q", len(p.Orders), p.Next)
	}
	all := e.all(t, api.OrderQuery{Limit: 25})
	if len(all) != 160 {
		t.Fatalf("%d orders", len(all))
	}
	seen := map[string]bool{}
	for i, s := range all {
		if seen[s.ID] {
			t.Fatalf("%s twice", s.ID)
		}
		seen[s.ID] = true
		if i > 0 && s.Created.After(all[i-1].Created) {
			t.Fatal("not newest first")
		}
		if len(s.Amounts) != 2 || s.Total.Currency == "" || s.Reference == "" || s.Status == "" {
			t.Errorf("summary %+v", s)
		}
	}
	from, to := all[40].Created, all[10].Created
	ranged := e.all(t, api.OrderQuery{From: from, To: to})
	if len(ranged) != 31 || ranged[0].ID != all[10].ID || ranged[30].ID != all[40].ID {
		t.Errorf("range: %d orders", len(ranged))
	}
	if _, err := e.c.ListOrders(ctx(t), api.OrderQuery{Cursor: "x"}); err == nil {
		t.Error("bad cursor accepted")
	}
}

func TestSeededOrdersMapToEveryStatus(t *testing.T) {
	e := newEnv(t, 200)
	seen := map[model.Status]int{}
	kwd := 0
	for _, s := range e.all(t, api.OrderQuery{Limit: 100}) {
		seen[s.Status]++
		if s.Total.Currency == "KWD" {
			kwd++
			if s.Total.Fixed() != s.Total.Amount.StringFixed(3) {
				t.Errorf("KWD amount %s", s.Total)
			}
		}
	}
	for _, st := range []model.Status{model.StatusSucceeded, model.StatusPartlyRefunded, model.StatusRefunded,
		model.StatusVoided, model.StatusRequiresAction, model.StatusFailed} {
		if seen[st] == 0 {
			t.Errorf("no %s order: %v", st, seen)
		}
	}
	if kwd == 0 {
		t.Error("no KWD order")
	}
}

func TestRefundSettles(t *testing.T) {
	e := newEnv(t, 40)
	o := e.find(t, plain)
	p := o.Payments[0]
	k := key()
	res, err := e.c.RefundPayment(ctx(t), o.ID, p.ID, api.RefundPaymentRequest{IdempotencyKey: k, Amount: model.MustParse("1.25", "SAR")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refunds) != 1 || res.Refunds[0].ID != k || res.Refunds[0].Status != model.StatusProcessing ||
		res.Refunds[0].Amount.String() != "1.25 SAR" || res.Refunds[0].PaymentID != p.ID || res.Order == nil {
		t.Fatalf("result %+v", res)
	}
	if !res.Order.HasRefundInFlight() {
		t.Error("order shows no refund in flight")
	}
	e.clock.Advance(3 * time.Second)
	r, err := e.c.GetRefund(ctx(t), o.ID, k)
	if err != nil || r.Status != model.StatusSucceeded || r.ProviderStatus != "approved" {
		t.Fatalf("after settle: %+v %v", r, err)
	}
	got, err := e.c.GetOrder(ctx(t), o.ID)
	if err != nil || got.Status != model.StatusPartlyRefunded || got.Refunded().String() != "1.25 SAR" {
		t.Fatalf("order after settle: %v %v", got.Status, err)
	}
	if _, err := e.c.GetRefund(ctx(t), o.ID, key()); api.StatusOf(err) != 404 {
		t.Errorf("unknown refund: %v", err)
	}
}

func TestSameKeyRefundsOnce(t *testing.T) {
	e := newEnv(t, 40)
	o := e.find(t, plain)
	req := api.RefundOrderRequest{IdempotencyKey: key(), Expected: o.Refundable()}
	first, err := e.c.RefundOrder(ctx(t), o.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	// A repeat while MPG still holds the first one: marked, not failed.
	_, err = e.c.RefundOrder(ctx(t), o.ID, req)
	if !IsStillProcessing(err) || !api.IsOutcomeUnknown(err) || !api.IsTransient(err) || api.StatusOf(err) != 400 {
		t.Fatalf("repeat inside the window: %v", err)
	}
	e.clock.Advance(2 * time.Second)
	again, err := e.c.RefundOrder(ctx(t), o.ID, req)
	if err != nil {
		t.Fatal(err)
	}
	if again.Refunds[0].ID != first.Refunds[0].ID || len(again.Order.Refunds) != 1 {
		t.Fatalf("repeat made another refund: %+v", again.Order.Refunds)
	}
	e.clock.Advance(2 * time.Second)
	got, _ := e.c.GetOrder(ctx(t), o.ID)
	if got.Status != model.StatusRefunded || !got.Refundable().IsZero() {
		t.Fatalf("after settle: %s, refundable %s", got.Status, got.Refundable())
	}
	// Nothing is left: another refund is refused with a field error.
	_, err = e.c.RefundOrder(ctx(t), o.ID, api.RefundOrderRequest{IdempotencyKey: key(), Expected: model.MustParse("0.01", "SAR")})
	ae, ok := api.AsError(err)
	if !ok || ae.HTTPStatus != 422 || len(ae.Fields) != 1 || ae.Fields[0].Field != "amount" || ae.Unknown || ae.Retryable {
		t.Fatalf("over-refund: %+v", err)
	}
	// The same key with another amount is refused on transaction_id.
	_, err = e.c.RefundOrder(ctx(t), o.ID, api.RefundOrderRequest{IdempotencyKey: req.IdempotencyKey, Expected: model.MustParse("0.01", "SAR")})
	if ae, ok := api.AsError(err); !ok || ae.HTTPStatus != 422 || ae.Fields[0].Field != "transaction_id" {
		t.Fatalf("same key, other amount: %v", err)
	}
}

func TestRefundRequestsRefusedBeforeSending(t *testing.T) {
	e := newEnv(t, 5)
	id := "0192a3b4-0000-7000-8000-000000000001"
	for name, r := range map[string]api.RefundPaymentRequest{
		"zero":        {IdempotencyKey: key(), Amount: model.MustParse("0", "SAR")},
		"sub-minor":   {IdempotencyKey: key(), Amount: model.Money{Amount: model.MustParse("0.001", "KWD").Amount, Currency: "SAR"}},
		"no key":      {Amount: model.MustParse("1", "SAR")},
		"too large":   {IdempotencyKey: key(), Amount: model.MustParse("1000001", "SAR")},
		"no currency": {IdempotencyKey: key(), Amount: model.Money{Amount: model.MustParse("1", "SAR").Amount}},
	} {
		_, err := e.c.RefundPayment(ctx(t), id, "p", r)
		ae, ok := api.AsError(err)
		if !ok || ae.HTTPStatus != 0 || len(ae.Fields) != 1 {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestRefundOutcomesFromTheGateway(t *testing.T) {
	e := newEnv(t, 200)
	for last, want := range map[string]model.Status{
		sbx.LastDigitsRefundDeclined:    model.StatusFailed,
		sbx.LastDigitsRefundTimeout:     model.StatusUnknown,
		sbx.LastDigitsRefundSystemError: model.StatusUnknown,
	} {
		o := e.find(t, func(o *model.Order) bool {
			return len(o.Payments) > 0 && o.Payments[0].Card.Last4 == last && o.Refundable().IsPositive()
		})
		amt, _ := model.FromMinor(1, o.Currency)
		res, err := e.c.RefundOrder(ctx(t), o.ID, api.RefundOrderRequest{IdempotencyKey: key(), Expected: amt})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(4 * time.Second)
		r, err := e.c.GetRefund(ctx(t), o.ID, res.Refunds[0].ID)
		if err != nil || r.Status != want || r.LastError == nil {
			t.Errorf("card %s: %+v %v", last, r, err)
		}
		if want == model.StatusFailed && (r.LastError.Code != "05" || r.LastError.Message != "DECLINED") {
			t.Errorf("declined: %+v", r.LastError)
		}
	}
}

func TestThreeDecimalRefundIsExact(t *testing.T) {
	e := newEnv(t, 200)
	o := e.find(t, func(o *model.Order) bool { return o.Currency == "KWD" && o.Refundable().IsPositive() })
	res, err := e.c.RefundOrder(ctx(t), o.ID, api.RefundOrderRequest{IdempotencyKey: key(), Expected: model.MustParse("0.005", "KWD")})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Refunds[0].Amount; got.String() != "0.005 KWD" || field(res.Refunds[0].Fields, "amount") != "0.005 KWD (5 minor units)" {
		t.Fatalf("refund amount %s / %q", got, field(res.Refunds[0].Fields, "amount"))
	}
}

func TestCancelVoidsAnOpenAuthorization(t *testing.T) {
	e := newEnv(t, 200)
	o := e.find(t, func(o *model.Order) bool { return o.Status == model.StatusRequiresAction })
	p := o.Payments[0]
	if !e.c.Capabilities().CanCancel(&p) {
		t.Fatal("open authorization not cancelable")
	}
	k := key()
	got, err := e.c.CancelPayment(ctx(t), o.ID, p.ID, api.CancelRequest{IdempotencyKey: k})
	if err != nil || got.Status != model.StatusVoided {
		t.Fatalf("void: %+v %v", got, err)
	}
	if e.c.Capabilities().CanCancel(got) {
		t.Error("voided payment still cancelable")
	}
	// A retry with the same key finds the void and does not send again.
	if again, err := e.c.CancelPayment(ctx(t), o.ID, p.ID, api.CancelRequest{IdempotencyKey: k}); err != nil || again.Status != model.StatusVoided {
		t.Fatalf("retry: %+v %v", again, err)
	}
	after, _ := e.c.GetOrder(ctx(t), o.ID)
	if after.Status != model.StatusVoided || field(after.Fields, "voided_amount") == "" {
		t.Errorf("order after void: %s", after.Status)
	}
	// A captured payment cannot be voided.
	c := e.find(t, plain)
	if _, err := e.c.CancelPayment(ctx(t), c.ID, c.Payments[0].ID, api.CancelRequest{IdempotencyKey: key()}); err == nil {
		t.Error("voided a captured payment")
	}
}

func TestErrorsFromTheGateway(t *testing.T) {
	e := newEnv(t, 5)
	_, err := e.c.GetOrder(ctx(t), "0192a3b4-0000-7000-8000-000000000001")
	if ae, ok := api.AsError(err); !ok || ae.HTTPStatus != 404 || ae.Message != "Not found" || ae.Provider != ProviderID {
		t.Errorf("404: %v", err)
	}
	bad, err := New(Config{BaseURL: e.url, APIKey: api.NewSecret("nope"), Limiter: rate.NewLimiter(rate.Inf, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.ListOrders(ctx(t), api.OrderQuery{})
	if ae, ok := api.AsError(err); !ok || ae.HTTPStatus != 401 || ae.Message != "Unauthorized" {
		t.Errorf("401: %v", err)
	}
	if _, err := New(Config{BaseURL: "ftp://x", APIKey: api.NewSecret("k")}); err == nil {
		t.Error("ftp base URL accepted")
	}
	if _, err := New(Config{BaseURL: e.url}); err == nil {
		t.Error("missing key accepted")
	}
	if _, err := e.c.UpdatePayment(ctx(t), "a", "b", api.PaymentUpdate{}); err != api.ErrNotSupported {
		t.Error("UpdatePayment")
	}
}

func TestTransactionIDFromKey(t *testing.T) {
	k := "0192A3B4-0000-7000-8000-0000000000AA"
	if id, _ := TransactionID(k); id != "0192a3b4-0000-7000-8000-0000000000aa" {
		t.Errorf("uuid key: %s", id)
	}
	a, _ := TransactionID("refund-42")
	b, _ := TransactionID("refund-42")
	c, _ := TransactionID("refund-43")
	if _, err := uuid.Parse(a); err != nil || a != b || a == c {
		t.Errorf("derived ids %s %s %s", a, b, c)
	}
	if _, err := TransactionID(" "); err == nil {
		t.Error("empty key accepted")
	}
	caps := (&Client{}).Capabilities()
	if caps.Idempotency != api.IdempotencyBodyID || !caps.MinorUnits || caps.KeyWindow == 0 || !slices.Equal(caps.AmountColumns, []string{"Captured", "Refunded"}) {
		t.Errorf("capabilities %+v", caps)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, ok, err := ConfigFromEnv(env(nil)); ok || err != nil {
		t.Errorf("unset: %v %v", ok, err)
	}
	if _, ok, err := ConfigFromEnv(env(map[string]string{EnvBaseURL: "http://x"})); !ok || err == nil {
		t.Errorf("no key: %v %v", ok, err)
	}
	cfg, ok, err := ConfigFromEnv(env(map[string]string{EnvBaseURL: " http://x ", EnvAPIKey: "k"}))
	if !ok || err != nil || cfg.BaseURL != "http://x" || cfg.APIKey.Reveal() != "k" {
		t.Errorf("set: %+v %v %v", cfg, ok, err)
	}
}

// The first answer is lost (the attempt times out while MPG is still working);
// the transport sends the same transaction_id again and MPG returns the one
// refund it made.
func TestLostAnswerIsRetriedWithTheSameTransactionID(t *testing.T) {
	clk := sandboxtest.NewClock(time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	srv := httptest.NewServer(sbx.New(sbx.Options{Orders: 20, Seed: 3, Now: clk.Now,
		ProcessingDelay: 300 * time.Millisecond, ProcessingWindow: -1}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, APIKey: api.NewSecret(sbx.DefaultAPIKey), Limiter: rate.NewLimiter(rate.Inf, 1),
		Retry: api.RetryPolicy{MaxAttempts: 3, Base: 800 * time.Millisecond, AttemptTimeout: 100 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{c: c, clock: clk, url: srv.URL}
	o := e.find(t, plain)
	k := key()
	res, err := c.RefundOrder(ctx(t), o.ID, api.RefundOrderRequest{IdempotencyKey: k, Expected: model.MustParse("2.00", "SAR")})
	if err != nil {
		t.Fatalf("retried refund: %v", err)
	}
	if len(res.Order.Refunds) != 1 || res.Refunds[0].ID != k {
		t.Fatalf("refunds after a lost answer: %+v", res.Order.Refunds)
	}
}

// The list filters reach the sandbox as MPG's query parameters and come back
// applied: currency, card scheme and last four, amount range (minor units),
// and sort.
func TestListOrdersFilters(t *testing.T) {
	c := newEnv(t, 150).c
	ctx := context.Background()
	all, err := c.ListOrders(ctx, api.OrderQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.ListOrders(ctx, api.OrderQuery{Limit: 100, Currency: "KWD"})
	if err != nil || len(page.Orders) == 0 {
		t.Fatalf("KWD orders: %v %d", err, len(page.Orders))
	}
	for _, o := range page.Orders {
		if o.Total.Currency != "KWD" {
			t.Fatalf("currency filter let %s through", o.Total.Currency)
		}
	}
	last4 := all.Orders[0].Reference[len("•••• ") : len("•••• ")+4]
	page, err = c.ListOrders(ctx, api.OrderQuery{Limit: 100, CardLast4: last4})
	if err != nil || len(page.Orders) == 0 {
		t.Fatalf("last four %s: %v %d", last4, err, len(page.Orders))
	}
	for _, o := range page.Orders {
		if !strings.Contains(o.Reference, last4) {
			t.Fatalf("last-four filter let %q through", o.Reference)
		}
	}
	lo, hi := model.MustParse("10.00", "SAR"), model.MustParse("50.00", "SAR")
	page, err = c.ListOrders(ctx, api.OrderQuery{Limit: 100, Currency: "SAR", AmountMin: &lo, AmountMax: &hi, SortBy: api.SortAmount, Ascending: true})
	if err != nil || len(page.Orders) == 0 {
		t.Fatalf("amount range: %v %d", err, len(page.Orders))
	}
	prev := lo
	for _, o := range page.Orders {
		if c1, _ := o.Total.Cmp(lo); c1 < 0 {
			t.Fatalf("%s below the range", o.Total)
		}
		if c2, _ := o.Total.Cmp(hi); c2 > 0 {
			t.Fatalf("%s above the range", o.Total)
		}
		if c3, _ := o.Total.Cmp(prev); c3 < 0 {
			t.Fatalf("not sorted by amount ascending: %s after %s", o.Total, prev)
		}
		prev = o.Total
	}
}
