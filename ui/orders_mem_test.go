package ui

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/model"
)

// loadedRowBytes loads n rows into an orders list the way pages arrive
// (1000 at a time) and returns the heap the list holds per row.
func loadedRowBytes(tb testing.TB, n int) float64 {
	tb.Helper()
	c := &Context{Width: 120, Height: 40, Styles: testStyles(), Keys: DefaultKeys(false),
		Providers: []api.Provider{filterProvider{}}, Refresh: time.Second, Timeout: time.Second,
		Now: func() time.Time { return testStart }}
	s := newOrdersScreen(c, 0).(*ordersScreen)
	s.SetSize(c.Width, c.BodyHeight())
	s.loaded = true
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i += 1000 {
		// Each page decoded on its own, as from the wire: its values are
		// the list's to keep, nothing shared with the other pages.
		page := benchOrders(min(1000, n-i))
		for k := range page {
			o := &page[k]
			o.ID = fmt.Sprintf("%010x", i+k)
			o.Ref = fmt.Sprintf("%010x", i+k)
			// Amounts as a decoder makes them: each its own value.
			paid := o.Total.Amount.StringFixed(2)
			o.Amounts = []model.Money{mustAmount(tb, paid), mustAmount(tb, "0.00")}
			o.Total = mustAmount(tb, paid)
		}
		if i == 0 {
			s.setData(page, false)
		} else {
			s.setData(page, true)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// maxRowBytes bounds the heap one loaded order costs the list, so it can
// only shrink. Measured with rows decoded like a provider's page: 664
// bytes, after dropping the filter's lower-cased copy of each row (about
// 100 bytes), sharing the ref's and id's string and the status cells, and
// sharing zero and repeated amounts. The goal, 60 MB of RSS for
// 100k loaded orders, needs about 300: the OrderSummary values (about 180
// bytes plus their decimals) and the formatted cells (about 200) are what
// is left, and both need a compact row store behind a table that formats
// only the rows it draws.
const maxRowBytes = 700

// TestLoadedRowBytesBound fails when a loaded row grows past the bound.
func TestLoadedRowBytesBound(t *testing.T) {
	if testing.Short() || !rowBoundChecked {
		t.Skip("loads 100k rows; bytes mean nothing under the race detector")
	}
	per := loadedRowBytes(t, 100_000)
	t.Logf("%.0f heap bytes per loaded row", per)
	if per > maxRowBytes {
		t.Errorf("a loaded row costs %.0f heap bytes, bound %d", per, maxRowBytes)
	}
}

// BenchmarkLoadedRowBytes reports the heap bytes per loaded row at 100k.
func BenchmarkLoadedRowBytes(b *testing.B) {
	var per float64
	for b.Loop() {
		per = loadedRowBytes(b, 100_000)
	}
	b.ReportMetric(per, "heapB/row")
}

func mustAmount(tb testing.TB, s string) model.Money {
	m, err := model.ParseAmount(s, "USD")
	if err != nil {
		tb.Fatal(err)
	}
	return m
}
