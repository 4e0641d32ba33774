package journal

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	fclient "paydesk/api/forage"
	"paydesk/api/sandbox/chaos"
	fsandbox "paydesk/api/sandbox/forage"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// The tests in this file run the real Forage client against the real Forage
// sandbox over loopback, through journal.Wrap.

// sandboxEnv is one Forage sandbox with a fault-injecting front door for the
// client under test and a clean one for the checks.
type sandboxEnv struct {
	t     *testing.T
	sb    *fsandbox.Server
	url   string // behind the faults
	clean *fclient.Client
}

// faults is the fault-injecting front door: the sandbox's own chaos
// middleware (5xx and resets before the handler, lost responses after it
// committed, 429s), plus two faults chaos does not make: a 502 after the
// handler committed, and a hang after commit until the client gives up.
// Requests carrying X-Sandbox-No-Chaos: 1 pass untouched, as do all once
// off is set (the network heals).
type faults struct {
	chaos, clean http.Handler
	off          atomic.Bool
	mu           sync.Mutex
	rng          *rand.Rand
	counts       map[string]int
}

// chaosSpec is what chaos.Parse reads for the exactly-once test.
const chaosSpec = "fail5xx=0.08,reset=0.05,lost_response=0.12,throttle=0.03"

func newFaults(t *testing.T, sb http.Handler, seed uint64) *faults {
	cfg, err := chaos.Parse(chaosSpec)
	if err != nil {
		t.Fatal(err)
	}
	f := &faults{clean: sb, rng: rand.New(rand.NewPCG(seed, 2)), counts: map[string]int{}}
	cfg.Seed = seed
	cfg.OnFault = func(k chaos.Fault, r *http.Request) { f.count(string(k)) }
	f.chaos = chaos.Wrap(sb, cfg)
	return f
}

func (f *faults) count(k string) {
	f.mu.Lock()
	f.counts[k]++
	f.mu.Unlock()
}

func (f *faults) Counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.counts)
}

func (f *faults) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.off.Load() || r.Header.Get(chaos.NoChaosHeader) == "1" {
		f.clean.ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	x := f.rng.IntN(100)
	f.mu.Unlock()
	switch {
	case x < 6:
		f.count("502_after_commit")
		f.clean.ServeHTTP(httptest.NewRecorder(), r)
		w.WriteHeader(http.StatusBadGateway)
	case x < 8:
		f.count("hang_after_commit")
		f.clean.ServeHTTP(httptest.NewRecorder(), r)
		<-r.Context().Done()
	default:
		f.count("to_chaos")
		f.chaos.ServeHTTP(w, r)
	}
}

type headerRT struct {
	rt  http.RoundTripper
	hdr string
}

func (h headerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.hdr, "1")
	return h.rt.RoundTrip(r)
}

func newSandbox(t *testing.T, front func(http.Handler) http.Handler) *sandboxEnv {
	t.Helper()
	sb := fsandbox.New(fsandbox.Options{Orders: 5, Seed: 7, RefundLatency: -1, RateLimit: 1 << 30})
	hs := sandboxtest.Serve(t, front(sb))
	e := &sandboxEnv{t: t, sb: sb, url: hs.URL}
	e.clean = e.client(headerRT{http.DefaultTransport, chaos.NoChaosHeader})
	return e
}

func (e *sandboxEnv) client(rt http.RoundTripper) *fclient.Client {
	c, err := fclient.New(fclient.Config{
		BaseURL: e.url, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", RoundTripper: rt, Limiter: rate.NewLimiter(rate.Inf, 0),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// newOrder creates a captured order (SNAP 100.00, EBT Cash 50.00) at the
// sandbox and reads it back through the clean client.
func (e *sandboxEnv) newOrder() *model.Order {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url+"/sandbox/orders/", strings.NewReader(`{"snap_total":"100.00","ebt_cash_total":"50.00"}`))
	req.Header.Set(chaos.NoChaosHeader, "1")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var o struct {
		Ref string `json:"ref"`
	}
	if resp.StatusCode != 201 || json.Unmarshal(b, &o) != nil || o.Ref == "" {
		e.t.Fatalf("create order: %d %s", resp.StatusCode, b)
	}
	got, err := e.clean.GetOrder(context.Background(), o.Ref)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(got.Payments) != 2 {
		e.t.Fatalf("order has %d payments", len(got.Payments))
	}
	return got
}

// refundsByIntent reads the order without faults and groups its refunds by
// the paydesk_intent marker.
func (e *sandboxEnv) refundsByIntent(orderID string) (map[string][]model.Refund, *model.Order) {
	e.t.Helper()
	o, err := e.clean.GetOrder(context.Background(), orderID)
	if err != nil {
		e.t.Fatal(err)
	}
	by := map[string][]model.Refund{}
	for _, r := range o.Refunds {
		by[r.Metadata[MarkerKey]] = append(by[r.Metadata[MarkerKey]], r)
	}
	return by, o
}

// TestExactlyOnceUnderFaults makes a few hundred refunds (partial and whole
// order) through journal.Wrap(forage client) against the sandbox behind
// fault injection, the way agents would: on an unknown outcome they do not
// retry by hand; on "earlier action turned out to have succeeded" they look
// again and confirm again. Then every intent must have made at most one
// refund per payment at the provider, every succeeded intent exactly that,
// and nearly all intents must have succeeded.
func TestExactlyOnceUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of faults")
	}
	var fl *faults
	seed := uint64(time.Now().UnixNano())
	e := newSandbox(t, func(h http.Handler) http.Handler {
		fl = newFaults(t, h, seed)
		return fl
	})
	j, err := Open(Options{Dir: t.TempDir(), SettleTime: time.Second, ResolveTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	p := Wrap(e.client(nil), j, "agent")

	const orders = 70 // three actions each: 10.00 of SNAP, 5.00 of EBT Cash, the rest of the order
	var (
		attempts, refusals, done atomic.Int64
		ids                      []*model.Order
	)
	for range orders {
		ids = append(ids, e.newOrder())
	}
	start := time.Now()
	work := make(chan *model.Order)
	var wg sync.WaitGroup
	for range 35 {
		wg.Go(func() {
			for o := range work {
				steps := []func(ctx context.Context) error{
					func(ctx context.Context) error {
						_, err := p.RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{
							Amount: model.MustParse("10.00", "USD"), Reason: "damaged", Metadata: model.Metadata{"ticket": "T-" + o.ID}})
						return err
					},
					func(ctx context.Context) error {
						_, err := p.RefundPayment(ctx, o.ID, o.Payments[1].ID, api.RefundPaymentRequest{
							Amount: model.MustParse("5.00", "USD"), Reason: "damaged", Metadata: model.Metadata{}})
						return err
					},
					func(ctx context.Context) error {
						// What the agent confirms is what the order shows now.
						cur, err := e.clean.GetOrder(ctx, o.ID)
						if err != nil {
							return err
						}
						_, err = p.RefundOrder(ctx, o.ID, api.RefundOrderRequest{Reason: "cancelled order", Expected: cur.Refundable()})
						return err
					},
				}
				for _, step := range steps {
					for try := 0; try < 8; try++ {
						ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
						err := step(ctx)
						cancel()
						if errors.Is(err, ErrEarlierSucceeded) || errors.Is(err, ErrUnresolved) || errors.Is(err, ErrBusy) {
							refusals.Add(1)
							time.Sleep(100 * time.Millisecond)
							continue // nothing was sent: look again, confirm again
						}
						attempts.Add(1)
						if err == nil || api.IsOutcomeUnknown(err) {
							if err == nil {
								done.Add(1)
							}
							break // unknown: never repeated by hand; the journal resolves it
						}
						if api.IsTransient(err) || api.StatusOf(err) == 0 {
							continue // not sent (throttled, timed out before sending): try again
						}
						break
					}
				}
			}
		})
	}
	for _, o := range ids {
		work <- o
	}
	close(work)
	wg.Wait()

	worked := time.Since(start)
	// Start-up recovery, still behind the faults, until nothing is left.
	var left []Outcome
	rounds := 0
	for range 10 {
		if rounds++; rounds > 1 {
			fl.off.Store(true) // the first round ran behind the faults; then the network heals
		}
		left = nil
		for _, out := range j.Recover(context.Background(), map[string]api.Provider{"forage": e.client(nil)}) {
			if !out.Resolved() {
				left = append(left, out)
			}
		}
		if len(left) == 0 {
			break
		}
		time.Sleep(500 * time.Millisecond) // let SettleTime pass for the never-arrived ones
	}

	var (
		intents, refunds, succeeded, failed, unresolved, wasUnknown int
		failCodes                                                   = map[string]int{}
	)
	for _, o := range ids {
		by, order := e.refundsByIntent(o.ID)
		ins, err := j.intents("forage", o.ID)
		if err != nil {
			t.Fatal(err)
		}
		known := map[string]bool{}
		for _, in := range ins {
			intents++
			known[in.ID] = true
			got := by[in.ID]
			refunds += len(got)
			perPayment := map[string]int{}
			for _, r := range got {
				perPayment[r.PaymentID]++
				if perPayment[r.PaymentID] > 1 {
					t.Errorf("intent %s (%s) made two refunds on payment %s", in.ID, in.Describe(), r.PaymentID)
				}
			}
			if everUnknown(t, j, in) {
				wasUnknown++
			}
			switch in.State {
			case StateSucceeded:
				succeeded++
				if len(got) == 0 {
					t.Errorf("intent %s (%s) succeeded but the provider has no refund for it", in.ID, in.Describe())
				}
				if in.Action == ActionRefundPayment && (len(got) != 1 || got[0].Amount.Fixed() != in.Amount) {
					t.Errorf("intent %s: refunds %+v", in.ID, got)
				}
			case StateFailed, StateCanceled:
				failed++
				failCodes[in.ErrorCode]++
				if len(got) != 0 {
					t.Errorf("intent %s is %s but made %d refunds; history:\n%s", in.ID, in.State, len(got), history(t, j, in))
				}
			default:
				unresolved++
			}
		}
		for marker, rs := range by {
			if marker != "" && !known[marker] {
				t.Errorf("order %s: refunds %+v carry an intent the journal does not know", o.ID, rs)
			}
		}
		if r := order.Refunded(); r.Amount.GreaterThan(order.Paid().Amount) {
			t.Errorf("order %s refunded %s of %s", o.ID, r, order.Paid())
		}
	}
	t.Logf("%d orders, %d actions, %d succeeded at once; %d attempts (%d refused before sending), %d intents: %d succeeded, %d failed %v, %d unresolved; %d were unknown at some point; %d refunds at the provider; chaos %q seed %d, faults %v; work %v, %d recovery rounds, total %v",
		orders, orders*3, done.Load(), attempts.Load(), refusals.Load(), intents, succeeded, failed, failCodes, unresolved, wasUnknown, refunds, chaosSpec, seed, fl.Counts(), worked.Round(time.Millisecond), rounds, time.Since(start).Round(time.Millisecond))
	if intents < 200 {
		t.Errorf("only %d intents", intents)
	}
	if unresolved > 0 {
		t.Errorf("%d intents still unresolved: %+v", unresolved, left)
	}
	// Failed intents are the ones never sent (throttled or out of time
	// before sending); the agent tried those again.
	if succeeded < orders*3*95/100 {
		t.Errorf("%d of %d actions succeeded", succeeded, orders*3)
	}
	for code := range failCodes {
		switch {
		case code == "timeout", code == "not_sent", code == "not_found_at_provider", code == "http_429",
			strings.HasPrefix(code, "http_5"): // a read before sending (refund_all reads the order first)
		default:
			t.Errorf("%d intents failed with %s", failCodes[code], code)
		}
	}
	if wasUnknown == 0 {
		t.Error("no fault ever made an outcome unknown: the test tests nothing")
	}
}

// everUnknown reports whether any line of the journal showed in as unknown.
func everUnknown(t *testing.T, j *Journal, in Intent) bool {
	b, err := os.ReadFile(j.orderPath(in.Provider, in.OrderID, ".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		var s Intent
		if json.Unmarshal([]byte(line), &s) == nil && s.ID == in.ID && s.State == StateUnknown {
			return true
		}
	}
	return false
}

// history is every journal line of one intent.
func history(t *testing.T, j *Journal, in Intent) string {
	b, err := os.ReadFile(j.orderPath(in.Provider, in.OrderID, ".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, in.ID) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
