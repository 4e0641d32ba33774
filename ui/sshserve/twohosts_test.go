package sshserve

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/audit"
	forageclient "paydesk/api/forage"
	"paydesk/api/journal"
	foragesandbox "paydesk/api/sandbox/forage"
	"paydesk/api/store"
	"paydesk/api/store/pg"
	"paydesk/api/store/pg/pgtest"
	"paydesk/model"
)

// TestMain gives the two-server tests a PostgreSQL: the one named by
// PAYDESK_TEST_DATABASE_URL, or a throwaway cluster when PostgreSQL is
// installed; without either they skip (fail under CI=true).
func TestMain(m *testing.M) { pgtest.Main(m) }

// provider is one Forage sandbox both servers talk to (the merchant's one
// account), counting the refund requests that reach it. slowRefunds holds
// each refund request, so two confirmations sent together overlap.
type provider struct {
	url         string
	refunds     atomic.Int64
	slowRefunds atomic.Int64 // milliseconds
	client      api.Provider // a bare client, for the test's own reads
}

func startProvider(t *testing.T) *provider {
	sb := foragesandbox.New(foragesandbox.Options{Orders: 30, Seed: 7, RateLimit: 1 << 20})
	p := &provider{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "refund") {
			p.refunds.Add(1)
			time.Sleep(time.Duration(p.slowRefunds.Load()) * time.Millisecond)
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	p.url = hs.URL
	p.client = p.newClient(t)
	return p
}

// newClient is one server's own client of the account (its own limiter
// and connections, as on its own host).
func (p *provider) newClient(t *testing.T) api.Provider {
	cl, err := forageclient.New(forageclient.Config{
		BaseURL: p.url, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", Limiter: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// host is one paydesk serve with its own store instance (its own pool and
// LISTEN connection) on the shared database.
type host struct {
	*testServer
	store *pg.Store
}

// startHost wires a server as serve does with PAYDESK_DATABASE_URL: the
// journal, locks, approvals and audit chain in PostgreSQL, and the store's
// events bridged to this server's bus. Its provider read cache keeps reads
// for an hour and sessions never refresh by timer, so whatever another host
// changes can only show here through the bridge.
func startHost(t *testing.T, name, dbURL string, p *provider, users string, limit model.Money) *host {
	st, err := pg.Open(context.Background(), dbURL, pg.Options{Host: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	auditor := journal.AuditTo(st.Audit())
	j, err := journal.Open(journal.Options{Backend: st.Journal(), Auditor: auditor,
		Accounts: map[string]string{"forage": p.url + "|9000055"}})
	if err != nil {
		t.Fatal(err)
	}
	shared := api.Shared(p.newClient(t), time.Hour, nil)
	bus := api.NewBus()
	ctx, cancel := context.WithCancel(context.Background())
	done, err := store.Bridge(ctx, st.Events(), bus, func(provider, orderID string) {
		if provider == shared.ID() {
			api.Forget(shared, orderID)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done })
	ts := startServer(t, users, func(c *Config) {
		c.Deps.Providers = []api.Provider{shared}
		c.Deps.Journal, c.Deps.Bus = j, bus
		c.Deps.Approvals, c.Deps.ApprovalAudit = store.ForAPI(st.Approvals()), auditor
		c.Deps.NewKey = uuid.NewString
		c.Deps.RefundLimits = api.RefundLimits{Default: limit.Amount}
	})
	ts.client = p.client
	return &host{testServer: ts, store: st}
}

// refundableOrders returns the sandbox's orders with something left to
// refund and nothing in flight, smallest refundable amount first.
func refundableOrders(t *testing.T, p api.Provider) []*model.Order {
	ctx := context.Background()
	q := api.OrderQuery{From: time.Now().Add(-90 * 24 * time.Hour), To: time.Now()}
	var out []*model.Order
	for {
		page, err := p.ListOrders(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Orders {
			o, err := p.GetOrder(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status == model.StatusSucceeded && len(o.Refunds) == 0 && !o.HasRefundInFlight() &&
				o.Refundable().Currency == "USD" && o.Refundable().Amount.IsPositive() {
				out = append(out, o)
			}
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	slices.SortFunc(out, func(a, b *model.Order) int { return a.Refundable().Amount.Cmp(b.Refundable().Amount) })
	if len(out) < 2 || !out[len(out)-1].Refundable().Amount.GreaterThan(out[0].Refundable().Amount) {
		t.Fatalf("the sandbox has no two orders with different amounts to refund: %d", len(out))
	}
	return out
}

// openOrder logs in with k (as SSH user, which names no one: the key
// does) and opens the order's screen through the search. The two-host and
// approval tests all start a session on one order this way.
func (ts *testServer) openOrder(k key, user string, o *model.Order) *term {
	tm := ts.open(k, user)
	tm.waitText("loaded")
	tm.send("g")
	tm.waitText("Find:")
	tm.send(o.Ref + "\r")
	tm.waitText("Payments (")
	return tm
}

// waitNoText waits until text has left the screen.
func (tm *term) waitNoText(text string, within time.Duration) string {
	tm.t.Helper()
	deadline := time.Now().Add(within)
	for {
		v := tm.screen()
		if !strings.Contains(v, text) {
			return v
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("%q still on screen after %s:\n%s", text, within, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Issue 13's two paydesk serve processes on one database, over real SSH:
// agents on both servers confirm refunds of one order at once and one
// refund reaches the provider, the other agent told who holds the order;
// an agent's request above the limit on server A is approved from a
// session on server B, the money moves once, and the agent on A sees it
// without a key; two approvers on the two servers confirming one request at
// once move its money once, the other told it is already approved; the
// audit chain the two servers wrote is one chain that verifies and names
// both identities.
func TestTwoServersOnOneDatabase(t *testing.T) {
	dbURL := pgtest.URL(t)
	p := startProvider(t)
	orders := refundableOrders(t, p.client)
	small, big := orders[0], orders[len(orders)-1]
	// Agents may refund the small order whole; the big one needs approval.
	limit := small.Refundable()

	d1, d2, lead, lead2 := newKey(t), newKey(t), newKey(t), newKey(t)
	users := usersLine("desk-1", "agent", d1) + usersLine("desk-2", "agent", d2) +
		usersLine("lead-1", "approver", lead) + usersLine("lead-2", "approver", lead2)
	a := startHost(t, "host-a", dbURL, p, users, limit)
	b := startHost(t, "host-b", dbURL, p, users, limit)

	t.Run("one refund, the other told who holds the order", func(t *testing.T) {
		ta, tb := a.openOrder(d1, "x", small), b.openOrder(d2, "x", small)
		for _, tm := range []*term{ta, tb} {
			tm.refundAllToConfirmation("customer returned everything")
		}
		// The provider holds each refund for a while, so the second
		// confirmation arrives while the first holds the order.
		p.slowRefunds.Store(1500)
		defer p.slowRefunds.Store(0)
		before := p.refunds.Load()
		var wg sync.WaitGroup
		for _, tm := range []*term{ta, tb} {
			wg.Go(func() { _, _ = tm.stdin.Write([]byte(word(small.Ref) + "\r")) })
		}
		wg.Wait()
		deadline := time.Now().Add(15 * time.Second)
		var winner, loser *term
		var holder string
		for winner == nil || loser == nil {
			if time.Now().After(deadline) {
				t.Fatalf("no clear outcome on both servers:\nA:\n%s\nB:\n%s", ta.screen(), tb.screen())
			}
			for _, c := range []struct {
				tm, other *term
				other1    string
			}{{ta, tb, "desk-2"}, {tb, ta, "desk-1"}} {
				v := c.tm.screen()
				if strings.Contains(v, "in progress by") {
					loser, winner, holder = c.tm, c.other, c.other1
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		if v := loser.screen(); !strings.Contains(v, "in progress by "+holder) {
			t.Fatalf("the waiting agent is not told who holds the order (want %s):\n%s", holder, v)
		}
		winner.waitText("Refund of")
		time.Sleep(500 * time.Millisecond) // a late second request would show here
		if n := p.refunds.Load() - before; n != 1 {
			t.Fatalf("%d refund requests reached the provider, want 1", n)
		}
	})

	t.Run("requested on A, approved on B, money moves once", func(t *testing.T) {
		desk := a.openOrder(d1, "x", big)
		approver := b.open(lead, "x")
		approver.waitText("loaded")
		if strings.Contains(approver.screen(), "TO APPROVE") {
			t.Fatalf("a badge with nothing to approve:\n%s", approver.screen())
		}
		before := p.refunds.Load()
		desk.refundAllToConfirmation("goodwill over the limit")
		keyed := time.Now()
		desk.send(word(big.Ref) + "\r")
		desk.waitText("Sent for approval")
		onA := time.Since(keyed)
		if n := p.refunds.Load() - before; n != 0 {
			t.Fatalf("%d refund requests reached the provider before approval", n)
		}
		// Server B's approver sees server A's request live: the bridge.
		approver.waitText("1 TO APPROVE")
		t.Logf("from the agent's enter on A: A says sent for approval after %s, B's badge shows it after %s (screens polled every 20ms)",
			onA.Round(time.Millisecond), time.Since(keyed).Round(time.Millisecond))
		approver.send("A")
		approver.waitText("expires in") // a requested row: the list is read after the title shows
		approver.send("\r")
		v := approver.waitText("and press enter to confirm")
		if !strings.Contains(v, "requested by desk-1") || !strings.Contains(v, big.Refundable().Fixed()+" USD") {
			t.Fatalf("the approval's confirmation on B does not show A's request:\n%s", v)
		}
		keyed = time.Now()
		approver.send(word(big.Ref) + "\r")
		approver.waitText("Approved and sent")
		onB := time.Since(keyed)
		// The agent on A, showing the order, sees B's refund by itself.
		desk.waitNoText("Refunds (0)", 10*time.Second)
		t.Logf("from the approver's enter on B: B says approved and sent after %s, A's order screen shows the refund after %s",
			onB.Round(time.Millisecond), time.Since(keyed).Round(time.Millisecond))
		approver.waitNoText("TO APPROVE", 10*time.Second)
		if n := p.refunds.Load() - before; n != 1 {
			t.Fatalf("%d refund requests reached the provider, want 1", n)
		}
		list, err := store.ForAPI(a.store.Approvals()).List()
		if err != nil || len(list) != 1 || list[0].State != api.ApprovalFinished || list[0].Outcome != "succeeded" ||
			list[0].Maker.Name != "desk-1" || list[0].Approver == nil || list[0].Approver.Name != "lead-1" {
			t.Fatalf("the shared queue after the approval: %+v, %v", list, err)
		}
	})

	t.Run("two approvers on two servers at once, money moves once", func(t *testing.T) {
		next := orders[len(orders)-2]
		if !next.Refundable().Amount.GreaterThan(limit.Amount) {
			t.Skipf("the sandbox has only one order above the limit %s", limit)
		}
		desk := b.openOrder(d2, "x", next)
		desk.refundAllToConfirmation("second request")
		desk.send(word(next.Ref) + "\r")
		desk.waitText("Sent for approval")
		la, lb := a.open(lead, "x"), b.open(lead2, "x")
		for _, tm := range []*term{la, lb} {
			tm.waitText("1 TO APPROVE")
			tm.send("A")
			tm.waitText("expires in") // a requested row: the list is read after the title shows
			tm.send("\r")
			tm.waitText("and press enter to confirm")
		}
		p.slowRefunds.Store(1000)
		defer p.slowRefunds.Store(0)
		before := p.refunds.Load()
		var wg sync.WaitGroup
		for _, tm := range []*term{la, lb} {
			wg.Go(func() { _, _ = tm.stdin.Write([]byte(word(next.Ref) + "\r")) })
		}
		wg.Wait()
		deadline := time.Now().Add(15 * time.Second)
		for {
			va, vb := la.screen(), lb.screen()
			wa, wb := strings.Contains(va, "Approved and sent"), strings.Contains(vb, "Approved and sent")
			if wa && wb {
				t.Fatalf("both approvers were told approved and sent:\nA:\n%s\nB:\n%s", va, vb)
			}
			// The other stays on the confirmation, told why nothing moved:
			// the request is taken (approved, sent or finished by the
			// other), the order is locked, or (when the
			// first refund landed before the other's re-read) the order
			// changed under the confirmation.
			refused := func(v string) bool {
				return strings.Contains(v, "not in a state that allows this") || strings.Contains(v, "in progress by") ||
					strings.Contains(v, "The order changed since this screen opened")
			}
			if (wa && refused(vb)) || (wb && refused(va)) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no clear outcome:\nA:\n%s\nB:\n%s", va, vb)
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond)
		if n := p.refunds.Load() - before; n != 1 {
			t.Fatalf("%d refund requests reached the provider, want 1", n)
		}
	})

	t.Run("one audit chain naming both", func(t *testing.T) {
		ctx := context.Background()
		n, head, err := b.store.Audit().Verify(ctx, audit.Anchor{})
		if err != nil || n == 0 {
			t.Fatalf("verify: %d entries, %v", n, err)
		}
		if _, _, err := a.store.Audit().Verify(ctx, head); err != nil {
			t.Fatalf("server A verifies against server B's head: %v", err)
		}
		rows, err := a.store.Pool().Query(ctx, `SELECT line FROM paydesk_audit ORDER BY seq`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		has := func(parts ...string) bool {
			return slices.ContainsFunc(lines, func(l string) bool {
				for _, p := range parts {
					if !strings.Contains(l, p) {
						return false
					}
				}
				return true
			})
		}
		for _, want := range [][]string{
			{"approval_approved", "lead-1 role=approver", "maker desk-1 role=agent"},
			{"refund_order", "lead-1 role=approver", big.ID},
			{"refund_order", small.ID},
		} {
			if !has(want...) {
				t.Errorf("no audit line with %q in the one chain:\n%s", want, strings.Join(lines, "\n"))
			}
		}
		if len(lines) != n {
			t.Errorf("%d rows, %d verified", len(lines), n)
		}
	})
}
