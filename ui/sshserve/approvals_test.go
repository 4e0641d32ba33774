package sshserve

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"paydesk/api"
	"paydesk/api/journal"
	"paydesk/model"
)

// auditLines collects what the journal and the approvals write to the
// audit log.
type auditLines struct {
	mu    sync.Mutex
	lines []journal.AuditRecord
}

func (a *auditLines) Audit(r journal.AuditRecord) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lines = append(a.lines, r)
	return nil
}

func (a *auditLines) all() []journal.AuditRecord {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]journal.AuditRecord(nil), a.lines...)
}

// withApprovals is serve's wiring of approvals: one journal, one store, one
// bus and one audit log for every session, and a low limit (the sandbox's
// EBT orders are small).
func withApprovals(t *testing.T, au *auditLines, store **api.FileApprovals) func(*Config) {
	return func(c *Config) {
		dir := t.TempDir()
		j, err := journal.Open(journal.Options{Dir: filepath.Join(dir, "journal"), Auditor: au})
		if err != nil {
			t.Fatal(err)
		}
		st, err := api.OpenApprovals(filepath.Join(dir, "approvals.json"))
		if err != nil {
			t.Fatal(err)
		}
		*store = st
		c.Deps.Journal, c.Deps.Approvals, c.Deps.ApprovalAudit, c.Deps.Bus = j, st, au, api.NewBus()
		c.Deps.NewKey = uuid.NewString
		c.Deps.RefundLimits = api.RefundLimits{Default: model.MustParse("5.00", "USD").Amount}
	}
}

// refundableOrder is an order with more than min left to refund and
// nothing in flight.
func (ts *testServer) refundableOrder(min string) *model.Order {
	ts.t.Helper()
	ctx := context.Background()
	q := api.OrderQuery{From: time.Now().Add(-90 * 24 * time.Hour), To: time.Now()}
	floor := model.MustParse(min, "USD").Amount
	for {
		pg, err := ts.client.ListOrders(ctx, q)
		if err != nil {
			ts.t.Fatal(err)
		}
		for _, s := range pg.Orders {
			o, err := ts.client.GetOrder(ctx, s.ID)
			if err != nil {
				ts.t.Fatal(err)
			}
			if o.Status == model.StatusSucceeded && len(o.Refunds) == 0 && !o.HasRefundInFlight() &&
				o.Refundable().Currency == "USD" && o.Refundable().Amount.GreaterThan(floor) {
				return o
			}
		}
		if pg.Next == "" {
			ts.t.Fatalf("no sandbox order has more than %s USD to refund", min)
		}
		q.Cursor = pg.Next
	}
}

func word(ref string) string {
	if len(ref) > 12 {
		return ref[len(ref)-6:]
	}
	return ref
}

// refundAllToConfirmation opens the refund-all form on the order on screen,
// types reason and goes on to the typed confirmation, as every approval
// test over SSH does before the agent confirms.
func (tm *term) refundAllToConfirmation(reason string) string {
	tm.t.Helper()
	tm.send("R")
	tm.waitText("Refund the entire order")
	tm.send(reason)
	return tm.toConfirmation()
}

// toConfirmation presses enter through a form until its typed confirmation
// is on screen.
func (tm *term) toConfirmation() string {
	tm.t.Helper()
	for range 8 {
		tm.send("\r")
		deadline := time.Now().Add(time.Second)
		for time.Now().Before(deadline) {
			if v := tm.screen(); strings.Contains(v, "and press enter to confirm") {
				return v
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	tm.t.Fatalf("the form never reached its confirmation:\n%s", tm.screen())
	return ""
}

// The walkthrough of issue 12 over real SSH: an agent's whole-order refund
// above their limit waits for approval (nothing reaches the provider); an
// approver sees it live, approves it from their own session through the
// typed confirmation; the money moves once; the agent's session, showing the
// order, sees the refund without pressing a key; the audit log names both.
func TestAgentRefundOverLimitIsApprovedFromAnotherSession(t *testing.T) {
	ag, ap := newKey(t), newKey(t)
	au := &auditLines{}
	var store *api.FileApprovals
	ts := startServer(t, usersLine("desk-1", "agent", ag)+usersLine("lead-1", "approver", ap), withApprovals(t, au, &store))
	o := ts.refundableOrder("5.00")

	lead := ts.open(ap, "anything")
	lead.waitText("loaded")
	if strings.Contains(lead.screen(), "TO APPROVE") {
		t.Fatalf("a badge with nothing to approve:\n%s", lead.screen())
	}

	desk := ts.openOrder(ag, "root", o)
	desk.refundAllToConfirmation("customer returned everything")
	desk.send(word(o.Ref) + "\r")
	desk.waitText("Sent for approval")
	if n := ts.refunds.Load(); n != 0 {
		t.Fatalf("%d refund requests reached the provider before approval", n)
	}
	if strings.Contains(desk.screen(), "approvals") {
		t.Errorf("an agent is offered the approvals key:\n%s", desk.screen())
	}
	// The agent's A does nothing: the screen is for approvers.
	desk.send("A")
	time.Sleep(300 * time.Millisecond)
	if strings.Contains(desk.screen(), "Approval requests") {
		t.Fatalf("an agent opened the approvals screen:\n%s", desk.screen())
	}

	lead.waitText("1 TO APPROVE")
	lead.send("A")
	lead.waitText("expires in") // a requested row: the list is read after the title shows
	lead.send("\r")
	v := lead.waitText("and press enter to confirm")
	total := o.Refundable()
	for _, want := range []string{"Approve refund requested by desk-1", "Refund the whole order " + o.Ref, total.Fixed() + " USD"} {
		if !strings.Contains(v, want) {
			t.Fatalf("the approval's confirmation lacks %q:\n%s", want, v)
		}
	}
	lead.send(word(o.Ref) + "\r")
	lead.waitText("Approved and sent")
	if n := ts.refunds.Load(); n != 1 {
		t.Fatalf("%d refund requests reached the provider, want 1", n)
	}
	// Fan-out: the agent's order screen reads the order again by itself.
	desk.waitText("Refunds (")
	deadline := time.Now().Add(10 * time.Second)
	for strings.Contains(desk.screen(), "Refunds (0)") {
		if time.Now().After(deadline) {
			t.Fatalf("the agent's session never showed the approved refund:\n%s", desk.screen())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(lead.screen(), "TO APPROVE") {
		t.Errorf("the badge stayed after the approval:\n%s", lead.screen())
	}

	// The audit log names both, on the approval's line.
	var approved, sent bool
	for _, l := range au.all() {
		if strings.HasPrefix(l.Action, "approval_approved") {
			approved = strings.HasPrefix(l.Actor, "lead-1 role=approver") && strings.Contains(l.Actor, "maker desk-1 role=agent")
		}
		if l.Action == "refund_order" && l.Outcome == journal.StateSucceeded {
			sent = strings.HasPrefix(l.Actor, "lead-1")
		}
	}
	if !approved || !sent {
		t.Fatalf("audit lines do not name both (approved=%v, sent by the approver=%v):\n%+v", approved, sent, au.all())
	}
	list, _ := store.List()
	if len(list) != 1 || list[0].State != api.ApprovalFinished || list[0].Outcome != "succeeded" {
		t.Fatalf("requests: %+v", list)
	}
}

// The maker's own approval is refused in the api layer even when they hold
// the approver role: another key with the same name is still the maker.
func TestMakerCannotApproveOverSSH(t *testing.T) {
	laptop, desktop := newKey(t), newKey(t)
	au := &auditLines{}
	var store *api.FileApprovals
	ts := startServer(t, usersLine("lead-1", "approver", laptop)+usersLine("lead-1", "approver", desktop), withApprovals(t, au, &store))
	o := ts.refundableOrder("5.00")

	a := ts.openOrder(laptop, "x", o)
	a.refundAllToConfirmation("goodwill")
	a.send(word(o.Ref) + "\r")
	a.waitText("Sent for approval")

	for _, k := range []key{laptop, desktop} {
		tm := ts.open(k, "x")
		tm.waitText("1 TO APPROVE")
		tm.send("A")
		tm.waitText("expires in") // a requested row: the list is read after the title shows
		tm.send("\r")
		tm.waitText("cannot approve it")
		tm.send("q")
	}
	if n := ts.refunds.Load(); n != 0 {
		t.Fatalf("%d refund requests reached the provider", n)
	}
	list, _ := store.List()
	if len(list) != 1 || list[0].State != api.ApprovalRequested {
		t.Fatalf("requests: %+v", list)
	}
}
