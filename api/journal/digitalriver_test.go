package journal

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/digitalriver"
	drsandbox "paydesk/api/sandbox/digitalriver"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// Digital River has no idempotency key: the journal must never send again
// and must settle unknown outcomes by reading the order, where the DR client
// marks refunds with the idempotency key rather than the intent id.

type drEnv struct {
	t   *testing.T
	url string
	c   *digitalriver.Client
}

func newDR(t *testing.T) *drEnv {
	t.Helper()
	hs := sandboxtest.Serve(t, drsandbox.New(drsandbox.Options{Orders: 30, Seed: 3, RefundLatency: -1, RatePerSecond: -1}))
	c, err := digitalriver.New(digitalriver.Config{BaseURL: hs.URL, APIKey: api.NewSecret("sk_test_demo"), Limiter: rate.NewLimiter(rate.Inf, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return &drEnv{t: t, url: hs.URL, c: c}
}

func (e *drEnv) sandbox(method, path, body string) []byte {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk_test_demo")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b json.RawMessage
	_ = json.NewDecoder(resp.Body).Decode(&b)
	if resp.StatusCode >= 300 {
		e.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return b
}

func (e *drEnv) refundable(n int) []*model.Order {
	var sc map[string][]string
	if err := json.Unmarshal(e.sandbox("GET", "/sandbox/scenarios", ""), &sc); err != nil {
		e.t.Fatal(err)
	}
	var out []*model.Order
	for _, id := range sc["refundable"] {
		o, err := e.c.GetOrder(context.Background(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(o.Payments) > 0 && o.Refundable().Amount.GreaterThanOrEqual(model.MustParse("5", o.Currency).Amount) {
			out = append(out, o)
		}
		if len(out) == n {
			return out
		}
	}
	e.t.Fatalf("only %d refundable orders", len(out))
	return nil
}

func TestDigitalRiverUnknownResolvedByReading(t *testing.T) {
	e := newDR(t)
	clk := sandboxtest.NewClock(time.Now())
	j, err := Open(Options{Dir: t.TempDir(), Now: clk.Now, SettleTime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p := Wrap(e.c, j, "alice")
	orders := e.refundable(2)
	refund := func(ctx context.Context, o *model.Order) error {
		_, err := p.RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{
			Amount: model.MustParse("1", o.Currency), Reason: "requested_by_customer"})
		return err
	}
	marked := func(o *model.Order, in Intent) int {
		got, err := e.c.GetOrder(context.Background(), o.ID)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range got.Refunds {
			if in.marks(r.Metadata[MarkerKey]) {
				n++
			}
		}
		return n
	}

	t.Run("committed, answer held, agent gave up", func(t *testing.T) {
		o := orders[0]
		e.sandbox("POST", "/sandbox/faults", `{"kind":"hang_after_commit","count":1,"delayMs":5000}`)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		if err := refund(ctx, o); !api.IsOutcomeUnknown(err) {
			t.Fatalf("got %v, want outcome unknown", err)
		}
		in, _ := j.Pending("digitalriver", o.ID)
		if len(in) != 1 || in[0].State != StateUnknown {
			t.Fatalf("pending %+v", in)
		}
		out := j.Recover(context.Background(), map[string]api.Provider{"digitalriver": e.c})
		if len(out) != 1 || out[0].Intent.State != StateSucceeded || len(out[0].Intent.RefundIDs) != 1 {
			t.Fatalf("recover %+v", out)
		}
		if n := marked(o, out[0].Intent); n != 1 {
			t.Fatalf("%d refunds for the intent, want 1", n)
		}
	})
	t.Run("never created", func(t *testing.T) {
		o := orders[1]
		e.sandbox("POST", "/sandbox/faults", `{"kind":"unavailable","count":1}`)
		if err := refund(context.Background(), o); !api.IsOutcomeUnknown(err) {
			t.Fatalf("got %v, want outcome unknown (a 503 after sending may have happened)", err)
		}
		first, _ := j.Pending("digitalriver", o.ID)
		if err := refund(context.Background(), o); err == nil || !strings.Contains(err.Error(), "unknown outcome") {
			t.Fatalf("got %v, want a refusal while the first is unresolved", err)
		}
		clk.Advance(2 * time.Minute)
		if err := refund(context.Background(), o); err != nil {
			t.Fatalf("after the settle time: %v", err)
		}
		ins, _ := j.intents("digitalriver", o.ID)
		if len(ins) != 2 || ins[0].State != StateFailed || ins[0].ErrorCode != "not_found_at_provider" || ins[1].State != StateSucceeded {
			t.Fatalf("intents %+v", ins)
		}
		if marked(o, first[0]) != 0 || marked(o, ins[1]) != 1 || ins[0].Sends != 1 {
			t.Fatalf("refunds: first %d second %d; sends %d", marked(o, first[0]), marked(o, ins[1]), ins[0].Sends)
		}
	})
}

// laggingDR stands in front of the Digital River sandbox: it lets a refund
// create through (the refund is made), answers it with a 409, and keeps the
// new refund out of GET /refunds for lag, as a provider whose list is
// eventually consistent does.
type laggingDR struct {
	sb  http.Handler
	lag time.Duration

	mu      sync.Mutex
	creates int
	hidden  map[string]time.Time // refund id -> when it shows in lists
}

func (h *laggingDR) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	h.sb.ServeHTTP(rec, r)
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/refunds":
		var made struct{ ID string }
		_ = json.Unmarshal(rec.Body.Bytes(), &made)
		h.mu.Lock()
		h.creates++
		if made.ID != "" {
			h.hidden[made.ID] = time.Now().Add(h.lag)
		}
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		_, _ = w.Write([]byte(`{"type":"conflict","errors":[{"code":"request_conflict","message":"the request conflicted with another"}]}`))
		return
	case r.Method == http.MethodGet && r.URL.Path == "/refunds":
		var l struct {
			Data    []map[string]any `json:"data"`
			HasMore bool             `json:"hasMore"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &l) == nil {
			h.mu.Lock()
			kept := l.Data[:0]
			for _, x := range l.Data {
				id, _ := x["id"].(string)
				if until, ok := h.hidden[id]; ok && time.Now().Before(until) {
					continue
				}
				kept = append(kept, x)
			}
			h.mu.Unlock()
			l.Data = kept
			b, _ := json.Marshal(l)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			_, _ = w.Write(b)
			return
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// A 409 after Digital River made the refund, with a refund list that lags:
// one early read that finds nothing must not turn the refund into "failed".
// The intent stays unknown, reads repeat, and the refund is found once the
// list shows it; only a read after the settle window may say failed.
func TestDigitalRiverConflictWithLaggingList(t *testing.T) {
	const lag = 1500 * time.Millisecond
	h := &laggingDR{sb: drsandbox.New(drsandbox.Options{Orders: 30, Seed: 3, RefundLatency: -1, RatePerSecond: -1}),
		lag: lag, hidden: map[string]time.Time{}}
	hs := sandboxtest.Serve(t, h)
	c, err := digitalriver.New(digitalriver.Config{BaseURL: hs.URL, APIKey: api.NewSecret("sk_test_demo"), Limiter: rate.NewLimiter(rate.Inf, 0)})
	if err != nil {
		t.Fatal(err)
	}
	e := &drEnv{t: t, url: hs.URL, c: c}
	clk := sandboxtest.NewClock(time.Now())
	j, err := Open(Options{Dir: t.TempDir(), Now: clk.Now, SettleTime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p := Wrap(c, j, "alice")
	o := e.refundable(1)[0]
	_, err = p.RefundPayment(context.Background(), o.ID, o.Payments[0].ID, api.RefundPaymentRequest{
		Amount: model.MustParse("1", o.Currency), Reason: "requested_by_customer"})
	if !api.IsOutcomeUnknown(err) {
		t.Fatalf("a 409 after the refund was made: got %v, want outcome unknown", err)
	}
	ins, _ := j.intents("digitalriver", o.ID)
	if len(ins) != 1 || ins[0].State != StateUnknown {
		t.Fatalf("intents %+v, want one unknown", ins)
	}
	// Still lagging, still inside the settle window: unknown, and the
	// order refuses a new refund rather than sending a second one.
	clk.Advance(20 * time.Second)
	out, err := j.ResolveOrder(context.Background(), c, o.ID, "alice")
	if err != nil || len(out) != 1 || out[0].Intent.State != StateUnknown {
		t.Fatalf("early read: %+v %v, want still unknown", out, err)
	}
	if _, err := p.RefundPayment(context.Background(), o.ID, o.Payments[0].ID, api.RefundPaymentRequest{
		Amount: model.MustParse("1", o.Currency), Reason: "requested_by_customer"}); !errors.Is(err, ErrUnresolved) {
		t.Fatalf("second refund while the first is unknown: %v, want ErrUnresolved", err)
	}
	time.Sleep(lag)
	clk.Advance(20 * time.Second)
	out, err = j.ResolveOrder(context.Background(), c, o.ID, "alice")
	if err != nil || len(out) != 1 || out[0].Intent.State != StateSucceeded || len(out[0].Intent.RefundIDs) != 1 {
		t.Fatalf("read after the list caught up: %+v %v, want succeeded with its refund", out, err)
	}
	h.mu.Lock()
	creates := h.creates
	h.mu.Unlock()
	if creates != 1 {
		t.Fatalf("%d refund creates reached Digital River, want 1", creates)
	}
}
