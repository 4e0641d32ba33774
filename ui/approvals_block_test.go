package ui

import (
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"paydesk/api"
)

// slowApprovals is an approval store whose queue read (Recent) waits, once
// armed, until the test releases it: a PostgreSQL query that takes its
// whole deadline.
type slowApprovals struct {
	api.ApprovalStore
	mu      sync.Mutex
	armed   bool
	release chan struct{}
}

func (s *slowApprovals) Recent(closed int) ([]api.Approval, error) {
	s.mu.Lock()
	armed := s.armed
	s.mu.Unlock()
	if armed {
		<-s.release
	}
	return s.ApprovalStore.Recent(closed)
}

func (s *slowApprovals) arm() {
	s.mu.Lock()
	s.armed = true
	s.mu.Unlock()
}

// A slow approval store does not freeze the session: the approval event's
// recount and the approvals screen read it in commands, so keys are handled
// while the read waits, and the badge and the rows appear once it is back.
func TestSlowApprovalStoreDoesNotBlockKeys(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	_, order := h.overLimitOrder()
	d := approvalDeps(h, noAudit)
	slow := &slowApprovals{ApprovalStore: d.Approvals, release: make(chan struct{})}
	d.Approvals = slow
	lead := NewSession(d, testStyles().R, lead1, io.Discard)
	agent := NewSession(d, testStyles().R, desk1, io.Discard)
	defer agent.Close()

	s := h.runSession(lead, 80, 24)
	var once sync.Once
	free := func() { once.Do(func() { close(slow.release) }) }
	// Registered after the session's cleanup, so it runs first: a session
	// stuck in a read must be freed before it can quit.
	t.Cleanup(free)
	s.waitText("loaded")

	slow.arm()
	// The request publishes an approval event: the lead's session reads
	// the store again, and that read now waits.
	askApproval(t, agent, order)
	s.keys("?")
	s.waitText("Keys")
	s.keys("?")
	s.waitFor("help closed", func(v string) bool { return !strings.Contains(v, "Keys") })
	s.keys("A")
	if v := s.waitText("Approval requests"); !strings.Contains(v, "Reading the requests") {
		t.Fatalf("the approvals screen shows rows while its read waits:\n%s", v)
	}

	free()
	s.waitText("1 TO APPROVE")
	s.waitText("expires in 30 min")
}

// historyApprovals records every read of an approval store's whole history
// (List) and the bounds of its queue reads (Recent).
type historyApprovals struct {
	api.ApprovalStore
	mu     sync.Mutex
	whole  int
	bounds []int
}

func (s *historyApprovals) List() ([]api.Approval, error) {
	s.mu.Lock()
	s.whole++
	s.mu.Unlock()
	return s.ApprovalStore.List()
}

func (s *historyApprovals) Recent(closed int) ([]api.Approval, error) {
	s.mu.Lock()
	s.bounds = append(s.bounds, closed)
	s.mu.Unlock()
	return s.ApprovalStore.Recent(closed)
}

// Neither the badge nor the approvals screen reads every request ever
// made: the badge reads the open ones, the screen those and the few closed
// ones it shows, so a session's reads do not grow with history.
func TestApprovalsReadABoundedList(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	_, order := h.overLimitOrder()
	d := approvalDeps(h, noAudit)
	hist := &historyApprovals{ApprovalStore: d.Approvals}
	d.Approvals = hist
	lead := NewSession(d, testStyles().R, lead1, io.Discard)
	agent := NewSession(d, testStyles().R, desk1, io.Discard)
	defer agent.Close()
	s := h.runSession(lead, 80, 24)
	s.waitText("loaded")
	askApproval(t, agent, order)
	s.waitText("1 TO APPROVE")
	s.keys("A")
	s.waitText("expires in 30 min")
	hist.mu.Lock()
	defer hist.mu.Unlock()
	if hist.whole != 0 {
		t.Errorf("the whole history was read %d times", hist.whole)
	}
	if !slices.Contains(hist.bounds, 0) || !slices.Contains(hist.bounds, recentDecided) {
		t.Errorf("queue reads with bounds %v, want the badge's 0 and the screen's %d", hist.bounds, recentDecided)
	}
}
