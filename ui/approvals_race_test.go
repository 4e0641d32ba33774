package ui

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"paydesk/api"
)

// racedApprovals is an approval store that, once armed, lets another
// approver finish the request right after the n-th read of it: the row the
// caller got is then already out of date, as when a second approver on
// another host confirms a moment earlier.
type racedApprovals struct {
	api.ApprovalStore
	mu    sync.Mutex
	after int // reads left before the other approver goes; 0: disarmed
	other func()
}

func (s *racedApprovals) Get(id string) (api.Approval, error) {
	a, err := s.ApprovalStore.Get(id)
	s.mu.Lock()
	fire := false
	if s.after > 0 {
		s.after--
		fire = s.after == 0
	}
	other := s.other
	s.mu.Unlock()
	if fire {
		other()
	}
	return a, err
}

func (s *racedApprovals) arm(after int, other func()) {
	s.mu.Lock()
	s.after, s.other = after, other
	s.mu.Unlock()
}

// Two approvers review one request; the other one's approval and its refund
// land between this approver's re-read and their send. The api refuses the
// late one (no money moves twice), and the screen then shows the request as
// it is now, read afresh (approved by whom, the refund that moved, the order
// after it) with no confirmation left to type, and says so once: in the
// body, not again on the status line.
func TestApprovalLostRaceShowsTheRequestAsItIsNow(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ref, order := h.overLimitOrder()
	d := approvalDeps(h, noAudit)
	raced := &racedApprovals{ApprovalStore: d.Approvals}
	d.Approvals = raced
	lead := NewSession(d, testStyles().R, lead1, io.Discard)
	other := NewSession(d, testStyles().R, Identity{Name: "lead-2", Role: api.RoleApprover, Fingerprint: "SHA256:lead2"}, io.Discard)
	defer other.Close()
	agent := NewSession(d, testStyles().R, desk1, io.Discard)
	defer agent.Close()

	s := h.runSession(lead, 80, 24)
	s.waitText("loaded")
	pe := askApproval(t, agent, order)
	s.waitText("1 TO APPROVE")
	s.keys("A")
	s.waitText("expires in 30 min")
	s.keys("enter")
	s.waitText("and press enter to confirm")

	desk, ok := api.DeskOf(other.Context.Providers[0])
	if !ok {
		t.Fatal("the other approver has no approval desk")
	}
	var otherErr error
	// Read 1 is the confirmation's re-read (the request still waits); read
	// 2 is the approval's own: lead-2's approval lands right after it.
	raced.arm(2, func() { _, otherErr = desk.Approve(context.Background(), pe.Approval.ID) })
	s.typeText(confirmWord(order.Ref))
	s.keys("enter")
	v := s.waitText("approved by lead-2")
	if otherErr != nil {
		t.Fatalf("the other approver's approval: %v", otherErr)
	}
	checkGolden(t, "approve_lost_race_80x24", v)
	if strings.Contains(v, "press enter to confirm") || strings.Contains(v, "›  ") {
		t.Fatalf("a finished request is offered for confirmation:\n%s", v)
	}
	after := readOrder(t, h.prov, ref)
	if len(after.Refunds) != 1 {
		t.Fatalf("the sandbox holds %d refunds, want the other approver's one", len(after.Refunds))
	}
	if !strings.Contains(v, after.Refunds[0].ID) {
		t.Fatalf("the screen does not name the refund that moved (%s):\n%s", after.Refunds[0].ID, v)
	}
	if n := strings.Count(v, "lead-2"); n != 1 {
		t.Fatalf("the other approver is named %d times, want once (not again on the status line):\n%s", n, v)
	}
	// enter does nothing now: nothing to confirm, and no second refund.
	s.typeText(confirmWord(order.Ref))
	s.keys("enter")
	s.keys("esc")
	s.waitText("Approval requests")
	if after := readOrder(t, h.prov, ref); len(after.Refunds) != 1 {
		t.Fatalf("the sandbox holds %d refunds after esc, want 1", len(after.Refunds))
	}
}
