package journal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/model"
)

// The crash test re-executes this test binary as a child process that makes
// one refund through the journal and SIGKILLs itself at a journal step
// (PAYDESK_JOURNAL_CRASH_AT = prepared | sent | after_call). The parent owns
// the Forage sandbox, so the provider outlives the crash; it then runs
// Recover against the same journal directory and counts refunds at the
// provider.

const (
	envHelper  = "PAYDESK_JOURNAL_HELPER"
	envCrashAt = "PAYDESK_JOURNAL_CRASH_AT"
	envURL     = "PAYDESK_TEST_SANDBOX_URL"
	envOrder   = "PAYDESK_TEST_ORDER"
	envPayment = "PAYDESK_TEST_PAYMENT"
	envAction  = "PAYDESK_TEST_ACTION" // refund_payment | refund_order | hold_lock
)

// TestHelperProcess is the child; it does nothing in a normal run.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "1" {
		return
	}
	j, err := Open(Options{}) // PAYDESK_STATE_DIR names the directory
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	crashAt := os.Getenv(envCrashAt)
	j.testHook = func(step string) {
		if step == crashAt {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	e := &sandboxEnv{t: t, url: os.Getenv(envURL)}
	c := e.client(nil)
	p := Wrap(c, j, "child")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	orderID, paymentID := os.Getenv(envOrder), os.Getenv(envPayment)
	switch os.Getenv(envAction) {
	case "refund_payment":
		_, err = p.RefundPayment(ctx, orderID, paymentID, api.RefundPaymentRequest{
			Amount: model.MustParse("12.34", "USD"), Reason: "crash test", Metadata: model.Metadata{"case": crashAt}})
	case "refund_order":
		var o *model.Order
		if o, err = c.GetOrder(ctx, orderID); err == nil {
			_, err = p.RefundOrder(ctx, orderID, api.RefundOrderRequest{Reason: "crash test", Expected: o.Refundable()})
		}
	case "hold_lock":
		lk, lerr := j.lock("forage", orderID, "bob")
		if lerr != nil {
			fmt.Fprintln(os.Stderr, lerr)
			os.Exit(2)
		}
		fmt.Println("locked")
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent kills us
		lk.unlock()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(0)
}

func helperCmd(t *testing.T, stateDir, url, action, crashAt, orderID, paymentID string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		envHelper+"=1", "PAYDESK_STATE_DIR="+stateDir, envURL+"="+url, envAction+"="+action,
		envCrashAt+"="+crashAt, envOrder+"="+orderID, envPayment+"="+paymentID)
	return cmd
}

func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

func TestCrashAtEveryStep(t *testing.T) {
	e := newSandbox(t, func(h http.Handler) http.Handler { return h })
	type tc struct {
		action, crashAt string
		late            bool // recover after the key window
		wantState       State
		wantSends       int // sends recorded after recovery
	}
	var cases []tc
	for _, action := range []string{"refund_payment", "refund_order"} {
		cases = append(cases,
			tc{action, "prepared", false, StateCanceled, 0},
			tc{action, "sent", false, StateSucceeded, 2},       // replayed: its first real send
			tc{action, "after_call", false, StateSucceeded, 2}, // replayed: the sandbox answers from its key store
			tc{action, "after_call", true, StateSucceeded, 1},  // past the window: found by reading
			tc{action, "sent", true, StateFailed, 1},           // past the window, never arrived: failed
		)
	}
	for _, c := range cases {
		name := c.action + "/" + c.crashAt
		if c.late {
			name += "/past_window"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			o := e.newOrder()
			cmd := helperCmd(t, dir, e.url, c.action, c.crashAt, o.ID, o.Payments[0].ID)
			out, err := cmd.CombinedOutput()
			if !killedBySIGKILL(err) {
				t.Fatalf("child was not killed at %s: %v\n%s", c.crashAt, err, out)
			}
			now := time.Now
			if c.late {
				now = func() time.Time { return time.Now().Add(11 * time.Minute) }
			}
			j, err := Open(Options{Dir: dir + "/journal", Now: now})
			if err != nil {
				t.Fatal(err)
			}
			before, err := j.Pending("forage", o.ID)
			if err != nil || len(before) != 1 {
				t.Fatalf("pending after the crash: %+v %v", before, err)
			}
			wantBefore := map[string]State{"prepared": StatePrepared, "sent": StateSent, "after_call": StateSent}[c.crashAt]
			if before[0].State != wantBefore {
				t.Fatalf("state after crash %s, want %s", before[0].State, wantBefore)
			}
			outs := j.Recover(context.Background(), map[string]api.Provider{"forage": e.client(nil)})
			if len(outs) != 1 || outs[0].Err != nil {
				t.Fatalf("recover: %+v", outs)
			}
			in := outs[0].Intent
			if in.ID != before[0].ID || in.IdempotencyKey != before[0].IdempotencyKey {
				t.Fatalf("recovery changed the intent's id or key: %+v -> %+v", before[0], in)
			}
			if in.State != c.wantState || in.Sends != c.wantSends {
				t.Fatalf("after recovery: state %s sends %d (%s), want %s and %d", in.State, in.Sends, in.Note, c.wantState, c.wantSends)
			}
			by, order := e.refundsByIntent(o.ID)
			got := by[in.ID]
			want := 0
			if in.State == StateSucceeded {
				want = 1
				if c.action == "refund_order" {
					want = len(order.Payments)
				}
			}
			if len(got) != want {
				t.Fatalf("%d refunds at the provider for the intent, want %d: %+v", len(got), want, got)
			}
			if c.action == "refund_order" && in.State == StateSucceeded && !order.Refundable().IsZero() {
				t.Fatalf("order still has %s to refund", order.Refundable())
			}
			if len(in.RefundIDs) != len(got) {
				t.Fatalf("journal refund ids %v, provider %d", in.RefundIDs, len(got))
			}
			if p, _ := j.Pending("forage", o.ID); len(p) != 0 {
				t.Fatalf("still pending: %+v", p)
			}
		})
	}
}

// TestLockAcrossProcesses: a second process acting on the same order is
// refused with who holds it; the lock goes with the holder when it dies.
func TestLockAcrossProcesses(t *testing.T) {
	e := newSandbox(t, func(h http.Handler) http.Handler { return h })
	o := e.newOrder()
	dir := t.TempDir()
	cmd := helperCmd(t, dir, e.url, "hold_lock", "", o.ID, "")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && strings.TrimSpace(sc.Text()) != "locked" {
	}
	j, err := Open(Options{Dir: dir + "/journal"})
	if err != nil {
		t.Fatal(err)
	}
	p := Wrap(e.client(nil), j, "alice")
	refund := func() error {
		_, err := p.RefundPayment(context.Background(), o.ID, o.Payments[0].ID, api.RefundPaymentRequest{Amount: model.MustParse("1.00", "USD"), Reason: "lock test"})
		return err
	}
	err = refund()
	var be *BusyError
	if !errors.As(err, &be) || be.Actor != "bob" || be.PID != cmd.Process.Pid {
		t.Fatalf("got %v, want busy by bob (pid %d)", err, cmd.Process.Pid)
	}
	if !strings.Contains(err.Error(), "in progress by bob (pid ") || !strings.Contains(err.Error(), "order "+o.ID) {
		t.Fatalf("message %q", err)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if err := refund(); err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	if by, _ := e.refundsByIntent(o.ID); len(by) != 1 {
		t.Fatalf("refunds %v", by)
	}
}
