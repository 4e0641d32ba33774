package ui

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"paydesk/api"
	"paydesk/model"
)

// Pages that arrive while the list is sorted by another column than the
// date are merged in where a full resort puts them (every column, both
// directions, with and without a filter), and the selected order stays
// selected.
func TestPagesMergeIntoASortedList(t *testing.T) {
	all := benchOrders(900)
	for k := range all { // amounts and statuses that tie, so the tie-breaks count
		all[k].Total = model.MustParse(fmt.Sprintf("%d.00", k%7), "USD")
		all[k].Amounts[0] = all[k].Total
		all[k].Ref = fmt.Sprintf("R%03d", (k*37)%200)
	}
	mergeEverySort(t, all, []string{"", "succ"}, 17, func(name, filter string, s *ordersScreen, sel int) {
		got := slices.Clone(s.view)
		if s.selectedIndex() != sel {
			t.Errorf("%s: selection moved from row %d to %d", name, sel, s.selectedIndex())
		}
		s.resort()
		if !slices.Equal(got, s.view) {
			t.Fatalf("%s: merged order differs from a full resort", name)
		}
		if len(got) == 0 || (filter == "" && len(got) != len(all)) {
			t.Fatalf("%s: %d rows shown", name, len(got))
		}
	})
}

// mergeEverySort shows the first third of all in a list sorted by every
// column in both directions, unfiltered and filtered by each of filters,
// selects row cursor, lets the other two thirds arrive as two pages, and
// hands check the screen and the row selected before they arrived. The merge
// tests drive this same matrix and differ only in their rows and checks, so
// a new sort column or page shape is added here once.
func mergeEverySort(t *testing.T, all []model.OrderSummary, filters []string, cursor int, check func(name, filter string, s *ordersScreen, sel int)) {
	t.Helper()
	third := len(all) / 3
	for _, filter := range filters {
		for col := 0; col < 6; col++ {
			for _, desc := range []bool{false, true} {
				name := fmt.Sprintf("filter %q col %d desc %v", filter, col, desc)
				s := filterScreen(t, nil, all[:third])
				s.sortCol, s.sortDesc = col, desc
				s.resort()
				if filter != "" {
					s.typeFilter(filter)
					s.Update(tea.KeyMsg{Type: tea.KeyEnter})
				}
				s.table.SetCursor(cursor)
				sel := s.selectedIndex()
				s.setData(all[third:2*third], true)
				s.setData(all[2*third:], true)
				check(name, filter, s, sel)
			}
		}
	}
}

// BenchmarkOrdersPageArrives100k is one 1000-row page arriving at a list
// of 100k rows sorted by amount: what keys wait behind while pages load.
func BenchmarkOrdersPageArrives100k(b *testing.B) {
	s := filterScreen(b, nil, benchOrders(100_000))
	s.sortCol = s.colTotal
	s.resort()
	page := benchOrders(1000)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if s.rows.Len() > 110_000 {
			s.setData(benchOrders(100_000), false)
		}
		b.StartTimer()
		s.setData(page, true)
	}
}

// BenchmarkOrdersKeyDownWhilePagesLoad100k is a keypress and View at
// about 100k rows sorted by amount, with a 1000-row page arriving every
// tenth keypress (its cost shared among the ten).
func BenchmarkOrdersKeyDownWhilePagesLoad100k(b *testing.B) {
	s := filterScreen(b, nil, benchOrders(100_000))
	s.sortCol = s.colTotal
	s.resort()
	page := benchOrders(1000)
	down := tea.KeyMsg{Type: tea.KeyDown}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i%10 == 0 {
			if s.rows.Len() > 110_000 {
				b.StopTimer()
				s.setData(benchOrders(100_000), false)
				b.StartTimer()
			}
			s.Update(pageMsg{gen: s.gen, page: api.OrderPage{Orders: page, Next: "more"}})
		}
		if s.table.Cursor() == s.table.Rows()-1 {
			s.table.SetCursor(0)
		}
		s.Update(down)
		_ = s.View()
		i++
	}
}

// At 80 columns the list leaves optional amount columns out; s cycles
// through the columns on screen only, so the header always shows the
// sort's arrow.
func TestSortSkipsColumnsNotShown(t *testing.T) {
	s := filterScreen(t, nil, benchOrders(50))
	s.SetSize(60, 20)
	hidden := 0
	for col := 0; col < s.ncols; col++ {
		if !s.table.Shown(col) {
			hidden++
		}
	}
	if hidden == 0 {
		t.Fatal("no column is left out at 60 columns: the test needs one")
	}
	seen := map[int]bool{}
	for range 2 * s.ncols {
		s.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("s")})
		if !s.table.Shown(s.sortCol) {
			t.Fatalf("sorted by column %d, which is not on screen", s.sortCol)
		}
		if v := s.View(); !strings.Contains(v, "▲") && !strings.Contains(v, "▼") {
			t.Fatalf("no sort arrow on screen after s:\n%s", v)
		}
		seen[s.sortCol] = true
	}
	if len(seen) != s.ncols-hidden {
		t.Fatalf("s reached %d columns, %d are shown", len(seen), s.ncols-hidden)
	}
}
