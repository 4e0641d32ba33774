package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/shopspring/decimal"
	"golang.org/x/time/rate"

	"paydesk/api"
	drclient "paydesk/api/digitalriver"
	mpgclient "paydesk/api/moyasar"
	drsandbox "paydesk/api/sandbox/digitalriver"
	mpgsandbox "paydesk/api/sandbox/moyasar"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// Provider positions in the multi-provider console.
const (
	pForage = iota
	pMPG
	pDR
)

// multiHarness is the Forage harness plus the Moyasar PG and Digital River
// sandboxes, each on loopback behind its real client, all on one fake clock,
// all three in one Context so tab switches between them.
type multiHarness struct {
	*harness
	provs []api.Provider
	logs  []*writeLog
	drURL string
}

func newMultiHarness(t *testing.T, o harnessOpts) *multiHarness {
	t.Helper()
	fh, fl := newForageHarness(t, o)
	m := &multiHarness{harness: fh, provs: []api.Provider{fh.prov}, logs: []*writeLog{fl}}
	lat := o.latency
	if lat == 0 {
		lat = flowLatency
	}
	n := o.orders
	if n == 0 {
		n = 60
	}
	unlimited := func() *rate.Limiter { return rate.NewLimiter(rate.Inf, 1) }

	ml := &writeLog{}
	msrv := sandboxtest.Serve(t, ml.wrap(mpgsandbox.New(mpgsandbox.Options{
		Orders: n, Seed: 7, RefundLatency: lat, Now: fh.clock.Now, APIKey: "demo-moyasar-key",
	})))
	mc, err := mpgclient.New(mpgclient.Config{BaseURL: msrv.URL, APIKey: api.NewSecret("demo-moyasar-key"), Limiter: unlimited()})
	if err != nil {
		t.Fatal(err)
	}

	dl := &writeLog{}
	dsrv := sandboxtest.Serve(t, dl.wrap(drsandbox.New(drsandbox.Options{
		Orders: n, Seed: 7, RefundLatency: lat, Now: fh.clock.Now, APIKey: "sk_test_demo", RatePerSecond: -1,
	})))
	dc, err := drclient.New(drclient.Config{BaseURL: dsrv.URL, APIKey: api.NewSecret("sk_test_demo"), Limiter: unlimited()})
	if err != nil {
		t.Fatal(err)
	}
	var mp, dp api.Provider = mc, dc
	if o.readOnly {
		mp, dp = api.ReadOnly(mp), api.ReadOnly(dp)
	}
	m.provs = append(m.provs, mp, dp)
	m.logs = append(m.logs, ml, dl)
	m.drURL = dsrv.URL
	return m
}

// run starts the three-provider console on Forage.
func (m *multiHarness) run(w, ht int, o harnessOpts) *session {
	m.t.Helper()
	c := m.context(w, ht, o)
	c.Providers = m.provs
	return m.runCtx(c)
}

// find returns the first order of provider i that matches, read in full.
func (m *multiHarness) find(i int, match func(o *model.Order) bool) *model.Order {
	m.t.Helper()
	if all := m.scan(i, match, true); len(all) > 0 {
		return all[0]
	}
	m.t.Fatalf("no %s sandbox order matches", m.provs[i].Name())
	return nil
}

// scan reads every order of provider i (the last 90 days) and returns those
// that match; first stops at the first.
func (m *multiHarness) scan(i int, match func(o *model.Order) bool, first bool) []*model.Order {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p := m.provs[i]
	q := api.OrderQuery{From: m.clock.Now().Add(-90 * 24 * time.Hour), To: m.clock.Now()}
	var out []*model.Order
	for {
		pg, err := p.ListOrders(ctx, q)
		if err != nil {
			m.t.Fatal(err)
		}
		for _, sum := range pg.Orders {
			o, err := p.GetOrder(ctx, sum.ID)
			if err != nil {
				m.t.Fatal(err)
			}
			if match(o) {
				out = append(out, o)
				if first {
					return out
				}
			}
		}
		if pg.Next == "" {
			return out
		}
		q.Cursor = pg.Next
	}
}

// drRefundable lists the DR sandbox's orders whose refunds will succeed.
func (m *multiHarness) drRefundable() []string {
	m.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, m.drURL+"/sandbox/scenarios", nil)
	req.Header.Set("Authorization", "Bearer sk_test_demo")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		m.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sc map[string][]string
	if err := json.NewDecoder(resp.Body).Decode(&sc); err != nil {
		m.t.Fatal(err)
	}
	return sc["refundable"]
}

// switchTo presses tab (tabs times) until provider i is on screen with its
// list loaded.
func (s *session) switchTo(m *multiHarness, tabs, i int) string {
	s.t.Helper()
	for range tabs {
		s.keys("tab")
	}
	name := m.provs[i].Name()
	return s.waitFor(name+" on screen", func(v string) bool {
		return strings.Contains(strings.SplitN(v, "\n", 2)[0], "▸"+name) && listIdle(v)
	})
}

// listIdle: the list has loaded what it loads without a key (the first
// screens, a page at a time) and asks for nothing more, so a golden of it
// does not depend on how fast the pages came.
func listIdle(v string) bool {
	lines := strings.SplitN(v, "\n", 4)
	return len(lines) > 2 && strings.Contains(lines[2], "loaded") && strings.Contains(lines[2], "updated ")
}

// mpgRefundable: captured, money left, no refund in flight, and not one of
// the cards whose refunds the sandbox fails (0002 declined, 0003 timeout,
// 0004 system error).
func mpgRefundable(currency string) func(o *model.Order) bool {
	return func(o *model.Order) bool {
		if o.Currency != currency || o.HasRefundInFlight() || o.Refundable().Amount.LessThan(decimal.NewFromInt(3)) || !plainOrder(o) {
			return false
		}
		for _, p := range o.Payments {
			if p.Card != nil && slices.Contains([]string{"0002", "0003", "0004"}, p.Card.Last4) {
				return false
			}
		}
		return len(o.Payments) > 0
	}
}

func TestProviderTabsAndListGoldens(t *testing.T) {
	t.Parallel()
	m := newMultiHarness(t, harnessOpts{})
	s := m.run(80, 24, harnessOpts{})
	v := s.waitText("loaded")
	if !strings.Contains(strings.SplitN(v, "\n", 2)[0], "▸Forage") {
		t.Fatalf("Forage is not the active provider at start:\n%s", v)
	}
	v = s.switchTo(m, 1, pMPG)
	checkGolden(t, "orders_moyasar_80x24", v)
	v = s.switchTo(m, 1, pDR)
	checkGolden(t, "orders_digitalriver_80x24", v)
	s.keys("tab")
	v = s.waitFor("back on Forage", func(v string) bool { return strings.Contains(strings.SplitN(v, "\n", 2)[0], "▸Forage") })
	if !strings.Contains(v, "SNAP") {
		t.Fatalf("the Forage list did not come back:\n%s", v)
	}
	fitsWidth(t, v, 80)
	for i, l := range m.logs {
		l.none(t, 0, "browsing "+m.provs[i].Name())
	}
}

// TestProviderListsAtEverySize: each provider's list at the tmux pane of an
// 80x24 terminal, at 120x40, and degraded to 60x16: ids keep the 6
// characters a confirmation asks for, dates keep every digit, card brands
// and statuses stay readable.
func TestProviderListsAtEverySize(t *testing.T) {
	t.Parallel()
	m := newMultiHarness(t, harnessOpts{})
	for _, sz := range []struct{ w, h int }{{80, 23}, {120, 40}, {60, 16}} {
		name := strconv.Itoa(sz.w) + "x" + strconv.Itoa(sz.h)
		s := m.run(sz.w, sz.h, harnessOpts{})
		v := s.waitFor("the list, idle", listIdle)
		fitsWidth(t, v, sz.w)
		checkGolden(t, "orders_forage_"+name, v)
		v = s.switchTo(m, 1, pMPG)
		fitsWidth(t, v, sz.w)
		checkGolden(t, "orders_moyasar_"+name, v)
		if strings.Contains(v, "026-1") && !strings.Contains(v, "2026-1") {
			t.Errorf("a Moyasar date lost its first digit at %s:\n%s", name, v)
		}
		if strings.Contains(v, " m…") || strings.Contains(v, " v…") {
			t.Errorf("card brands cut at %s:\n%s", name, v)
		}
		v = s.switchTo(m, 1, pDR)
		fitsWidth(t, v, sz.w)
		checkGolden(t, "orders_digitalriver_"+name, v)
		if strings.Contains(v, "requires…") || strings.Contains(v, "partly r…") {
			t.Errorf("statuses cut at %s:\n%s", name, v)
		}
	}
}

func TestMoyasarPartialRefundJourney(t *testing.T) {
	t.Parallel()
	o := harnessOpts{refresh: 40 * time.Millisecond}
	m := newMultiHarness(t, o)
	order := m.find(pMPG, mpgRefundable("KWD"))
	left := order.Refundable()
	word := confirmWord(order.Ref)
	if len(order.Ref) <= 12 || word != order.Ref[len(order.Ref)-6:] {
		t.Fatalf("an MPG id %q should be confirmed by its last 6 characters, got %q", order.Ref, word)
	}

	s := m.run(120, 40, o)
	s.switchTo(m, 1, pMPG)
	v := s.openOrder(order.Ref)
	footer := v[strings.LastIndex(v, "\n")+1:]
	if strings.Contains(footer, "edit metadata") || strings.Contains(footer, "e edit") {
		t.Fatalf("MPG cannot edit metadata, yet the footer offers it: %q", footer)
	}
	if !strings.Contains(footer, "f refund part") {
		t.Fatalf("no partial refund offered on MPG: %q", footer)
	}
	s.keys("e") // not offered: nothing happens
	s.keys("?")
	v = s.waitText("Keys")
	if strings.Contains(v, "edit metadata") || strings.Contains(v, "Edit payment") {
		t.Fatalf("MPG full help lists metadata editing, or e opened an editor:\n%s", v)
	}
	s.keys("?")
	s.waitText("Payments (")

	s.keys("f")
	v = s.waitText("Amount (KWD)")
	minorLeft, _ := left.Minor()
	if !strings.Contains(v, "Still refundable: "+left.String()) || !strings.Contains(v, "("+itoaT(int(minorLeft))+" in minor units)") {
		t.Fatalf("the form does not show what is refundable in both forms:\n%s", v)
	}
	s.typeText("1.250")
	s.keys("enter")
	s.waitText("┃ Reason")
	s.typeText("goodwill")
	v = s.enterToConfirm()
	for _, want := range []string{"Moyasar PG", "1.250 KWD", "(sent as 1250 minor units)", "goodwill"} {
		if !strings.Contains(v, want) {
			t.Fatalf("the MPG confirmation lacks %q:\n%s", want, v)
		}
	}
	m.logs[pMPG].none(t, 0, "the MPG form before confirming")
	s.typeText(word)
	s.keys("enter")
	v = s.waitText("Refund of 1.250 KWD requested")
	if !strings.Contains(v, "◔ processing") {
		t.Fatalf("the new MPG refund is not shown processing:\n%s", v)
	}
	m.clock.Advance(2 * flowLatency)
	s.waitText("✓ settled")

	got := readOrder(t, m.provs[pMPG], order.ID)
	var found bool
	for _, r := range got.Refunds {
		if r.Amount.Amount.Equal(decimal.RequireFromString("1.250")) && r.Amount.Currency == "KWD" && r.Status == model.StatusSucceeded {
			found = true
		}
	}
	if !found || len(got.Refunds) != len(order.Refunds)+1 {
		t.Fatalf("the MPG sandbox does not hold one new 1.250 KWD refund that succeeded: %+v", got.Refunds)
	}
	if w := m.logs[pMPG].list(); len(w) != 1 || !strings.HasSuffix(w[0], "/refund") {
		t.Fatalf("want one MPG refund request, got %v", w)
	}
	for _, i := range []int{pForage, pDR} {
		m.logs[i].none(t, 0, "an MPG refund")
	}
}

func TestDigitalRiverPartialRefundJourney(t *testing.T) {
	t.Parallel()
	o := harnessOpts{refresh: 40 * time.Millisecond}
	m := newMultiHarness(t, o)
	ids := m.drRefundable()
	order := m.find(pDR, func(o *model.Order) bool {
		return slices.Contains(ids, o.ID) && !o.HasRefundInFlight() && plainOrder(o) && o.Refundable().Amount.GreaterThan(decimal.NewFromInt(3))
	})
	word := confirmWord(order.Ref)

	s := m.run(120, 40, o)
	s.switchTo(m, 2, pDR)
	v := s.openOrder(order.Ref)
	footer := v[strings.LastIndex(v, "\n")+1:]
	for _, gone := range []string{"e edit", "c cancel"} {
		if strings.Contains(footer, gone) {
			t.Fatalf("DR payments cannot be edited or canceled, yet the footer offers %q: %q", gone, footer)
		}
	}
	s.keys("c", "e")
	s.keys("f")
	v = s.waitText("Amount (" + order.Currency + ")")
	if strings.Contains(v, "Cancel payment") || strings.Contains(v, "Edit payment") {
		t.Fatalf("c or e opened a screen on DR:\n%s", v)
	}
	if !strings.Contains(v, "at most 64 characters") {
		t.Fatalf("the DR reason limit is not shown:\n%s", v)
	}
	// Digital River refunds take an order id and an amount: the form says
	// it refunds part of the order, with the order's limit, never "part of
	// payment X".
	if !strings.Contains(v, "Refund part of order "+order.Ref) || strings.Contains(v, "part of payment") ||
		!strings.Contains(v, order.Refundable().String()+" refundable") {
		t.Fatalf("the DR partial refund is not offered as order-level:\n%s", v)
	}
	s.typeText("2.50")
	s.keys("enter")
	s.waitText("┃ Reason")
	s.typeText("late delivery")
	v = s.enterToConfirm()
	if !strings.Contains(v, "Digital River") || !strings.Contains(v, "2.50 "+order.Currency) || strings.Contains(v, "minor units") ||
		!strings.Contains(v, "the order: Digital River spreads it") {
		t.Fatalf("the DR confirmation:\n%s", v)
	}
	m.logs[pDR].none(t, 0, "the DR form before confirming")
	s.typeText(word)
	s.keys("enter")
	v = s.waitText("Refund of 2.50 " + order.Currency + " requested from order " + order.Ref)
	if !strings.Contains(v, "◔ processing") {
		t.Fatalf("the new DR refund is not shown processing:\n%s", v)
	}
	m.clock.Advance(2 * flowLatency)
	s.waitText("✓ settled")

	got := readOrder(t, m.provs[pDR], order.ID)
	var n int
	for _, r := range got.Refunds {
		if r.Amount.Amount.Equal(decimal.RequireFromString("2.50")) && r.Status == model.StatusSucceeded && r.Reason == "late delivery" {
			n++
		}
	}
	if n != 1 || len(got.Refunds) != len(order.Refunds)+1 {
		t.Fatalf("the DR sandbox does not hold one new 2.50 refund that succeeded: %+v", got.Refunds)
	}
	if w := m.logs[pDR].list(); len(w) != 1 {
		t.Fatalf("want one DR refund request, got %v", w)
	}
}

func TestMoyasarVoidJourney(t *testing.T) {
	t.Parallel()
	m := newMultiHarness(t, harnessOpts{})
	order := m.find(pMPG, func(o *model.Order) bool {
		return plainOrder(o) && len(o.Payments) == 1 && o.Payments[0].Status == model.StatusRequiresAction
	})
	pay := order.Payments[0]
	word := confirmWord(pay.ID)

	s := m.run(120, 40, harnessOpts{})
	s.switchTo(m, 1, pMPG)
	v := s.openOrder(order.Ref)
	footer := v[strings.LastIndex(v, "\n")+1:]
	if !strings.Contains(footer, "c cancel payment") {
		t.Fatalf("an open MPG authorization offers no cancel: %q", footer)
	}
	s.keys("c")
	v = s.waitText("Type " + word)
	if !strings.Contains(v, "Cancel payment "+pay.ID) || !strings.Contains(v, pay.Amount.String()) {
		t.Fatalf("the void confirmation:\n%s", v)
	}
	s.typeText(word)
	s.keys("enter")
	// The message says what the screen then shows: a void is "voided".
	v = s.waitText("Payment " + pay.ID + " voided.")
	if !strings.Contains(v, "⊘ voided") {
		t.Fatalf("the payment does not read voided after the void:\n%s", v)
	}
	got := readOrder(t, m.provs[pMPG], order.ID).Payment(pay.ID)
	if got == nil || got.Status == model.StatusRequiresAction {
		t.Fatalf("the MPG authorization is still open at the sandbox: %+v", got)
	}
	if w := m.logs[pMPG].list(); len(w) != 1 || !strings.HasSuffix(w[0], "/void") {
		t.Fatalf("want one MPG void request, got %v", w)
	}
}

func TestDigitalRiverEditRefundMetadata(t *testing.T) {
	t.Parallel()
	m := newMultiHarness(t, harnessOpts{})
	order := m.find(pDR, func(o *model.Order) bool {
		return plainOrder(o) && len(o.Refunds) > 0 && !o.HasRefundInFlight() && len(o.Refunds[0].Metadata) == 0
	})
	r := order.Refunds[0]

	s := m.run(120, 40, harnessOpts{})
	s.switchTo(m, 2, pDR)
	s.openOrder(order.Ref)
	s.keys("right")
	v := s.waitText("▌Refunds (")
	footer := v[strings.LastIndex(v, "\n")+1:]
	if !strings.Contains(footer, "e edit metadata") {
		t.Fatalf("DR refunds can be edited, yet the footer does not offer it: %q", footer)
	}
	s.keys("e")
	s.waitText("Edit refund " + r.ID)
	s.typeText("ticket")
	s.keys("tab")
	s.typeText("CS-77")
	s.waitText("CS-77")
	s.keys("enter")
	v = s.waitText("Changes to save")
	if !strings.Contains(v, "+ ticket") {
		t.Fatalf("the review:\n%s", v)
	}
	s.keys("enter")
	s.waitText("Saved 1 metadata change on refund " + r.ID)
	got := readOrder(t, m.provs[pDR], order.ID).Refund(r.ID)
	if got == nil || got.Metadata["ticket"] != "CS-77" {
		t.Fatalf("the DR sandbox holds refund metadata %v", got.Metadata)
	}
	if w := m.logs[pDR].list(); len(w) != 1 || !strings.Contains(w[0], "/refunds/"+r.ID) {
		t.Fatalf("want one refund update, got %v", w)
	}
}

func TestRefundEntireOrderOnMPGAndDR(t *testing.T) {
	t.Parallel()
	for _, i := range []int{pMPG, pDR} {
		t.Run([]string{"forage", "moyasar", "digitalriver"}[i], func(t *testing.T) {
			t.Parallel()
			o := harnessOpts{refresh: 40 * time.Millisecond}
			m := newMultiHarness(t, o)
			match := mpgRefundable("SAR")
			if i == pDR {
				ids := m.drRefundable()
				match = func(o *model.Order) bool {
					return slices.Contains(ids, o.ID) && !o.HasRefundInFlight() && plainOrder(o)
				}
			}
			order := m.find(i, match)
			total := order.Refundable()
			word := confirmWord(order.Ref)

			s := m.run(120, 40, o)
			s.switchTo(m, i, i)
			s.openOrder(order.Ref)
			s.keys("R")
			s.waitText("Refund the entire order")
			s.typeText("order cancelled by customer")
			v := s.enterToConfirm()
			if !strings.Contains(v, total.Fixed()+" "+total.Currency) || !strings.Contains(v, m.provs[i].Name()) {
				t.Fatalf("the confirmation does not show the total %s:\n%s", total, v)
			}
			m.logs[i].none(t, 0, "the form before confirming")
			s.typeText(word)
			s.keys("enter")
			s.waitText("requested on order")
			m.clock.Advance(2 * flowLatency)
			s.waitText("✓ settled")
			got := readOrder(t, m.provs[i], order.ID)
			if left := got.Refundable(); left.IsPositive() {
				t.Fatalf("%s still refundable at the sandbox after refunding the order", left)
			}
			var sum decimal.Decimal
			for _, r := range got.Refunds {
				if order.Refund(r.ID) != nil {
					continue // there before
				}
				if r.Status != model.StatusSucceeded {
					t.Fatalf("new refund %s is %s", r.ID, r.Status)
				}
				sum = sum.Add(r.Amount.Amount)
			}
			if !sum.Equal(total.Amount) {
				t.Fatalf("the new refunds add up to %s, want %s", sum, total.Amount)
			}
		})
	}
}

// drFault arms the DR sandbox to break the answer of the next refund create.
func (m *multiHarness) drFault(kind string) {
	m.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, m.drURL+"/sandbox/faults", strings.NewReader(`{"kind":"`+kind+`","count":1}`))
	req.Header.Set("Authorization", "Bearer sk_test_demo")
	req.Header.Set("Content-Type", "application/json")
	var out map[string]int
	if err := doJSON(req, &out); err != nil {
		m.t.Fatalf("arming %s: %v", kind, err)
	}
}

// Digital River has no idempotency key: when the refund is made but its
// answer is lost, the console must not leave the agent to refund again by
// hand, and the sandbox must hold exactly one refund.
func TestDigitalRiverLostAnswerMakesOneRefund(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"error_after_commit", "reset_after_commit"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			o := harnessOpts{refresh: 40 * time.Millisecond}
			m := newMultiHarness(t, o)
			ids := m.drRefundable()
			order := m.find(pDR, func(o *model.Order) bool {
				return slices.Contains(ids, o.ID) && !o.HasRefundInFlight() && plainOrder(o) && o.Refundable().Amount.GreaterThan(decimal.NewFromInt(3))
			})
			s := m.run(120, 40, o)
			s.switchTo(m, 2, pDR)
			s.openOrder(order.Ref)
			s.keys("f")
			s.waitText("┃ Amount")
			s.typeText("2.00")
			s.keys("enter")
			s.waitText("┃ Reason")
			s.typeText("lost answer")
			s.enterToConfirm()
			m.drFault(kind)
			s.typeText(confirmWord(order.Ref))
			s.keys("enter")
			v := s.waitFor("an outcome", func(v string) bool {
				return strings.Contains(v, "requested") || strings.Contains(v, "OUTCOME UNKNOWN") || strings.HasPrefix(statusLine(v), "✗")
			})
			if strings.HasPrefix(statusLine(v), "✗") && !strings.Contains(v, "OUTCOME UNKNOWN") && !strings.Contains(v, "requested") {
				t.Fatalf("a refund that was made is reported as a plain failure:\n%s", v)
			}
			if strings.Contains(v, "OUTCOME UNKNOWN") {
				s.keys("enter") // check again with the same request
				v = s.waitText("requested")
			}
			got := readOrder(t, m.provs[pDR], order.ID)
			n := 0
			for _, r := range got.Refunds {
				if order.Refund(r.ID) == nil {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("the DR sandbox holds %d new refunds, want exactly 1", n)
			}
		})
	}
}

// The refund form checks amounts by the currency's exponent (KWD 3, SAR 2,
// JPY 0) and DR's 64-character reason before anything is sent; the typed
// text stays for the agent to fix.
func TestRefundFormRefusesBadInputPerProvider(t *testing.T) {
	t.Parallel()
	m := newMultiHarness(t, harnessOpts{})
	kwd := m.find(pMPG, mpgRefundable("KWD"))
	sar := m.find(pMPG, mpgRefundable("SAR"))
	ids := m.drRefundable()
	jpy := m.scan(pDR, func(o *model.Order) bool {
		return slices.Contains(ids, o.ID) && o.Currency == "JPY" && !o.HasRefundInFlight() && plainOrder(o)
	}, true)
	dr := m.find(pDR, func(o *model.Order) bool {
		return slices.Contains(ids, o.ID) && !o.HasRefundInFlight() && plainOrder(o) && o.Refundable().Amount.GreaterThan(decimal.NewFromInt(3))
	})

	type tc struct {
		prov   int
		order  *model.Order
		amount string
		reason string // "" stops at the amount
		want   string
	}
	cases := []tc{
		{pMPG, kwd, "1.2345", "", "KWD allows at most 3 decimals"},
		{pMPG, sar, "10.005", "", "SAR allows at most 2 decimals"},
		{pMPG, sar, "0", "", "must be more than zero"},
		{pMPG, sar, "-5", "", "without a minus sign"},
		{pMPG, sar, "ten", "", "must be digits"},
		{pDR, dr, "1.00", strings.Repeat("r", 65), "at most 64 characters (has 65)"},
	}
	if len(jpy) > 0 {
		cases = append(cases, tc{pDR, jpy[0], "100.5", "", "JPY has no minor unit"})
	}
	s := m.run(120, 40, harnessOpts{})
	active := pForage
	for _, c := range cases {
		if c.prov != active {
			s.keys("esc", "esc", "esc")
			s.waitFor("the list", func(v string) bool { return crumb(v) == "Orders" })
			s.switchTo(m, (c.prov-active+3)%3, c.prov)
			active = c.prov
		} else {
			s.keys("esc", "esc", "esc")
			s.waitFor("the list", func(v string) bool { return crumb(v) == "Orders" })
		}
		s.openOrder(c.order.Ref)
		s.keys("f")
		s.waitText("┃ Amount")
		s.typeText(c.amount)
		s.keys("enter")
		if c.reason != "" {
			s.waitText("┃ Reason")
			s.typeText(c.reason)
			s.keys("enter")
		}
		// The message stands beside the field, under its description.
		v := s.waitText("✗ ")
		errLine := v[strings.LastIndex(v, "✗ "):]
		errLine = errLine[:strings.Index(errLine+"\n", "\n")]
		if !strings.Contains(errLine, c.want) {
			t.Errorf("%s %s %q/%q: the refusal %q does not say %q", m.provs[c.prov].Name(), c.order.Currency, c.amount, c.reason, errLine, c.want)
		}
		typed := c.amount
		if c.reason != "" {
			typed = c.reason[:40]
		}
		if !strings.Contains(v, typed) {
			t.Errorf("%s %q: the typed text is gone after the refusal:\n%s", m.provs[c.prov].Name(), typed, v)
		}
		if strings.Contains(v, "and press enter to confirm") {
			t.Fatalf("%s %q reached the confirmation:\n%s", m.provs[c.prov].Name(), c.amount, v)
		}
	}
	for i, l := range m.logs {
		l.none(t, 0, "refused "+m.provs[i].Name()+" forms")
	}
}

// On a confirmation, tab and q are typing, not "next provider" and "quit":
// the agent cannot leave a half-typed money action by a slip of the finger.
func TestConfirmationKeepsTabAndQ(t *testing.T) {
	t.Parallel()
	m := newMultiHarness(t, harnessOpts{})
	order := m.find(pMPG, mpgRefundable("SAR"))
	s := m.run(80, 24, harnessOpts{})
	s.switchTo(m, 1, pMPG)
	s.openOrder(order.Ref)
	s.keys("R")
	s.waitText("Refund the entire order")
	s.typeText("slip")
	s.enterToConfirm()
	s.keys("tab")
	s.typeText("q")
	s.keys("enter")
	v := s.waitText("Nothing was sent")
	if !strings.Contains(strings.SplitN(v, "\n", 2)[0], "▸Moyasar PG") || !strings.Contains(crumb(v), "› Confirm re") {
		t.Fatalf("tab or q left the confirmation:\n%s", v)
	}
	m.logs[pMPG].none(t, 0, "tab, q and enter on a confirmation")
}

// Read-only holds on every provider: the money keys are refused on MPG and
// DR too, and nothing reaches any sandbox.
func TestReadOnlyOnEveryProvider(t *testing.T) {
	t.Parallel()
	o := harnessOpts{readOnly: true}
	m := newMultiHarness(t, o)
	mpg := m.find(pMPG, mpgRefundable("SAR"))
	ids := m.drRefundable()
	dr := m.find(pDR, func(o *model.Order) bool { return slices.Contains(ids, o.ID) && plainOrder(o) })
	s := m.run(120, 40, o)
	for _, c := range []struct {
		prov  int
		order *model.Order
	}{{pMPG, mpg}, {pDR, dr}} {
		s.switchTo(m, 1, c.prov)
		v := s.openOrder(c.order.Ref)
		for _, gone := range []string{"refund part", "refund order", "edit metadata", "cancel payment"} {
			if strings.Contains(v, gone) {
				t.Fatalf("%s read-only footer offers %q:\n%s", m.provs[c.prov].Name(), gone, v)
			}
		}
		for _, k := range []string{"f", "R"} {
			s.tm.Send(StatusMsg{})
			s.keys(k)
			v = s.waitText("Read-only: refunds are switched off")
			if !strings.Contains(crumb(v), "Order ") || strings.Contains(crumb(v), "Refund") {
				t.Fatalf("%s %s opened a screen in read-only mode:\n%s", m.provs[c.prov].Name(), k, v)
			}
		}
		s.keys("esc")
		s.waitFor("the list", func(v string) bool { return crumb(v) == "Orders" })
	}
	for i, l := range m.logs {
		l.none(t, 0, "read-only browsing of "+m.provs[i].Name())
	}
}

// TestDigitalRiverPaymentScreenOffersNoChargeRefund: Digital River takes
// partial refunds from the order, never from one charge, so the charge
// screen neither lists f nor opens a form for it; pressing f says where the
// order-level refund is.
func TestDigitalRiverPaymentScreenOffersNoChargeRefund(t *testing.T) {
	t.Parallel()
	o := harnessOpts{refresh: 40 * time.Millisecond}
	m := newMultiHarness(t, o)
	ids := m.drRefundable()
	order := m.find(pDR, func(o *model.Order) bool {
		return slices.Contains(ids, o.ID) && plainOrder(o) && len(o.Payments) > 0 && o.Refundable().IsPositive()
	})
	s := m.run(120, 40, o)
	s.switchTo(m, 2, pDR)
	s.openOrder(order.Ref)
	s.keys("enter")
	v := s.waitText(order.Payments[0].ID)
	footer := v[strings.LastIndex(v, "\n")+1:]
	if strings.Contains(footer, "refund part") {
		t.Fatalf("the DR charge screen offers a charge refund: %q", footer)
	}
	s.keys("f")
	v = s.waitText("refunds part of the order, not of one charge")
	if strings.Contains(v, "Amount (") {
		t.Fatalf("f opened a refund form on the charge:\n%s", v)
	}
	m.logs[pDR].none(t, 0, "f on a DR charge")
}

// TestDigitalRiverRefundNoteAt80x23: in an 80x23 pane the form's note that
// Digital River refunds the order reads whole, with the order's limit,
// instead of ending mid-figure at the pane's edge.
func TestDigitalRiverRefundNoteAt80x23(t *testing.T) {
	o := harnessOpts{}
	m := newMultiHarness(t, o)
	ids := m.drRefundable()
	order := m.find(pDR, func(o *model.Order) bool {
		return slices.Contains(ids, o.ID) && !o.HasRefundInFlight() && plainOrder(o)
	})
	s := m.run(80, 23, o)
	s.switchTo(m, 2, pDR)
	s.openOrder(order.Ref)
	s.keys("f")
	v := s.waitText("Amount (" + order.Currency + ")")
	if !strings.Contains(strings.Join(strings.Fields(v), " "), order.Refundable().String()+" refundable)") {
		t.Fatalf("the note is cut:\n%s", v)
	}
	for _, l := range strings.Split(v, "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			t.Fatalf("a line %d wide in an 80 pane (the terminal cuts it): %q", w, l)
		}
	}
}
