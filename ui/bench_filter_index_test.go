package ui

import (
	"testing"
	"time"

	"paydesk/api"
	"paydesk/api/index"
)

// indexedBenchProvider is benchProvider with an id, so its rows can be
// kept in an order index.
type indexedBenchProvider struct{ benchProvider }

func (indexedBenchProvider) ID() string { return "bench" }

// BenchmarkOrdersFilterOpensIndexed100k is / pressed on 100k loaded rows
// the order index knows in full (customer id, last four, external id):
// enrichFilter reads every row's entry from the index, in Update, before
// the prompt shows.
func BenchmarkOrdersFilterOpensIndexed100k(b *testing.B) {
	ix := index.New()
	ix.Register("bench", "acct")
	orders := benchOrders(100_000)
	for i := range orders {
		orders[i].Provider = "bench"
		ix.AddSummary("acct", &orders[i], index.RefExternal)
	}
	c := &Context{Width: 120, Height: 40, Styles: testStyles(), Keys: DefaultKeys(false),
		Providers: []api.Provider{indexedBenchProvider{}}, Refresh: time.Second, Timeout: time.Second,
		Now: func() time.Time { return testStart }, Index: ix}
	s := newOrdersScreen(c, 0).(*ordersScreen)
	s.SetSize(c.Width, c.BodyHeight())
	s.loaded = true
	s.setData(orders, false)
	s.Update(keyMsg("/"))
	if len(s.extra.text) == 0 {
		b.Fatal("the index added nothing to the filter: the benchmark would measure no look-ups")
	}
	s.Update(keyMsg("esc"))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.Update(keyMsg("/"))
		_ = s.View()
		s.Update(keyMsg("esc"))
	}
}
