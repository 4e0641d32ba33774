package ui

import (
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"paydesk/api"
	"paydesk/api/index"
	"paydesk/model"
)

// filterProvider is a list-only provider for filter tests: rows are loaded
// directly.
type filterProvider struct{ benchProvider }

func (filterProvider) ID() string { return "bench" }

// filterScreen is an orders list at 120x40 over the filter provider, loaded
// with rows: the list the filter, merge, memory and benchmark tests all
// drive directly, built one way so their figures compare.
func filterScreen(t testing.TB, ix *index.Index, rows []model.OrderSummary) *ordersScreen {
	t.Helper()
	c := &Context{Width: 120, Height: 40, Styles: testStyles(), Keys: DefaultKeys(false),
		Providers: []api.Provider{filterProvider{}}, Refresh: time.Second, Timeout: time.Second,
		Now: func() time.Time { return testStart }, Index: ix}
	s := newOrdersScreen(c, 0).(*ordersScreen)
	s.SetSize(c.Width, c.BodyHeight())
	s.loaded = true
	s.setData(rows, false)
	return s
}

func (s *ordersScreen) typeFilter(q string) {
	s.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/")})
	for _, r := range q {
		s.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// TestFilterMatchesMore: / matches the amount, the currency, the date and
// what the order index knows of a row (customer id, last four), as the
// README says.
func TestFilterMatchesMore(t *testing.T) {
	rows := benchOrders(50)
	ix := index.New()
	ix.Register("bench", "")
	ix.AddOrder("", &model.Order{Provider: "bench", ID: rows[7].ID, Ref: rows[7].Ref, CustomerID: "CUST-7731",
		Payments: []model.Payment{{ID: "p7", Card: &model.Card{Last4: "9911"}}}})
	for q, want := range map[string]int{
		rows[3].Total.Amount.StringFixed(2): 1,  // the total as shown
		"usd":                               50, // the currency
		"cust-7731":                         1,  // from the index
		"9911":                              1,
		fmtDate(rows[5].Created):            1,
		"no such text":                      0,
	} {
		s := filterScreen(t, ix, rows)
		s.typeFilter(q)
		if len(s.view) != want {
			t.Errorf("/%s matched %d rows, want %d", q, len(s.view), want)
		}
	}
}

// BenchmarkFilter100k: one keystroke of the filter over 100k loaded rows.
func BenchmarkFilter100k(b *testing.B) {
	s := filterScreen(b, nil, benchOrders(100_000))
	s.filter.SetValue("grc-2026-15")
	b.ReportAllocs()
	for b.Loop() {
		s.refilter(-1)
	}
}
