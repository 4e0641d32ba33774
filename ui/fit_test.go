package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/shopspring/decimal"

	"paydesk/api"
	"paydesk/model"
)

// TestTooSmallNoticeSwallowsKeys is issue 8 item 9: a confirmation half
// typed, the terminal shrunk below what it needs, the rest typed and enter
// pressed while only the notice shows. Nothing may reach the provider, and
// the half-typed word is gone when the confirmation shows again.
func TestTooSmallNoticeSwallowsKeys(t *testing.T) {
	t.Parallel()
	o := harnessOpts{refresh: time.Hour}
	h, wl := newForageHarness(t, o)
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Refunds) == 0 && goodCard(o) && plainOrder(o)
	})
	s := h.run(80, 24, o)
	s.openOrder(ref)
	s.refundAllToConfirm("customer returned the basket")
	mark := len(wl.list())
	s.typeText(ref[:5])
	s.waitText("› " + ref[:5])
	s.resize(50, 14)
	v := s.waitText("needs a terminal")
	for i, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w > 50 {
			t.Errorf("notice line %d is %d cells wide at 50x14: %q", i, w, l)
		}
	}
	s.typeText(ref[5:])
	s.keys("enter")
	s.keys("esc") // swallowed too: the confirmation must still be there
	// Give the keys time to act if they were going to.
	time.Sleep(300 * time.Millisecond)
	wl.none(t, mark, "keys typed behind the too-small notice")
	s.resize(80, 24)
	v = s.waitText("and press enter to confirm")
	if strings.Contains(v, "› "+ref[:5]) {
		t.Fatalf("the half-typed confirmation survived the shrink:\n%s", v)
	}
	wl.none(t, mark, "after growing back")
}

// TestNoticeFitsItsWidth: below the smallest layout the notice still reads
// in full, wrapped to the width it has.
func TestNoticeFitsItsWidth(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	s := h.run(40, 10, harnessOpts{})
	v := s.waitText("needs a terminal")
	flat := strings.Join(strings.Fields(v), " ")
	if !strings.Contains(flat, "paydesk needs a terminal of at least "+itoaT(MinWidth)+"x"+itoaT(MinHeight)) {
		t.Fatalf("the notice is cut:\n%s", v)
	}
	for i, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w > 40 {
			t.Errorf("line %d is %d cells wide at 40x10: %q", i, w, l)
		}
	}
}

// gatedReads holds GetOrder while gate is set: a re-read before sending
// that the agent can watch and back out of.
type gatedReads struct {
	api.Provider
	mu   sync.Mutex
	gate chan struct{}
}

func (g *gatedReads) GetOrder(ctx context.Context, id string) (*model.Order, error) {
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Provider.GetOrder(ctx, id)
}

func (g *gatedReads) hold(ch chan struct{}) {
	g.mu.Lock()
	g.gate = ch
	g.mu.Unlock()
}

// TestEscDuringRecheckSaysNothingWasSent: esc while the order is re-read
// before sending goes back, sends nothing, and says so; the footer there
// offers esc, not "enter confirm".
func TestEscDuringRecheckSaysNothingWasSent(t *testing.T) {
	t.Parallel()
	h, wl := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Refunds) == 0 && goodCard(o) && plainOrder(o)
	})
	g := &gatedReads{Provider: h.prov}
	h.prov = g
	s := h.run(80, 23, harnessOpts{})
	s.openOrder(ref)
	s.refundAllToConfirm("customer returned the basket")
	mark := len(wl.list())
	gate := make(chan struct{})
	g.hold(gate)
	defer close(gate)
	s.typeText(ref)
	s.keys("enter")
	v := s.waitText("Re-reading the order before sending")
	foot := lastLine(v)
	if strings.Contains(foot, "enter confirm") || strings.Contains(foot, "? help") {
		t.Fatalf("the footer offers keys that do nothing while re-reading: %q", foot)
	}
	s.keys("esc")
	v = s.waitText("Nothing was sent")
	if c := crumb(v); strings.Contains(c, "Confirm") {
		t.Fatalf("esc did not leave the confirmation (%q):\n%s", c, v)
	}
	g.hold(nil)
	time.Sleep(200 * time.Millisecond)
	wl.none(t, mark, "esc during the re-read")
}

// TestSendingFooterOffersOnlyQuit: while a refund is on the wire, the footer
// does not offer enter/esc (they are held until the answer).
func TestSendingFooterOffersOnlyQuit(t *testing.T) {
	t.Parallel()
	h, wl := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Refunds) == 0 && goodCard(o) && plainOrder(o)
	})
	s := h.run(80, 23, harnessOpts{})
	s.openOrder(ref)
	v := s.refundAllToConfirm("customer returned the basket")
	if foot := lastLine(v); strings.Contains(foot, "? help") || strings.Contains(foot, "q quit") {
		t.Fatalf("the confirmation's footer offers keys that are typed into it: %q", foot)
	}
	release := wl.holdWrites(t)
	s.typeText(ref)
	s.keys("enter")
	v = s.waitText("Sending… do not close paydesk")
	foot := lastLine(v)
	if strings.Contains(foot, "enter") || strings.Contains(foot, "esc") || !strings.Contains(foot, "q quit") {
		t.Fatalf("footer while sending: %q", foot)
	}
	release()
	s.waitText("requested on order " + ref)
}

func lastLine(v string) string {
	lines := strings.Split(v, "\n")
	return lines[len(lines)-1]
}

// TestLiveBadgeDoesNotMoveTheTitle: whatever the live badge says (live,
// retrying, stale, paused, settled), the title and status to its left stay
// where they are, at every width.
func TestLiveBadgeDoesNotMoveTheTitle(t *testing.T) {
	for _, w := range []int{60, 80, 120} {
		c := &Context{Width: w, Height: 24, Styles: testStyles(), Keys: DefaultKeys(false),
			Providers: []api.Provider{benchProvider{}}, Refresh: time.Second, Timeout: time.Second,
			Now: func() time.Time { return testStart }}
		states := []live{
			{active: true, lastOK: testStart},
			{active: true, errStreak: 2, lastOK: testStart.Add(-59 * time.Minute)},
			{active: true, lastOK: testStart.Add(-40 * time.Minute)},
			{paused: true, lastOK: testStart.Add(-3 * time.Second)},
			{hasRefunds: true, lastOK: testStart},
			{hasRefunds: true, lastOK: testStart.Add(-47 * time.Hour)},
		}
		var first string
		for i, l := range states {
			line := titleLine(c, w, "Payment 01a03ca3-e0c0-7d55-ac1d-12b498dbaef5", model.StatusRequiresAction, "initiated", l.indicator(c, w))
			if lw := lipgloss.Width(line); lw > w {
				t.Fatalf("%d wide at %d: %q", lw, w, line)
			}
			badge := l.indicator(c, w)
			left := strings.TrimRight(strings.TrimSuffix(line, badge), " ")
			if i == 0 {
				first = left
			} else if left != first {
				t.Errorf("at %d columns the title moved with badge %d:\n%q\n%q", w, i, first, line)
			}
		}
	}
}

// TestPauseKeySaysWhatItWillDo: p reads "pause live", then "resume live".
func TestPauseKeySaysWhatItWillDo(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ref := h.findOrder(richOrder)
	s := h.run(120, 40, harnessOpts{})
	v := s.openOrder(ref)
	if !strings.Contains(lastLine(v), "p pause live") {
		t.Fatalf("footer: %q", lastLine(v))
	}
	s.keys("p")
	v = s.waitText("❚❚ paused")
	if f := lastLine(v); !strings.Contains(f, "p resume live") || strings.Contains(f, "pause live") {
		t.Fatalf("footer while paused: %q", f)
	}
}

// TestListSaysOrdersOnce: the breadcrumb names the list; its title line
// does not say it again.
func TestListSaysOrdersOnce(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	s := h.run(80, 23, harnessOpts{})
	v := s.waitFor("the list, idle", listIdle)
	lines := strings.Split(v, "\n")
	if strings.Count(lines[1]+"\n"+lines[2], "Orders") != 1 {
		t.Fatalf("“Orders” twice:\n%s", strings.Join(lines[:3], "\n"))
	}
	checkGolden(t, "orders_80x23", v)
}

// TestAgoClockTicksEverySecond: "updated Ns ago" counts seconds, not
// 5-second steps.
func TestAgoClockTicksEverySecond(t *testing.T) {
	if agoEvery > time.Second {
		t.Fatalf("the ago clock ticks every %s: the age jumps in steps", agoEvery)
	}
}

// TestReceiptSaysEachThingOnce: the receipt block leaves out what the
// payment's own lines already say (the card's last 4, the created time), and
// the EBT amounts a card network never sends (Moyasar).
func TestReceiptSaysEachThingOnce(t *testing.T) {
	st := testStyles()
	created := testStart.Add(-time.Hour)
	usd := func(s string) model.Money { return model.Money{Amount: decimal.RequireFromString(s), Currency: "USD"} }
	forage := &model.Receipt{RefNumber: "9de80fc4b1", TransactionType: "Payment", Last4: "1642", Created: created,
		SnapAmount: usd("4.29"), CashAmount: usd("0"), Message: "Approved"}
	v := strings.Join(receiptLines(st, forage, 80, "1642", created), "\n")
	if strings.Contains(v, "1642") || strings.Contains(v, fmtDate(created)) {
		t.Errorf("the receipt repeats the card or the created time:\n%s", v)
	}
	if !strings.Contains(v, "SNAP") || !strings.Contains(v, "4.29 USD") {
		t.Errorf("the EBT amounts are gone from a Forage receipt:\n%s", v)
	}
	card := &model.Receipt{RefNumber: "123456789012", TransactionType: "purchase", Message: "APPROVED", Created: created.Add(2 * time.Minute)}
	v = strings.Join(receiptLines(st, card, 80, "3935", created), "\n")
	for _, no := range []string{"SNAP", "EBT Cash", "Sales tax"} {
		if strings.Contains(v, no) {
			t.Errorf("a card receipt shows the EBT field %q:\n%s", no, v)
		}
	}
	if !strings.Contains(v, fmtDate(created.Add(2*time.Minute))) {
		t.Errorf("a receipt time that differs is left out:\n%s", v)
	}
}

// TestPaymentRefundsOpen: the refunds listed on a payment open from there.
func TestPaymentRefundsOpen(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ref := h.findOrder(richOrder)
	s := h.run(80, 23, harnessOpts{})
	s.openOrder(ref)
	s.keys("enter")
	v := s.waitText("Last processing error")
	if !strings.Contains(lastLine(v), "enter open refund") {
		t.Fatalf("the footer does not offer the payment's refunds: %q", lastLine(v))
	}
	s.keys("enter")
	v = s.waitFor("the refund screen", func(v string) bool { return strings.Contains(crumb(v), "› Refund ") })
	if !strings.Contains(crumb(v), "Payment") {
		t.Fatalf("not opened from the payment: %q", crumb(v))
	}
}

// TestOrderLevelRefundListedOnItsOnlyPayment: a refund naming no payment
// (Digital River, failed before it was spread) is listed on the only payment.
func TestOrderLevelRefundListedOnItsOnlyPayment(t *testing.T) {
	o := &model.Order{ID: "o1", Payments: []model.Payment{{ID: "ch1"}},
		Refunds: []model.Refund{{ID: "re1", Status: model.StatusFailed}, {ID: "re2", PaymentID: "ch1"}}}
	if got := paymentRefunds(o, "ch1"); len(got) != 2 {
		t.Fatalf("refunds of the only payment: %v", got)
	}
	o.Payments = append(o.Payments, model.Payment{ID: "ch2"})
	if got := paymentRefunds(o, "ch1"); len(got) != 1 {
		t.Fatalf("with two payments an order-level refund is no one payment's: %v", got)
	}
}

// TestEditOnARefundSaysWhyNot: Forage keeps no metadata edits on refunds;
// e there says so instead of doing nothing.
func TestEditOnARefundSaysWhyNot(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ref := h.findOrder(richOrder)
	s := h.run(80, 23, harnessOpts{})
	s.openOrder(ref)
	// Each screen's readings may say that its refunds settled; e is
	// pressed once the order is read, so its answer is the last word.
	s.waitText("Refunds (2)")
	s.keys("right", "e")
	s.waitText("Forage does not let a refund's metadata change once it is made.")
	s.keys("enter")
	s.waitFor("the refund screen, read", func(v string) bool {
		return strings.Contains(crumb(v), "› Refund ") && strings.Contains(v, "✓ settled")
	})
	s.keys("e")
	s.waitText("Forage does not let a refund's metadata change once it is made.")
}

// TestReadOnlyNamesTheRefusedAction: c says cancels are off, not refunds.
func TestReadOnlyNamesTheRefusedAction(t *testing.T) {
	c := &Context{ReadOnly: true, Keys: DefaultKeys(true)}
	for k, want := range map[string]string{"c": "cancels are switched off", "f": "refunds are switched off",
		"R": "refunds are switched off", "e": "editing is switched off"} {
		msg := refusal(c, keyMsg(k))().(StatusMsg)
		if !strings.Contains(msg.Text, want) {
			t.Errorf("%s: %q, want %q", k, msg.Text, want)
		}
	}
}

// TestReadOnlyHelpDescribesNoMoney: help in a read-only session does not
// explain how money moves.
func TestReadOnlyHelpDescribesNoMoney(t *testing.T) {
	o := harnessOpts{readOnly: true}
	h := newHarness(t, o)
	s := h.run(80, 23, o)
	s.waitText("loaded")
	s.keys("?")
	v := s.waitText("Keys")
	if strings.Contains(v, "Money moves") || !strings.Contains(v, "Read-only") {
		t.Fatalf("read-only help:\n%s", v)
	}
}

// TestDigitalRiverNamesOneThingOnce: the list's "Upstream id" is the order
// screen's "Upstream id"; a failed refund's reason shows once.
func TestDigitalRiverNamesOneThingOnce(t *testing.T) {
	if got := externalIDLabel("Upstream id"); got != "Upstream id" {
		t.Fatalf("Digital River: %q", got)
	}
	if got := externalIDLabel("Card"); got != "External id" {
		t.Fatalf("Moyasar: %q", got)
	}
	c := &Context{Width: 80, Height: 24, Styles: testStyles(), Keys: DefaultKeys(false),
		Providers: []api.Provider{benchProvider{}}, Refresh: time.Second, Timeout: time.Second,
		Now: func() time.Time { return testStart }}
	usd := model.Money{Amount: decimal.RequireFromString("4.00"), Currency: "USD"}
	o := &model.Order{ID: "o1", Ref: "o1", Currency: "USD", Status: model.StatusSucceeded,
		Refunds: []model.Refund{{ID: "re1", Amount: usd, Status: model.StatusFailed, FailureReason: "expired_card",
			LastError: &model.ProcessingError{Code: "expired_card", Message: "The card has expired."}}}}
	rs := newRefundScreen(c, 0, o, "re1")
	rs.SetSize(80, 40)
	if v := rs.View(); strings.Count(v, "expired_card") != 1 {
		t.Fatalf("the failure reason shows %d times:\n%s", strings.Count(v, "expired_card"), v)
	}
}

// TestAmountInput: ".5" and "5." are what the agent means (0.50, 5.00); a
// negative amount gets its own message, naming the field and the rule.
func TestAmountInput(t *testing.T) {
	left := model.Money{Amount: decimal.RequireFromString("10.00"), Currency: "USD"}
	for in, want := range map[string]string{".5": "0.50", "5.": "5.00", " 5 ": "5.00", "0.5": "0.50"} {
		m, fe := validateAmountInput(in, left)
		if fe != nil || m.Fixed() != want {
			t.Errorf("%q: %v %v, want %s", in, m, fe, want)
		}
	}
	jpy := model.Money{Amount: decimal.RequireFromString("1000"), Currency: "JPY"}
	if m, fe := validateAmountInput("500.", jpy); fe != nil || m.Fixed() != "500" {
		t.Errorf("JPY 500.: %v %v", m, fe)
	}
	for _, in := range []string{"-5", "−5", "-0.50"} {
		_, fe := validateAmountInput(in, left)
		if fe == nil || !strings.Contains(fe.Error(), "amount") || !strings.Contains(fe.Error(), "minus") {
			t.Errorf("%q: %v", in, fe)
		}
	}
	if _, fe := validateAmountInput(".", left); fe == nil {
		t.Error(`"." was taken for an amount`)
	}
}

// TestFormErrorStandsBesideItsField: at 80x23 a refused amount is said
// under the amount field, which stays on screen, not at the form's foot.
func TestFormErrorStandsBesideItsField(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool { return refundable(o) && plainOrder(o) })
	s := h.run(80, 23, harnessOpts{})
	s.openOrder(ref)
	s.keys("f")
	s.waitText("┃ Amount")
	s.typeText("-5")
	s.keys("enter")
	v := s.waitText("without a minus sign")
	lines := strings.Split(v, "\n")
	at := -1
	for i, l := range lines {
		if strings.Contains(l, "without a minus sign") {
			at = i
		}
	}
	if at < 2 || !strings.Contains(lines[at-1]+lines[at-2], "Amount") && !strings.Contains(lines[at-1], "refundable") {
		t.Fatalf("the error is not beside the amount field:\n%s", v)
	}
	if !strings.Contains(lines[at+1], "> -5") {
		t.Fatalf("the field being fixed is not right there:\n%s", v)
	}
}

func TestShortBrands(t *testing.T) {
	for in, want := range map[string]string{
		"•••• 9027 mastercard": "••9027 MC", "•••• 3935 visa": "••3935 VISA", "•••• 0001 mada": "••0001 MADA",
		"•••• 1111 amex": "••1111 AMEX", "•••• 1111 unionpay": "•••• 1111 unionpay", "ORD-1": "ORD-1",
	} {
		if got := shortBrands(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// TestMoyasarConfirmKeepsIDTails: the refund plan on the confirmation keeps
// the end of a long payment id (where UUIDv7 ids differ), and the columns
// line up with a masked card in the method.
func TestMoyasarConfirmKeepsIDTails(t *testing.T) {
	t.Parallel()
	m := newMultiHarness(t, harnessOpts{})
	order := m.find(pMPG, mpgRefundable("SAR"))
	s := m.run(80, 23, harnessOpts{})
	s.switchTo(m, 1, pMPG)
	s.openOrder(order.Ref)
	v := s.refundAllToConfirm("customer asked")
	for _, pr := range order.RefundPlan() {
		id := pr.Payment.ID
		if !strings.Contains(v, id[len(id)-6:]) {
			t.Errorf("payment %s: its last 6 are not on the confirmation:\n%s", id, v)
		}
	}
	var head, row string
	for _, l := range strings.Split(v, "\n") {
		if strings.HasPrefix(l, "Payment ") {
			head = l
		} else if head != "" && row == "" && strings.Contains(l, "•") {
			row = l
		}
	}
	if row == "" || lipgloss.Width(row) != lipgloss.Width(strings.TrimRight(head, " ")) {
		t.Errorf("the plan's columns do not line up:\n%q\n%q", head, row)
	}
}

// TestProcessingErrorIsWrappedNotCut: the end of a processing error says
// what to do next; at 80 columns it wraps instead of being cut.
func TestProcessingErrorIsWrappedNotCut(t *testing.T) {
	e := &model.ProcessingError{Code: "expired_or_canceled_card", Message: "the card is expired or canceled; refund the customer another way"}
	got := strings.Join(errorLines(testStyles(), e, 80), "\n")
	if !strings.Contains(strings.Join(strings.Fields(got), " "), "refund the customer another way") {
		t.Fatalf("cut:\n%s", got)
	}
	for _, l := range strings.Split(got, "\n") {
		if lipgloss.Width(l) > 80 {
			t.Fatalf("%d wide: %q", lipgloss.Width(l), l)
		}
	}
}

// TestAuthorizedReadsAuthorized: a Moyasar authorization (held, not yet
// captured) reads "authorized" in the title, once, not "requires action
// (Moyasar PG: authorized)".
func TestAuthorizedReadsAuthorized(t *testing.T) {
	c := &Context{Width: 80, Height: 24, Styles: testStyles(), Keys: DefaultKeys(false),
		Providers: []api.Provider{benchProvider{}}, Refresh: time.Second, Timeout: time.Second,
		Now: func() time.Time { return testStart }}
	line := titleLine(c, 80, "Payment 019b3c09", model.StatusRequiresAction, "authorized", "")
	if !strings.Contains(line, "○ authorized") || strings.Contains(line, "requires action") || strings.Count(line, "authorized") != 1 {
		t.Fatalf("%q", line)
	}
}

// TestConfirmWithALongErrorStillShows: an error under the confirmation
// (the longest is OUTCOME UNKNOWN) does not turn the screen into the
// too-small notice; only what is confirmed and the input must fit.
func TestConfirmWithALongErrorStillShows(t *testing.T) {
	c := &Context{Width: 80, Height: 23, Styles: testStyles(), Keys: DefaultKeys(false),
		Providers: []api.Provider{benchProvider{}}, Refresh: time.Second, Timeout: time.Second,
		Now: func() time.Time { return testStart }}
	lines := make([]string, 12)
	for i := range lines {
		lines[i] = "line " + itoaT(i)
	}
	cs := newConfirmScreen(c, "Confirm", lines, "abc123")
	cs.SetSize(80, c.BodyHeight())
	if !cs.fits() {
		t.Fatalf("%d lines of figures do not fit in %d", len(lines), c.BodyHeight())
	}
	cs.note = strings.Repeat("a long note ", 30)
	cs.err = &api.Error{Provider: "Forage", HTTPStatus: 500, Code: "x", Message: strings.Repeat("long ", 60)}
	if !cs.fits() {
		t.Fatal("a long note and error hid the confirmation behind the notice")
	}
}
