package ui

import (
	"context"
	"github.com/charmbracelet/lipgloss"
	"paydesk/api"
	"paydesk/model"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

func TestOrdersGolden(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		h := newHarness(t, harnessOpts{})
		s := h.run(sz.w, sz.h, harnessOpts{})
		v := s.waitFor("the list, idle", listIdle)
		checkGolden(t, "orders_"+itoaT(sz.w)+"x"+itoaT(sz.h), v)
	}
}

func itoaT(n int) string {
	return strconv.Itoa(n)
}

// openOrder opens an order by ref with g, the way an agent does.
func (s *session) openOrder(ref string) string {
	s.t.Helper()
	s.waitText("loaded")
	s.keys("g")
	s.waitText("Find:")
	s.typeText(ref)
	s.keys("enter")
	return s.waitText("Payments (")
}

func richOrder(o *model.Order) bool {
	return len(o.Payments) >= 2 && len(o.Refunds) >= 1 && !o.HasRefundInFlight()
}

func TestOrderPaymentRefundGoldens(t *testing.T) {
	// A short refresh: the second reading shows the balances have settled,
	// and then polling stops, so the screens are still when compared.
	o := harnessOpts{refresh: 50 * time.Millisecond}
	h := newHarness(t, o)
	ref := h.findOrder(richOrder)
	for _, sz := range []struct{ w, h int }{{80, 23}, {80, 24}, {120, 40}} {
		name := strconv.Itoa(sz.w) + "x" + strconv.Itoa(sz.h)
		s := h.run(sz.w, sz.h, o)
		s.openOrder(ref)
		v := s.waitText("✓ settled")
		if !strings.Contains(v, "▸ ") {
			t.Fatalf("the first payment is not selected on arrival:\n%s", v)
		}
		checkGolden(t, "order_"+name, v)

		s.keys("enter")
		s.waitText("Last processing error")
		v = s.waitText("✓ settled")
		checkGolden(t, "payment_"+name, v)

		s.keys("esc")
		s.waitText("Payments (")
		s.keys("right", "enter")
		s.waitText("Last processing error")
		v = s.waitText("✓ settled")
		if !strings.Contains(v, "Refund ") {
			t.Fatalf("not the refund screen:\n%s", v)
		}
		checkGolden(t, "refund_"+name, v)
	}
}

// TestGotoUnknownOrderStaysOnTheList: g with a ref the provider does not
// know leaves the agent on the list with one inline message (not an empty
// order screen with the error twice), and the message goes with the next key.
func TestGotoUnknownOrderStaysOnTheList(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, sz := range []struct{ w, h int }{{80, 23}, {80, 24}, {120, 40}} {
		s := h.run(sz.w, sz.h, harnessOpts{})
		s.waitFor("the list, idle", listIdle)
		s.keys("g")
		s.typeText("0000000000")
		s.keys("enter")
		// g searches (search.go): Forage's 404 is an answer, "no such
		// order", said with what else was asked, not an error screen.
		v := s.waitText("No order matches")
		checkGolden(t, "order_404_"+strconv.Itoa(sz.w)+"x"+strconv.Itoa(sz.h), v)
	}
}

// TestGotoKnownOrderOpensIt: the lookup from the list opens the order.
func TestGotoKnownOrderOpensIt(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ref := h.findOrder(richOrder)
	s := h.run(80, 23, harnessOpts{})
	v := s.openOrder(ref)
	if !strings.Contains(v, "Order "+ref) {
		t.Fatalf("order %s did not open:\n%s", ref, v)
	}
}

func TestHelpGolden(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, sz := range []struct{ w, h int }{{80, 23}, {80, 24}, {120, 40}} {
		s := h.run(sz.w, sz.h, harnessOpts{})
		s.waitText("loaded")
		s.keys("?")
		checkGolden(t, "help_orders_"+strconv.Itoa(sz.w)+"x"+strconv.Itoa(sz.h), s.waitText("Keys"))
	}
}

func TestResizeJourney(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ref := h.findOrder(richOrder)
	s := h.run(120, 40, harnessOpts{})
	s.openOrder(ref)
	s.resize(80, 24)
	v := s.waitFor("80 columns", func(v string) bool {
		lines := strings.Split(v, "\n")
		return len(lines) == 24 && strings.Contains(v, "Payments (")
	})
	for i, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w > 80 {
			t.Errorf("line %d is %d cells wide at 80x24: %q", i, w, l)
		}
	}
	// Down to 60x16 the screen degrades and stays; below, the notice.
	s.resize(60, 16)
	v = s.waitFor("60 columns", func(v string) bool {
		return len(strings.Split(v, "\n")) == 16 && strings.Contains(v, "Payments (")
	})
	fitsWidth(t, v, 60)
	s.resize(59, 20)
	s.waitText("needs a terminal of at least 60x16")
	s.resize(80, 24)
	v = s.waitText("Payments (")
	if got := len(strings.Split(v, "\n")); got != 24 {
		t.Fatalf("%d lines at 80x24", got)
	}
}

func TestFilterSortAndCopy(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	s := h.run(80, 24, harnessOpts{})
	s.waitText("21 loaded") // every page: the filter does not load more
	s.keys("/")
	s.typeText("fail")
	v := s.waitText("1 of 21")
	if !strings.Contains(v, "✗ failed") || strings.Contains(v, "✓ succeeded") {
		t.Fatalf("filter on status did not narrow the rows:\n%s", v)
	}
	s.keys("esc")
	v = s.waitFor("the filter to clear", func(v string) bool { return !strings.Contains(v, "of 21") && strings.Contains(v, "✓ succeeded") })
	// The arrow sits on the SNAP paid column, beside its whole title (the
	// other columns make room for it at 80 columns).
	sortedOn := func(arrow string) func(v string) bool {
		return func(v string) bool {
			a, snap, total := strings.Index(v, arrow), strings.Index(v, "SNAP paid "+arrow), strings.Index(v, "Total")
			return snap >= 0 && snap < a && a < total
		}
	}
	s.keys("s")
	s.waitFor("the sort arrow on SNAP paid", sortedOn("▼"))
	s.keys("S")
	s.waitFor("the flipped arrow on SNAP paid", sortedOn("▲"))
	s.keys("y")
	s.waitText("Copied ")
	if len(h.copied) != 1 {
		t.Fatalf("copied %v", h.copied)
	}
	_ = v
}

func TestReadOnlyRefusesRefundKeys(t *testing.T) {
	o := harnessOpts{readOnly: true}
	h := newHarness(t, o)
	ref := h.findOrder(richOrder)
	s := h.run(120, 40, o)
	v := s.openOrder(ref)
	if strings.Contains(v, "refund part") || strings.Contains(v, "refund order") {
		t.Fatalf("read-only help offers refunds:\n%s", v)
	}
	s.keys("f")
	s.waitText("Read-only: refunds are switched off")
}

func TestPagingLoadsMoreNearTheEnd(t *testing.T) {
	o := harnessOpts{orders: 1000}
	h := newHarness(t, o)
	s := h.run(80, 24, o)
	// Forage pages are a week of report days at most, so count rows rather
	// than expect pages of 100.
	count := func(v string) int {
		m := regexp.MustCompile(`(\d+) loaded`).FindStringSubmatch(v)
		if m == nil {
			t.Fatalf("no row count:\n%s", v)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	first := count(s.waitText("loaded, more"))
	s.keys("end")
	v := s.waitFor("more rows", func(v string) bool { return strings.Contains(v, "loaded") && count(v) > first })
	second := count(v)
	// The cursor stays where it was while rows are appended below it.
	s.keys("end")
	s.waitFor("more rows again", func(v string) bool { return strings.Contains(v, "loaded") && count(v) > second })
}

func TestRangeKeysMoveByThirtyDays(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	s := h.run(80, 24, harnessOpts{})
	s.waitText("2026-10-21 → 2026-11-20")
	s.keys("[")
	v := s.waitText("2026-09-21 → 2026-10-21")
	s.waitText("loaded")
	_ = v
	s.keys("]")
	s.waitText("2026-10-21 → 2026-11-20")
	s.keys("]")
	s.waitText("The range already ends now.")
}

// TestHostileStringsStaySafe draws every seeded order, payment and refund
// (about 3% carry OSC 52, bidi overrides, CR overwrites, CSI) and checks
// that no control character reaches the terminal. With the Ascii profile
// the styles emit no escapes, so any ESC would be the provider's.
func TestHostileStringsStaySafe(t *testing.T) {
	h := newHarness(t, harnessOpts{orders: 200})
	c := h.context(120, 40, harnessOpts{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	q := api.OrderQuery{From: testStart.Add(-100 * 24 * time.Hour), To: testStart}
	var sums []model.OrderSummary
	for {
		pg, err := h.prov.ListOrders(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, pg.Orders...)
		if pg.Next == "" {
			break
		}
		q.Cursor = pg.Next
	}
	placeholders = 0
	list := newOrdersScreen(c, 0).(*ordersScreen)
	list.loaded = true
	list.setData(sums, false)
	checkSafe(t, "orders list", list.View())
	for _, sum := range sums {
		o, err := h.prov.GetOrder(ctx, sum.ID)
		if err != nil {
			t.Fatal(err)
		}
		os := newOrderScreen(c, 0, sum.Ref).(*orderScreen)
		os.Update(orderLoadedMsg{gen: os.live.begin(), order: o})
		checkSafe(t, "order "+sum.ID, os.View())
		checkSafe(t, "order title", os.Title())
		for _, p := range o.Payments {
			ps := newPaymentScreen(c, 0, o, p.ID).(*paymentScreen)
			for range 60 { // scroll through all of it
				checkSafe(t, "payment "+p.ID, ps.View())
				ps.Update(keyMsg("pgdown"))
			}
		}
		for _, r := range o.Refunds {
			rs := newRefundScreen(c, 0, o, r.ID).(*refundScreen)
			for range 60 {
				checkSafe(t, "refund "+r.ID, rs.View())
				rs.Update(keyMsg("pgdown"))
			}
		}
	}
	if placeholders == 0 {
		t.Fatal("no hostile string was drawn: the test did not test anything")
	}
	t.Logf("%d orders, %d views with a neutralised hostile string", len(sums), placeholders)
}

// placeholders counts the views where safetext replaced something.
var placeholders int

func checkSafe(t *testing.T, where, v string) {
	t.Helper()
	if strings.Contains(v, "\uFFFD") {
		placeholders++
	}
	for n, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w > 120 {
			t.Fatalf("%s: line %d is %d cells wide (body is 120): %q", where, n, w, l)
		}
	}
	for i, r := range v {
		if r == '\n' {
			continue
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || unicode.In(r, unicode.Cf) {
			t.Fatalf("%s: control character %U at byte %d: %q", where, r, i, v[max(0, i-40):min(len(v), i+40)])
		}
	}
}
