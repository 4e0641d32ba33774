package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/audit"
	fclient "paydesk/api/forage"
	"paydesk/api/journal"
	fsandbox "paydesk/api/sandbox/forage"
	"paydesk/api/store"
	"paydesk/model"
)

// The journal tests drive the real journal over a store against the Forage
// sandbox on loopback, as two servers would: one refund per confirmation
// across instances, and a process killed at each journal step whose intent
// the other instance resolves.

// Env variables of the crash child.
const (
	envChild   = "PAYDESK_STORETEST_CHILD"
	envCrashAt = "PAYDESK_STORETEST_CRASH_AT"
	envURL     = "PAYDESK_STORETEST_SANDBOX_URL"
	envOrder   = "PAYDESK_STORETEST_ORDER"
	envPayment = "PAYDESK_STORETEST_PAYMENT"
	envAction  = "PAYDESK_STORETEST_ACTION"
)

// Journal describes a backend for the journal tests.
type Journal struct {
	// Open returns two instances on one fresh state, and the environment a
	// child process needs to open that state with Reopen.
	Open func(t *testing.T) (a, b store.Store, env []string)
	// Reopen opens the state named by the environment (in the child).
	Reopen func() (store.Store, error)
	// HelperTest is the name of the test function that calls Child.
	HelperTest string
}

// Child is the crash child: it opens the store, makes one money action
// through the journal and SIGKILLs itself at the named step. Call it from a
// test function named Journal.HelperTest; it returns at once in a normal run.
func Child(t *testing.T, reopen func() (store.Store, error)) {
	if os.Getenv(envChild) != "1" {
		return
	}
	st, err := reopen()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	crashAt := os.Getenv(envCrashAt)
	j, err := journal.Open(journal.Options{Backend: st.Journal(), Auditor: journal.AuditTo(st.Audit()),
		Accounts: map[string]string{fclient.ProviderID: account},
		StepHook: func(step string) {
			if step == crashAt {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	c := newClient(t, os.Getenv(envURL))
	p := journal.Wrap(c, j, "child")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	orderID, paymentID := os.Getenv(envOrder), os.Getenv(envPayment)
	switch os.Getenv(envAction) {
	case "refund_payment":
		_, err = p.RefundPayment(ctx, orderID, paymentID, api.RefundPaymentRequest{
			Amount: model.MustParse("12.34", "USD"), Reason: "crash test"})
	case "refund_order":
		var o *model.Order
		if o, err = c.GetOrder(ctx, orderID); err == nil {
			_, err = p.RefundOrder(ctx, orderID, api.RefundOrderRequest{Reason: "crash test", Expected: o.Refundable()})
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(0)
}

// RunJournal runs the journal tests.
func RunJournal(t *testing.T, b Journal) {
	t.Run("TwoServersOneRefund", func(t *testing.T) { testTwoServers(t, b) })
	t.Run("KillAtEveryStep", func(t *testing.T) { testCrash(t, b) })
}

type sandboxEnv struct {
	t   testing.TB
	url string
	// slow delays refund POSTs, so two confirmations overlap.
	slow time.Duration
}

func newSandbox(t *testing.T) *sandboxEnv {
	sb := fsandbox.New(fsandbox.Options{Orders: 5, Seed: 7, RefundLatency: -1, RateLimit: 1 << 30})
	e := &sandboxEnv{t: t}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "refund") && e.slow > 0 {
			time.Sleep(e.slow)
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	e.url = hs.URL
	return e
}

func newClient(t testing.TB, url string) *fclient.Client {
	c, err := fclient.New(fclient.Config{
		BaseURL: url, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", Limiter: rate.NewLimiter(rate.Inf, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *sandboxEnv) newOrder() *model.Order {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url+"/sandbox/orders/", strings.NewReader(`{"snap_total":"100.00","ebt_cash_total":"50.00"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var o struct {
		Ref string `json:"ref"`
	}
	if resp.StatusCode != 201 || json.Unmarshal(b, &o) != nil || o.Ref == "" {
		e.t.Fatalf("create order: %d %s", resp.StatusCode, b)
	}
	got, err := newClient(e.t, e.url).GetOrder(context.Background(), o.Ref)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func (e *sandboxEnv) refunds(orderID string) (*model.Order, []model.Refund) {
	o, err := newClient(e.t, e.url).GetOrder(context.Background(), orderID)
	if err != nil {
		e.t.Fatal(err)
	}
	return o, o.Refunds
}

const account = "sandbox merchant 9000055"

func openJournal(t *testing.T, st store.Store) *journal.Journal {
	j, err := journal.Open(journal.Options{Backend: st.Journal(), Auditor: journal.AuditTo(st.Audit()),
		Accounts: map[string]string{fclient.ProviderID: account}})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// Agents on two servers confirm a refund of the same order at once: one
// refund is made, the other agent is told who holds the order.
func testTwoServers(t *testing.T, b Journal) {
	a, bb, _ := b.Open(t)
	e := newSandbox(t)
	e.slow = 400 * time.Millisecond
	o := e.newOrder()
	ja, jb := openJournal(t, a), openJournal(t, bb)
	pa := journal.Wrap(newClient(t, e.url), ja, "desk-1")
	pb := journal.Wrap(newClient(t, e.url), jb, "desk-2")
	var (
		wg   sync.WaitGroup
		errs [2]error
	)
	for i, p := range []api.Provider{pa, pb} {
		wg.Go(func() {
			if i == 1 {
				time.Sleep(100 * time.Millisecond) // desk-1 holds the order by now
			}
			_, errs[i] = p.RefundPayment(context.Background(), o.ID, o.Payments[0].ID,
				api.RefundPaymentRequest{Amount: model.MustParse("5.00", "USD"), Reason: "two servers"})
		})
	}
	wg.Wait()
	if errs[0] != nil {
		t.Fatalf("first server's refund: %v", errs[0])
	}
	var be *journal.BusyError
	if !errors.As(errs[1], &be) || !strings.Contains(errs[1].Error(), "desk-1") {
		t.Fatalf("second server got %v, want busy naming desk-1", errs[1])
	}
	if _, rs := e.refunds(o.ID); len(rs) != 1 {
		t.Fatalf("%d refunds at the provider, want 1", len(rs))
	}
	n, _, err := bb.Audit().Verify(context.Background(), audit.Anchor{})
	if err != nil || n < 3 { // prepared, succeeded, refused
		t.Fatalf("audit chain after the race: %d entries, %v", n, err)
	}
}

// Kill -9 of one server at each journal step: the other resolves the intent,
// and the provider has exactly the refunds the intent's final state says.
func testCrash(t *testing.T, b Journal) {
	e := newSandbox(t)
	cases := []struct {
		action, crashAt string
		want            journal.State
	}{
		{"refund_payment", "prepared", journal.StateCanceled},
		{"refund_payment", "sent", journal.StateSucceeded},
		{"refund_payment", "after_call", journal.StateSucceeded},
		{"refund_order", "prepared", journal.StateCanceled},
		{"refund_order", "sent", journal.StateSucceeded},
		{"refund_order", "after_call", journal.StateSucceeded},
	}
	for _, c := range cases {
		t.Run(c.action+"/"+c.crashAt, func(t *testing.T) {
			a, other, env := b.Open(t)
			a.Close() // the child is the first server
			o := e.newOrder()
			cmd := exec.Command(os.Args[0], "-test.run=^"+b.HelperTest+"$", "-test.count=1")
			cmd.Env = append(append(os.Environ(), env...), envChild+"=1", envCrashAt+"="+c.crashAt, envURL+"="+e.url,
				envAction+"="+c.action, envOrder+"="+o.ID, envPayment+"="+o.Payments[0].ID)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || !ee.Sys().(syscall.WaitStatus).Signaled() {
				t.Fatalf("child was not killed at %s: %v\n%s", c.crashAt, err, out)
			}
			j := openJournal(t, other)
			// The dead server's lock goes when its store notices the death:
			// at once for flock, once PostgreSQL's backend reads the closed
			// socket for an advisory lock. Until then the order is busy and
			// recovery leaves it, as a live server's recovery would.
			var outs []journal.Outcome
			for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				outs = j.Recover(context.Background(), map[string]api.Provider{fclient.ProviderID: newClient(t, e.url)})
				if len(outs) != 1 || !errors.Is(outs[0].Err, journal.ErrBusy) || time.Now().After(deadline) {
					break
				}
			}
			if len(outs) != 1 || outs[0].Err != nil {
				t.Fatalf("recover on the other server: %+v", outs)
			}
			in := outs[0].Intent
			if in.State != c.want {
				t.Fatalf("after recovery %s (%s), want %s", in.State, in.Note, c.want)
			}
			ord, rs := e.refunds(o.ID)
			want := 0
			if in.State == journal.StateSucceeded {
				want = 1
				if c.action == "refund_order" {
					want = len(ord.Payments)
				}
			}
			if len(rs) != want || len(in.RefundIDs) != want {
				t.Fatalf("%d refunds at the provider and %d in the journal, want %d", len(rs), len(in.RefundIDs), want)
			}
			if un, _ := other.Journal().Unresolved(); len(un) != 0 {
				t.Fatalf("still unresolved: %+v", un)
			}
		})
	}
}
