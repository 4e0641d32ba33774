package ui

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	forageclient "paydesk/api/forage"
	foragesandbox "paydesk/api/sandbox/forage"
	"paydesk/api/sandbox/sandboxtest"
)

// TestForageListRequestCost counts, at the sandbox, the Order Report
// requests the console's orders list makes: the first screens it fills on
// its own, and scrolling to the end of the 30 days. The report has no date
// column, so the list asks one Pacific day at a time; it must never read an
// order per row. Run with -v for the figures.
func TestForageListRequestCost(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) { listCost(t, size[0], size[1]) })
	}
}

func listCost(t *testing.T, width, height int) {
	var report, other atomic.Int64
	clock := sandboxtest.NewClock(testStart)
	sb := foragesandbox.New(foragesandbox.Options{Orders: 200, Seed: 7, Now: clock.Now})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/reporting/orders/":
			report.Add(1)
		case !strings.HasPrefix(r.URL.Path, "/o/"):
			other.Add(1)
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cl, err := forageclient.New(forageclient.Config{
		BaseURL: srv.URL, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", Now: clock.Now, Limiter: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clock: clock, srv: srv, prov: cl}
	s := h.run(width, height, harnessOpts{})
	loaded := regexp.MustCompile(`(\d+) loaded`)
	// settled waits until the request count stops moving.
	settled := func() (int64, string) {
		last, v := int64(-1), ""
		for i := 0; i < 100; i++ {
			time.Sleep(60 * time.Millisecond)
			v = s.view()
			if n := report.Load(); n == last && loaded.MatchString(v) {
				return n, v
			}
			last = report.Load()
		}
		t.Fatal("the list never settled")
		return 0, ""
	}
	first, v := settled()
	rowsFirst := loaded.FindStringSubmatch(v)[1]
	if !regexp.MustCompile(`\d{4}-\d{2}-\d{2}\s{2,}`).MatchString(v) || regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2}`).MatchString(v) {
		t.Fatalf("rows do not show their day without a time:\n%s", v)
	}
	for range 20 {
		s.keys("end")
		time.Sleep(30 * time.Millisecond)
	}
	total, v := settled()
	rowsAll := loaded.FindStringSubmatch(v)[1]
	if total > 30+int64(len(rowsAll))/100+1 || other.Load() != 0 {
		t.Fatalf("%d report requests and %d other requests for a 30-day list", total, other.Load())
	}
	// The console's range is the 30 days to now: 31 Pacific calendar days.
	t.Logf("console, 200 orders over 90 days, %dx%d: first screens %s rows for %d report requests; scrolled to the end %s rows for %d requests (%d more); order reads: %d",
		width, height, rowsFirst, first, rowsAll, total, total-first, other.Load())
}
