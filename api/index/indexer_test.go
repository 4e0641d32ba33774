package index_test

import (
	"context"
	"math"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/digitalriver"
	"paydesk/api/forage"
	"paydesk/api/index"
	"paydesk/api/moyasar"
	"paydesk/api/sandbox"
)

// counter counts the HTTP requests a client really sends.
type counter struct {
	n  atomic.Int64
	rt http.RoundTripper
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}

type wired struct {
	provs    []api.Provider
	counters []*counter
	ix       *index.Index
}

// sandboxProviders starts the three sandboxes with n orders each and puts
// every client behind the index, counting its requests on the wire.
func sandboxProviders(t *testing.T, n int, now func() time.Time) *wired {
	t.Helper()
	sb, err := sandbox.Start(sandbox.Config{Orders: n, Seed: 3, Now: now, RefundLatency: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	w := &wired{ix: index.New()}
	newCounter := func() *counter {
		c := &counter{rt: http.DefaultTransport}
		w.counters = append(w.counters, c)
		return c
	}
	inf := func() *rate.Limiter { return rate.NewLimiter(rate.Inf, 1) }
	fc, err := forage.New(forage.Config{BaseURL: sb.URL("forage"), ClientID: sandbox.ForageClientID,
		ClientSecret: api.NewSecret(sandbox.ForageClientSecret), MerchantAccount: sandbox.ForageMerchantAccount,
		RoundTripper: newCounter(), Limiter: inf(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	mc, err := moyasar.New(moyasar.Config{BaseURL: sb.URL("moyasar"), APIKey: api.NewSecret(sandbox.MoyasarAPIKey),
		RoundTripper: newCounter(), Limiter: inf()})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := digitalriver.New(digitalriver.Config{BaseURL: sb.URL("digitalriver"), APIKey: api.NewSecret(sandbox.DigitalRiverAPIKey),
		RoundTripper: newCounter(), Limiter: inf()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []api.Provider{fc, mc, dc} {
		w.provs = append(w.provs, index.Wrap(p, w.ix, ""))
	}
	return w
}

// TestIndexerBackfillCost measures what backfilling 90 days costs a
// merchant, on the wire, provider by provider, and what a steady-state
// pass costs; it checks the indexer's own request count (what its budget
// is charged) against the wire, and prints the extrapolation to 100k
// orders at the default 20% share.
func TestIndexerBackfillCost(t *testing.T) {
	now := time.Now
	w := sandboxProviders(t, 60, now)
	unlimited := map[string]index.Limits{}
	for id, l := range index.ProviderLimits {
		unlimited[id] = index.Limits{PerSecond: math.MaxFloat64, ReadCost: l.ReadCost}
	}
	// Token sources (OAuth for Forage) are requests too, but not per order:
	// take the wire count after one warm-up read.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, p := range w.provs {
		if _, err := p.ListOrders(ctx, api.OrderQuery{Limit: 1}); err != nil {
			t.Fatal(err)
		}
	}
	base := make([]int64, len(w.counters))
	for i, c := range w.counters {
		base[i] = c.n.Load()
	}
	in := index.NewIndexer(w.ix, w.provs, func(string) string { return "" },
		index.Config{Days: 90, Share: 0.2, Poll: time.Hour, Now: now, Limits: unlimited})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { in.Run(runCtx); close(done) }()
	deadline := time.Now().Add(50 * time.Second)
	for {
		all := true
		for _, p := range in.Progress() {
			if p.Covered < 1 || p.Working || p.Err != "" {
				all = false
			}
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backfill did not finish: %+v", in.Progress())
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done

	for i, p := range in.Progress() {
		wire := w.counters[i].n.Load() - base[i]
		lim := index.ProviderLimits[p.Provider]
		// The wire may see more than the budget was charged: retries after
		// the sandbox's own 429s (Digital River's test-key limit, which an
		// unlimited indexer hits). Never fewer.
		if int64(p.Requests) > wire || (p.Provider != "digitalriver" && int64(p.Requests) != wire) {
			t.Errorf("%s: the indexer charged its budget %d requests, the wire saw %d", p.Name, p.Requests, wire)
		}
		if p.Reads == 0 || p.Skipped != 0 {
			t.Errorf("%s: %d orders read, %d skipped", p.Name, p.Reads, p.Skipped)
		}
		lists := p.Requests - p.Reads*lim.ReadCost
		// Extrapolate: 100k orders over 90 days (1,112 a day), listed a
		// day at a time at the provider's page size.
		pagesPerDay := 12.0 // 100 rows a page
		if p.Provider == "forage" {
			pagesPerDay = 2 // 1000 rows a page
		}
		total := 100_000*float64(lim.ReadCost) + 90*pagesPerDay
		secs := total / (lim.PerSecond * 0.2)
		t.Logf("%s: 90-day backfill of %d orders: %d requests on the wire (%d list pages + %d reads × %d); 100k orders: %.0f requests, %.1f h at 20%% of %.1f req/s",
			p.Name, p.Reads, wire, lists, p.Reads, lim.ReadCost, total, secs/3600, lim.PerSecond)
		// Steady state per day: 288 passes (every 5 minutes), each listing
		// the first page of today and yesterday (the whole two days, 2 ×
		// pagesPerDay, once an hour), plus each new order read once.
		perDay := 264*2 + 24*2*pagesPerDay + 100_000.0/90*float64(lim.ReadCost)
		t.Logf("%s: steady state for a 100k-orders-per-90-days merchant: about %.0f requests a day (%.1f%% of the provider's daily limit)",
			p.Name, perDay, 100*perDay/(lim.PerSecond*86400))
	}

	// A second pass, with nothing new, reads no order again.
	for _, c := range w.counters {
		c.n.Store(0)
	}
	in2 := index.NewIndexer(w.ix, w.provs, func(string) string { return "" },
		index.Config{Days: 90, Poll: time.Hour, Now: now, Limits: unlimited})
	ctx2, stop2 := context.WithCancel(ctx)
	done2 := make(chan struct{})
	go func() { in2.Run(ctx2); close(done2) }()
	for time.Now().Before(deadline) {
		idle := true
		for _, p := range in2.Progress() {
			if p.Working || p.Requests == 0 {
				idle = false
			}
		}
		if idle {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop2()
	<-done2
	for i, p := range in2.Progress() {
		if p.Reads != 0 || p.Requests > 2 { // today's and yesterday's lists
			t.Errorf("%s steady-state pass: %d reads, %d requests; want list pages only", p.Name, p.Reads, p.Requests)
		}
		t.Logf("%s: steady-state pass: %d requests on the wire", p.Name, w.counters[i].n.Load())
	}
}

// TestIndexerStaysInBudget: at the default share, the indexer's request
// rate stays at or under 20% of the provider's limit.
func TestIndexerStaysInBudget(t *testing.T) {
	w := sandboxProviders(t, 60, time.Now)
	limits := map[string]index.Limits{"forage": {PerSecond: 100, ReadCost: 3}, "moyasar": {PerSecond: 100, ReadCost: 1}, "digitalriver": {PerSecond: 100, ReadCost: 2}}
	in := index.NewIndexer(w.ix, w.provs, func(string) string { return "" }, index.Config{Share: 0.2, Poll: time.Hour, Limits: limits})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	in.Run(ctx)
	el := time.Since(start).Seconds()
	for _, p := range in.Progress() {
		// 20 req/s allowed; the limiter's burst (one read) on top.
		if allowed := 20*el + 3; float64(p.Requests) > allowed {
			t.Errorf("%s: %d requests in %.2fs, budget %.0f", p.Name, p.Requests, el, allowed)
		}
		if p.Requests == 0 {
			t.Errorf("%s: no progress", p.Name)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{index.EnvShare: "10%", index.EnvDays: "180"}
	c, err := index.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil || c.Share != 0.1 || c.Days != 180 {
		t.Fatalf("%+v %v", c, err)
	}
	env[index.EnvShare] = "150"
	if _, err := index.ConfigFromEnv(func(k string) string { return env[k] }); err == nil {
		t.Fatal("150% accepted")
	}
}
