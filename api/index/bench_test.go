package index

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"paydesk/model"
)

// fill indexes n orders shaped like a Forage merchant's: ref, external id,
// customer id, one or two payments with a receipt, a refund on some.
func fill(ix *Index, n int) {
	ix.Register("forage", "acct")
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for i := range n {
		o := &model.Order{
			Provider: "forage", ID: fmt.Sprintf("%010x", i), Ref: fmt.Sprintf("%010x", i), Status: model.StatusSucceeded,
			Currency: "USD", Total: usd(fmt.Sprintf("%d.%02d", 10+i%200, i%100)),
			CustomerID: fmt.Sprintf("cust-%d", i%20000), ExternalOrderID: fmt.Sprintf("GRC-2026-%06d", i),
			Payments: []model.Payment{{ID: fmt.Sprintf("p%09x", i), Created: t0.Add(-time.Duration(i) * time.Minute),
				Receipt: &model.Receipt{RefNumber: fmt.Sprintf("%012d", i), Last4: fmt.Sprintf("%04d", i%10000)}}},
		}
		if i%5 == 0 {
			o.Refunds = []model.Refund{{ID: fmt.Sprintf("r%09x", i)}}
		}
		ix.AddOrder("acct", o)
	}
}

// filledIndex is a new index holding n of fill's orders, and the heap it
// took per order. BenchmarkSearch100k reports the figure and
// TestSearch100kFast bounds it, so both measure it one way (heapPerOrder,
// as the mixed-provider memory test does).
func filledIndex(n int) (*Index, float64) { return heapPerOrder(n, fill) }

// BenchmarkSearch100k: one search over 100k indexed orders (the goal is
// under 100 ms), by external id typed in lower case (the slow path: every
// string compared ignoring case) and by card and amount. It also reports
// the index's heap bytes per order.
func BenchmarkSearch100k(b *testing.B) {
	ix, perOrder := filledIndex(100_000)
	for name, q := range map[string]string{"external": "grc-2026-054321", "card": "4321 131.21", "payment": "p00000d431"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if len(ix.Search(q)) == 0 {
					b.Fatalf("%q not found", q)
				}
			}
			b.ReportMetric(perOrder, "heapB/order") // after the loop: b.Loop resets metrics
		})
	}
	runtime.KeepAlive(ix)
}

// TestSearch100kFast keeps the goal in the test suite: a search over 100k
// orders answers in well under 100 ms (measured: a few ms), and the index
// costs under 160 bytes of heap an order with fill's orders, each read in
// full (measured: 223 with a 72-byte entry and a Go map, 140 since).
func TestSearch100kFast(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 100k orders")
	}
	ix, per := filledIndex(100_000)
	if per > 160 && !raceEnabled {
		t.Errorf("index heap %.0f bytes/order, bound 160", per)
	}
	// The best of three: a shared machine can stall any one run.
	best := time.Hour
	for range 3 {
		start := time.Now()
		hits := ix.Search("grc-2026-099999")
		best = min(best, time.Since(start))
		if len(hits) != 1 {
			t.Fatalf("hits %+v", hits)
		}
	}
	if best > 100*time.Millisecond && !raceEnabled {
		t.Errorf("search took %v, goal 100ms", best)
	}
	runtime.KeepAlive(ix)
}
