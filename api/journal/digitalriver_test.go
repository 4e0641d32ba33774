package journal

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/digitalriver"
	drsandbox "paydesk/api/sandbox/digitalriver"
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
	hs := httptest.NewServer(drsandbox.New(drsandbox.Options{Orders: 30, Seed: 3, RefundLatency: -1, RatePerSecond: -1}))
	t.Cleanup(hs.Close)
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
	clk := &clock{t: time.Now()}
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
		ins, _ := j.Intents("digitalriver", o.ID)
		if len(ins) != 2 || ins[0].State != StateFailed || ins[0].ErrorCode != "not_found_at_provider" || ins[1].State != StateSucceeded {
			t.Fatalf("intents %+v", ins)
		}
		if marked(o, first[0]) != 0 || marked(o, ins[1]) != 1 || ins[0].Sends != 1 {
			t.Fatalf("refunds: first %d second %d; sends %d", marked(o, first[0]), marked(o, ins[1]), ins[0].Sends)
		}
	})
}
