package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/shopspring/decimal"

	"paydesk/api"
	"paydesk/model"
)

// reviewRoundTrip checks that every loaded row gives back the summary it
// was stored from, draws what that summary draws, and is found by the
// filter by each cell it draws (what / promises), packed or kept whole.
func reviewRoundTrip(t *testing.T, s *ordersScreen, rows []model.OrderSummary) {
	t.Helper()
	for i := range rows {
		want, got := rows[i], s.rows.summary(i)
		if !sameSummary(&want, &got) || want.ID != got.ID || want.Provider != got.Provider {
			t.Errorf("row %d: stored %+v, got back %+v", i, want, got)
		}
		cells := s.formatSummary(&want)
		if got := s.formatRow(i); !slices.Equal(got, cells) {
			t.Errorf("row %d draws %q, want %q", i, got, cells)
		}
		for _, c := range cells {
			q := strings.ToLower(strings.TrimSpace(c))
			if q != "" && !s.matcher(q).matches(i) {
				t.Errorf("row %d (spilled %v) does not match /%s, a cell it shows", i, s.rows.rows[i].flags&rowSpilled != 0, q)
			}
		}
	}
}

// TestReviewAmountsAtPackEdges: amounts at the packed form's edges (the
// largest coefficient, a positive exponent that writes many digits) are
// drawn and filtered alike. A run of 13 or more digits is drawn masked
// as a card number, so the filter must not read the amount unmasked.
func TestReviewAmountsAtPackEdges(t *testing.T) {
	m := func(coef int64, exp int32, cur string) model.Money {
		return model.Money{Amount: decimal.New(coef, exp), Currency: cur}
	}
	var rows []model.OrderSummary
	for k, a := range []model.Money{
		m(999_999_999_999, -2, "USD"), m(-999_999_999_999, -2, "USD"), m(-999_999_999_999, -3, "KWD"),
		m(999_999_999_999, 0, "JPY"), m(999_999_999_999, 1, "JPY"), m(999_999_999_999, 4, "JPY"),
		m(1, 12, "JPY"), m(1, 6, "JPY"), m(99_999_999_999, 2, "USD"), m(5, -16, "USD"), m(0, -16, "USD"),
		m(1, 15, "USD"), m(1, -2, "USD"),
	} {
		id := "edge-" + string(rune('a'+k))
		rows = append(rows, model.OrderSummary{Provider: "bench", ID: id, Ref: id, Status: model.StatusSucceeded,
			Created: testStart, Amounts: []model.Money{a}, Total: a})
	}
	s := filterScreen(t, nil, rows)
	reviewRoundTrip(t, s, rows)
	// Nor does a row match the digits its drawn cell masks.
	if s.matcher("9999999999990").matches(4) {
		t.Error("row 4 matches digits it draws masked")
	}
}

// TestReviewSetAcrossShapes: a row replaced by orders of other shapes
// (kept whole, packed, shorter, longer text, more or fewer amounts), and
// rows put on top after some were kept whole, read back as the orders
// last given, and replacing rows with themselves grows no arena.
func TestReviewSetAcrossShapes(t *testing.T) {
	rows := packRows(t)
	s := filterScreen(t, nil, rows)
	spilled := rows[len(rows)-1] // an id past the text lengths: kept whole
	short := rows[0]
	short.ID, short.Ref, short.Reference = "s", "s", ""
	long := rows[1]
	long.ID, long.Ref, long.Reference = strings.Repeat("i", 300), strings.Repeat("r", 300), strings.Repeat("e", 300)
	long.Amounts = append(slices.Clone(long.Amounts), model.Zero("USD"), model.Zero("USD"))
	for _, o := range []model.OrderSummary{spilled, rows[2], spilled, short, long, short, rows[3]} {
		s.rows.set(2, &o)
		rows[2] = o
		reviewRoundTrip(t, s, rows)
	}
	s.rows.prepend([]model.OrderSummary{spilled, rows[4]})
	rows = append([]model.OrderSummary{spilled, rows[4]}, rows...)
	reviewRoundTrip(t, s, rows)

	text, amts := len(s.rows.text), len(s.rows.amts)
	for range 100 {
		for i := range rows {
			s.rows.set(i, &rows[i])
		}
	}
	if len(s.rows.text) != text || len(s.rows.amts) != amts {
		t.Errorf("replacing rows with themselves 100 times grew the text arena from %d to %d bytes, the amounts from %d to %d",
			text, len(s.rows.text), amts, len(s.rows.amts))
	}
	reviewRoundTrip(t, s, rows)
}

// TestReviewMergeWithRowsKeptWhole: pages holding rows the compact form
// keeps whole (hostile refs, long ids, odd amounts, no date) merge into a
// list sorted by any column where a full resort puts them, and r's fresh
// page put on top of a list sorted by amount keeps the selection.
func TestReviewMergeWithRowsKeptWhole(t *testing.T) {
	all := benchOrders(600)
	for k := range all {
		all[k].Total = model.MustParse(fmt.Sprintf("%d.00", k%5), "USD")
		all[k].Amounts[0] = all[k].Total
		switch k % 11 {
		case 0:
			all[k].Ref = fmt.Sprintf("R\x1b[2J%03d", k%50)
		case 3:
			all[k].ID = strings.Repeat("z", 1<<16) + all[k].ID
		case 5:
			all[k].Total = model.Money{Amount: decimal.RequireFromString("1.005"), Currency: "USD"}
		case 7:
			all[k].Created = time.Time{}
		}
	}
	mergeEverySort(t, all, []string{"", "1.00"}, 5, func(name, _ string, s *ordersScreen, sel int) {
		if s.selectedIndex() != sel {
			t.Errorf("%s: selection moved from row %d to %d", name, sel, s.selectedIndex())
		}
		got := slices.Clone(s.view)
		s.resort()
		if !slices.Equal(got, s.view) {
			t.Fatalf("%s: merged order differs from a full resort", name)
		}
	})
}

// TestReviewFreshPageOnASortedList: r's first page (new orders on top,
// known ones updated, some kept whole) while the list is sorted by amount
// and filtered keeps the selected order selected and ends where a full
// resort puts every row.
func TestReviewFreshPageOnASortedList(t *testing.T) {
	all := benchOrders(400)
	for k := range all {
		all[k].Total = model.MustParse(fmt.Sprintf("%d.00", k%9), "USD")
		all[k].Amounts[0] = all[k].Total
		if k%13 == 0 {
			all[k].Reference = "ref\x1b]52;c;AAAA\x07"
		}
	}
	for _, filter := range []string{"", "3.00"} {
		s := filterScreen(t, nil, all[100:])
		s.sortCol, s.sortDesc = s.colTotal, true
		s.resort()
		if filter != "" {
			s.typeFilter(filter)
			s.Update(tea.KeyMsg{Type: tea.KeyEnter})
		}
		s.table.SetCursor(7)
		selID := s.rows.id(s.selectedIndex())
		fresh := append([]model.OrderSummary{}, all[:100]...) // new on top
		known := all[100:150]
		for k := range known {
			o := known[k]
			o.Status = model.StatusRefunded
			o.Total = model.MustParse("3.00", "USD")
			fresh = append(fresh, o)
		}
		s.mergeFresh(api.OrderPage{Orders: fresh})
		if got := s.rows.id(s.selectedIndex()); got != selID {
			t.Errorf("filter %q: selection moved from %s to %s", filter, selID, got)
		}
		got := slices.Clone(s.view)
		s.resort()
		if !slices.Equal(got, s.view) {
			t.Errorf("filter %q: after r the rows are not where a full resort puts them", filter)
		}
		for i := range s.rows.Len() {
			if o := s.rows.summary(i); s.rows.rows[i].flags&rowSpilled == 0 && o.ID == "" {
				t.Fatalf("row %d lost its id", i)
			}
		}
	}
}
