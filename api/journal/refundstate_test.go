package journal

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/audit"
	"paydesk/api/digitalriver"
	"paydesk/api/moyasar"
	drsandbox "paydesk/api/sandbox/digitalriver"
	"paydesk/api/sandbox/faultproxy"
	msandbox "paydesk/api/sandbox/moyasar"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// A succeeded journal entry means the provider accepted the refund. When a
// later read shows the refund failed after all, the audit log gets one more
// line saying so (the first line stays: the log is a hash chain), once per
// change.

// stateEnv is a journal with an audit log in a temporary directory.
type stateEnv struct {
	j         *Journal
	auditPath string
}

func newStateEnv(t *testing.T) *stateEnv {
	t.Helper()
	j, path := openWithAuditLog(t, Options{})
	return &stateEnv{j: j, auditPath: path}
}

// openWithAuditLog opens a journal in a temporary directory with its audit
// lines going to a real hash-chained audit log beside it, and returns the
// log's path so a test can read back exactly what was chained. It sets
// opts' Dir and Auditor; the rest is the caller's.
func openWithAuditLog(t *testing.T, opts Options) (*Journal, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	alog, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alog.Close() })
	opts.Dir, opts.Auditor = filepath.Join(dir, "journal"), AuditLog(alog)
	j, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	return j, path
}

// outcomes lists the audit lines of one key after the prepared one, as
// "outcome:error_code:refund refs".
func (s *stateEnv) outcomes(t *testing.T, key string) []string {
	t.Helper()
	if _, err := audit.Verify(s.auditPath); err != nil {
		t.Fatalf("the audit chain: %v", err)
	}
	entries, err := readAudit(s.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		if en.IdempotencyKey == key && en.Outcome != audit.Prepared {
			refs := ""
			for i, r := range en.RefundRefs {
				if i > 0 {
					refs += ","
				}
				refs += r
			}
			out = append(out, string(en.Outcome)+":"+en.ErrorCode+":"+refs)
		}
	}
	return out
}

// TestMoyasarRefundFailingAfterAcceptanceIsAudited uses the Moyasar
// sandbox's own documented refund outcomes (no faultproxy rewriting): a
// refund on a card ending 0002 is accepted "initiated" and then declined
// ("failed"); on a card ending 0005 it times out ("timeout", unknown) and
// the gateway then reverses it (an approved "reversal" transaction naming
// it). The live refresh (GetRefund) and the order's read (GetOrder) see the
// final state; the audit log gets one failed line for the refund, once.
func TestMoyasarRefundFailingAfterAcceptanceIsAudited(t *testing.T) {
	t.Parallel()
	clock := sandboxtest.NewClock(time.Now())
	hs := sandboxtest.Serve(t, msandbox.New(msandbox.Options{Orders: 200, Seed: 5, RefundLatency: time.Minute, Now: clock.Now, ProcessingWindow: -1}))
	c, err := moyasar.New(moyasar.Config{BaseURL: hs.URL, APIKey: api.NewSecret(msandbox.DefaultAPIKey), Limiter: rate.NewLimiter(rate.Inf, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name, last4 string
		read        string // how the final state is read: "refund" (live refresh) or "order"
	}{
		{"declined", msandbox.LastDigitsRefundDeclined, "refund"},
		{"reversed", msandbox.LastDigitsRefundReversed, "order"},
	} {
		o, pay := findMoyasarCard(t, c, tc.last4)
		s := newStateEnv(t)
		p := Wrap(c, s.j, "alice")
		key := uuid.NewString()
		res, err := p.RefundPayment(ctx, o.ID, pay.ID, api.RefundPaymentRequest{IdempotencyKey: key,
			Amount: model.MustParse("1", o.Currency), Reason: "requested_by_customer"})
		if err != nil || len(res.Refunds) != 1 || res.Refunds[0].Status != model.StatusProcessing {
			t.Fatalf("%s: refund %+v %v, want accepted and initiated", tc.name, res, err)
		}
		id := res.Refunds[0].ID
		read := func() model.Status {
			t.Helper()
			if tc.read == "refund" {
				r, err := p.GetRefund(ctx, o.ID, id)
				if err != nil {
					t.Fatal(err)
				}
				return r.Status
			}
			got, err := p.GetOrder(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Refund(id).Status
		}
		want := []string{"succeeded::" + id}
		if got := s.outcomes(t, key); !slices.Equal(got, want) {
			t.Fatalf("%s: audit %v, want %v", tc.name, got, want)
		}
		clock.Advance(90 * time.Second) // settled: failed, or timed out (not final yet)
		if tc.name == "reversed" {
			if st := read(); st != model.StatusUnknown {
				t.Fatalf("%s: timed-out refund reads %s, want unknown", tc.name, st)
			}
			if got := s.outcomes(t, key); !slices.Equal(got, want) {
				t.Fatalf("%s: a timed-out refund (not final) changed the audit: %v", tc.name, got)
			}
			clock.Advance(time.Minute) // the gateway reverses it
		}
		for range 3 { // once per change, however often it is read
			if st := read(); st != model.StatusFailed {
				t.Fatalf("%s: refund reads %s, want failed", tc.name, st)
			}
		}
		want = append(want, "failed:refund_now_failed:"+id)
		if got := s.outcomes(t, key); !slices.Equal(got, want) {
			t.Fatalf("%s: audit %v, want %v", tc.name, got, want)
		}
		ins, _ := s.j.intents("moyasar", o.ID)
		if len(ins) != 1 || ins[0].State != StateSucceeded || ins[0].RefundStates[id] != StateFailed {
			t.Fatalf("%s: journal %+v, want succeeded (accepted) with refund %s now failed", tc.name, ins, id)
		}
	}
}

// TestRecoveryFindsRefundFailedAfterAcceptance: the refund's answer never
// came (the Moyasar sandbox made it, the agent gave up waiting), and by the time recovery
// settles the intent the gateway has declined it. Recovery records the
// intent succeeded (the provider has the refund) and, right after, the
// refund's failure.
func TestRecoveryFindsRefundFailedAfterAcceptance(t *testing.T) {
	t.Parallel()
	clock := sandboxtest.NewClock(time.Now())
	hs := sandboxtest.Serve(t, msandbox.New(msandbox.Options{Orders: 200, Seed: 5, RefundLatency: time.Minute, Now: clock.Now, ProcessingWindow: -1}))
	px, err := faultproxy.New(faultproxy.Config{Upstream: hs.URL, Flavor: faultproxy.Moyasar})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(px.Close)
	c, err := moyasar.New(moyasar.Config{BaseURL: px.URL, APIKey: api.NewSecret(msandbox.DefaultAPIKey), Limiter: rate.NewLimiter(rate.Inf, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	o, pay := findMoyasarCard(t, c, msandbox.LastDigitsRefundDeclined)
	s := newStateEnv(t)
	p := Wrap(c, s.j, "alice")
	key := uuid.NewString()
	px.Arm(faultproxy.Fault{Mode: faultproxy.Hang, Times: 1})
	actx, cancel := context.WithTimeout(ctx, time.Second)
	_, err = p.RefundPayment(actx, o.ID, pay.ID, api.RefundPaymentRequest{IdempotencyKey: key,
		Amount: model.MustParse("1", o.Currency), Reason: "requested_by_customer"})
	cancel()
	if !api.IsOutcomeUnknown(err) {
		t.Fatalf("no answer after the refund was made: %v, want outcome unknown", err)
	}
	px.Heal()
	clock.Advance(90 * time.Second) // the gateway declines it
	out := s.j.Recover(ctx, map[string]api.Provider{"moyasar": c})
	if len(out) != 1 || out[0].Intent.State != StateSucceeded || len(out[0].Intent.RefundIDs) != 1 {
		t.Fatalf("recover %+v, want succeeded with its refund", out)
	}
	id := out[0].Intent.RefundIDs[0]
	want := []string{"unknown:timeout:", "succeeded::" + id, "failed:refund_now_failed:" + id}
	if got := s.outcomes(t, key); !slices.Equal(got, want) {
		t.Fatalf("audit %v, want %v", got, want)
	}
	// Reading it again writes nothing more.
	if _, err := p.GetRefund(ctx, o.ID, id); err != nil {
		t.Fatal(err)
	}
	if got := s.outcomes(t, key); !slices.Equal(got, want) {
		t.Fatalf("audit after another read %v, want %v", got, want)
	}
}

// findMoyasarCard finds a refundable order paid with a card ending last4.
func findMoyasarCard(t *testing.T, c api.Provider, last4 string) (*model.Order, *model.Payment) {
	t.Helper()
	var order *model.Order
	var pay *model.Payment
	walkOrders(t, c, func(o *model.Order) bool {
		for i := range o.Payments {
			p := &o.Payments[i]
			if p.Card != nil && p.Card.Last4 == last4 && p.Status == model.StatusSucceeded && !o.HasRefundInFlight() &&
				o.Refundable().Amount.GreaterThanOrEqual(model.MustParse("2", o.Currency).Amount) {
				order, pay = o, p
				return false
			}
		}
		return true
	})
	if order == nil {
		t.Fatalf("no refundable order on a card ending %s", last4)
	}
	return order, pay
}

// walkOrders reads the provider's orders in full, page after page, until
// visit returns false or the pages run out: tests pick their subject from
// what the sandbox seeded rather than hard-coding an id. An order the client
// refuses to read (the sandboxes seed hostile ones) is not a test's subject
// and is skipped.
func walkOrders(t *testing.T, c api.Provider, visit func(o *model.Order) (more bool)) {
	t.Helper()
	ctx := context.Background()
	for q := (api.OrderQuery{Limit: 100}); ; {
		page, err := c.ListOrders(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Orders {
			o, err := c.GetOrder(ctx, s.ID)
			if err != nil {
				continue
			}
			if !visit(o) {
				return
			}
		}
		if q.Cursor = page.Next; q.Cursor == "" {
			return
		}
	}
}

// TestDigitalRiverRefundFailingAfterAcceptanceIsAudited: the same rule for
// Digital River, whose sandbox fails refunds on its refund_will_fail orders
// (pending, then failed with expired_or_canceled_card).
func TestDigitalRiverRefundFailingAfterAcceptanceIsAudited(t *testing.T) {
	t.Parallel()
	clock := sandboxtest.NewClock(time.Now())
	hs := sandboxtest.Serve(t, drsandbox.New(drsandbox.Options{Orders: 60, Seed: 3, RefundLatency: time.Minute, Now: clock.Now, RatePerSecond: -1}))
	c, o := drWillFailOrder(t, hs.URL, hs.URL)
	ctx := context.Background()
	s := newStateEnv(t)
	p := Wrap(c, s.j, "alice")
	key := uuid.NewString()
	res, err := p.RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{IdempotencyKey: key,
		Amount: model.MustParse("1", o.Currency), Reason: "requested_by_customer"})
	if err != nil || len(res.Refunds) != 1 || res.Refunds[0].Status.Final() {
		t.Fatalf("refund %+v %v, want accepted and pending", res, err)
	}
	id := res.Refunds[0].ID
	clock.Advance(2 * time.Minute)
	for range 2 {
		r, err := p.GetRefund(ctx, o.ID, id)
		if err != nil || r.Status != model.StatusFailed {
			t.Fatalf("refund reads %+v %v, want failed", r, err)
		}
	}
	want := []string{"succeeded::" + id, "failed:refund_now_failed:" + id}
	if got := s.outcomes(t, key); !slices.Equal(got, want) {
		t.Fatalf("audit %v, want %v", got, want)
	}
}

// drWillFailOrder connects a Digital River client to base and returns it
// with an order of the sandbox's refund_will_fail scenario that can still
// refund at least 2 in its currency. Both tests of a refund failing after
// acceptance start from such an order; one reaches the sandbox through a
// rewriting proxy, so the client's base and the sandbox's own URL (for its
// /sandbox/scenarios control endpoint) are given apart.
func drWillFailOrder(t *testing.T, base, sandboxURL string) (*digitalriver.Client, *model.Order) {
	t.Helper()
	c, err := digitalriver.New(digitalriver.Config{BaseURL: base, APIKey: api.NewSecret("sk_test_demo"), Limiter: rate.NewLimiter(rate.Inf, 0)})
	if err != nil {
		t.Fatal(err)
	}
	e := &drEnv{t: t, url: sandboxURL, c: c}
	var sc map[string][]string
	if err := json.Unmarshal(e.sandbox("GET", "/sandbox/scenarios", ""), &sc); err != nil {
		t.Fatal(err)
	}
	for _, id := range sc["refund_will_fail"] {
		got, err := c.GetOrder(context.Background(), id)
		if err == nil && len(got.Payments) > 0 && got.Refundable().Amount.GreaterThanOrEqual(model.MustParse("2", got.Currency).Amount) {
			return c, got
		}
	}
	t.Fatal("no refundable refund_will_fail order")
	return nil, nil
}
