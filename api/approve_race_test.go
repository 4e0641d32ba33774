package api_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/api/journal"
	"paydesk/model"
)

// The tests in this file are two approvers on one request, each step of the
// race put in order by hand: a hook under one approver's guard runs the
// other approver (or another agent) at the moment the race is lost.

// hooked is a provider whose order read and payment refund first run a hook
// (each at most once): a test's way to step in between the guard's steps.
type hooked struct {
	api.Provider
	read, refund func()
}

func (h hooked) GetOrder(ctx context.Context, id string) (*model.Order, error) {
	if h.read != nil {
		h.read()
	}
	return h.Provider.GetOrder(ctx, id)
}

func (h hooked) RefundPayment(ctx context.Context, orderID, paymentID string, r api.RefundPaymentRequest) (*api.RefundResult, error) {
	if h.refund != nil {
		h.refund()
	}
	return h.Provider.RefundPayment(ctx, orderID, paymentID, r)
}

// sentBeforeACrash stages a request whose approval was recorded and marked
// sent by lead-0, whose process then died before the refund went out:
// through the store's own transitions, the moves Approve makes.
func (e *approvalEnv) sentBeforeACrash(a api.Approval) {
	e.t.Helper()
	lead := api.Person{Name: "lead-0", Role: api.RoleApprover, Fingerprint: "SHA256:lead0"}
	for _, to := range []api.ApprovalState{api.ApprovalApproved, api.ApprovalSent} {
		if _, err := e.store.Transition(a.ID, func(r *api.Approval) error {
			r.State, r.Approver, r.UpdatedAt = to, &lead, e.clock()
			return nil
		}); err != nil {
			e.t.Fatalf("staging %s: %v", to, err)
		}
	}
}

// holdOrder takes the order's journal lock as another paydesk process
// refunding that order would (its own open of the lock file), until release.
func (e *approvalEnv) holdOrder(orderID string) (release func()) {
	e.t.Helper()
	fb, err := journal.OpenFiles(filepath.Join(e.dir, "journal"), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := fb.Lock(journal.Key{Provider: e.cl.ID(), OrderID: orderID}, "desk-9 role=agent key=SHA256:desk9")
	if err != nil {
		e.t.Fatal(err)
	}
	return u.Unlock
}

func backends(t *testing.T, run func(t *testing.T, e *approvalEnv)) {
	for _, shared := range []bool{false, true} {
		name := "per-host file"
		if shared {
			name = "shared store"
		}
		t.Run(name, func(t *testing.T) { run(t, newApprovalEnvOn(t, shared)) })
	}
}

// Two approvers resume one request left sent by a crash. lead-1's resume
// sends the refund and records "succeeded"; lead-2's send finds the order
// busy (another agent's refund on it is in progress) and comes back after
// that. A busy order says nothing about this request: the request stays
// "succeeded" with lead-1's refund, and lead-2 is told the refund went
// through, not that it failed.
func TestBusyResultDoesNotOverwriteTheOutcomeRecorded(t *testing.T) {
	backends(t, func(t *testing.T, e *approvalEnv) {
		o, pm := e.bigOrder("15.00")
		a := e.request(e.as("desk-1", api.RoleAgent, "SHA256:maker"), o, pm, "15.00")
		e.sentBeforeACrash(a)

		var (
			once    sync.Once
			won     *api.RefundResult
			release = func() {}
		)
		defer func() { release() }()
		loser := e.over("", api.Person{Name: "lead-2", Role: api.RoleApprover, Fingerprint: "SHA256:two"}, func(p api.Provider) api.Provider {
			return hooked{Provider: p, refund: func() {
				once.Do(func() {
					res, err := desk(t, e.as("lead-1", api.RoleApprover, "SHA256:one")).Approve(context.Background(), a.ID)
					if err != nil || res == nil || len(res.Refunds) != 1 {
						t.Fatalf("lead-1's resume: %+v, %v", res, err)
					}
					won = res
					release = e.holdOrder(o.ID)
				})
			}}
		})
		_, err := desk(t, loser).Approve(context.Background(), a.ID)
		if won == nil {
			t.Fatal("the race was not run")
		}
		got, _ := e.store.Get(a.ID)
		if got.State != api.ApprovalFinished || got.Outcome != "succeeded" || !slices.Equal(got.RefundIDs, []string{won.Refunds[0].ID}) {
			t.Fatalf("request = %s/%s refunds %v; want finished/succeeded naming %s", got.State, got.Outcome, got.RefundIDs, won.Refunds[0].ID)
		}
		var done *api.ApprovalDoneError
		if !errors.As(err, &done) || !errors.Is(err, api.ErrApprovalState) || done.Approval.Outcome != "succeeded" {
			t.Fatalf("lead-2 was told: %v; want the request's refund went through", err)
		}
		if msg := err.Error(); !strings.Contains(msg, "went through") || !strings.Contains(msg, won.Refunds[0].ID) || strings.Contains(msg, "fail") {
			t.Errorf("lead-2 was told %q", msg)
		}
		if n := e.posts.Load(); n != 1 {
			t.Fatalf("%d refund requests reached the sandbox, want 1", n)
		}
	})
}

// The other order of the same race: lead-2's send finds the order busy
// while lead-1's refund of this very request is in flight. lead-2's busy
// answer must not close the request as failed, or lead-1's "succeeded",
// which is the truth, could no longer be recorded over it.
func TestBusyResultNeverClosesARequestBeingSent(t *testing.T) {
	backends(t, func(t *testing.T, e *approvalEnv) {
		o, pm := e.bigOrder("15.00")
		a := e.request(e.as("desk-1", api.RoleAgent, "SHA256:maker"), o, pm, "15.00")
		e.sentBeforeACrash(a)

		arrived, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		gate := func() { once.Do(func() { close(arrived); <-release }) }
		e.gate.Store(&gate)
		var (
			res  *api.RefundResult
			werr error
			wg   sync.WaitGroup
		)
		wg.Go(func() {
			res, werr = desk(t, e.as("lead-1", api.RoleApprover, "SHA256:one")).Approve(context.Background(), a.ID)
		})
		<-arrived // lead-1's refund is at the provider, the order's lock held

		_, err := desk(t, e.as("lead-2", api.RoleApprover, "SHA256:two")).Approve(context.Background(), a.ID)
		var be *journal.BusyError
		if !errors.As(err, &be) {
			t.Errorf("lead-2 while lead-1's refund is in flight: %v, want the order busy", err)
		}
		if got, _ := e.store.Get(a.ID); got.State != api.ApprovalSent || got.Outcome != "" {
			t.Errorf("after lead-2's busy answer the request is %s/%q, want sent with no outcome", got.State, got.Outcome)
		}
		close(release)
		wg.Wait()
		if werr != nil || res == nil || len(res.Refunds) != 1 {
			t.Fatalf("lead-1: %+v, %v", res, werr)
		}
		got, _ := e.store.Get(a.ID)
		if got.State != api.ApprovalFinished || got.Outcome != "succeeded" || !slices.Equal(got.RefundIDs, []string{res.Refunds[0].ID}) {
			t.Fatalf("request = %s/%s refunds %v; want finished/succeeded naming %s", got.State, got.Outcome, got.RefundIDs, res.Refunds[0].ID)
		}
		if n := e.posts.Load(); n != 1 {
			t.Fatalf("%d refund requests reached the sandbox, want 1", n)
		}
	})
}

// lead-2 opens a request still waiting; while lead-2's guard re-reads the
// order, lead-1 approves it and its refund lands. The order no longer
// matches the request because of the request's own refund: lead-2 is told
// that lead-1's approval went through, not that the order changed and the
// request should be rejected.
func TestApproverOvertakenWhileReadingTheOrderIsToldItWentThrough(t *testing.T) {
	e := newApprovalEnv(t)
	o, pm := e.bigOrder("15.00")
	a := e.request(e.as("desk-1", api.RoleAgent, "SHA256:maker"), o, pm, "15.00")
	var (
		once sync.Once
		won  *api.RefundResult
	)
	loser := e.over("", api.Person{Name: "lead-2", Role: api.RoleApprover, Fingerprint: "SHA256:two"}, func(p api.Provider) api.Provider {
		return hooked{Provider: p, read: func() {
			once.Do(func() {
				res, err := desk(t, e.as("lead-1", api.RoleApprover, "SHA256:one")).Approve(context.Background(), a.ID)
				if err != nil || res == nil || len(res.Refunds) != 1 {
					t.Fatalf("lead-1's approval: %+v, %v", res, err)
				}
				won = res
			})
		}}
	})
	_, err := desk(t, loser).Approve(context.Background(), a.ID)
	if won == nil {
		t.Fatal("the race was not run")
	}
	var done *api.ApprovalDoneError
	if !errors.As(err, &done) || !errors.Is(err, api.ErrApprovalState) || errors.Is(err, api.ErrApprovalChanged) {
		t.Fatalf("lead-2 was told: %v; want lead-1's approval went through", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "lead-1") || !strings.Contains(msg, "went through") || strings.Contains(msg, "reject") {
		t.Errorf("lead-2 was told %q", msg)
	}
	if n := e.posts.Load(); n != 1 {
		t.Fatalf("%d refund requests reached the sandbox, want 1", n)
	}
}

// What an approval's send said about the request itself. Only the
// request's own answer is recorded: a journal refusal before sending (busy,
// an earlier action unresolved, recovery, the audit log) is not, even when
// a provider error about another action rides inside it.
func TestSendOutcomeIsOnlyTheRequestsOwnAnswer(t *testing.T) {
	refused := &api.Error{Provider: "forage", HTTPStatus: 422, Code: "amount_too_large"}
	lostRead := &api.Error{Provider: "forage", Err: errors.New("connection refused"), Retryable: true}
	earlier := journal.Intent{Action: journal.ActionRefundPayment, OrderID: "o1", State: journal.StateSent}
	for _, c := range []struct {
		name    string
		err     error
		outcome string
		ours    bool
	}{
		{"success", nil, "succeeded", true},
		{"provider refused", refused, "failed", true},
		{"provider refused, wrapped once", fmt.Errorf("refund: %w", refused), "failed", true},
		{"refused before sending", api.Invalid("forage", "refund", model.ValidationError{{Field: "amount", Rule: "must be more than zero"}}), "failed", true},
		{"bad amount", &model.AmountError{Input: "0", Rule: "must be more than zero"}, "failed", true},
		{"abandoned before sending", context.Canceled, "failed", true},
		{"lost answer", &api.Error{Provider: "forage", HTTPStatus: 502, Unknown: true}, "unknown", true},
		{"journal: outcome unknown", &journal.IntentError{Intent: journal.Intent{State: journal.StateUnknown}, Err: lostRead}, "unknown", true},
		{"5xx not marked unknown", &api.Error{Provider: "forage", HTTPStatus: 503}, "", false},
		{"order busy", &journal.BusyError{Provider: "forage", OrderID: "o1", Actor: "lead-1"}, "", false},
		{"earlier action unresolved", &journal.IntentError{Intent: earlier, Kind: journal.ErrUnresolved, Err: lostRead}, "", false},
		{"earlier action still being read", &journal.IntentError{Intent: earlier, Err: lostRead}, "", false},
		{"earlier action succeeded", &journal.IntentError{Intent: earlier, Kind: journal.ErrEarlierSucceeded}, "", false},
		{"the key's action already failed", &journal.IntentError{Intent: earlier, Kind: journal.ErrAlreadyFailed}, "failed", true},
		{"the key belongs to another request", &journal.IntentError{Intent: earlier, Kind: journal.ErrKeyReused}, "", false},
		{"recovery running", &journal.RecoveringError{OrderID: "o1", Total: 1}, "", false},
		{"audit log down", &journal.AuditError{Action: "refund", Err: errors.New("disk full")}, "", false},
	} {
		outcome, ours := api.SendOutcome(c.err)
		if ours != c.ours || (ours && outcome != c.outcome) {
			t.Errorf("%s: outcome %q ours %v, want %q %v", c.name, outcome, ours, c.outcome, c.ours)
		}
	}
}

// Every approval store asks the rules again of every row it keeps, whoever
// calls it: a new row is a request waiting with a known maker, a move the
// request's life does not allow is refused, and an outcome once known is
// final (only unknown is replaced when settled). The guard applies the
// same rules first; this is the second line.
func TestEveryApprovalStoreRefusesWhatTheRulesDoNotAllow(t *testing.T) {
	maker := api.Person{Name: "desk-1", Role: api.RoleAgent, Fingerprint: "SHA256:maker"}
	lead := api.Person{Name: "lead-1", Role: api.RoleApprover, Fingerprint: "SHA256:lead"}
	backends(t, func(t *testing.T, e *approvalEnv) {
		now := e.clock()
		req := func(id string) api.Approval {
			return api.Approval{ID: id, Provider: "forage", Action: api.ApprovalRefundPayment, OrderID: "o-" + id, PaymentID: "p1",
				Amount: "15.00", Currency: "USD", IdempotencyKey: "key-" + id, Maker: maker, State: api.ApprovalRequested,
				CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
		}
		nokey := req("nokey")
		nokey.Maker.Fingerprint = ""
		if err := e.store.Create(nokey); err == nil {
			t.Error("a request whose maker has no key was kept")
		}
		sent := req("sent")
		sent.State = api.ApprovalSent
		if err := e.store.Create(sent); err == nil {
			t.Error("a new request already sent was kept")
		}

		move := func(id string, fn func(r *api.Approval)) error {
			_, err := e.store.Transition(id, func(r *api.Approval) error { fn(r); return nil })
			return err
		}
		to := func(st api.ApprovalState) func(r *api.Approval) {
			return func(r *api.Approval) { r.State, r.Approver = st, &lead }
		}
		a := req("a")
		if err := e.store.Create(a); err != nil {
			t.Fatal(err)
		}
		if err := move("a", to(api.ApprovalSent)); !errors.Is(err, api.ErrApprovalState) {
			t.Errorf("requested -> sent: %v", err)
		}
		if err := move("a", func(r *api.Approval) { r.Outcome = "failed" }); !errors.Is(err, api.ErrApprovalState) {
			t.Errorf("an outcome on a request waiting: %v", err)
		}
		if err := move("a", func(r *api.Approval) { r.State, r.Approver = api.ApprovalApproved, &maker }); !errors.Is(err, api.ErrOwnApproval) {
			t.Errorf("approved by its maker: %v", err)
		}
		for _, st := range []api.ApprovalState{api.ApprovalApproved, api.ApprovalSent} {
			if err := move("a", to(st)); err != nil {
				t.Fatalf("-> %s: %v", st, err)
			}
		}
		// Unknown leaves it sent; settled, it finishes.
		if err := move("a", func(r *api.Approval) { r.Outcome = "unknown" }); err != nil {
			t.Fatalf("unknown on a sent request: %v", err)
		}
		if err := move("a", func(r *api.Approval) {
			r.State, r.Outcome, r.RefundIDs = api.ApprovalFinished, "succeeded", []string{"r1"}
		}); err != nil {
			t.Fatalf("succeeded: %v", err)
		}
		for name, fn := range map[string]func(r *api.Approval){
			"failed over succeeded":  func(r *api.Approval) { r.Outcome = "failed" },
			"unknown over succeeded": func(r *api.Approval) { r.Outcome = "unknown" },
			"other refunds":          func(r *api.Approval) { r.RefundIDs = []string{"r2"} },
			"refunds dropped":        func(r *api.Approval) { r.RefundIDs = nil },
		} {
			if err := move("a", fn); !errors.Is(err, api.ErrOutcomeRecorded) {
				t.Errorf("%s: %v, want ErrOutcomeRecorded", name, err)
			}
		}
		if got, _ := e.store.Get("a"); got.State != api.ApprovalFinished || got.Outcome != "succeeded" || !slices.Equal(got.RefundIDs, []string{"r1"}) {
			t.Fatalf("after the refusals: %s/%s %v", got.State, got.Outcome, got.RefundIDs)
		}
	})
}

// A crash after the request's refund was refused by the provider, before the
// request recorded it: resuming finds the key's action already failed in the
// journal. Nothing moved and the key can never move money, so the request
// closes as failed, instead of staying sent for every approver to try again.
func TestResumeAfterTheRefundWasRefusedClosesTheRequest(t *testing.T) {
	e := newApprovalEnv(t)
	o, pm := e.bigOrder("15.00")
	a := e.request(e.as("desk-1", api.RoleAgent, "SHA256:maker"), o, pm, "15.00")
	e.sentBeforeACrash(a)
	// Meanwhile the payment was refunded down to less than the request.
	left := o.RefundableOn(pm)
	part := model.Money{Amount: left.Amount.Sub(model.MustParse("10.00", "USD").Amount), Currency: left.Currency}
	admin := e.as("boss", api.RoleAdmin, "SHA256:admin")
	if _, err := admin.RefundPayment(context.Background(), o.ID, pm.ID, api.RefundPaymentRequest{
		Amount: part, Reason: "partial", IdempotencyKey: "partial-" + a.ID,
	}); err != nil {
		t.Fatal(err)
	}
	// The request's refund went out with its key and was refused; the
	// process died before the request said so.
	m, _ := a.Money()
	lead0 := api.Person{Name: "lead-0", Role: api.RoleApprover, Fingerprint: "SHA256:lead0"}
	_, err := journal.Wrap(e.cl, e.j, lead0.Actor()).RefundPayment(context.Background(), o.ID, pm.ID, api.RefundPaymentRequest{
		IdempotencyKey: a.IdempotencyKey, Amount: m, Reason: a.Reason,
	})
	if s := api.StatusOf(err); s < 400 || s >= 500 {
		t.Fatalf("a refund over what is left: %v, want the provider's refusal", err)
	}
	e.restart()
	_, err = desk(t, e.as("lead-1", api.RoleApprover, "SHA256:one")).Approve(context.Background(), a.ID)
	if err == nil {
		t.Fatal("resuming a refused refund succeeded")
	}
	got, _ := e.store.Get(a.ID)
	if got.State != api.ApprovalFinished || got.Outcome != "failed" {
		t.Fatalf("request = %s/%q after resuming a refused refund (%v), want finished/failed", got.State, got.Outcome, err)
	}
	var done *api.ApprovalDoneError
	if !errors.As(err, &done) || !strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "confirm it again") {
		t.Errorf("lead-1 was told %q; want the request's refund was refused and the request is over", err)
	}
	if n := e.posts.Load(); n != 2 {
		t.Fatalf("%d refund requests reached the sandbox, want 2 (the partial and the refused one)", n)
	}
}
