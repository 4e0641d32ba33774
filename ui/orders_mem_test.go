package ui

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/shopspring/decimal"

	"paydesk/api"
	"paydesk/model"
)

// loadedRowBytes loads n rows into an orders list the way pages arrive
// (1000 at a time) and returns the heap the list holds per row.
func loadedRowBytes(tb testing.TB, n int) float64 {
	tb.Helper()
	s := filterScreen(tb, nil, nil)
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
// bytes while each row kept its OrderSummary and formatted cells; 171 with
// the compact row store and the sorted index, and no formatted text (the
// table formats the rows it draws); 100 with the ids, refs and references
// in one byte arena and each amount packed in 8 bytes (orders_mem.go: 40
// bytes of fields, 24 of amounts, the id's bytes, 8 of sorted index, and
// what growing the slices leaves spare).
const maxRowBytes = 110

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

// packRows are rows of every shape the list meets: each provider's amount
// columns, days without times, no date, empty and negative amounts, other
// currencies' decimals, card references, zones, and rows the compact form
// must keep whole (unclean text, an amount past int64, finer than the
// currency's decimals).
func packRows(tb testing.TB) []model.OrderSummary {
	tb.Helper()
	riyadh := time.FixedZone("AST", 3*3600)
	d := func(s string) decimal.Decimal { return decimal.RequireFromString(s) }
	m := func(s, cur string) model.Money { return model.Money{Amount: d(s), Currency: cur} }
	rows := benchOrders(8)
	rows = append(rows,
		model.OrderSummary{Provider: "forage", ID: "ord-1", Ref: "ord-1", Status: model.StatusSucceeded, ProviderStatus: "succeeded",
			Created: time.Date(2026, 11, 3, 0, 0, 0, 0, riyadh), DateOnly: true,
			Amounts: []model.Money{m("12.5", "USD"), {}}, Total: m("12.50", "USD"), Reference: "GRC-2026-889360"},
		model.OrderSummary{Provider: "moyasar", ID: "6f1c0a6e-6a55-4b9b-9d43-3f0c1a2b3c4d", Ref: "6f1c0a6e-6a55-4b9b-9d43-3f0c1a2b3c4d",
			Status: model.StatusRequiresAction, ProviderStatus: "authorized", Created: time.Date(2026, 10, 1, 9, 7, 0, 0, riyadh),
			Amounts: []model.Money{m("-3.250", "KWD")}, Total: m("1500", "JPY"), Reference: "•••• 9027 Mastercard"},
		model.OrderSummary{Provider: "dr", ID: "id-2", Ref: "REF-2", Status: model.StatusUnknown,
			Amounts: []model.Money{m("0", ""), m("0.00", "EUR")}, Total: m("0", "")},
		model.OrderSummary{Provider: "dr", ID: "id-7", Ref: "id-7", Status: model.StatusRefunded, ProviderStatus: "refunded",
			Created: testStart, Total: m("20.00", "USD")},
		model.OrderSummary{Provider: "dr", ID: "id-3", Ref: "bad\x1b[31mref", Status: model.StatusFailed,
			Created: testStart, Total: m("1.00", "USD"), Reference: "x\ty"},
		model.OrderSummary{Provider: "dr", ID: "id-4", Ref: "id-4", Status: model.StatusPartlyRefunded,
			Created: testStart, Total: m("123456789012345678901234.00", "USD")},
		model.OrderSummary{Provider: "dr", ID: "id-5", Ref: "id-5", Status: model.StatusProcessing,
			Created: testStart, Amounts: []model.Money{m("1.005", "USD")}, Total: m("1.005", "USD")},
		model.OrderSummary{Provider: "dr", ID: "id-6", Ref: "id-6", Status: "new_word", ProviderStatus: "NEW_WORD",
			Created: testStart.UTC(), Total: m("7", "XYZ")},
		// No ref at all, beside an id: the arena keeps the two apart.
		model.OrderSummary{Provider: "dr", ID: "id-9", Status: model.StatusSucceeded, Created: testStart,
			Total: m("-0.01", "USD"), Reference: "ORD-9"},
		// An id past what a row's text lengths hold is kept whole.
		model.OrderSummary{Provider: "dr", ID: strings.Repeat("x", 1<<16+1), Ref: "long-id", Status: model.StatusSucceeded,
			Created: testStart, Total: m("1.00", "USD")},
	)
	return rows
}

// TestCompactRowsExact: a packed row gives back the summary it was made
// from, and the filter finds each row by every cell the table draws for
// it (what / promises), read off the compact row.
func TestCompactRowsExact(t *testing.T) {
	rows := packRows(t)
	checkCompactRows(t, filterScreen(t, nil, rows), rows)
	// A list whose rows say nothing of refunds draws a Refunds column.
	s := filterScreen(t, nil, nil)
	c := *s.c
	c.Providers = []api.Provider{refundsUnlistedProvider{}}
	s = newOrdersScreen(&c, 0).(*ordersScreen)
	s.SetSize(c.Width, c.BodyHeight())
	s.loaded = true
	s.setData(rows, false)
	if s.colRefunds < 0 {
		t.Fatal("no Refunds column")
	}
	checkCompactRows(t, s, rows)
}

type refundsUnlistedProvider struct{ filterProvider }

func (refundsUnlistedProvider) Capabilities() api.Capabilities {
	c := filterProvider{}.Capabilities()
	c.RefundsNotListed = true
	return c
}

func checkCompactRows(t *testing.T, s *ordersScreen, rows []model.OrderSummary) {
	t.Helper()
	spilled := 0
	for i := range rows {
		want, got := rows[i], s.rows.summary(i)
		if s.rows.rows[i].flags&rowSpilled != 0 {
			spilled++
		}
		if !sameSummary(&want, &got) || want.Provider != got.Provider || want.ID != got.ID || want.DateOnly != got.DateOnly ||
			want.Created.Location().String() != got.Created.Location().String() || !want.Created.Equal(got.Created) {
			t.Errorf("row %d: packed %+v, got back %+v", i, want, got)
		}
		for k := range want.Amounts {
			if want.Amounts[k].Currency != got.Amounts[k].Currency || !want.Amounts[k].Amount.Equal(got.Amounts[k].Amount) {
				t.Errorf("row %d amount %d: %v, got back %v", i, k, want.Amounts[k], got.Amounts[k])
			}
		}
		if want.Total.Currency != got.Total.Currency {
			t.Errorf("row %d total currency %q, got back %q", i, want.Total.Currency, got.Total.Currency)
		}
		cells := s.formatSummary(&want)
		if got := s.formatRow(i); !slices.Equal(got, cells) {
			t.Errorf("row %d draws %q, want %q", i, got, cells)
		}
		for _, c := range append(cells, want.ID, string(want.Status), want.ProviderStatus) {
			q := strings.ToLower(strings.TrimSpace(c))
			if q == "" {
				continue
			}
			if !s.matcher(q).matches(i) {
				t.Errorf("row %d does not match /%s, a cell it shows", i, q)
			}
		}
	}
	if spilled != 5 {
		t.Errorf("%d rows kept whole, want the 5 the compact form cannot hold", spilled)
	}
	if s.matcher("no such text").matches(0) {
		t.Error("a row matches text it does not show")
	}
}

// TestAppendFixedIsFixed: the filter's amount text is model.Money.Fixed's.
func TestAppendFixedIsFixed(t *testing.T) {
	var st rowStore
	for _, cur := range []string{"USD", "JPY", "KWD", "SAR"} {
		for _, v := range []string{"0", "0.00", "1", "-1", "0.5", "-0.05", "12.5", "1234567.89", "-99999.999", "100", "7e3"} {
			m := model.Money{Amount: decimal.RequireFromString(v), Currency: cur}
			a, ok := st.storeAmount(m)
			if !ok {
				continue // finer than the currency: kept whole
			}
			places, _ := model.Exponent(cur)
			if got, want := string(appendFixed(nil, a, places)), m.Fixed(); got != want {
				t.Errorf("%s %s: %q, want %q", v, cur, got, want)
			}
		}
	}
}

// TestPagedLoadSameAsWhole: rows arriving a page at a time, with or
// without a filter typed, end in the same order, view and screen as the
// same rows loaded at once (pages only extend the indices).
func TestPagedLoadSameAsWhole(t *testing.T) {
	rows := benchOrders(3000)
	for i := range rows {
		if i%7 == 0 {
			rows[i].Status = model.StatusRequiresAction
			rows[i].ProviderStatus = "authorized"
		}
	}
	for _, q := range []string{"", "10"} {
		whole := filterScreen(t, nil, rows)
		whole.typeFilter(q)
		paged := filterScreen(t, nil, rows[:100])
		paged.typeFilter(q)
		for i := 100; i < len(rows); i += 100 {
			paged.setData(rows[i:i+100], true)
		}
		if !slices.Equal(whole.order, paged.order) || !slices.Equal(whole.view, paged.view) {
			t.Errorf("/%s: paged load gives %d rows shown, whole %d", q, len(paged.view), len(whole.view))
		}
		for range 3 {
			whole.Update(tea.KeyMsg{Type: tea.KeyPgDown})
			paged.Update(tea.KeyMsg{Type: tea.KeyPgDown})
		}
		if w, p := whole.View(), paged.View(); w != p {
			t.Errorf("/%s: paged load draws\n%s\nwhole draws\n%s", q, p, w)
		}
	}
}

// TestReleaseDue: a large list returns memory at most once a second while
// it grows, never for a small list or one that did not grow.
func TestReleaseDue(t *testing.T) {
	last, n := 0, 0
	at := time.Duration(0)
	for rows := 100; rows <= 100_000; rows += 100 {
		now := time.Duration(rows/100) * 300 * time.Millisecond // 3 pages a second
		if releaseDue(last, rows, now-at) {
			last, at = rows, now
			n++
		}
	}
	if n == 0 || n > 300 {
		t.Errorf("%d releases while loading 100k rows over 300 s, want 1 to 300", n)
	}
	if releaseDue(0, releaseMin-1, time.Hour) {
		t.Error("a small list releases memory")
	}
	if releaseDue(50_000, 50_000, time.Hour) {
		t.Error("a list that did not grow releases memory")
	}
	if releaseDue(50_000, 60_000, time.Millisecond) {
		t.Error("releases follow each other within a second")
	}
}

// Replacing rows with the same orders (r, or rows kept true after an
// action) reuses their text in the arena: refreshing a page a thousand
// times does not grow it, and the rows read back as the new orders.
func TestSetReusesRowText(t *testing.T) {
	rows := packRows(t)
	s := filterScreen(t, nil, rows)
	size := len(s.rows.text)
	for range 1000 {
		for i := range rows {
			s.rows.set(i, &rows[i])
		}
	}
	if len(s.rows.text) != size {
		t.Fatalf("arena grew from %d to %d bytes replacing rows with themselves", size, len(s.rows.text))
	}
	checkCompactRows(t, s, rows)
	// A longer reference cannot reuse the slot: it goes to the end, whole.
	longer := rows[0]
	longer.Reference += "-and-more"
	s.rows.set(0, &longer)
	if got := s.rows.summary(0); got.Reference != longer.Reference || got.ID != longer.ID {
		t.Fatalf("row 0 after a longer reference: %+v", got)
	}
	if got := s.rows.summary(1); !sameSummary(&got, &rows[1]) {
		t.Fatalf("row 1 changed: %+v", got)
	}
}

// A row whose reference comes and goes (Forage: the report has none, the
// order index fills the external id in) reuses its slot both ways: r and
// the index filling in, again and again, do not grow the arena.
func TestSetReferenceComingAndGoing(t *testing.T) {
	rows := packRows(t)
	s := filterScreen(t, nil, rows)
	bare, full := rows[0], rows[0]
	bare.Reference, full.Reference = "", "GRC-2026-889360-and-more"
	s.rows.set(0, &full) // the slot grows once, to the longer text
	size := len(s.rows.text)
	for range 100 {
		s.rows.set(0, &bare)
		if got := s.rows.summary(0); got.Reference != "" || got.ID != bare.ID {
			t.Fatalf("bare row read back as %+v", got)
		}
		s.rows.set(0, &full)
		if got := s.rows.summary(0); got.Reference != full.Reference || got.ID != full.ID {
			t.Fatalf("full row read back as %+v", got)
		}
	}
	if len(s.rows.text) != size {
		t.Fatalf("arena grew from %d to %d bytes as a reference came and went", size, len(s.rows.text))
	}
	if got := s.rows.summary(1); !sameSummary(&got, &rows[1]) {
		t.Fatalf("row 1 changed: %+v", got)
	}
}

// The slack byte lives in the row's padding: a row is still 40 bytes.
func TestListRowSize(t *testing.T) {
	if n := unsafe.Sizeof(listRow{}); n != 40 {
		t.Fatalf("listRow is %d bytes, want 40", n)
	}
}
