package ui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/shopspring/decimal"
	"golang.org/x/time/rate"

	"paydesk/api"
	forageclient "paydesk/api/forage"
	foragesandbox "paydesk/api/sandbox/forage"
	"paydesk/model"
)

// writeLog records every request that could change something at a sandbox
// (anything but GET/HEAD, token requests aside), so a test can say "nothing
// was sent" at the wire and not only by reading the data back.
type writeLog struct {
	mu   sync.Mutex
	reqs []string
}

func (w *writeLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && !strings.HasPrefix(r.URL.Path, "/o/token") {
			w.mu.Lock()
			w.reqs = append(w.reqs, r.Method+" "+r.URL.Path)
			w.mu.Unlock()
		}
		next.ServeHTTP(rw, r)
	})
}

func (w *writeLog) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.reqs)
}

// none fails the test when any write reached the sandbox since mark.
func (w *writeLog) none(t *testing.T, mark int, what string) {
	t.Helper()
	if got := w.list(); len(got) > mark {
		t.Fatalf("%s, yet the sandbox received %v", what, got[mark:])
	}
}

// newForageHarness is newHarness (same seed, same data) with the sandbox
// behind a writeLog.
func newForageHarness(t *testing.T, o harnessOpts) (*harness, *writeLog) {
	t.Helper()
	if o.orders == 0 {
		o.orders = 60
	}
	if o.latency == 0 {
		o.latency = 3 * time.Second
	}
	clock := &fakeClock{t: testStart}
	sb := foragesandbox.New(foragesandbox.Options{Orders: o.orders, Seed: 7, RefundLatency: o.latency, Now: clock.Now})
	wl := &writeLog{}
	srv := httptest.NewServer(wl.wrap(sb))
	t.Cleanup(srv.Close)
	cl, err := forageclient.New(forageclient.Config{
		BaseURL: srv.URL, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", Now: clock.Now, Limiter: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	var p api.Provider = &countingProvider{Provider: cl}
	if o.readOnly {
		p = api.ReadOnly(p)
	}
	return &harness{t: t, clock: clock, srv: srv, prov: p}, wl
}

// runCtx starts the console on a Context the test built.
func (h *harness) runCtx(c *Context) *session {
	h.t.Helper()
	app := NewApp(c, newOrdersScreen)
	tm := teatest.NewTestModel(h.t, probe{app: app}, teatest.WithInitialTermSize(c.Width, c.Height))
	h.t.Cleanup(func() { _ = tm.Quit() })
	return &session{t: h.t, tm: tm, h: h}
}

// read is the order as the sandbox holds it now, through the real client.
func readOrder(t *testing.T, p api.Provider, id string) *model.Order {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	o, err := p.GetOrder(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// ctrl sends the control keys the editors use.
func (s *session) ctrl(ks ...string) {
	for _, k := range ks {
		var m tea.KeyMsg
		switch k {
		case "ctrl+n":
			m = tea.KeyMsg{Type: tea.KeyCtrlN}
		case "ctrl+d":
			m = tea.KeyMsg{Type: tea.KeyCtrlD}
		case "ctrl+u":
			m = tea.KeyMsg{Type: tea.KeyCtrlU}
		case "shift+tab":
			m = tea.KeyMsg{Type: tea.KeyShiftTab}
		default:
			s.t.Fatalf("no such control key %q", k)
		}
		s.tm.Send(m)
	}
}

// statusLine is the line above the help footer.
func statusLine(v string) string {
	lines := strings.Split(v, "\n")
	if len(lines) < 2 {
		return ""
	}
	return lines[len(lines)-2]
}

// goodCard: the sandbox fails refunds of orders paid with ...3311/...3309.
func goodCard(o *model.Order) bool {
	for _, p := range o.Payments {
		if p.Receipt != nil && (p.Receipt.Last4 == "3311" || p.Receipt.Last4 == "3309") {
			return false
		}
		if p.Card != nil && (p.Card.Last4 == "3311" || p.Card.Last4 == "3309") {
			return false
		}
	}
	return true
}

// plainOrder: no hostile text anywhere a golden would show it.
func plainOrder(o *model.Order) bool {
	ok := func(s string) bool {
		return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r >= 0x200b && r <= 0x206f })
	}
	if !ok(o.CustomerID) || !ok(o.ExternalOrderID) {
		return false
	}
	for _, p := range o.Payments {
		if !ok(p.Method) || !ok(p.Description) || !ok(metadataText(p.Metadata)) {
			return false
		}
	}
	for _, r := range o.Refunds {
		if !ok(r.Reason) {
			return false
		}
	}
	return true
}

func refundStatuses(o *model.Order) []model.Status {
	var out []model.Status
	for _, r := range o.Refunds {
		out = append(out, r.Status)
	}
	return out
}

// toConfirm fills the refund-all form (reason, then enter through the
// optional fields) and returns the confirmation screen.
func (s *session) refundAllToConfirm(reason string) string {
	s.t.Helper()
	s.keys("R")
	s.waitText("Refund the entire order")
	s.typeText(reason)
	s.keys("enter", "enter", "enter")
	return s.waitText("Type ")
}

func TestRefundEntireOrderJourney(t *testing.T) {
	o := harnessOpts{refresh: 40 * time.Millisecond, latency: 3 * time.Second}
	h, wl := newForageHarness(t, o)
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Payments) >= 2 && len(o.Refunds) == 0 && goodCard(o) && plainOrder(o)
	})
	before := readOrder(t, h.prov, ref)

	// The confirmation at 120x40, compared and left.
	wide := h.run(120, 40, o)
	wide.openOrder(ref)
	checkGolden(t, "confirm_refund_all_120x40", wide.refundAllToConfirm("customer returned the basket"))
	wide.keys("esc", "esc")
	wide.waitText("Payments (")

	s := h.run(80, 24, o)
	s.openOrder(ref)
	v := s.refundAllToConfirm("customer returned the basket")
	checkGolden(t, "confirm_refund_all_80x24", v)
	// Every payment and exactly what comes back from it, and the total.
	for _, pr := range before.RefundPlan() {
		if !strings.Contains(v, pr.Payment.ID) || !strings.Contains(v, pr.Amount.Fixed()) {
			t.Fatalf("the plan does not show payment %s refunding %s:\n%s", pr.Payment.ID, pr.Amount.Fixed(), v)
		}
	}
	total := before.Refundable()
	if !strings.Contains(v, total.Fixed()+" "+total.Currency) {
		t.Fatalf("no total %s on the confirmation:\n%s", total, v)
	}

	mark := len(wl.list())
	s.typeText("nope")
	s.keys("enter")
	s.waitText("That is not " + ref + ". Nothing was sent.")
	for range 4 {
		s.keys("backspace")
	}
	s.keys("enter")
	s.waitText("Nothing was sent: type " + ref)
	wl.none(t, mark, "a wrong word and a bare enter")
	if got := readOrder(t, h.prov, ref); len(got.Refunds) != 0 {
		t.Fatalf("refunds at the sandbox after a refused confirmation: %v", refundStatuses(got))
	}

	s.typeText(ref)
	s.keys("enter")
	v = s.waitText("requested on order " + ref)
	if n := strings.Count(v, "◔ processing"); n < len(before.RefundPlan()) {
		t.Fatalf("%d refunds shown processing, want %d:\n%s", n, len(before.RefundPlan()), v)
	}
	if !strings.Contains(v, "Refunds ("+itoaT(len(before.RefundPlan()))+")") {
		t.Fatalf("the new refunds are not listed:\n%s", v)
	}
	after := readOrder(t, h.prov, ref)
	if len(after.Refunds) != len(before.RefundPlan()) {
		t.Fatalf("sandbox holds %d refunds, want %d", len(after.Refunds), len(before.RefundPlan()))
	}
	if got := wl.list()[mark:]; len(got) != 1 || !strings.HasSuffix(got[0], "/refund_all/") && !strings.Contains(got[0], "refund_all") {
		t.Fatalf("want one refund_all request, got %v", got)
	}

	// Refunds succeed after the latency; the balance moves at 2x and 3x.
	h.clock.Advance(o.latency + time.Second)
	s.waitFor("every refund to leave processing", func(v string) bool { return !strings.Contains(v, "◔ processing") })
	h.clock.Advance(3 * o.latency)
	v = s.waitText("✓ settled")
	if strings.Contains(v, "◔ processing") {
		t.Fatalf("settled while a refund still shows processing:\n%s", v)
	}
	final := readOrder(t, h.prov, ref)
	var sum decimal.Decimal
	for _, r := range final.Refunds {
		if r.Status != model.StatusSucceeded {
			t.Fatalf("refund %s is %s at the sandbox", r.ID, r.Status)
		}
		sum = sum.Add(r.Amount.Amount)
	}
	if !sum.Equal(total.Amount) {
		t.Fatalf("the sandbox refunded %s, want %s", sum, total.Amount)
	}
	if n := strings.Count(v, "✓ succeeded"); n < len(final.Refunds) {
		t.Fatalf("%d refunds shown succeeded, want %d:\n%s", n, len(final.Refunds), v)
	}
}
