package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"paydesk/api"
	forageclient "paydesk/api/forage"
	"paydesk/api/journal"
	foragesandbox "paydesk/api/sandbox/forage"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/api/store"
	"paydesk/api/store/storetest"
	"paydesk/model"
)

// The tests in this file run four-eyes approval over the real Forage client
// and sandbox on loopback, through the journal, as paydesk serve does.

type approvalEnv struct {
	t     *testing.T
	dir   string
	cl    *forageclient.Client
	posts *atomic.Int64 // refund requests that reached the sandbox
	j     *journal.Journal
	store api.ApprovalStore
	bus   *api.Bus
	// shared puts the requests in the shared files store (api/store)
	// instead of the per-host file: the guard's rules hold over either.
	shared bool
	// gate, when set, runs inside the sandbox's handler before a refund
	// request is served: a test holds one refund in flight with it.
	gate atomic.Pointer[func()]

	// clk is the guard's, the journal's and the store's clock: tests move
	// it past an approval's expiry.
	clk   *sandboxtest.Clock
	mu    sync.Mutex
	lines []api.ApprovalAudit
}

func newApprovalEnv(t *testing.T) *approvalEnv { return newApprovalEnvOn(t, false) }

// newApprovalEnvOn is newApprovalEnv with the requests in the shared files
// store when shared is set.
func newApprovalEnvOn(t *testing.T, shared bool) *approvalEnv {
	t.Helper()
	e := &approvalEnv{t: t, dir: t.TempDir(), bus: api.NewBus(), clk: sandboxtest.NewClock(time.Now().UTC()), shared: shared}
	sb := foragesandbox.New(foragesandbox.Options{Orders: 30, Seed: 7, RateLimit: 1 << 20})
	posts := &atomic.Int64{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "refund") {
			posts.Add(1)
			if g := e.gate.Load(); g != nil {
				(*g)()
			}
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	cl, err := forageclient.New(forageclient.Config{
		BaseURL: hs.URL, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", Limiter: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.cl, e.posts = cl, posts
	e.restart()
	return e
}

// restart opens the journal and the approvals file again, as a new process
// after a crash would.
func (e *approvalEnv) restart() {
	e.t.Helper()
	j, err := journal.Open(journal.Options{Dir: filepath.Join(e.dir, "journal"), Now: e.clock})
	if err != nil {
		e.t.Fatal(err)
	}
	e.j = j
	if e.shared {
		fs, err := store.OpenFiles(store.FilesOptions{JournalDir: filepath.Join(e.dir, "shared", "journal"),
			AuditPath: filepath.Join(e.dir, "shared", "audit.jsonl"), Now: e.clock})
		if err != nil {
			e.t.Fatal(err)
		}
		e.t.Cleanup(func() { fs.Close() })
		e.store = store.ForAPI(fs.Approvals())
		return
	}
	st, err := api.OpenApprovals(filepath.Join(e.dir, "approvals.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = st
}

// clock and advance are the shared test clock's, not a second copy of
// its lock.
func (e *approvalEnv) clock() time.Time { return e.clk.Now() }

func (e *approvalEnv) advance(d time.Duration) { e.clk.Advance(d) }

func (e *approvalEnv) audited() []api.ApprovalAudit {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]api.ApprovalAudit(nil), e.lines...)
}

// limits are low: the Forage sandbox's EBT orders are small.
var limits = api.RefundLimits{Default: model.MustParse("5.00", "USD").Amount}

// as is one session's provider for a person: the journal, then the guard.
func (e *approvalEnv) as(name string, role api.Role, fingerprint string) api.Provider {
	return e.asOn("", name, role, fingerprint)
}

// asOn is as, for a guard over the provider account named account.
func (e *approvalEnv) asOn(account, name string, role api.Role, fingerprint string) api.Provider {
	return e.over(account, api.Person{Name: name, Role: role, Fingerprint: fingerprint}, nil)
}

// over is asOn for who, with below (when not nil) wrapping the journal
// under the guard: how a test steps in between the guard's steps.
func (e *approvalEnv) over(account string, who api.Person, below func(api.Provider) api.Provider) api.Provider {
	var p api.Provider = journal.Wrap(e.cl, e.j, who.Actor())
	if below != nil {
		p = below(p)
	}
	role := who.Role
	return api.GuardWith(p, api.GuardOptions{
		Account: account,
		Role:    role, Limits: limits, Who: who, Approvals: e.store,
		Audit: func(l api.ApprovalAudit) error {
			e.mu.Lock()
			e.lines = append(e.lines, l)
			e.mu.Unlock()
			return nil
		},
		Bus: e.bus, Now: e.clock, NewID: uuid.NewString,
	})
}

// bigOrder finds an order with more than min refundable on one payment and
// nothing in flight.
func (e *approvalEnv) bigOrder(min string) (*model.Order, *model.Payment) {
	e.t.Helper()
	ctx := context.Background()
	q := api.OrderQuery{From: time.Now().Add(-90 * 24 * time.Hour), To: time.Now()}
	floor := model.MustParse(min, "USD").Amount
	for {
		pg, err := e.cl.ListOrders(ctx, q)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, s := range pg.Orders {
			o, err := e.cl.GetOrder(ctx, s.ID)
			if err != nil {
				e.t.Fatal(err)
			}
			if o.HasRefundInFlight() || len(o.Refunds) > 0 {
				continue
			}
			for i := range o.Payments {
				if left := o.RefundableOn(&o.Payments[i]); left.Currency == "USD" && left.Amount.GreaterThan(floor) {
					return o, &o.Payments[i]
				}
			}
		}
		if pg.Next == "" {
			e.t.Fatalf("no sandbox order has more than %s USD refundable on one payment", min)
		}
		q.Cursor = pg.Next
	}
}

func desk(t *testing.T, p api.Provider) api.ApprovalDesk {
	t.Helper()
	d, ok := api.DeskOf(p)
	if !ok {
		t.Fatal("no approval desk on a guarded provider with approvals")
	}
	return d
}

func (e *approvalEnv) request(p api.Provider, o *model.Order, pm *model.Payment, amount string) api.Approval {
	e.t.Helper()
	_, err := p.RefundPayment(context.Background(), o.ID, pm.ID, api.RefundPaymentRequest{
		Amount: model.MustParse(amount, pm.Amount.Currency), Reason: "goodwill", IdempotencyKey: uuid.NewString(),
	})
	pe, ok := api.AsPendingApproval(err)
	if !ok {
		e.t.Fatalf("a refund of %s over the agent's limit: err = %v, want a request for approval", amount, err)
	}
	return pe.Approval
}

func TestOverLimitRefundBecomesARequestAndMovesOnceWhenApproved(t *testing.T) {
	e := newApprovalEnv(t)
	o, pm := e.bigOrder("15.00")
	agent := e.as("desk-1", api.RoleAgent, "SHA256:maker")
	events, stop := e.bus.Subscribe()
	defer stop()

	a := e.request(agent, o, pm, "15.00")
	if n := e.posts.Load(); n != 0 {
		t.Fatalf("%d refund requests reached the sandbox for a request awaiting approval", n)
	}
	if a.State != api.ApprovalRequested || a.IdempotencyKey == "" || a.Maker.Name != "desk-1" || a.Maker.Fingerprint != "SHA256:maker" ||
		a.Maker.Role != api.RoleAgent || a.Amount != "15.00" || a.PaymentID != pm.ID || !a.ExpiresAt.Equal(a.CreatedAt.Add(api.DefaultApprovalTTL)) {
		t.Fatalf("request = %+v", a)
	}
	if ev := <-events; ev.Kind != api.EventApproval || ev.ApprovalID != a.ID || ev.State != "requested" {
		t.Fatalf("first event = %+v, want the request", ev)
	}

	approver := e.as("lead-1", api.RoleApprover, "SHA256:approver")
	if _, err := desk(t, agent).Approve(context.Background(), a.ID); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("an agent approved: %v", err)
	}
	_, order, err := desk(t, approver).Preview(context.Background(), a.ID)
	if err != nil || order.ID != o.ID {
		t.Fatalf("preview: %v", err)
	}
	res, err := desk(t, approver).Approve(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refunds) != 1 || res.Refunds[0].Amount.Fixed() != "15.00" {
		t.Fatalf("approval result: %+v", res.Refunds)
	}
	if n := e.posts.Load(); n != 1 {
		t.Fatalf("%d refund requests reached the sandbox, want 1", n)
	}
	// Approving again sends nothing: the request is finished.
	if _, err := desk(t, approver).Approve(context.Background(), a.ID); !errors.Is(err, api.ErrApprovalState) {
		t.Fatalf("second approval: %v", err)
	}
	if n := e.posts.Load(); n != 1 {
		t.Fatalf("%d refund requests after a second approval, want 1", n)
	}
	got, _ := e.store.Get(a.ID)
	if got.State != api.ApprovalFinished || got.Outcome != "succeeded" || got.Approver == nil || got.Approver.Name != "lead-1" {
		t.Fatalf("request after approval: %+v", got)
	}
	// Every transition is audited, and the approval's line names both.
	var seen []string
	for _, l := range e.audited() {
		if l.Refused != "" {
			continue
		}
		seen = append(seen, string(l.Transition))
		if l.Transition == api.ApprovalApproved && (l.By.Name != "lead-1" || l.Approval.Maker.Name != "desk-1" || l.Approval.Approver == nil) {
			t.Errorf("approval line does not name both: %+v", l)
		}
	}
	if strings.Join(seen, ",") != "requested,approved,sent,finished" {
		t.Errorf("audited transitions = %v", seen)
	}
}

func TestMakerCannotApproveTheirOwnRequest(t *testing.T) {
	e := newApprovalEnv(t)
	o, pm := e.bigOrder("15.00")
	// An approver over their own limit needs another approver too.
	maker := e.as("lead-1", api.RoleApprover, "SHA256:laptop")
	a := e.request(maker, o, pm, "12.00")
	for _, who := range []api.Provider{
		maker, // same key, same name
		e.as("lead-1", api.RoleApprover, "SHA256:desktop"), // same name, another key
		e.as("lead-2", api.RoleAdmin, "SHA256:laptop"),     // another name, same key
	} {
		if _, err := desk(t, who).Approve(context.Background(), a.ID); !errors.Is(err, api.ErrOwnApproval) {
			t.Errorf("own request approved: err = %v", err)
		}
	}
	if n := e.posts.Load(); n != 0 {
		t.Fatalf("%d refund requests reached the sandbox", n)
	}
	refused := 0
	for _, l := range e.audited() {
		if l.Refused == "own_request" {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("%d refused approvals audited, want 3", refused)
	}
}

func TestApprovalAfterExpiryIsRefused(t *testing.T) {
	e := newApprovalEnv(t)
	o, pm := e.bigOrder("15.00")
	a := e.request(e.as("desk-1", api.RoleAgent, "SHA256:maker"), o, pm, "15.00")
	e.advance(api.DefaultApprovalTTL)
	approver := e.as("lead-1", api.RoleApprover, "SHA256:approver")
	if _, err := desk(t, approver).Approve(context.Background(), a.ID); !errors.Is(err, api.ErrApprovalExpired) {
		t.Fatalf("approval at expiry: err = %v", err)
	}
	if n := e.posts.Load(); n != 0 {
		t.Fatalf("%d refund requests reached the sandbox", n)
	}
	got, _ := e.store.Get(a.ID)
	if got.State != api.ApprovalExpired {
		t.Fatalf("state = %s, want expired", got.State)
	}
	if _, err := desk(t, approver).Approve(context.Background(), a.ID); !errors.Is(err, api.ErrApprovalState) {
		t.Fatalf("approval of an expired request: err = %v", err)
	}
}

func TestChangedAmountIsANewRequest(t *testing.T) {
	e := newApprovalEnv(t)
	o, pm := e.bigOrder("15.00")
	agent := e.as("desk-1", api.RoleAgent, "SHA256:maker")
	a := e.request(agent, o, pm, "15.00")
	b := e.request(agent, o, pm, "14.00")
	if a.ID == b.ID || a.IdempotencyKey == b.IdempotencyKey {
		t.Fatalf("a changed amount reused the request or its key: %+v %+v", a, b)
	}
	// A whole-order request is for the total confirmed; once the order
	// changes, approving it is refused and nothing is sent.
	total := o.Refundable()
	_, err := agent.RefundOrder(context.Background(), o.ID, api.RefundOrderRequest{Expected: total, Reason: "returned", IdempotencyKey: uuid.NewString()})
	whole, ok := api.AsPendingApproval(err)
	if !ok || whole.Approval.Action != api.ApprovalRefundOrder || whole.Approval.Amount != total.Fixed() {
		t.Fatalf("whole-order refund over the limit: %v", err)
	}
	admin := e.as("boss", api.RoleAdmin, "SHA256:admin")
	if _, err := admin.RefundPayment(context.Background(), o.ID, pm.ID, api.RefundPaymentRequest{
		Amount: model.MustParse("1.00", pm.Amount.Currency), Reason: "partial", IdempotencyKey: uuid.NewString(),
	}); err != nil {
		t.Fatal(err)
	}
	before := e.posts.Load()
	if _, err := desk(t, admin).Approve(context.Background(), whole.Approval.ID); !errors.Is(err, api.ErrApprovalChanged) {
		t.Fatalf("approval of a whole-order request after the order changed: %v", err)
	}
	if e.posts.Load() != before {
		t.Fatal("a refund was sent for a changed order")
	}
}

// A crash after the approval was recorded, or after the refund went out but
// before its outcome was, is resumed by approving again: the request's key
// goes through the journal, and the money moves once.
func TestApprovalResumedAfterACrashMovesMoneyOnce(t *testing.T) {
	for _, at := range []api.ApprovalState{api.ApprovalApproved, api.ApprovalSent} {
		t.Run(string(at), func(t *testing.T) {
			e := newApprovalEnv(t)
			o, pm := e.bigOrder("15.00")
			a := e.request(e.as("desk-1", api.RoleAgent, "SHA256:maker"), o, pm, "15.00")
			lead := api.Person{Name: "lead-1", Role: api.RoleApprover, Fingerprint: "SHA256:approver"}
			// What Approve had done when the process died, move by move
			// as it makes them (the store refuses a jump its rules do
			// not allow).
			for _, st := range []api.ApprovalState{api.ApprovalApproved, api.ApprovalSent} {
				if _, err := e.store.Transition(a.ID, func(r *api.Approval) error {
					r.State, r.Approver = st, &lead
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if st == at {
					break
				}
			}
			if at == api.ApprovalSent {
				// The refund went out through the journal with the
				// request's key; the answer was lost with the process.
				m, _ := a.Money()
				if _, err := journal.Wrap(e.cl, e.j, lead.Actor()).RefundPayment(context.Background(), o.ID, pm.ID, api.RefundPaymentRequest{
					IdempotencyKey: a.IdempotencyKey, Amount: m, Reason: a.Reason,
				}); err != nil {
					t.Fatal(err)
				}
			}
			e.restart()
			if got, _ := e.store.Get(a.ID); got.State != at {
				t.Fatalf("after restart the request is %s, want %s", got.State, at)
			}
			approver := e.as("lead-2", api.RoleApprover, "SHA256:other")
			if _, err := desk(t, approver).Approve(context.Background(), a.ID); err != nil {
				t.Fatal(err)
			}
			if n := e.posts.Load(); n != 1 {
				t.Fatalf("%d refund requests reached the sandbox, want 1", n)
			}
			after, err := e.cl.GetOrder(context.Background(), o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(after.Refunds) != 1 {
				t.Fatalf("the order has %d refunds, want 1", len(after.Refunds))
			}
			if got, _ := e.store.Get(a.ID); got.State != api.ApprovalFinished || got.Outcome != "succeeded" {
				t.Fatalf("request = %s/%s", got.State, got.Outcome)
			}
		})
	}
}

// The approvals file survives a restart and is never left half-written.
func TestApprovalsFileKeepsRequestsAcrossARestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "approvals.json")
	s, err := api.OpenApprovals(path)
	if err != nil {
		t.Fatal(err)
	}
	a := api.Approval{ID: "r1", Provider: "forage", Action: api.ApprovalRefundPayment, OrderID: "o1", Amount: "15.00", Currency: "USD",
		IdempotencyKey: "k1", State: api.ApprovalRequested, CreatedAt: time.Unix(1, 0).UTC(),
		Maker: api.Person{Name: "desk-1", Role: api.RoleAgent, Fingerprint: "SHA256:maker"}}
	if err := s.Create(a); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(a); err == nil {
		t.Fatal("a taken id was accepted")
	}
	if _, err := s.Transition("r1", func(r *api.Approval) error { return errors.New("no") }); err == nil {
		t.Fatal("a failed transition reported success")
	}
	s2, err := api.OpenApprovals(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Get("r1")
	if err != nil || got.IdempotencyKey != "k1" || got.State != api.ApprovalRequested {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".approvals-*")); len(m) != 0 {
		t.Fatalf("temporary files left behind: %v", m)
	}
}

// Two approvers confirming the same request at once: one approval, one
// refund; the other is told the request is no longer waiting.
func TestTwoApproversAtOnceMoveMoneyOnce(t *testing.T) {
	e := newApprovalEnv(t)
	o, pm := e.bigOrder("15.00")
	a := e.request(e.as("desk-1", api.RoleAgent, "SHA256:maker"), o, pm, "15.00")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, who := range []api.Provider{
		e.as("lead-1", api.RoleApprover, "SHA256:one"),
		e.as("lead-2", api.RoleApprover, "SHA256:two"),
	} {
		wg.Go(func() { _, errs[i] = desk(t, who).Approve(context.Background(), a.ID) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, api.ErrApprovalState), errors.Is(err, journal.ErrEarlierSucceeded):
		default:
			var be *journal.BusyError
			if !errors.As(err, &be) {
				t.Errorf("the other approval: %v", err)
			}
		}
	}
	if ok < 1 {
		t.Fatalf("no approval went through: %v", errs)
	}
	if n := e.posts.Load(); n != 1 {
		t.Fatalf("%d refund requests reached the sandbox, want 1", n)
	}
	after, err := e.cl.GetOrder(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Refunds) != 1 {
		t.Fatalf("the order has %d refunds, want 1", len(after.Refunds))
	}
	// Whoever lost, the request says what happened: succeeded, naming the
	// one refund.
	if got, _ := e.store.Get(a.ID); got.State != api.ApprovalFinished || got.Outcome != "succeeded" ||
		len(got.RefundIDs) != 1 || got.RefundIDs[0] != after.Refunds[0].ID {
		t.Fatalf("request = %s/%s refunds %v, want finished/succeeded naming %s", got.State, got.Outcome, got.RefundIDs, after.Refunds[0].ID)
	}
}

// A rejected request moves nothing and cannot be approved afterwards; an
// agent cannot reject someone else's request.
func TestRejectedRequestIsClosed(t *testing.T) {
	e := newApprovalEnv(t)
	o, pm := e.bigOrder("15.00")
	a := e.request(e.as("desk-1", api.RoleAgent, "SHA256:maker"), o, pm, "15.00")
	if _, err := desk(t, e.as("desk-2", api.RoleAgent, "SHA256:other")).Reject(a.ID); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("another agent rejected: %v", err)
	}
	approver := e.as("lead-1", api.RoleApprover, "SHA256:approver")
	r, err := desk(t, approver).Reject(a.ID)
	if err != nil || r.State != api.ApprovalRejected || r.Approver == nil || r.Approver.Name != "lead-1" {
		t.Fatalf("reject: %+v, %v", r, err)
	}
	if _, err := desk(t, e.as("lead-2", api.RoleApprover, "SHA256:two")).Approve(context.Background(), a.ID); !errors.Is(err, api.ErrApprovalState) {
		t.Fatalf("approval after rejection: %v", err)
	}
	if n := e.posts.Load(); n != 0 {
		t.Fatalf("%d refund requests reached the sandbox", n)
	}
}

// A request is for one provider account: two accounts of one provider (two
// Forage merchants on one server) share the approval queue, and an approver
// working in the other account's tab must not send it through that account.
func TestRequestIsApprovedOnlyInItsAccount(t *testing.T) {
	e := newApprovalEnv(t)
	o, pm := e.bigOrder("15.00")
	a := e.request(e.asOn("merchant-1", "desk-1", api.RoleAgent, "SHA256:maker"), o, pm, "15.00")
	if a.Account != "merchant-1" {
		t.Fatalf("request account %q, want merchant-1", a.Account)
	}
	other := e.asOn("merchant-2", "lead-1", api.RoleApprover, "SHA256:approver")
	if _, err := desk(t, other).Approve(context.Background(), a.ID); !errors.Is(err, api.ErrNoApproval) {
		t.Fatalf("approved through another account: err = %v", err)
	}
	if n := e.posts.Load(); n != 0 {
		t.Fatalf("%d refund requests reached the sandbox", n)
	}
	same := e.asOn("merchant-1", "lead-1", api.RoleApprover, "SHA256:approver")
	if _, err := desk(t, same).Approve(context.Background(), a.ID); err != nil {
		t.Fatalf("approval in the request's own account: %v", err)
	}
}

// Request reads a request as it is now, whatever its state, for whoever
// may see it: after approving, it names the refunds the approval made (what
// an approver who lost the race to this one is shown).
func TestRequestReadsTheRequestAsItIsNowWithItsRefunds(t *testing.T) {
	e := newApprovalEnv(t)
	o, pm := e.bigOrder("15.00")
	agent := e.as("desk-1", api.RoleAgent, "SHA256:maker")
	a := e.request(agent, o, pm, "15.00")
	approver := e.as("lead-1", api.RoleApprover, "SHA256:approver")
	res, err := desk(t, approver).Approve(context.Background(), a.ID)
	if err != nil || res == nil || len(res.Refunds) != 1 {
		t.Fatalf("approve: %+v, %v", res, err)
	}
	for _, p := range []api.Provider{agent, e.as("lead-2", api.RoleApprover, "SHA256:other")} {
		got, err := desk(t, p).Request(a.ID)
		if err != nil || got.State != api.ApprovalFinished || got.Approver == nil || got.Approver.Name != "lead-1" ||
			len(got.RefundIDs) != 1 || got.RefundIDs[0] != res.Refunds[0].ID {
			t.Fatalf("request read = %+v, %v; want finished by lead-1 naming refund %s", got, err, res.Refunds[0].ID)
		}
	}
	// Another agent may not read a request that is not theirs.
	if _, err := desk(t, e.as("desk-2", api.RoleAgent, "SHA256:desk2")).Request(a.ID); !errors.Is(err, api.ErrForbidden) {
		t.Fatalf("another agent read the request: %v", err)
	}
	if _, err := desk(t, approver).Request("nope"); !errors.Is(err, api.ErrNoApproval) {
		t.Fatalf("a missing request: %v", err)
	}
}

// The per-host file store keeps the same approval store contract as the
// shared stores (the bounded list), checked by the same suite.
func TestFileApprovalsContract(t *testing.T) {
	storetest.RunApprovalStore(t, func(t *testing.T) (api.ApprovalStore, api.ApprovalStore) {
		s, err := api.OpenApprovals(filepath.Join(t.TempDir(), "approvals.json"))
		if err != nil {
			t.Fatal(err)
		}
		return s, s
	})
}

// The rules of four-eyes approval, as one table: the guard and every store
// (the per-host file, the shared files, PostgreSQL) ask these functions,
// so this is the whole of what they enforce above the database's own
// constraints.
func TestApprovalRules(t *testing.T) {
	states := []api.ApprovalState{api.ApprovalRequested, api.ApprovalApproved, api.ApprovalRejected,
		api.ApprovalExpired, api.ApprovalSent, api.ApprovalFinished}
	allowed := map[[2]api.ApprovalState]bool{
		{api.ApprovalRequested, api.ApprovalApproved}: true,
		{api.ApprovalRequested, api.ApprovalRejected}: true,
		{api.ApprovalRequested, api.ApprovalExpired}:  true,
		{api.ApprovalApproved, api.ApprovalSent}:      true,
		{api.ApprovalSent, api.ApprovalSent}:          true, // a resumed send
		{api.ApprovalSent, api.ApprovalFinished}:      true,
		{api.ApprovalFinished, api.ApprovalFinished}:  true, // an unknown outcome settled later
	}
	for _, from := range states {
		for _, to := range states {
			if got := api.ApprovalMoveAllowed(from, to); got != allowed[[2]api.ApprovalState{from, to}] {
				t.Errorf("%s -> %s allowed = %v", from, to, got)
			}
		}
		want := from == api.ApprovalApproved || from == api.ApprovalSent || from == api.ApprovalFinished
		if from.MovesMoney() != want {
			t.Errorf("%s moves money = %v", from, !want)
		}
	}

	maker := api.Person{Name: "desk-1", Role: api.RoleAgent, Fingerprint: "SHA256:maker"}
	boss := api.Person{Name: "boss", Role: api.RoleApprover, Fingerprint: "SHA256:boss"}
	for _, c := range []struct {
		name     string
		from, to api.ApprovalState
		approver api.Person
		want     error
	}{
		{"another person approves", api.ApprovalRequested, api.ApprovalApproved, boss, nil},
		{"the maker under another key", api.ApprovalRequested, api.ApprovalApproved, api.Person{Name: "desk-1", Fingerprint: "SHA256:x"}, api.ErrOwnApproval},
		{"the maker's key under another name", api.ApprovalRequested, api.ApprovalApproved, api.Person{Name: "boss", Fingerprint: "SHA256:maker"}, api.ErrOwnApproval},
		{"the maker sending", api.ApprovalApproved, api.ApprovalSent, maker, api.ErrOwnApproval},
		{"the maker withdraws their own", api.ApprovalRequested, api.ApprovalRejected, maker, nil},
		{"an approver with no key", api.ApprovalRequested, api.ApprovalApproved, api.Person{Name: "boss"}, api.ErrNoApprover},
		{"an approver with a blank name", api.ApprovalRequested, api.ApprovalApproved, api.Person{Name: "  ", Fingerprint: "SHA256:boss"}, api.ErrNoApprover},
		{"approved with nobody", api.ApprovalRequested, api.ApprovalApproved, api.Person{}, api.ErrNoApprover},
		{"expired with nobody", api.ApprovalRequested, api.ApprovalExpired, api.Person{}, nil},
		{"finished back to requested", api.ApprovalFinished, api.ApprovalRequested, boss, api.ErrApprovalState},
		{"rejected then approved", api.ApprovalRejected, api.ApprovalApproved, boss, api.ErrApprovalState},
		{"approved skipping the send", api.ApprovalApproved, api.ApprovalFinished, boss, api.ErrApprovalState},
	} {
		err := api.CheckApprovalChange(c.from, c.to, maker, c.approver)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s (%s -> %s): %v, want %v", c.name, c.from, c.to, err, c.want)
		}
	}

	// Who may decide: approvers and admins approve and reject any
	// request; the maker only withdraws their own (same name and key).
	for _, c := range []struct {
		role            api.Role
		who             api.Person
		approve, reject bool
	}{
		{api.RoleViewer, boss, false, false},
		{api.RoleAgent, boss, false, false},
		{api.RoleAgent, maker, false, true},
		{api.RoleAgent, api.Person{Name: "desk-1", Fingerprint: "SHA256:other"}, false, false},
		{api.RoleApprover, boss, true, true},
		{api.RoleAdmin, boss, true, true},
	} {
		if got := api.CanApprove(c.role); got != c.approve {
			t.Errorf("%s may approve = %v", c.role, got)
		}
		if got := api.CanReject(c.role, c.who, maker); got != c.reject {
			t.Errorf("%s %s may reject desk-1's request = %v", c.role, c.who.Name, got)
		}
	}
	if !api.SamePerson(api.Person{Name: "desk-1", Fingerprint: "k2"}, maker) || !api.SamePerson(api.Person{Name: "x", Fingerprint: "SHA256:maker"}, maker) ||
		api.SamePerson(boss, maker) || api.SamePerson(api.Person{Name: "boss"}, api.Person{Name: "desk-1"}) {
		t.Error("SamePerson: one person by name or by a known key")
	}

	// Expiry: due at the instant it expires, not a moment before.
	exp := time.Date(2026, 1, 1, 12, 30, 0, 0, time.UTC)
	if api.ApprovalDue(exp, exp.Add(-time.Nanosecond)) || !api.ApprovalDue(exp, exp) || !api.ApprovalDue(exp, exp.Add(time.Minute)) {
		t.Error("ApprovalDue: a request is due from its expiry on")
	}
	// An outcome is recorded on a sent request, or replaces an unknown one.
	for _, c := range []struct {
		st      api.ApprovalState
		outcome string
		want    bool
	}{
		{api.ApprovalSent, "", true}, {api.ApprovalFinished, "unknown", true},
		{api.ApprovalFinished, "succeeded", false}, {api.ApprovalApproved, "", false}, {api.ApprovalRequested, "", false},
	} {
		if got := api.OutcomeMayBeRecorded(c.st, c.outcome); got != c.want {
			t.Errorf("outcome on %s (was %q) may be recorded = %v", c.st, c.outcome, got)
		}
	}
}

// An approver known by name only (no key fingerprint) is nobody in
// particular: the guard refuses them with the shared store's own rule, so
// the per-host file, which keeps rows only, never records such an approval.
func TestApproverWithoutAKeyIsRefused(t *testing.T) {
	e := newApprovalEnv(t)
	o, pm := e.bigOrder("15.00")
	a := e.request(e.as("desk-1", api.RoleAgent, "SHA256:maker"), o, pm, "15.00")
	if _, err := desk(t, e.as("lead-1", api.RoleApprover, "")).Approve(context.Background(), a.ID); !errors.Is(err, api.ErrNoApprover) {
		t.Fatalf("an approver with no key: %v, want ErrNoApprover", err)
	}
	if got, _ := e.store.Get(a.ID); got.State != api.ApprovalRequested || got.Approver != nil || e.posts.Load() != 0 {
		t.Fatalf("after the refusal: %+v, %d refunds sent", got, e.posts.Load())
	}
}
