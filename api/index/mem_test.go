package index

import (
	"fmt"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"paydesk/model"
)

// fillMixed indexes n orders the way the console meets them: list rows of
// three providers (Forage refs of ten hex digits with the shop's external
// id, Moyasar UUIDs with the card's last four, Digital River numeric ids
// with the upstream id), and one order in ten of Forage's read in full
// (customer, payment ref, receipt RRN, a refund on some).
func fillMixed(ix *Index, n int) {
	ix.Register("forage", "f")
	ix.Register("moyasar", "m")
	ix.Register("digitalriver", "d")
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	sar := func(s string) model.Money { m := usd(s); m.Currency = "SAR"; return m }
	for i := range n {
		created := t0.Add(-time.Duration(i) * time.Minute)
		amt := fmt.Sprintf("%d.%02d", 10+i%200, i%100)
		// A multiplier spreads the ids over the whole space like real ones.
		h := uint64(i)*0x9e3779b97f4a7c15 + 0x1234567
		switch i % 20 {
		case 0, 1, 2, 3, 4, 5, 6, 7, 8, 9: // half are Forage's
			ref := fmt.Sprintf("%010x", h>>24)
			ix.AddReportRow("f", &model.OrderSummary{Provider: "forage", ID: ref, Ref: ref, Status: model.StatusSucceeded,
				Total: usd(amt), Created: created, Reference: fmt.Sprintf("GRC-2026-%06d", i)}, RefExternal)
			if i%20 == 0 || i%20 == 5 {
				o := &model.Order{Provider: "forage", ID: ref, Ref: ref, Status: model.StatusSucceeded, Currency: "USD",
					Total: usd(amt), CustomerID: fmt.Sprintf("cust-%d", i%20000), ExternalOrderID: fmt.Sprintf("GRC-2026-%06d", i),
					Payments: []model.Payment{{ID: fmt.Sprintf("%010x", h>>20), Created: created,
						Receipt: &model.Receipt{RefNumber: fmt.Sprintf("%012d", h%1_000_000_000_000), Last4: fmt.Sprintf("%04d", i%10000)}}}}
				if i%20 == 0 {
					o.Status = model.StatusRefunded
					o.Refunds = []model.Refund{{ID: fmt.Sprintf("%010x", h>>16)}}
				}
				ix.AddOrder("f", o)
			}
		case 10, 11, 12, 13, 14, 15, 16: // Moyasar's
			id := fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(h), uint16(h>>32), uint16(h>>40)&0xfff, uint16(h>>48)&0xfff, h>>8&0xffffffffffff)
			ix.AddSummary("m", &model.OrderSummary{Provider: "moyasar", ID: id, Ref: id, Status: model.StatusSucceeded,
				Total: sar(amt), Created: created, Reference: fmt.Sprintf("•••• %04d mada", i%10000)}, RefCard)
		default: // Digital River's
			id := fmt.Sprintf("24%010d", h%10_000_000_000)
			ix.AddSummary("d", &model.OrderSummary{Provider: "digitalriver", ID: id, Ref: id, Status: model.StatusSucceeded,
				Total: usd(amt), Created: created, Reference: fmt.Sprintf("GRC-2026-%06d", i)}, RefExternal)
		}
	}
}

// indexBytes is the heap the index holds per order after fillMixed(n).
func indexBytes(tb testing.TB, n int) float64 {
	tb.Helper()
	ix, per := heapPerOrder(n, fillMixed)
	if ix.Len() != n {
		tb.Fatalf("%d orders indexed, want %d", ix.Len(), n)
	}
	return per
}

// heapPerOrder fills a new index with fill(ix, n) and returns it with the
// heap it holds per order, a GC on either side. The memory test, the
// search benchmark and its test each measured this with their own copy.
func heapPerOrder(n int, fill func(*Index, int)) (*Index, float64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ix := New()
	fill(ix, n)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(ix)
	return ix, float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// maxIndexBytes bounds the heap one indexed order costs, so it can only
// shrink. Measured with fillMixed at 100k orders: 151 bytes with a 72-byte
// entry per order and a Go map from (source, id) to entry; 133 with an
// open-addressed table for that map; 114 with a 48-byte entry; 109 with
// the entries in chunks (no slice's spare room); 99 with an order's own
// strings kept out of the string table. Of those 99: 48 the entry, 35 the
// ids' text, 9 their offsets, 6 the order table, 1 the payment and refund
// refs.
const maxIndexBytes = 105

// TestEntrySize keeps entry at 48 bytes: a field added or reordered
// carelessly costs every order its size plus padding.
func TestEntrySize(t *testing.T) {
	if n := unsafe.Sizeof(entry{}); n != 48 {
		t.Errorf("entry is %d bytes, want 48", n)
	}
}

// TestIndexBytesBound fails when an indexed order grows past the bound.
func TestIndexBytesBound(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("indexes 100k orders; bytes mean nothing under the race detector")
	}
	per := indexBytes(t, 100_000)
	t.Logf("%.0f heap bytes per indexed order", per)
	if per > maxIndexBytes {
		t.Errorf("an indexed order costs %.0f heap bytes, bound %d", per, maxIndexBytes)
	}
}

// BenchmarkIndexBytes reports the heap bytes per indexed order at 100k.
func BenchmarkIndexBytes(b *testing.B) {
	var per float64
	for b.Loop() {
		per = indexBytes(b, 100_000)
	}
	b.ReportMetric(per, "heapB/order")
}
