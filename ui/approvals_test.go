package ui

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest"

	"paydesk/api"
	"paydesk/api/journal"
	"paydesk/model"
)

// approvalDeps are serve's shared services over the harness's sandbox, with
// deterministic ids and a low limit (the sandbox's EBT orders are small).
func approvalDeps(h *harness, au journal.Auditor) Deps {
	var mu sync.Mutex
	n := 0
	store, err := api.OpenApprovals("")
	if err != nil {
		h.t.Fatal(err)
	}
	return Deps{
		Providers: []api.Provider{h.prov}, Sandbox: true, Refresh: time.Hour, Timeout: 5 * time.Second,
		Now: h.clock.Now,
		NewKey: func() string {
			mu.Lock()
			defer mu.Unlock()
			n++
			return fmt.Sprintf("0199a000-0000-7000-8000-%012d", n)
		},
		RefundLimits: api.RefundLimits{Default: model.MustParse("5.00", "USD").Amount},
		Approvals:    store, ApprovalAudit: au, Bus: api.NewBus(),
	}
}

// The approver and the agent most approval tests play.
var (
	lead1 = Identity{Name: "lead-1", Role: api.RoleApprover, Fingerprint: "SHA256:lead"}
	desk1 = Identity{Name: "desk-1", Role: api.RoleAgent, Fingerprint: "SHA256:desk"}
)

// noAudit takes the audit lines of tests that do not look at them.
var noAudit = journal.AuditorFunc(func(journal.AuditRecord) error { return nil })

// overLimitOrder picks an order an agent cannot refund whole without an
// approval: refundable, nothing refunded yet, and more than the 5.00 limit
// approvalDeps sets. It returns the order's ref and the order read afresh.
func (h *harness) overLimitOrder() (string, *model.Order) {
	h.t.Helper()
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Refunds) == 0 && o.Refundable().Amount.GreaterThan(model.MustParse("5.00", "USD").Amount)
	})
	return ref, readOrder(h.t, h.prov, ref)
}

// askApproval has the agent refund the whole of an over-limit order: the
// api turns it into a request for an approver, which it returns.
func askApproval(t *testing.T, agent *Session, order *model.Order) *api.PendingApprovalError {
	t.Helper()
	_, err := agent.Context.Providers[0].RefundOrder(context.Background(), order.ID, api.RefundOrderRequest{
		Expected: order.Refundable(), Reason: "customer returned everything", IdempotencyKey: "form-key",
	})
	pe, ok := api.AsPendingApproval(err)
	if !ok {
		t.Fatalf("an agent's refund above the limit: %v", err)
	}
	return pe
}

// runSession runs a session built by NewSession, as serve builds it.
func (h *harness) runSession(sess *Session, w, ht int) *session {
	h.t.Helper()
	tm := teatest.NewTestModel(h.t, probe{app: sess.App}, teatest.WithInitialTermSize(w, ht))
	s := &session{t: h.t, tm: tm, h: h}
	h.t.Cleanup(func() { _ = tm.Quit(); sess.Close() })
	return s
}

// The approver's side in one console: the badge appears when an agent's
// over-limit refund becomes a request, A lists it, enter shows what will
// move on the refund's typed confirmation, and confirming moves it once.
func TestApproverSeesTheBadgeAndApprovesOnTheTypedConfirmation(t *testing.T) {
	o := harnessOpts{}
	h := newHarness(t, o)
	ref, order := h.overLimitOrder()
	var lines []journal.AuditRecord
	var mu sync.Mutex
	d := approvalDeps(h, journal.AuditorFunc(func(r journal.AuditRecord) error {
		mu.Lock()
		lines = append(lines, r)
		mu.Unlock()
		return nil
	}))
	lead := NewSession(d, testStyles().R, lead1, io.Discard)
	agent := NewSession(d, testStyles().R, desk1, io.Discard)
	defer agent.Close()

	s := h.runSession(lead, 80, 24)
	v := s.waitText("loaded")
	if strings.Contains(v, "TO APPROVE") {
		t.Fatalf("a badge with nothing to approve:\n%s", v)
	}
	askApproval(t, agent, order)
	s.waitText("1 TO APPROVE")
	s.keys("A")
	// The rows come from a read in a command: wait for them, not the title.
	checkGolden(t, "approvals_80x24", s.waitText("expires in 30 min"))
	s.keys("enter")
	v = s.waitText("and press enter to confirm")
	checkGolden(t, "approve_confirm_80x24", v)
	s.typeText(confirmWord(order.Ref))
	s.keys("enter")
	s.waitText("Approved and sent")
	s.waitFor("the badge gone", func(v string) bool { return !strings.Contains(v, "TO APPROVE") })
	if after := readOrder(t, h.prov, ref); len(after.Refunds) != 1 || !after.Refunds[0].Amount.Amount.Equal(order.Refundable().Amount) {
		t.Fatalf("the sandbox holds %d refunds, want one of %s", len(after.Refunds), order.Refundable())
	}
	mu.Lock()
	defer mu.Unlock()
	var got []string
	for _, l := range lines {
		got = append(got, l.Action+" by "+strings.SplitN(l.Actor, " ", 2)[0])
	}
	want := "approval_requested refund_order by desk-1,approval_approved refund_order by lead-1,approval_sent refund_order by lead-1,approval_finished refund_order by lead-1"
	if strings.Join(got, ",") != want {
		t.Fatalf("audit lines:\n%s\nwant\n%s", strings.Join(got, ","), want)
	}
}

// An agent has no approvals key, in the footer, in help or on A.
func TestAgentHasNoApprovals(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	d := approvalDeps(h, noAudit)
	agent := NewSession(d, testStyles().R, desk1, io.Discard)
	s := h.runSession(agent, 80, 24)
	s.waitText("loaded")
	s.keys("A", "?")
	v := s.waitText("Keys")
	if strings.Contains(v, "approvals") || strings.Contains(v, "Approval requests") {
		t.Fatalf("an agent is offered approvals:\n%s", v)
	}
	lead := NewSession(d, testStyles().R, lead1, io.Discard)
	s = h.runSession(lead, 80, 24)
	s.waitText("loaded")
	s.keys("?")
	if v := s.waitText("Keys"); !regexp.MustCompile(`\bA +approvals`).MatchString(v) {
		t.Fatalf("an approver's help does not list A:\n%s", v)
	}
}

// A refund made in one session shows in another session's payment screen
// at once, with no key pressed and no poll due (the refresh is an hour).
func TestRefundInOneSessionShowsInAnother(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Refunds) == 0 && len(o.Payments) == 1
	})
	order := readOrder(t, h.prov, ref)
	d := approvalDeps(h, noAudit)
	watcher := NewSession(d, testStyles().R, Identity{Name: "audit-1", Role: api.RoleViewer, Fingerprint: "SHA256:view"}, io.Discard)
	agent := NewSession(d, testStyles().R, desk1, io.Discard)
	defer agent.Close()
	s := h.runSession(watcher, 80, 24)
	s.openOrder(ref)
	pm := order.Payments[0]
	s.keys("enter")
	// Its own first read done ("updated …"), so nothing else reads again.
	s.waitFor("the payment screen, read, with no refunds", func(v string) bool {
		return strings.Contains(v, "› Payment "+pm.ID) && strings.Contains(v, "Refunds (0)") && strings.Contains(v, "updated")
	})
	// Every read the screens asked for is answered: the refund below must
	// not be picked up by one still on its way.
	reads := h.prov.(*countingProvider)
	for last := int64(-1); last != reads.getOrder.Load(); {
		last = reads.getOrder.Load()
		time.Sleep(300 * time.Millisecond)
	}
	before := reads.getOrder.Load()
	if _, err := agent.Context.Providers[0].RefundPayment(context.Background(), order.ID, pm.ID, api.RefundPaymentRequest{
		Amount: model.MustParse("1.00", pm.Amount.Currency), Reason: "goodwill", IdempotencyKey: "k-fanout",
	}); err != nil {
		t.Fatal(err)
	}
	s.waitFor("the payment screen with the refund", func(v string) bool {
		return strings.Contains(v, "› Payment "+pm.ID) && strings.Contains(v, "Refunds (1)")
	})
	if n := reads.getOrder.Load() - before; n > 2 {
		t.Errorf("%d order reads after one refund, want at most 2 (the guard's and the screen's)", n)
	}
}
