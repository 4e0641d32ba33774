package ui

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/shopspring/decimal"

	"paydesk/api"
	"paydesk/model"
)

// benchProvider serves nothing: the benchmark loads rows directly.
type benchProvider struct{ api.Provider }

func (benchProvider) Name() string { return "Bench" }
func (benchProvider) Capabilities() api.Capabilities {
	return api.Capabilities{OrderRange: true, AmountColumns: []string{"SNAP", "EBT Cash"}, ReferenceColumn: "External id"}
}

func benchOrders(n int) []model.OrderSummary {
	out := make([]model.OrderSummary, n)
	t0 := testStart
	sts := []model.Status{model.StatusSucceeded, model.StatusFailed, model.StatusPartlyRefunded, model.StatusProcessing}
	for i := range out {
		amt := model.Money{Amount: decimal.New(int64(1000+i%9000), -2), Currency: "USD"}
		out[i] = model.OrderSummary{
			ID: fmt.Sprintf("%010x", i), Ref: fmt.Sprintf("%010x", i), Status: sts[i%len(sts)],
			Created: t0.Add(-time.Duration(i) * time.Minute), Amounts: []model.Money{amt, model.Zero("USD")},
			Total: amt, Reference: "GRC-2026-" + strconv.Itoa(100000+i),
		}
	}
	return out
}

func benchmarkOrdersKeyDown(b *testing.B, rows int) {
	c := &Context{Width: 120, Height: 40, Styles: testStyles(), Keys: DefaultKeys(false),
		Providers: []api.Provider{benchProvider{}}, Refresh: time.Second, Timeout: time.Second,
		Now: func() time.Time { return testStart }}
	s := newOrdersScreen(c, 0).(*ordersScreen)
	s.SetSize(c.Width, c.BodyHeight())
	s.loaded = true
	s.setData(benchOrders(rows), false)
	down := tea.KeyMsg{Type: tea.KeyDown}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if s.table.Cursor() == s.table.Rows()-1 {
			s.table.SetCursor(0)
		}
		s.Update(down)
		_ = s.View()
	}
}

func BenchmarkOrdersKeyDownView1k(b *testing.B)   { benchmarkOrdersKeyDown(b, 1_000) }
func BenchmarkOrdersKeyDownView100k(b *testing.B) { benchmarkOrdersKeyDown(b, 100_000) }

// TestOrdersRenderCostFlat guards the claim the benchmark measures: one
// keypress and View at 100k rows allocate about what they do at 1k.
func TestOrdersRenderCostFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 100k rows")
	}
	small := testing.Benchmark(func(b *testing.B) { benchmarkOrdersKeyDown(b, 1_000) })
	big := testing.Benchmark(func(b *testing.B) { benchmarkOrdersKeyDown(b, 100_000) })
	if big.AllocedBytesPerOp() > 2*small.AllocedBytesPerOp()+1024 {
		t.Fatalf("render cost grows with rows: %d B/op at 1k, %d B/op at 100k", small.AllocedBytesPerOp(), big.AllocedBytesPerOp())
	}
}

// BenchmarkAppKeyDownView100k is the same keypress through the root model,
// chrome included (header, breadcrumb, status line, footer help).
func BenchmarkAppKeyDownView100k(b *testing.B) {
	c := &Context{Width: 120, Height: 40, Styles: testStyles(), Keys: DefaultKeys(false),
		Providers: []api.Provider{benchProvider{}}, Refresh: time.Second, Timeout: time.Second,
		Now: func() time.Time { return testStart }}
	var s *ordersScreen
	app := NewApp(c, func(c *Context, p int) Screen {
		s = newOrdersScreen(c, p).(*ordersScreen)
		return s
	})
	app.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	app.ensureHome() // builds the screen; its first load is never run
	s.loaded = true
	s.setData(benchOrders(100_000), false)
	down := tea.KeyMsg{Type: tea.KeyDown}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if s.table.Cursor() == s.table.Rows()-1 {
			s.table.SetCursor(0)
		}
		app.Update(down)
		_ = app.View()
	}
}

// BenchmarkOrdersFilterKeystroke100k is one keystroke in the / filter over
// 100k loaded rows: the filtered index is rebuilt (on change only) and View
// draws the window.
func BenchmarkOrdersFilterKeystroke100k(b *testing.B) {
	c := &Context{Width: 120, Height: 40, Styles: testStyles(), Keys: DefaultKeys(false),
		Providers: []api.Provider{benchProvider{}}, Refresh: time.Second, Timeout: time.Second,
		Now: func() time.Time { return testStart }}
	s := newOrdersScreen(c, 0).(*ordersScreen)
	s.SetSize(c.Width, c.BodyHeight())
	s.loaded = true
	s.setData(benchOrders(100_000), false)
	s.Update(keyMsg("/"))
	s.Update(keyMsg("f"))
	keys := []tea.KeyMsg{keyMsg("a"), keyMsg("backspace")}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		s.Update(keys[i%2])
		_ = s.View()
		i++
	}
}
