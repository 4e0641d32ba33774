package providers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/api/sandbox"
)

// The console's list pages (a query naming no limit) ask each provider for
// its documented maximum page size, so a 30-day list of a busy merchant
// costs the fewest requests of the budget every agent shares: Forage's
// Order Report takes limit up to 1000, MPG's order list items up to 100,
// Digital River's lists limit up to 100. The requests go over loopback to
// the sandboxes, which refuse anything above those maxima as the providers
// do.
func TestListsAskTheProvidersMaximumPage(t *testing.T) {
	want := map[string]struct {
		param, value string
		rows         int // rows the first page must hold with 400 orders seeded
	}{
		"forage":       {"limit", "1000", 1},
		"moyasar":      {"items", "100", 100},
		"digitalriver": {"limit", "100", 100},
	}
	sb, err := sandbox.Start(sandbox.Config{Orders: 400, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	var mu sync.Mutex
	asked := map[string][]url.Values{}
	proxies := map[string]string{}
	for _, e := range All {
		target, err := url.Parse(sb.URL(e.ID))
		if err != nil {
			t.Fatal(err)
		}
		rp := httputil.NewSingleHostReverseProxy(target)
		id := e.ID
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				mu.Lock()
				asked[id] = append(asked[id], r.URL.Query())
				mu.Unlock()
			}
			rp.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		proxies[e.Env[0]] = srv.URL
	}
	getenv := func(k string) string {
		if u, ok := proxies[k]; ok {
			return u
		}
		return sb.Getenv(k)
	}
	clients, err := FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		w, ok := want[c.ID()]
		if !ok {
			t.Fatalf("%s: no documented maximum page size in this test", c.ID())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		now := time.Now()
		pg, err := c.ListOrders(ctx, api.OrderQuery{From: now.AddDate(0, 0, -90), To: now})
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", c.ID(), err)
		}
		mu.Lock()
		var lists int
		for _, q := range asked[c.ID()] {
			if !q.Has(w.param) {
				continue
			}
			lists++
			if got := q.Get(w.param); got != w.value {
				t.Errorf("%s: list asked %s=%s, want the documented maximum %s", c.ID(), w.param, got, w.value)
			}
		}
		mu.Unlock()
		if lists == 0 {
			t.Errorf("%s: no list request carried %s", c.ID(), w.param)
		}
		if len(pg.Orders) < w.rows {
			t.Errorf("%s: first page holds %d rows, want at least %d", c.ID(), len(pg.Orders), w.rows)
		}
		t.Logf("%s: first page %d rows from %d list requests", c.ID(), len(pg.Orders), lists)
	}
}
