// Package storetest is the conformance suite every store.Store runs: the
// files store and the PostgreSQL store pass the same tests.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/api/audit"
	"paydesk/api/journal"
	"paydesk/api/store"
	"paydesk/model"
)

// Open returns two instances of one store (two processes' or two hosts'
// view of the same state), closed by the test's cleanup.
type Open func(t *testing.T) (a, b store.Store)

// Run runs the whole suite.
func Run(t *testing.T, open Open) {
	t.Run("Intents", func(t *testing.T) { testIntents(t, open) })
	t.Run("AccountsDoNotShare", func(t *testing.T) { testAccounts(t, open) })
	t.Run("Locks", func(t *testing.T) { testLocks(t, open) })
	t.Run("Approvals", func(t *testing.T) { testApprovals(t, open) })
	t.Run("APIApprovals", func(t *testing.T) { testAPIApprovals(t, open) })
	t.Run("ApprovalStore", func(t *testing.T) { RunApprovalStore(t, apiOpen(open)) })
	t.Run("AuditChain", func(t *testing.T) { testAudit(t, open) })
	t.Run("Notifications", func(t *testing.T) { testEvents(t, open) })
	t.Run("BusBridge", func(t *testing.T) { testBridge(t, open) })
}

func intent(id, account, order string, st journal.State) *journal.Intent {
	now := time.Now().UTC()
	return &journal.Intent{ID: id, Provider: "forage", Account: account, Action: journal.ActionRefundPayment,
		OrderID: order, PaymentID: "p1", Amount: "1.00", Currency: "USD", IdempotencyKey: "k-" + id,
		Actor: "alice", State: st, CreatedAt: now, UpdatedAt: now}
}

func testIntents(t *testing.T, open Open) {
	a, b := open(t)
	in := intent("i1", "acct-1", "o1", journal.StatePrepared)
	if err := a.Journal().Append(in); err != nil {
		t.Fatal(err)
	}
	in.State = journal.StateSent
	if err := a.Journal().Append(in); err != nil {
		t.Fatal(err)
	}
	got, err := b.Journal().Load(journal.Key{Provider: "forage", Account: "acct-1", OrderID: "o1"})
	if err != nil || len(got) != 1 || got[0].State != journal.StateSent || got[0].IdempotencyKey != "k-i1" {
		t.Fatalf("other instance loads %+v, %v; want the one intent at sent", got, err)
	}
	un, err := b.Journal().Unresolved()
	if err != nil || len(un) != 1 || un[0].ID != "i1" {
		t.Fatalf("unresolved = %+v, %v", un, err)
	}
	in.State = journal.StateSucceeded
	if err := b.Journal().Append(in); err != nil {
		t.Fatal(err)
	}
	if un, _ := a.Journal().Unresolved(); len(un) != 0 {
		t.Fatalf("unresolved after success = %+v", un)
	}
}

// Two accounts of one provider (two Forage merchants) never see each
// other's intents or locks for the same order id.
func testAccounts(t *testing.T, open Open) {
	a, b := open(t)
	if err := a.Journal().Append(intent("i1", "https://api.example|m1", "o1", journal.StateSent)); err != nil {
		t.Fatal(err)
	}
	got, err := b.Journal().Load(journal.Key{Provider: "forage", Account: "https://api.example|m2", OrderID: "o1"})
	if err != nil || len(got) != 0 {
		t.Fatalf("account m2 sees %+v, %v", got, err)
	}
	l1, err := a.Journal().Lock(journal.Key{Provider: "forage", Account: "https://api.example|m1", OrderID: "o1"}, "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer l1.Unlock()
	l2, err := b.Journal().Lock(journal.Key{Provider: "forage", Account: "https://api.example|m2", OrderID: "o1"}, "bob")
	if err != nil {
		t.Fatalf("another account's order with the same id is busy: %v", err)
	}
	l2.Unlock()
}

func testLocks(t *testing.T, open Open) {
	a, b := open(t)
	k := journal.Key{Provider: "forage", Account: "acct", OrderID: "o-lock"}
	// Both instances race for the lock: exactly one wins, the other is told
	// who holds it.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []journal.Unlocker
		busy    []*journal.BusyError
	)
	for i, s := range []store.Store{a, b, a, b} {
		wg.Go(func() {
			l, err := s.Journal().Lock(k, fmt.Sprintf("desk-%d", i))
			mu.Lock()
			defer mu.Unlock()
			var be *journal.BusyError
			switch {
			case err == nil:
				winners = append(winners, l)
			case errors.As(err, &be):
				busy = append(busy, be)
			default:
				t.Errorf("lock: %v", err)
			}
		})
	}
	wg.Wait()
	if len(winners) != 1 || len(busy) != 3 {
		t.Fatalf("%d holders and %d told busy, want 1 and 3", len(winners), len(busy))
	}
	for _, be := range busy {
		if !strings.Contains(be.Error(), "desk-") {
			t.Errorf("busy message does not name the holder: %q", be.Error())
		}
	}
	winners[0].Unlock()
	l, err := b.Journal().Lock(k, "desk-9")
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	l.Unlock()
}

func testApprovals(t *testing.T, open Open) {
	a, b := open(t)
	req, err := a.Approvals().Request(store.Approval{Provider: "forage", Action: "refund_payment", OrderID: "o1", PaymentID: "p1",
		Amount: "250.00", Currency: "USD", Maker: "desk-1", MakerKey: "SHA256:maker"})
	if err != nil {
		t.Fatal(err)
	}
	if req.State != store.ApprovalRequested || req.IdempotencyKey == "" {
		t.Fatalf("request = %+v", req)
	}
	pending, err := b.Approvals().List(store.ApprovalRequested)
	if err != nil || len(pending) != 1 || pending[0].ID != req.ID {
		t.Fatalf("other instance's queue = %+v, %v", pending, err)
	}
	if _, err := b.Approvals().Decide(req.ID, "desk-1", "SHA256:other", true); !errors.Is(err, store.ErrOwnApproval) {
		t.Fatalf("maker's name approving: %v", err)
	}
	if _, err := b.Approvals().Decide(req.ID, "boss", "SHA256:maker", true); !errors.Is(err, store.ErrOwnApproval) {
		t.Fatalf("maker's key approving: %v", err)
	}
	got, err := b.Approvals().Decide(req.ID, "boss", "SHA256:boss", true)
	if err != nil || got.State != store.ApprovalApproved || got.Approver != "boss" {
		t.Fatalf("approve = %+v, %v", got, err)
	}
	if _, err := a.Approvals().Decide(req.ID, "boss2", "SHA256:boss2", false); !errors.Is(err, store.ErrApprovalState) {
		t.Fatalf("deciding twice: %v", err)
	}
	// Two servers race to send the approved action: one wins.
	var wins int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, s := range []store.Store{a, b, a, b} {
		wg.Go(func() {
			if _, err := s.Approvals().MarkSent(req.ID, "boss"); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrApprovalState) {
				t.Errorf("mark sent: %v", err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d senders won, want 1", wins)
	}
	fin, err := a.Approvals().MarkOutcome(req.ID, "boss", "succeeded")
	if err != nil || fin.State != store.ApprovalFinished || fin.Outcome != "succeeded" || fin.IdempotencyKey != req.IdempotencyKey {
		t.Fatalf("outcome = %+v, %v", fin, err)
	}
	// Expiry: a request past its time cannot be approved.
	old, err := a.Approvals().Request(store.Approval{Provider: "forage", Action: "refund_order", OrderID: "o2",
		Amount: "900.00", Currency: "USD", Maker: "desk-1", MakerKey: "SHA256:maker", ExpiresAt: time.Now().Add(-time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Approvals().Decide(old.ID, "boss", "SHA256:boss", true); !errors.Is(err, store.ErrApprovalExpired) || got.State != store.ApprovalExpired {
		t.Fatalf("approving an expired request: %+v, %v", got, err)
	}
	late, _ := a.Approvals().Request(store.Approval{Provider: "forage", Action: "refund_order", OrderID: "o3",
		Amount: "900.00", Currency: "USD", Maker: "desk-1", MakerKey: "SHA256:maker", ExpiresAt: time.Now().Add(-time.Second)})
	exp, err := b.Approvals().ExpireDue()
	if err != nil || len(exp) != 1 || exp[0].ID != late.ID {
		t.Fatalf("expire due = %+v, %v", exp, err)
	}
}

func entry(actor string, i int) audit.Entry {
	return audit.Entry{Actor: actor, Provider: "forage", Action: "refund_payment", OrderRef: fmt.Sprintf("o%d", i),
		Amount: "1.00", Currency: "USD", Outcome: audit.Succeeded}
}

func testAudit(t *testing.T, open Open) {
	a, b := open(t)
	const each = 15
	var wg sync.WaitGroup
	for _, s := range []store.Store{a, b} {
		for w := range 2 {
			wg.Go(func() {
				for i := range each {
					if err := s.Audit().Append(entry(fmt.Sprintf("w%d", w), i)); err != nil {
						t.Errorf("append: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	ctx := context.Background()
	n, head, err := b.Audit().Verify(ctx, audit.Anchor{})
	if err != nil || n != 4*each || head.Lines != 4*each {
		t.Fatalf("verify after concurrent appends: %d lines, head %v, %v; want one chain of %d", n, head, err, 4*each)
	}
	if _, _, err := a.Audit().Verify(ctx, head); err != nil {
		t.Fatalf("verify against its own head: %v", err)
	}
	if err := a.Audit().Append(entry("x", 99)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Audit().Verify(ctx, audit.Anchor{Hash: strings.Repeat("a", 64), Lines: head.Lines}); err == nil {
		t.Fatal("verify against a wrong anchor passed")
	}
	if err := a.Audit().Append(audit.Entry{Provider: "forage", Action: "x", Outcome: audit.Succeeded}); err == nil {
		t.Fatal("an entry without an actor was appended")
	}
}

func testEvents(t *testing.T, open Open) {
	a, b := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	from, err := b.Events().Head()
	if err != nil {
		t.Fatal(err)
	}
	sub := b.Events().Subscribe(ctx, from)
	// An intent recorded on one instance is a refund-status event on the other.
	if err := a.Journal().Append(intent("ev1", "acct", "o-ev", journal.StateSent)); err != nil {
		t.Fatal(err)
	}
	req, err := a.Approvals().Request(store.Approval{Provider: "forage", Action: "refund_order", OrderID: "o-ev",
		Amount: "500.00", Currency: "USD", Maker: "m", MakerKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"intent/sent", "approval/requested"}
	var last int64
	for _, w := range want {
		select {
		case e := <-sub:
			if got := e.Kind + "/" + e.State; got != w || e.OrderID != "o-ev" {
				t.Fatalf("event %+v, want %s on o-ev", e, w)
			}
			if e.Seq <= last {
				t.Fatalf("seq %d after %d", e.Seq, last)
			}
			last = e.Seq
		case <-time.After(10 * time.Second):
			t.Fatalf("no %s event within 10s", w)
		}
	}
	// Catch-up: events published while nobody listened arrive, in order,
	// to a subscriber that starts from the last seq it saw.
	cancel()
	if _, err := a.Approvals().Decide(req.ID, "boss", "kb", false); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	sub2 := b.Events().Subscribe(ctx2, last)
	select {
	case e := <-sub2:
		if e.Kind != store.KindApproval || e.State != string(store.ApprovalRejected) || e.Seq != last+1 {
			t.Fatalf("catch-up event %+v, want approval/rejected at seq %d", e, last+1)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("missed event not delivered after resubscribing")
	}
}

// The api layer's approvals kept in the store: what one instance records,
// the other reads whole (metadata, roles, order ref), and transitions race
// across instances with one winner.
func testAPIApprovals(t *testing.T, open Open) {
	a, b := open(t)
	x, y := store.ForAPI(a.Approvals()), store.ForAPI(b.Approvals())
	now := time.Now().UTC().Truncate(time.Millisecond)
	maker := api.Person{Name: "desk-1", Role: api.RoleAgent, Fingerprint: "SHA256:maker"}
	req := api.Approval{ID: "ap-1", Provider: "forage", Account: "acct", Action: api.ApprovalRefundPayment,
		OrderID: "o1", OrderRef: "R-1", PaymentID: "p1", Amount: "250.00", Currency: "USD", Reason: "damaged",
		Metadata: model.Metadata{"ticket": "T-9"}, ExternalOrderID: "ext-1", IdempotencyKey: "key-1",
		Maker: maker, State: api.ApprovalRequested, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := x.Create(req); err != nil {
		t.Fatal(err)
	}
	if err := y.Create(req); err == nil {
		t.Fatal("a second request with the same id was recorded")
	}
	got, err := y.Get("ap-1")
	if err != nil || got.Maker != maker || got.Metadata["ticket"] != "T-9" || got.OrderRef != "R-1" ||
		got.ExternalOrderID != "ext-1" || got.IdempotencyKey != "key-1" || !got.ExpiresAt.Equal(req.ExpiresAt) {
		t.Fatalf("other instance reads %+v, %v; want the request as made", got, err)
	}
	if all, err := y.List(); err != nil || len(all) != 1 || all[0].ID != "ap-1" {
		t.Fatalf("other instance lists %+v, %v", all, err)
	}
	// The maker approving their own, under another key or another name, is
	// refused by the store whatever the caller checked.
	for _, me := range []api.Person{{Name: "desk-1", Role: api.RoleApprover, Fingerprint: "SHA256:other"},
		{Name: "boss", Role: api.RoleApprover, Fingerprint: "SHA256:maker"}} {
		_, err := y.Transition("ap-1", func(r *api.Approval) error {
			r.State, r.Approver = api.ApprovalApproved, &me
			return nil
		})
		if !errors.Is(err, api.ErrOwnApproval) {
			t.Fatalf("approved by %+v: %v, want ErrOwnApproval", me, err)
		}
	}
	// An approver with no key (an identity not filled in) is not a second
	// person: an empty key differs from the maker's but proves nothing.
	for _, nobody := range []api.Person{{Name: "boss", Role: api.RoleApprover}, {Fingerprint: "SHA256:boss", Role: api.RoleApprover}} {
		_, err := y.Transition("ap-1", func(r *api.Approval) error {
			r.State, r.Approver = api.ApprovalApproved, &nobody
			return nil
		})
		if !errors.Is(err, store.ErrNoApprover) {
			t.Fatalf("approved by %+v: %v, want ErrNoApprover", nobody, err)
		}
	}
	if got, _ := x.Get("ap-1"); got.State != api.ApprovalRequested || got.Approver != nil {
		t.Fatalf("a refused transition changed the row: %+v", got)
	}
	// Two approvers on two instances at once: one approves.
	approve := func(s api.ApprovalStore, name string) error {
		me := api.Person{Name: name, Role: api.RoleApprover, Fingerprint: "SHA256:" + name}
		_, err := s.Transition("ap-1", func(r *api.Approval) error {
			if r.State != api.ApprovalRequested {
				return fmt.Errorf("%w: it is already %s", api.ErrApprovalState, r.State)
			}
			r.State, r.Approver = api.ApprovalApproved, &me
			return nil
		})
		return err
	}
	race := func(f func(s api.ApprovalStore, i int) error) (wins int) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i, s := range []api.ApprovalStore{x, y, x, y} {
			wg.Go(func() {
				err := f(s, i)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, api.ErrApprovalState):
					t.Errorf("transition: %v", err)
				}
			})
		}
		wg.Wait()
		return wins
	}
	if n := race(func(s api.ApprovalStore, i int) error { return approve(s, fmt.Sprintf("boss-%d", i)) }); n != 1 {
		t.Fatalf("%d approvers won, want 1", n)
	}
	got, _ = y.Get("ap-1")
	if got.State != api.ApprovalApproved || got.Approver == nil || got.Approver.Role != api.RoleApprover {
		t.Fatalf("after the race: %+v", got)
	}
	// Only one server marks it sent.
	send := func(s api.ApprovalStore, _ int) error {
		_, err := s.Transition("ap-1", func(r *api.Approval) error {
			if r.State != api.ApprovalApproved {
				return fmt.Errorf("%w: it is %s", api.ErrApprovalState, r.State)
			}
			r.State = api.ApprovalSent
			return nil
		})
		return err
	}
	if n := race(send); n != 1 {
		t.Fatalf("%d servers marked it sent, want 1", n)
	}
	fin, err := x.Transition("ap-1", func(r *api.Approval) error {
		r.State, r.Outcome, r.RefundIDs = api.ApprovalFinished, "succeeded", []string{"rf-1"}
		return nil
	})
	if err != nil || fin.State != api.ApprovalFinished || fin.IdempotencyKey != "key-1" {
		t.Fatalf("finish: %+v, %v", fin, err)
	}
	// The refunds it made are read by every instance (what an approver
	// who lost the race is shown).
	if got, err := y.Get("ap-1"); err != nil || len(got.RefundIDs) != 1 || got.RefundIDs[0] != "rf-1" {
		t.Fatalf("other instance reads the finished request as %+v, %v; want refund rf-1 on it", got, err)
	}
	// A finished request never goes back, whatever the caller asks.
	if _, err := y.Transition("ap-1", func(r *api.Approval) error { r.State = api.ApprovalRequested; return nil }); !errors.Is(err, api.ErrApprovalState) {
		t.Fatalf("finished -> requested: %v, want ErrApprovalState", err)
	}
	// The maker may withdraw their own request (a rejection naming them).
	req2 := req
	req2.ID, req2.IdempotencyKey = "ap-2", "key-2"
	if err := y.Create(req2); err != nil {
		t.Fatal(err)
	}
	w, err := x.Transition("ap-2", func(r *api.Approval) error {
		r.State, r.Approver = api.ApprovalRejected, &maker
		return nil
	})
	if err != nil || w.State != api.ApprovalRejected {
		t.Fatalf("maker withdrawing: %+v, %v", w, err)
	}
	if _, err := y.Get("nope"); !errors.Is(err, api.ErrNoApproval) {
		t.Fatalf("missing request: %v, want ErrNoApproval", err)
	}
}

// busEvent waits for the next event on a bus subscription.
func busEvent(t *testing.T, ch <-chan api.Event, within time.Duration) (api.Event, bool) {
	t.Helper()
	select {
	case e := <-ch:
		return e, true
	case <-time.After(within):
		return api.Event{}, false
	}
}

// Each instance bridges the store's events to its own bus (its own
// process's sessions): what one publishes reaches the other's sessions,
// once, and never comes back to its own.
func testBridge(t *testing.T, open Open) {
	a, b := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	busA, busB := api.NewBus(), api.NewBus()
	var mu sync.Mutex
	forgotten := map[string]int{}
	forget := func(provider, order string) {
		mu.Lock()
		forgotten[provider+"/"+order]++
		mu.Unlock()
	}
	doneA, err := store.Bridge(ctx, a.Events(), busA, nil)
	if err != nil {
		t.Fatal(err)
	}
	doneB, err := store.Bridge(ctx, b.Events(), busB, forget)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-doneA; <-doneB }()
	subA, endA := busA.Subscribe()
	defer endA()
	subB, endB := busB.Subscribe()
	defer endB()

	if err := a.Journal().Append(intent("br1", "acct", "o-br", journal.StateSent)); err != nil {
		t.Fatal(err)
	}
	e, ok := busEvent(t, subB, 10*time.Second)
	if !ok || e.Kind != api.EventMoney || e.OrderID != "o-br" || e.Provider != "forage" || e.State != "sent" {
		t.Fatalf("other process's bus got %+v (%v), want money/sent on o-br", e, ok)
	}
	mu.Lock()
	n := forgotten["forage/o-br"]
	mu.Unlock()
	if n != 1 {
		t.Fatalf("the order's cache was forgotten %d times before the event, want 1", n)
	}
	x := store.ForAPI(b.Approvals())
	now := time.Now().UTC()
	if err := x.Create(api.Approval{ID: "ap-br", Provider: "forage", Action: api.ApprovalRefundOrder, OrderID: "o-br",
		Amount: "500.00", Currency: "USD", IdempotencyKey: "k", Maker: api.Person{Name: "m", Role: api.RoleAgent, Fingerprint: "f"},
		State: api.ApprovalRequested, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e, ok = busEvent(t, subA, 10*time.Second)
	if !ok || e.Kind != api.EventApproval || e.ApprovalID != "ap-br" || e.State != "requested" {
		t.Fatalf("other process's bus got %+v (%v), want approval/requested ap-br", e, ok)
	}
	// Neither process hears its own events back from the store: their
	// sessions got them on the bus directly.
	if e, ok := busEvent(t, subA, 500*time.Millisecond); ok {
		t.Fatalf("publisher's own bus got its event back: %+v", e)
	}
	if e, ok := busEvent(t, subB, 100*time.Millisecond); ok {
		t.Fatalf("publisher's own bus got its event back: %+v", e)
	}
}
