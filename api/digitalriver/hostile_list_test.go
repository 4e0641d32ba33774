package digitalriver

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	sbx "paydesk/api/sandbox/digitalriver"
	"paydesk/api/sandbox/sandboxtest"
)

// TestListByUpstreamIDKeepsOnlyItsOrders: a Digital River that ignores the
// upstreamIds[] filter answers with its newest orders; the client lists
// only those that carry the upstream id asked for, so no caller takes a
// stranger for the merchant's order. The cursor still follows the
// provider's page, so a later page can hold the match.
func TestListByUpstreamIDKeepsOnlyItsOrders(t *testing.T) {
	clk := sandboxtest.NewClock(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	h := sbx.New(sbx.Options{Orders: 57, Seed: 2, Now: clk.Now, RatePerSecond: -1})
	srv := sandboxtest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Del("upstreamIds[]") // the filter is dropped on the way
		r.URL.RawQuery = q.Encode()
		h.ServeHTTP(w, r)
	}))
	c, err := New(Config{BaseURL: srv.URL, APIKey: api.NewSecret(testKey), Limiter: rate.NewLimiter(rate.Inf, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	all, err := c.ListOrders(ctx, api.OrderQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := all.Orders[len(all.Orders)/2]
	q := api.OrderQuery{UpstreamID: want.Reference, Limit: 10}
	var found []string
	for pages := 0; ; pages++ {
		pg, err := c.ListOrders(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range pg.Orders {
			if !strings.EqualFold(o.Reference, want.Reference) {
				t.Fatalf("upstream id %s: listed order %s with upstream id %q", want.Reference, o.ID, o.Reference)
			}
			found = append(found, o.ID)
		}
		if pg.Next == "" || pages > 20 {
			break
		}
		q.Cursor = pg.Next
	}
	if len(found) != 1 || found[0] != want.ID {
		t.Fatalf("upstream id %s found %v, want %s alone", want.Reference, found, want.ID)
	}
}
