package ui

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"paydesk/model"
)

// drWillFail lists the DR sandbox's orders whose refunds fail (the card
// source expired: failureReason expired_or_canceled_card).
func (m *multiHarness) drWillFail() []string {
	m.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, m.drURL+"/sandbox/scenarios", nil)
	req.Header.Set("Authorization", "Bearer sk_test_demo")
	var sc map[string][]string
	if err := doJSON(req, &sc); err != nil {
		m.t.Fatal(err)
	}
	return sc["refund_will_fail"]
}

// refundWholeDROrder refunds all of a Digital River order through the
// refund-all form and its typed confirmation, then moves the sandbox clock
// past the refund's latency so it settles (or fails). The outcome tests
// differ only in the order they pick and what they expect afterwards.
func (s *session) refundWholeDROrder(m *multiHarness, order *model.Order) {
	s.t.Helper()
	s.switchTo(m, pDR, pDR)
	s.openOrder(order.Ref)
	s.refundAllToConfirm("order cancelled by customer")
	s.typeText(confirmWord(order.Ref))
	s.keys("enter")
	s.waitText("requested on order")
	m.clock.Advance(2 * flowLatency)
}

// zeroID replaces the hex digits of a refund id the sandbox mints at random
// (whole, or cut to "re_e4aa4…96ca6fff") with zeros, keeping every width,
// so a golden compares the layout and not the id.
func zeroID(v, id string) string {
	re := regexp.MustCompile(regexp.QuoteMeta(id[:8]) + `[0-9a-f-]*(…[0-9a-f-]*)?`)
	v = re.ReplaceAllStringFunc(v, func(m string) string {
		return "re_" + regexp.MustCompile(`[0-9a-f]`).ReplaceAllString(m[3:], "0")
	})
	// A narrow column keeps only the id's tail ("re_…a4c548").
	return strings.ReplaceAll(v, "…"+id[len(id)-6:], "…000000")
}

// A refund that ends failed is announced as failed, with the provider's
// reason and what to do next, on the order screen, the refund screen and the
// status line; "settled" never stands beside it alone, and "watching them
// settle" does not outlive the settling.
func TestFailedRefundIsAnnouncedAsFailed(t *testing.T) {
	t.Parallel()
	for _, sz := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		t.Run(itoaT(sz.w)+"x"+itoaT(sz.h), func(t *testing.T) {
			t.Parallel()
			o := harnessOpts{refresh: 40 * time.Millisecond}
			m := newMultiHarness(t, o)
			ids := m.drWillFail()
			order := m.find(pDR, func(o *model.Order) bool {
				return slices.Contains(ids, o.ID) && !o.HasRefundInFlight() && o.Refundable().IsPositive()
			})
			s := m.run(sz.w, sz.h, o)
			s.refundWholeDROrder(m, order)
			v := s.waitFor("the failure on the order screen", func(v string) bool {
				return strings.Contains(v, "refund the customer another way") && !strings.Contains(v, "● live") &&
					strings.Contains(statusLine(v), "expired_or_canceled_card")
			})
			name := itoaT(sz.w) + "x" + itoaT(sz.h)
			var newID string
			for _, r := range readOrder(t, m.provs[pDR], order.ID).Refunds {
				if order.Refund(r.ID) == nil {
					newID = r.ID
				}
			}
			if newID == "" {
				t.Fatal("the sandbox holds no new refund")
			}
			checkGolden(t, "failed_refund_order_"+name, zeroID(v, newID))
			if strings.Contains(v, "✓ settled") {
				t.Errorf("“✓ settled” beside a failed refund:\n%s", v)
			}
			if !strings.Contains(v, "✗ settled · 1 refund failed") && !strings.Contains(v, "refunds failed ·") {
				t.Errorf("the badge does not say the refund failed:\n%s", v)
			}
			st := statusLine(v)
			if strings.Contains(st, "watching") || !strings.Contains(st, "failed (expired_or_canceled_card): refund the customer another way") {
				t.Errorf("the status line %q does not say the refund failed", st)
			}

			s.keys("right", "enter")
			v = s.waitText("Last processing error")
			checkGolden(t, "failed_refund_refund_"+name, zeroID(v, newID))
			for _, want := range []string{"✗  FAILED", "expired_or_canceled_card", "refund the customer another way", "yes, it failed", "The money did not go back"} {
				if !strings.Contains(v, want) {
					t.Errorf("the refund screen lacks %q:\n%s", want, v)
				}
			}
			if strings.Contains(v, "✓ settled") || strings.Contains(v, "Settled       yes ") {
				t.Errorf("the refund screen says settled without saying it failed:\n%s", v)
			}
		})
	}
}

// Once every refund an action created has succeeded, the status line says
// so instead of "watching them settle".
func TestSettledRefundReplacesWatchingLine(t *testing.T) {
	t.Parallel()
	o := harnessOpts{refresh: 40 * time.Millisecond}
	m := newMultiHarness(t, o)
	ids := m.drRefundable()
	order := m.find(pDR, func(o *model.Order) bool {
		return slices.Contains(ids, o.ID) && !o.HasRefundInFlight() && plainOrder(o)
	})
	s := m.run(120, 40, o)
	s.refundWholeDROrder(m, order)
	v := s.waitFor("the settled report", func(v string) bool { return strings.Contains(statusLine(v), "settled") })
	if st := statusLine(v); strings.Contains(st, "watching") || !strings.Contains(st, "succeeded") && !strings.Contains(st, "returned") {
		t.Errorf("status line after settling: %q", st)
	}
}

// The order header tells the agent to refund another way only while a
// failed refund has not been made up by a later one from the same payment:
// after that, the advice would invite a second refund.
func TestFailedRefundAdviceEndsWhenMadeUp(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.context(120, 40, harnessOpts{})
	usd := func(s string) model.Money { m, _ := model.ParseAmount(s, "USD"); return m }
	failed := model.Refund{ID: "r1", PaymentID: "p1", Amount: usd("10.00"), Status: model.StatusFailed,
		FailureReason: "expired_or_canceled_card", Created: testStart, Updated: testStart}
	order := &model.Order{ID: "o1", Ref: "o1", Currency: "USD", Status: model.StatusSucceeded, Total: usd("50.00"),
		Payments: []model.Payment{{ID: "p1", Amount: usd("50.00"), Status: model.StatusSucceeded}},
		Refunds:  []model.Refund{failed}}
	s := newOrderScreen(c, 0, "o1").(*orderScreen)
	s.setOrder(order)
	if v := s.View(); !strings.Contains(v, "✗ Refund failed (expired_or_canceled_card): refund the customer another way.") {
		t.Fatalf("a failed refund without the advice:\n%s", v)
	}
	later := model.Refund{ID: "r2", PaymentID: "p1", Amount: usd("10.00"), Status: model.StatusSucceeded,
		Created: testStart.Add(time.Hour), Updated: testStart.Add(time.Hour)}
	order.Refunds = append(order.Refunds, later)
	s.setOrder(order)
	v := s.View()
	if strings.Contains(v, "another way") {
		t.Fatalf("the advice outlived the refund that made up for the failure:\n%s", v)
	}
	if !strings.Contains(v, "✗ settled · 1 refund failed") {
		t.Fatalf("the failure is no longer mentioned at all:\n%s", v)
	}
	rs := newRefundScreen(c, 0, order, "r1").(*refundScreen)
	rs.SetSize(120, 38)
	if v := rs.View(); strings.Contains(v, "another way") || !strings.Contains(v, "A later refund from the same payment covers it") {
		t.Fatalf("the refund screen of a made-up failure:\n%s", v)
	}
}
