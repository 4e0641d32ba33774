package forage_test

import (
	"net/http"
	"paydesk/api/forage"
	"strings"
	"sync"
	"testing"
	"time"

	"paydesk/api"
)

// TestListRequestCost counts, at the sandbox, the report requests the
// orders list costs: the first page the console shows, and scrolling to the
// end of the default 30 days. The list asks one Pacific day at a time (the
// report has no date column), so the cost is one request per day plus one per
// extra page of a day with more rows than a page holds, and never a request
// per row. Run with -v to see the figures.
func TestListRequestCost(t *testing.T) {
	for _, tc := range []struct {
		name   string
		orders int
	}{
		{"200 orders over 90 days (sandbox default)", 200},
		{"3000 orders over 90 days (about 33 a day)", 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOpt{orders: tc.orders})
			key := "GET /reporting/orders/"
			first, err := e.client.ListOrders(ctx(t), api.OrderQuery{})
			if err != nil {
				t.Fatal(err)
			}
			firstCost := e.rec.count(key)
			rows, pages := len(first.Orders), 1
			days := map[string]int{}
			for _, o := range first.Orders {
				days[o.Created.Format(time.DateOnly)]++
			}
			for q := (api.OrderQuery{Cursor: first.Next}); q.Cursor != ""; pages++ {
				pg, err := e.client.ListOrders(ctx(t), q)
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range pg.Orders {
					days[o.Created.Format(time.DateOnly)]++
				}
				rows += len(pg.Orders)
				q.Cursor = pg.Next
			}
			total := e.rec.count(key)
			// Each of the 30 days is asked once; a day is asked again only
			// for its own next report page (at most one more per 100 rows).
			if total < 30 || total > 30+rows/100+pages {
				t.Fatalf("%d report requests for %d rows over 30 days in %d pages", total, rows, pages)
			}
			if len(days) > 30 {
				t.Fatalf("rows on %d different days in a 30-day list", len(days))
			}
			if other := e.rec.total() - total - e.rec.count("POST /o/token/"); other != 0 {
				t.Fatalf("%d requests besides the report: the list must not read orders one by one", other)
			}
			t.Logf("first page: %d rows for %d requests; whole 30 days: %d rows in %d pages for %d requests (scrolling: %d more)",
				len(first.Orders), firstCost, rows, pages, total, total-firstCost)
		})
	}
}

// TestListFillsOpenedOrders: external id and refund state are not in the
// report; once an order has been opened its row shows them, and before that
// the row shows none (never a guess).
func TestListFillsOpenedOrders(t *testing.T) {
	e := newEnv(t, envOpt{orders: 200})
	page, err := e.client.ListOrders(ctx(t), api.OrderQuery{})
	if err != nil {
		t.Fatal(err)
	}
	opened := 0
	for _, row := range page.Orders {
		if row.Reference != "" {
			t.Fatalf("row %s shows external id %q before anyone opened it", row.Ref, row.Reference)
		}
		o, err := e.client.GetOrder(ctx(t), row.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o.ExternalOrderID == "" || o.Status == row.Status {
			continue
		}
		again, err := e.client.ListOrders(ctx(t), api.OrderQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range again.Orders {
			if r.ID == o.ID && (r.Reference != o.ExternalOrderID || r.Status != o.Status) {
				t.Fatalf("opened order %s: row shows %q %s, order says %q %s", o.Ref, r.Reference, r.Status, o.ExternalOrderID, o.Status)
			}
		}
		opened++
		break
	}
	if opened == 0 {
		t.Fatal("no order in the first page has an external id and a refund state to learn")
	}
}

// TestAPIVersionPinned: without FORAGE_API_VERSION the client sends the
// version it was built against, not whatever the merchant's dashboard says
// (refund receipts exist only from 2024-01-08); the variable overrides it.
func TestAPIVersionPinned(t *testing.T) {
	for _, tc := range []struct{ set, want string }{{"", forage.DefaultAPIVersion}, {"2024-01-08", "2024-01-08"}} {
		var got []string
		var mu sync.Mutex
		e := newEnv(t, envOpt{shim: func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasPrefix(r.URL.Path, "/o/") { // OAuth is not a versioned endpoint
					mu.Lock()
					got = append(got, r.Header.Get("API-Version"))
					mu.Unlock()
				}
				h.ServeHTTP(w, r)
			})
		}})
		cfg := e.config()
		cfg.APIVersion = tc.set
		c, err := forage.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListOrders(ctx(t), api.OrderQuery{}); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		if len(got) == 0 {
			t.Fatal("no API request seen")
		}
		for _, v := range got {
			if v != tc.want {
				t.Fatalf("API-Version %q sent, want %q (set %q)", v, tc.want, tc.set)
			}
		}
		mu.Unlock()
	}
	if forage.DefaultAPIVersion < "2024-01-08" {
		t.Fatalf("the pinned version %s predates refund receipts", forage.DefaultAPIVersion)
	}
}
