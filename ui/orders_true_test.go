package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	forageclient "paydesk/api/forage"
	"paydesk/api/index"
	"paydesk/model"
)

// rowOf is the list line that shows ref.
func rowOf(v, ref string) string {
	for _, l := range strings.Split(v, "\n") {
		if strings.Contains(l, ref) {
			return l
		}
	}
	return ""
}

// TestListShowsNewStateWithoutR: an order refunded while its screen is
// open shows its new status in the list on the way back, with no r.
func TestListShowsNewStateWithoutR(t *testing.T) {
	h := newHarness(t, harnessOpts{latency: time.Second})
	now := h.clock.Now()
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Refunds) == 0 && goodCard(o) && now.Sub(orderDate(o)) < 5*24*time.Hour
	})
	ix := index.New()
	p := index.Wrap(h.prov, ix, "")
	c := h.context(120, 40, harnessOpts{})
	c.Providers, c.Index = []api.Provider{p}, ix
	s := h.runCtx(c)
	v := s.waitText("loaded")
	before := rowOf(v, ref)
	if before == "" {
		t.Fatalf("order %s not in the first screen:\n%s", ref, v)
	}
	s.keys("g")
	s.waitText("Find:")
	s.typeText(ref)
	s.keys("enter")
	s.waitText("Payments (")

	o := readOrder(t, h.prov, ref)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := p.RefundOrder(ctx, ref, api.RefundOrderRequest{IdempotencyKey: "list-true-1", Reason: "test", Expected: o.Refundable()}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * time.Second) // the refunds settle
	want := readOrder(t, h.prov, ref).Status
	if want == o.Status {
		t.Fatalf("the refund did not change the order's status (%s)", want)
	}
	s.keys("r") // the order screen reads the order again
	s.waitFor("the order re-read", func(v string) bool { return strings.Contains(v, statusCell(want)) })
	s.keys("esc")
	v = s.waitText("loaded")
	if got := rowOf(v, ref); !strings.Contains(got, statusCell(want)) {
		t.Fatalf("the list row still reads %q, want %s:\n%s", got, statusCell(want), v)
	}
}

// TestRefreshKeepsLoadedPages: r updates the first page in place and
// keeps every page loaded beyond it.
func TestRefreshKeepsLoadedPages(t *testing.T) {
	h := newHarness(t, harnessOpts{orders: 600})
	s := h.run(100, 30, harnessOpts{})
	s.waitText("loaded")
	s.keys("end")
	s.keys("end")
	var loaded string
	s.waitFor("a second page", func(v string) bool {
		loaded = loadedCount(v)
		// The first page is 100 rows (the report's default page size).
		return loaded != "" && loaded != "100" && !strings.Contains(v, "loading more")
	})
	s.keys("r")
	v := s.waitFor("the refresh", func(v string) bool { return strings.Contains(v, "updated") && !strings.Contains(v, "reloading") })
	if got := loadedCount(v); got != loaded {
		t.Fatalf("r left %s loaded, had %s:\n%s", got, loaded, v)
	}
}

// loadedCount is the "N loaded" of the title line.
func loadedCount(v string) string {
	first := strings.SplitN(v, "\n", 4)
	for _, l := range first {
		if i := strings.Index(l, " loaded"); i > 0 {
			f := strings.Fields(l[:i])
			return f[len(f)-1]
		}
	}
	return ""
}

// TestForageListRefundState: Forage's report says "succeeded" for a refunded
// order, so its list has a Refunds column that says "—" until the order is
// read and then what the read found, never a guess from the report.
func TestForageListRefundState(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	now := h.clock.Now()
	var want model.Status
	var ext string
	ref := h.findOrder(func(o *model.Order) bool {
		want, ext = o.Status, o.ExternalOrderID
		return (o.Status == model.StatusPartlyRefunded || o.Status == model.StatusRefunded) && o.ExternalOrderID != "" &&
			now.Sub(orderDate(o)) < 29*24*time.Hour
	})
	// Refunds stands right after Total.
	word := map[model.Status]string{model.StatusPartlyRefunded: "USD part ", model.StatusRefunded: "USD all "}[want]
	// A client of its own: findOrder's reads taught the harness's client
	// every order's refund state.
	cl, err := forageclient.New(forageclient.Config{
		BaseURL: h.srv.URL, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", Now: h.clock.Now, Limiter: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	ix := index.New()
	p := index.Wrap(cl, ix, "")
	c := h.context(120, 40, harnessOpts{})
	c.Providers, c.Index = []api.Provider{p}, ix
	s := h.runCtx(c)
	// Pages come a week of days at a time: wait for the order's.
	v := s.waitFor("the order's row", func(v string) bool { return rowOf(v, ref) != "" })
	if !strings.Contains(v, "Refunds") {
		t.Fatalf("no Refunds column:\n%s", v)
	}
	if row := rowOf(v, ref); !strings.Contains(row, statusCell(model.StatusSucceeded)) || !strings.Contains(row, "USD — ") {
		t.Fatalf("before the order is read its row reads %q, want the report's status and — for refunds:\n%s", row, v)
	}
	s.keys("g")
	s.waitText("Find:")
	s.typeText(ref)
	s.keys("enter")
	s.waitText("Payments (")
	s.keys("esc")
	v = s.waitFor("the order's row", func(v string) bool { return rowOf(v, ref) != "" })
	if row := rowOf(v, ref); !strings.Contains(row, word) || !strings.Contains(row, statusCell(want)) {
		t.Fatalf("after the order was read its row reads %q, want %s and %q:\n%s", row, want, word, v)
	}
	// The report has no external id either: the read's shows (its tail).
	if row := rowOf(v, ref); !strings.Contains(row, ext[len(ext)-6:]) {
		t.Fatalf("after the order was read its row reads %q, want its external id %s:\n%s", row, ext, v)
	}
}
