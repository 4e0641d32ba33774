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
	"unicode"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/shopspring/decimal"
	"golang.org/x/time/rate"

	"paydesk/api"
	forageclient "paydesk/api/forage"
	foragesandbox "paydesk/api/sandbox/forage"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// writeLog records every request that could change something at a sandbox
// (anything but GET/HEAD, token requests aside), so a test can say "nothing
// was sent" at the wire and not only by reading the data back.
type writeLog struct {
	mu   sync.Mutex
	reqs []string
	// hold, when set, keeps every write waiting until it is closed.
	hold chan struct{}
	// drop is how many more writes are served and then lose their answer
	// (the connection closes before a byte of it is sent).
	drop int
}

func (w *writeLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || strings.HasPrefix(r.URL.Path, "/o/token") {
			next.ServeHTTP(rw, r)
			return
		}
		w.mu.Lock()
		w.reqs = append(w.reqs, r.Method+" "+r.URL.Path)
		hold, drop := w.hold, w.drop > 0
		if drop {
			w.drop--
		}
		w.mu.Unlock()
		if hold != nil {
			<-hold
		}
		if drop {
			next.ServeHTTP(httptest.NewRecorder(), r) // done, answer lost
			if conn, _, err := rw.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		next.ServeHTTP(rw, r)
	})
}

func (w *writeLog) set(f func(w *writeLog)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(w)
}

// holdWrites makes every write wait at the sandbox until the returned
// release is called, so a test can look at the screen while a refund is on
// the wire. The gate also opens at cleanup (registered here, so before the
// server closes) whatever happens to the test.
func (w *writeLog) holdWrites(t *testing.T) (release func()) {
	t.Helper()
	gate := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(open)
	w.set(func(w *writeLog) { w.hold = gate })
	return func() {
		w.set(func(w *writeLog) { w.hold = nil })
		open()
	}
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

// flowLatency is the sandbox refund latency of newForageHarness.
const flowLatency = 3 * time.Second

// newForageHarness is newHarness (same seed, same data) with the sandbox
// behind a writeLog.
func newForageHarness(t *testing.T, o harnessOpts) (*harness, *writeLog) {
	t.Helper()
	if o.orders == 0 {
		o.orders = 60
	}
	if o.latency == 0 {
		o.latency = flowLatency
	}
	clock := sandboxtest.NewClock(testStart)
	sb := foragesandbox.New(foragesandbox.Options{Orders: o.orders, Seed: 7, RefundLatency: o.latency, Now: clock.Now})
	wl := &writeLog{}
	srv := sandboxtest.Serve(t, wl.wrap(sb))
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

// fitsWidth fails when a line of the screen is wider than the terminal.
func fitsWidth(t *testing.T, v string, w int) {
	t.Helper()
	for i, l := range strings.Split(v, "\n") {
		if n := lipgloss.Width(l); n > w {
			t.Errorf("line %d is %d cells wide at width %d: %q", i, n, w, l)
		}
	}
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
		return !strings.ContainsFunc(s, func(r rune) bool {
			return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029 || unicode.Is(unicode.Cf, r)
		})
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

// focusedField is the title of the form field huh marks with "┃".
func focusedField(v string) string {
	for _, l := range strings.Split(v, "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "┃ ") {
			return t
		}
	}
	return ""
}

// enterToConfirm presses enter field by field (waiting for the focus to
// move, so keys never outrun the form) until the confirmation shows. The
// optional fields differ by provider, so it does not count them.
func (s *session) enterToConfirm() string {
	s.t.Helper()
	for range 6 {
		cur := focusedField(s.view())
		s.keys("enter")
		// A form that has just completed shows no focused field until the
		// confirmation is drawn: that is not a new field to press enter on.
		v := s.waitFor("the next field or the confirmation", func(v string) bool {
			f := focusedField(v)
			return strings.Contains(v, "and press enter to confirm") || (f != "" && f != cur)
		})
		if strings.Contains(v, "and press enter to confirm") {
			return v
		}
	}
	s.t.Fatal("the form never reached its confirmation")
	return ""
}

// toConfirm fills the refund-all form (reason, then enter through the
// optional fields) and returns the confirmation screen.
func (s *session) refundAllToConfirm(reason string) string {
	s.t.Helper()
	s.keys("R")
	s.waitText("Refund the entire order")
	s.typeText(reason)
	return s.enterToConfirm()
}

func TestRefundEntireOrderJourney(t *testing.T) {
	t.Parallel()
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

func TestPartialRefundJourney(t *testing.T) {
	t.Parallel()
	o := harnessOpts{refresh: 40 * time.Millisecond}
	h, wl := newForageHarness(t, o)
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Payments) >= 2 && len(o.Refunds) == 0 && goodCard(o) && plainOrder(o)
	})
	before := readOrder(t, h.prov, ref)
	pay := before.Payments[1]
	left := before.RefundableOn(&pay)
	over := left.Amount.Add(decimal.RequireFromString("0.01")).StringFixed(2)

	s := h.run(80, 24, o)
	s.openOrder(ref)
	s.keys("down", "f")
	s.waitText("Refund part of payment " + pay.ID)
	mark := len(wl.list())
	s.typeText(over)
	s.keys("enter")
	v := s.waitText("still refundable")
	if !strings.Contains(v, left.String()) || !strings.Contains(v, "more than") {
		t.Fatalf("the refusal does not name the amount and the rule:\n%s", v)
	}
	if !strings.Contains(v, "> "+over) {
		t.Fatalf("the typed amount %s is gone after the refusal:\n%s", over, v)
	}
	if strings.Contains(v, "Type "+ref) {
		t.Fatalf("an over-refund reached the confirmation:\n%s", v)
	}
	wl.none(t, mark, "an amount over the refundable")

	// Fix it: one too many cents becomes a small refund.
	for range len(over) {
		s.keys("backspace")
	}
	s.typeText("1.25")
	s.keys("enter")
	s.waitText("┃ Reason")
	s.typeText("damaged item")
	v = s.enterToConfirm()
	for _, want := range []string{"Confirm partial refund", pay.ID, "1.25 " + before.Currency, "damaged item"} {
		if !strings.Contains(v, want) {
			t.Fatalf("the confirmation lacks %q:\n%s", want, v)
		}
	}
	wl.none(t, mark, "the form before confirming")
	s.typeText(ref)
	s.keys("enter")
	v = s.waitText("requested from payment " + pay.ID)
	if !strings.Contains(v, "◔ processing") {
		t.Fatalf("the new refund is not shown processing:\n%s", v)
	}
	h.clock.Advance(4 * flowLatency)
	s.waitText("✓ settled")

	after := readOrder(t, h.prov, ref)
	if len(after.Refunds) != 1 {
		t.Fatalf("the sandbox holds %d refunds, want 1", len(after.Refunds))
	}
	r := after.Refunds[0]
	if r.PaymentID != pay.ID || !r.Amount.Amount.Equal(decimal.RequireFromString("1.25")) || r.Status != model.StatusSucceeded || r.Reason != "damaged item" {
		t.Fatalf("sandbox refund: payment %s amount %s status %s reason %q", r.PaymentID, r.Amount, r.Status, r.Reason)
	}
}

// laneStore: the first payment carries the seed's usual {lane, store_id}.
func laneStore(o *model.Order) bool {
	if len(o.Payments) == 0 || !plainOrder(o) {
		return false
	}
	md := o.Payments[0].Metadata
	return len(md) == 2 && md["lane"] != "" && md["store_id"] != ""
}

func TestEditMetadataJourney(t *testing.T) {
	t.Parallel()
	h, wl := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(laneStore)
	before := readOrder(t, h.prov, ref)
	pay := before.Payments[0]

	s := h.run(80, 24, harnessOpts{})
	s.openOrder(ref)
	s.keys("e")
	v := s.waitText("Edit payment " + pay.ID)
	if !strings.Contains(v, pay.Metadata["store_id"]) {
		t.Fatalf("the editor does not show the current metadata:\n%s", v)
	}
	mark := len(wl.list())
	// Rows are in key order: lane, store_id. Focus starts on lane's key.
	s.keys("tab")
	s.ctrl("ctrl+u")
	s.typeText("9")
	s.keys("tab") // store_id's key
	s.ctrl("ctrl+d")
	s.waitFor("store_id's row to go", func(v string) bool { return !strings.Contains(v, "store_id") })
	s.ctrl("ctrl+n")
	s.typeText("ticket")
	s.keys("tab")
	s.typeText("CS-1182")
	s.waitText("CS-1182")
	s.keys("enter")
	v = s.waitText("Changes to save")
	for _, want := range []string{"~ lane", "→ 9", "+ ticket", "CS-1182", "- store_id", "(was " + pay.Metadata["store_id"] + ")"} {
		if !strings.Contains(v, want) {
			t.Fatalf("the review lacks %q:\n%s", want, v)
		}
	}
	wl.none(t, mark, "the editor and its review")
	s.keys("enter")
	s.waitText("Saved 3 metadata changes on payment " + pay.ID)

	got := readOrder(t, h.prov, ref).Payment(pay.ID).Metadata
	want := model.Metadata{"lane": "9", "ticket": "CS-1182"}
	if len(got) != len(want) || got["lane"] != "9" || got["ticket"] != "CS-1182" {
		t.Fatalf("the sandbox holds metadata %v, want %v", got, want)
	}
	if w := wl.list()[mark:]; len(w) != 1 {
		t.Fatalf("want one update request, got %v", w)
	}
}

func TestEditMetadataRefusesPII(t *testing.T) {
	t.Parallel()
	h, wl := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(laneStore)
	before := readOrder(t, h.prov, ref)
	pay := before.Payments[0]

	s := h.run(80, 24, harnessOpts{})
	s.openOrder(ref)
	s.keys("e")
	s.waitText("Edit payment " + pay.ID)
	mark := len(wl.list())
	s.ctrl("ctrl+n")
	s.typeText("contact")
	s.keys("tab")
	s.typeText("jane.doe@example.com")
	s.ctrl("ctrl+n")
	s.typeText("card")
	s.keys("tab")
	s.typeText("4111111111111111")
	s.waitText("4111111111111111")
	s.keys("enter")
	v := s.waitText("✗ metadata.card")
	fitsWidth(t, v, 80)
	for _, want := range []string{"✗ metadata.contact: value looks like an email address", "no personal or card data",
		"jane.doe@example.com", "4111111111111111", "contact", "card"} {
		if !strings.Contains(v, want) {
			t.Fatalf("after the PII refusal the editor lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "Changes to save") {
		t.Fatalf("PII reached the review:\n%s", v)
	}
	// A second enter still refuses; nothing is sent.
	s.keys("enter")
	s.waitText("✗ metadata.contact")
	wl.none(t, mark, "metadata holding an email and a card number")
	if got := readOrder(t, h.prov, ref).Payment(pay.ID).Metadata; len(got) != 2 || got["store_id"] != pay.Metadata["store_id"] {
		t.Fatalf("the sandbox metadata changed: %v", got)
	}
}

func TestCancelPaymentJourney(t *testing.T) {
	t.Parallel()
	for _, status := range []string{"requires_confirmation", "failed"} {
		t.Run(status, func(t *testing.T) {
			h, wl := newForageHarness(t, harnessOpts{})
			ref := h.findOrder(func(o *model.Order) bool {
				return plainOrder(o) && slices.ContainsFunc(o.Payments, func(p model.Payment) bool { return p.ProviderStatus == status })
			})
			before := readOrder(t, h.prov, ref)
			i := slices.IndexFunc(before.Payments, func(p model.Payment) bool { return p.ProviderStatus == status })
			pay := before.Payments[i]

			s := h.run(80, 24, harnessOpts{})
			s.openOrder(ref)
			for range i {
				s.keys("down")
			}
			v := s.waitText("c cancel paymen")
			s.keys("c")
			v = s.waitText("Cancel payment " + pay.ID)
			if !strings.Contains(v, "cannot be undone") || !strings.Contains(v, "Type "+confirmWord(pay.ID)) {
				t.Fatalf("the cancel confirmation:\n%s", v)
			}
			mark := len(wl.list())
			s.keys("enter")
			s.waitText("Nothing was sent")
			wl.none(t, mark, "a bare enter on the cancel confirmation")
			s.typeText(confirmWord(pay.ID))
			s.keys("enter")
			s.waitText("Payment " + pay.ID + " canceled.")
			got := readOrder(t, h.prov, ref).Payment(pay.ID)
			if got.ProviderStatus != "canceled" || got.Status != model.StatusCanceled {
				t.Fatalf("the sandbox holds the payment as %s (%s), want canceled", got.ProviderStatus, got.Status)
			}
			if w := wl.list()[mark:]; len(w) != 1 || !strings.Contains(w[0], "cancel") {
				t.Fatalf("want one cancel request, got %v", w)
			}
		})
	}
}

func TestCancelNotOfferedOnSucceededPayment(t *testing.T) {
	t.Parallel()
	h, wl := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool { return refundable(o) && plainOrder(o) })
	s := h.run(120, 40, harnessOpts{})
	v := s.openOrder(ref)
	if strings.Contains(v, "cancel payment") {
		t.Fatalf("cancel is offered on a succeeded payment:\n%s", v)
	}
	mark := len(wl.list())
	s.keys("c")
	s.keys("?")
	v = s.waitText("Keys")
	if strings.Contains(v, "Cancel payment") || strings.Contains(v, "cancel payment") {
		t.Fatalf("c opened a cancel confirmation or help lists it:\n%s", v)
	}
	wl.none(t, mark, "c on a succeeded payment")
}

func TestRefundAllWhileRefundsProcessingShowsProviderCode(t *testing.T) {
	t.Parallel()
	h, wl := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Payments) >= 2 && len(o.Refunds) == 0 && goodCard(o) && plainOrder(o)
	})
	h.refundNow(ref) // one refund processing
	s := h.run(80, 24, harnessOpts{})
	s.openOrder(ref)
	v := s.refundAllToConfirm("second thoughts")
	if !strings.Contains(v, "still processing") {
		t.Fatalf("the confirmation does not warn of the refund in flight:\n%s", v)
	}
	mark := len(wl.list())
	s.typeText(ref)
	s.keys("enter")
	v = s.waitFor("the provider's refusal", func(v string) bool { return strings.HasPrefix(statusLine(v), "✗ ") })
	line := statusLine(v)
	for _, want := range []string{"forage", "400", "wait_for_batch_refund", "Active refunds pending"} {
		if !strings.Contains(line, want) {
			t.Fatalf("the status line lacks %q: %q", want, line)
		}
	}
	// The status line is one line; the confirmation shows the whole story,
	// wrapped to the terminal, with what to do next.
	if !strings.Contains(strings.Join(strings.Fields(v), " "), "refunds on this order are still processing; refund again once they have settled") {
		t.Fatalf("no explanation of wait_for_batch_refund on screen:\n%s", v)
	}
	fitsWidth(t, v, 80)
	checkGolden(t, "refund_all_wait_for_batch_80x24", v)
	if w := wl.list()[mark:]; len(w) != 1 {
		t.Fatalf("want the one refused refund_all request, got %v", w)
	}
	if got := readOrder(t, h.prov, ref); len(got.Refunds) != 1 {
		t.Fatalf("the sandbox holds %d refunds, want the 1 made before", len(got.Refunds))
	}
	// Still usable: esc goes back to the form and the order.
	s.keys("esc", "esc")
	s.waitText("Payments (")
}

func TestReadOnlyRefusesEveryAction(t *testing.T) {
	t.Parallel()
	o := harnessOpts{readOnly: true}
	h, wl := newForageHarness(t, o)
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Payments) >= 2 && plainOrder(o)
	})
	cancelRef := h.findOrder(func(o *model.Order) bool {
		return plainOrder(o) && slices.ContainsFunc(o.Payments, func(p model.Payment) bool { return p.ProviderStatus == "failed" })
	})
	s := h.run(120, 40, o)
	v := s.openOrder(ref)
	for _, k := range []string{"R", "f", "e"} {
		s.keys(k)
		want := "Read-only: refunds are switched off"
		if k == "e" {
			want = "Read-only: editing is switched off"
		}
		v = s.waitText(want)
		if !strings.Contains(v, "Payments (") {
			t.Fatalf("%s left the order screen in read-only mode:\n%s", k, v)
		}
		s.tm.Send(StatusMsg{}) // clear it, so the next refusal is seen anew
	}
	for _, gone := range []string{"refund part", "refund order", "edit metadata", "cancel payment"} {
		if strings.Contains(v, gone) {
			t.Fatalf("the footer offers %q in read-only mode:\n%s", gone, v)
		}
	}
	s.keys("?")
	v = s.waitText("Keys")
	for _, gone := range []string{"refund part", "refund order", "edit metadata", "cancel payment"} {
		if strings.Contains(v, gone) {
			t.Fatalf("full help lists %q in read-only mode:\n%s", gone, v)
		}
	}
	if !strings.Contains(v, "Read-only: keys that change anything are switched off.") {
		t.Fatalf("full help does not say it is read-only:\n%s", v)
	}
	s.keys("?", "esc")

	// c on a payment that could be canceled.
	s.waitText("loaded")
	s.keys("g")
	s.typeText(cancelRef)
	s.keys("enter")
	s.waitText("Order " + cancelRef)
	before := readOrder(t, h.prov, cancelRef)
	i := slices.IndexFunc(before.Payments, func(p model.Payment) bool { return p.ProviderStatus == "failed" })
	s.waitText("Payments (")
	for range i {
		s.keys("down")
	}
	s.tm.Send(StatusMsg{})
	s.keys("c")
	v = s.waitText("Read-only: cancels are switched off")
	if strings.Contains(v, "Cancel payment") {
		t.Fatalf("c opened the cancel confirmation in read-only mode:\n%s", v)
	}
	wl.none(t, 0, "read-only R, f, e and c")
	if got := readOrder(t, h.prov, cancelRef).Payments[i]; got.ProviderStatus != "failed" {
		t.Fatalf("the payment is %s at the sandbox", got.ProviderStatus)
	}
}

// Keys typed ahead (a burst over a slow SSH link) navigate in the order they
// were typed: "R" then "esc" opens the refund form and closes it, leaving
// the agent on the order, never with a form on top of another screen. (When
// pushes were messages, esc could outrun the push and pop the order instead,
// depending on scheduling.)
func TestTypedAheadEscDropsThePush(t *testing.T) {
	t.Parallel()
	h, _ := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool { return refundable(o) && plainOrder(o) })
	s := h.run(80, 24, harnessOpts{})
	for _, burst := range [][]string{{"R", "esc"}, {"f", "esc"}, {"enter", "esc"}, {"e", "esc"}} {
		s.openOrder(ref)
		s.keys(burst...)
		s.keys("?") // a marker: once help shows, the burst and its commands are done
		s.waitText("Keys")
		s.keys("?")
		v := s.waitFor("help to close", func(v string) bool { return !strings.Contains(v, "Keys") })
		if c := crumb(v); c != "Orders › Order "+ref {
			t.Fatalf("after %v the stack is %q, want the order:\n%s", burst, c, v)
		}
		s.keys("esc")
		s.waitFor("the orders list", func(v string) bool { return crumb(v) == "Orders" })
	}
}

// The typed confirmation refuses a paste, and re-reads the order before
// sending: when a refund made elsewhere changed what is left, it shows the
// new figures and sends nothing until the agent confirms again.
func TestConfirmRefusesPasteAndRechecksTheOrder(t *testing.T) {
	t.Parallel()
	h, wl := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Payments) >= 2 && len(o.Refunds) == 0 && goodCard(o) && plainOrder(o)
	})
	before := readOrder(t, h.prov, ref)
	s := h.run(80, 24, harnessOpts{})
	s.openOrder(ref)
	s.refundAllToConfirm("customer returned the basket")
	mark := len(wl.list())

	s.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(ref), Paste: true})
	s.waitText("Pasting is not accepted here")
	s.keys("enter")
	s.waitText("Nothing was sent: type " + ref)
	wl.none(t, mark, "a pasted confirmation word")

	// Someone else refunds 1.00 while the agent reads the plan.
	h.refundNow(ref)
	h.clock.Advance(4 * flowLatency) // settled, so refund_all is allowed again
	mark = len(wl.list())
	s.typeText(ref)
	s.keys("enter")
	v := s.waitText("The order changed since this screen opened")
	left := readOrder(t, h.prov, ref).Refundable()
	if c, _ := left.Cmp(before.Refundable()); c >= 0 {
		t.Fatalf("the refund made elsewhere did not lower what is refundable (%s)", left)
	}
	if !strings.Contains(v, left.Fixed()+" "+left.Currency) {
		t.Fatalf("the confirmation does not show the new total %s:\n%s", left, v)
	}
	wl.none(t, mark, "a confirmation whose figures changed")
	s.typeText(ref)
	s.keys("enter")
	s.waitText("requested on order " + ref)
	after := readOrder(t, h.prov, ref)
	var sum decimal.Decimal
	for _, r := range after.Refunds {
		sum = sum.Add(r.Amount.Amount)
	}
	if !sum.Equal(before.Refundable().Amount) {
		t.Fatalf("refunded %s in all, want exactly the %s that was refundable", sum, before.Refundable())
	}
}

// Going back from the confirmation (esc) keeps every value typed.
func TestRefundFormKeepsValuesAfterGoingBack(t *testing.T) {
	t.Parallel()
	h, wl := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool { return refundable(o) && plainOrder(o) && goodCard(o) })
	s := h.run(80, 24, harnessOpts{})
	s.openOrder(ref)
	s.keys("f")
	s.waitText("┃ Amount")
	s.typeText("1.10")
	s.keys("enter")
	s.waitText("┃ Reason")
	s.typeText("wrong item")
	s.keys("enter")
	s.waitText("┃ Metadata")
	s.typeText("ticket=CS-5")
	s.enterToConfirm()
	s.keys("esc")
	v := s.waitFor("the form again", func(v string) bool { return strings.Contains(v, "> wrong item") })
	for _, want := range []string{"> 1.10", "> wrong item", "> ticket=CS-5"} {
		if !strings.Contains(v, want) {
			t.Fatalf("back from the confirmation, the form lost %q:\n%s", want, v)
		}
	}
	s.keys("esc")
	s.waitText("Payments (")
	wl.none(t, 0, "a refund form closed without confirming")
}

// A refund_all whose answer is lost on the way back is retried by the
// client with the same idempotency key: the agent sees it done, and the
// sandbox holds each refund once.
func TestLostAnswerRefundsOnce(t *testing.T) {
	t.Parallel()
	h, wl := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Payments) >= 2 && len(o.Refunds) == 0 && goodCard(o) && plainOrder(o)
	})
	plan := len(readOrder(t, h.prov, ref).RefundPlan())
	s := h.run(80, 24, harnessOpts{})
	s.openOrder(ref)
	s.refundAllToConfirm("lost answer")
	wl.set(func(w *writeLog) { w.drop = 1 })
	s.typeText(ref)
	s.keys("enter")
	v := s.waitFor("an outcome", func(v string) bool {
		return strings.Contains(v, "requested on order") || strings.Contains(v, "OUTCOME UNKNOWN") || strings.HasPrefix(statusLine(v), "✗")
	})
	if !strings.Contains(v, "requested on order") {
		t.Fatalf("a replayable refund_all whose answer was lost did not end as done:\n%s", v)
	}
	if w := wl.list(); len(w) != 2 || w[0] != w[1] {
		t.Fatalf("want the refund_all sent twice (the retry), got %v", w)
	}
	if got := readOrder(t, h.prov, ref); len(got.Refunds) != plan {
		t.Fatalf("the sandbox holds %d refunds, want %d: the retry refunded again", len(got.Refunds), plan)
	}
}

// q or ctrl+c while a refund is on the wire asks first; the refund finishes.
func TestQuitWhileSendingAsksFirst(t *testing.T) {
	t.Parallel()
	h, wl := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool { return refundable(o) && len(o.Refunds) == 0 && goodCard(o) && plainOrder(o) })
	s := h.run(80, 24, harnessOpts{})
	s.openOrder(ref)
	s.refundAllToConfirm("quit test")
	release := wl.holdWrites(t)
	s.typeText(ref)
	s.keys("enter")
	s.waitText("Sending… do not close paydesk")
	for _, quit := range []tea.KeyMsg{{Type: tea.KeyCtrlC}, keyMsg("q")} {
		s.tm.Send(quit)
		v := s.waitText("Money in flight")
		if !strings.Contains(v, "q again quits") || !strings.Contains(v, "Sending…") {
			t.Fatalf("%s during a send:\n%s", quit, v)
		}
		s.keys("x") // any other key stays
		s.waitFor("the question to go", func(v string) bool { return !strings.Contains(v, "Money in flight") })
	}
	release()
	s.waitText("requested on order " + ref)
	if got := readOrder(t, h.prov, ref); len(got.Refunds) == 0 {
		t.Fatal("the held refund never reached the sandbox")
	}
}

// esc or tab while a refund is on the wire must not take the agent away
// from it: the answer (done, refused or unknown) has to be seen.
func TestEscWhileSendingWaitsForTheAnswer(t *testing.T) {
	t.Parallel()
	h, wl := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool { return refundable(o) && len(o.Refunds) == 0 && goodCard(o) && plainOrder(o) })
	s := h.run(80, 24, harnessOpts{})
	s.openOrder(ref)
	s.refundAllToConfirm("esc test")
	release := wl.holdWrites(t)
	s.typeText(ref)
	s.keys("enter")
	s.waitText("Sending… do not close paydesk")
	s.keys("esc", "esc", "tab")
	s.keys("?") // handled after the keys above: the screen must still be the confirmation
	v := s.view()
	if !strings.Contains(crumb(v), "Confirm refund of order") || !strings.Contains(v, "Sending…") {
		t.Fatalf("esc/tab while sending left the confirmation:\n%s", v)
	}
	release()
	v = s.waitText("requested on order " + ref)
	if !strings.Contains(crumb(v), "Order "+ref) {
		t.Fatalf("the outcome did not come back to the order:\n%s", v)
	}
}

// The editor's other Forage field: the external order id, refused past 64
// characters (values kept), saved exactly otherwise.
func TestEditExternalOrderID(t *testing.T) {
	t.Parallel()
	h, wl := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(laneStore)
	pay := readOrder(t, h.prov, ref).Payments[0]
	s := h.run(80, 24, harnessOpts{})
	s.openOrder(ref)
	s.keys("e")
	s.waitText("Edit payment " + pay.ID)
	s.keys("tab", "tab", "tab", "tab") // lane key, lane value, store_id key, store_id value -> external order id
	s.ctrl("ctrl+u")
	long := strings.Repeat("X", 65)
	s.typeText(long)
	s.keys("enter")
	v := s.waitText("✗ external order id")
	if !strings.Contains(v, "at most 64 characters (has 65)") {
		t.Fatalf("the refusal does not name the rule:\n%s", v)
	}
	wl.none(t, 0, "an external order id over 64 characters")
	s.keys("backspace")
	s.keys("enter")
	v = s.waitText("Changes to save")
	if !strings.Contains(v, "~ external order id → "+long[:64]) {
		t.Fatalf("the review:\n%s", v)
	}
	s.keys("enter")
	s.waitText("Saved")
	got := readOrder(t, h.prov, ref).Payment(pay.ID)
	if got.ExternalOrderID != long[:64] || got.Metadata["lane"] != pay.Metadata["lane"] {
		t.Fatalf("the sandbox holds external id %q, metadata %v", got.ExternalOrderID, got.Metadata)
	}
}

// Saving metadata sends the whole set: a key someone else wrote after the
// editor opened must survive, since the review listed only the agent's own
// changes.
func TestEditKeepsKeysWrittenMeanwhile(t *testing.T) {
	t.Parallel()
	h, _ := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(laneStore)
	o := readOrder(t, h.prov, ref)
	pay := o.Payments[0]
	s := h.run(80, 24, harnessOpts{})
	s.openOrder(ref)
	s.keys("e")
	s.waitText("Edit payment " + pay.ID)

	md := pay.Metadata.Clone()
	md["other"] = "written elsewhere"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := h.prov.UpdatePayment(ctx, o.ID, pay.ID, api.PaymentUpdate{Metadata: md, IdempotencyKey: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	s.keys("tab")
	s.ctrl("ctrl+u")
	s.typeText("9")
	s.keys("enter")
	v := s.waitText("Changes to save")
	if strings.Contains(v, "other") {
		t.Fatalf("the review mentions a key the agent never saw:\n%s", v)
	}
	s.keys("enter")
	s.waitText("Saved 1 metadata change")
	got := readOrder(t, h.prov, ref).Payment(pay.ID).Metadata
	if got["lane"] != "9" || got["other"] != "written elsewhere" || got["store_id"] != pay.Metadata["store_id"] || len(got) != 3 {
		t.Fatalf("the sandbox holds %v: want lane changed and every other key kept", got)
	}
}
