package journal

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"paydesk/api"
)

// Start-up recovery runs while the console is up: StartRecover returns at
// once with the count of earlier actions to check, their orders refuse money
// actions with a message saying so until each is resolved, and progress and
// completion are reported through the callback.
func TestRecoverInTheBackground(t *testing.T) {
	e := newEnv(t, api.IdempotencyNone)
	e.f.setScript(lost) // applied at the provider, answer lost
	if _, err := e.refund("12.50"); !api.IsOutcomeUnknown(err) {
		t.Fatalf("setup: %v", err)
	}
	e.f.getBlock = make(chan struct{}) // the provider is slow to answer reads

	var (
		mu      sync.Mutex
		reports []RecoveryProgress
		done    = make(chan struct{})
	)
	total, wait := e.j.StartRecover(context.Background(), map[string]api.Provider{"fake": e.f}, func(p RecoveryProgress) {
		mu.Lock()
		reports = append(reports, p)
		mu.Unlock()
		if p.Done {
			close(done)
		}
	})
	if total != 1 {
		t.Fatalf("StartRecover found %d earlier actions, want 1", total)
	}
	// While the check runs, the order refuses money actions, and nothing
	// reaches the provider.
	_, err := e.refund("1.00")
	if !errors.Is(err, ErrRecovering) || !strings.Contains(err.Error(), "checking 1 earlier action") {
		t.Fatalf("refund during recovery: %v, want ErrRecovering naming the check", err)
	}
	if n := len(e.f.Calls()); n != 1 {
		t.Fatalf("%d money calls at the provider, want 1 (the first refund only)", n)
	}
	close(e.f.getBlock)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("recovery never reported completion")
	}
	wait()
	mu.Lock()
	last := reports[len(reports)-1]
	mu.Unlock()
	if last.Total != 1 || last.Checked != 1 || last.Open != 0 || len(last.Outcomes) != 1 ||
		last.Outcomes[0].Intent.State != StateSucceeded {
		t.Fatalf("final report %+v", last)
	}
	// Resolved: the order takes money actions again.
	if _, err := e.refund("1.00"); err != nil {
		t.Fatalf("refund after recovery: %v", err)
	}
}

// Nothing to recover: StartRecover reports completion at once.
func TestRecoverInTheBackgroundNothingToDo(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	var got []RecoveryProgress
	total, wait := e.j.StartRecover(context.Background(), map[string]api.Provider{"fake": e.f}, func(p RecoveryProgress) { got = append(got, p) })
	wait()
	if total != 0 || len(got) != 1 || !got[0].Done || got[0].Total != 0 {
		t.Fatalf("total %d, reports %+v", total, got)
	}
}
