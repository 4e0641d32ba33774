package journal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"paydesk/api"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// This file tests the state machine against a small in-test provider that
// records calls. The exactly-once and crash tests run the real Forage client
// against the real sandbox (forage_test.go, crash_test.go).

// behaviour decides what one money call does: whether the provider applies
// it and what the caller gets back.
type behaviour int

const (
	ok      behaviour = iota // applied, answered
	lost                     // applied, answer lost (timeout after commit)
	dropped                  // not applied, no answer (reset before the provider read it all)
	refuse                   // not applied, 400
	plain                    // applied, a plain (non-api) error: the client did not classify it
	answer                   // applied, then answered with fakeProvider.answer
)

type fcall struct {
	Action   Action
	Key      string
	Amount   string
	Metadata model.Metadata
}

type fakeProvider struct {
	id   string
	caps api.Capabilities
	clk  *sandboxtest.Clock

	mu     sync.Mutex
	order  *model.Order
	calls  []fcall
	script []behaviour
	stored map[string]*api.RefundResult // idempotency key -> first answer
	n      int
	// markWithKey makes the provider's client overwrite the marker with the
	// idempotency key, as the Digital River client does.
	markWithKey bool
	block       chan struct{} // when set, money calls wait for it
	entered     chan struct{}
	getErr      error
	answer      error         // what an "answer" call returns after applying
	getBlock    chan struct{} // when set, GetOrder waits for it
}

func newFake(clk *sandboxtest.Clock, idem api.IdempotencyKind) *fakeProvider {
	caps := api.Capabilities{Idempotency: idem, RefundOrder: true, RefundPayment: true, CancelPayment: true, UpdatePayment: true}
	if idem != api.IdempotencyNone {
		caps.KeyWindow = 10 * time.Minute
	}
	return &fakeProvider{
		id: "fake", caps: caps, clk: clk, stored: map[string]*api.RefundResult{},
		order: &model.Order{
			ID: "o1", Currency: "USD",
			Payments: []model.Payment{
				{ID: "p1", OrderID: "o1", Amount: model.MustParse("100.00", "USD"), Status: model.StatusSucceeded, Metadata: model.Metadata{"a": "1"}},
				{ID: "p2", OrderID: "o1", Amount: model.MustParse("50.00", "USD"), Status: model.StatusSucceeded},
			},
		},
	}
}

func (f *fakeProvider) ID() string                     { return f.id }
func (f *fakeProvider) Name() string                   { return "Fake" }
func (f *fakeProvider) Capabilities() api.Capabilities { return f.caps }
func (f *fakeProvider) setScript(b ...behaviour)       { f.mu.Lock(); f.script = b; f.mu.Unlock() }
func (f *fakeProvider) Calls() []fcall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fcall(nil), f.calls...)
}
func (f *fakeProvider) Refunds() []model.Refund {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]model.Refund(nil), f.order.Refunds...)
}
func (f *fakeProvider) ListOrders(context.Context, api.OrderQuery) (api.OrderPage, error) {
	return api.OrderPage{}, nil
}

func (f *fakeProvider) GetOrder(ctx context.Context, id string) (*model.Order, error) {
	if f.getBlock != nil {
		select {
		case <-f.getBlock:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.getErr != nil {
		return nil, f.getErr
	}
	o := *f.order
	o.Refunds = append([]model.Refund(nil), f.order.Refunds...)
	o.Payments = append([]model.Payment(nil), f.order.Payments...)
	return &o, nil
}

func (f *fakeProvider) GetRefund(context.Context, string, string) (*model.Refund, error) {
	return nil, api.ErrNotSupported
}

func (f *fakeProvider) UpdateRefund(context.Context, string, string, api.RefundUpdate) (*model.Refund, error) {
	return nil, api.ErrNotSupported
}

var errLost = &api.Error{Provider: "fake", Err: io.ErrUnexpectedEOF, Retryable: true, Unknown: true}

// money runs one money call through the script.
func (f *fakeProvider) money(ctx context.Context, c fcall, apply func() *api.RefundResult) (*api.RefundResult, error) {
	if f.block != nil {
		f.entered <- struct{}{}
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, &api.Error{Err: ctx.Err(), Unknown: true}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c)
	b := ok
	if len(f.script) > 0 {
		b, f.script = f.script[0], f.script[1:]
	}
	switch b {
	case dropped:
		return nil, errLost
	case refuse:
		return nil, &api.Error{Provider: "fake", HTTPStatus: 400, Code: "refund_exceeds_order_total"}
	}
	var res *api.RefundResult
	if prev, ok := f.stored[c.Key]; ok && f.caps.Idempotency != api.IdempotencyNone {
		res = prev
	} else {
		res = apply()
		f.stored[c.Key] = res
	}
	switch b {
	case lost:
		return nil, errLost
	case plain:
		return nil, errors.New("boom")
	case answer:
		return nil, f.answer
	}
	return res, nil
}

func (f *fakeProvider) newRefund(paymentID string, amount model.Money, md model.Metadata) model.Refund {
	f.n++
	r := model.Refund{
		ID: "r" + string(rune('0'+f.n)), OrderID: "o1", PaymentID: paymentID, Amount: amount,
		Status: model.StatusProcessing, Metadata: maps.Clone(md), Created: f.clk.Now(),
	}
	f.order.Refunds = append(f.order.Refunds, r)
	return r
}

func (f *fakeProvider) RefundPayment(ctx context.Context, orderID, paymentID string, r api.RefundPaymentRequest) (*api.RefundResult, error) {
	md := r.Metadata
	if f.markWithKey {
		md = md.Clone()
		md[MarkerKey] = r.IdempotencyKey
	}
	return f.money(ctx, fcall{ActionRefundPayment, r.IdempotencyKey, r.Amount.Fixed(), r.Metadata}, func() *api.RefundResult {
		return &api.RefundResult{Refunds: []model.Refund{f.newRefund(paymentID, r.Amount, md)}}
	})
}

func (f *fakeProvider) RefundOrder(ctx context.Context, orderID string, r api.RefundOrderRequest) (*api.RefundResult, error) {
	return f.money(ctx, fcall{ActionRefundOrder, r.IdempotencyKey, r.Expected.Fixed(), r.Metadata}, func() *api.RefundResult {
		a := f.newRefund("p1", model.MustParse("100.00", "USD"), r.Metadata)
		b := f.newRefund("p2", model.MustParse("50.00", "USD"), r.Metadata)
		return &api.RefundResult{Refunds: []model.Refund{a, b}}
	})
}

func (f *fakeProvider) CancelPayment(ctx context.Context, orderID, paymentID string, r api.CancelRequest) (*model.Payment, error) {
	res, err := f.money(ctx, fcall{ActionCancelPayment, r.IdempotencyKey, "", nil}, func() *api.RefundResult {
		f.order.Payments[1].Status = model.StatusCanceled
		return &api.RefundResult{}
	})
	if err != nil || res == nil {
		return nil, err
	}
	return &f.order.Payments[1], nil
}

func (f *fakeProvider) UpdatePayment(ctx context.Context, orderID, paymentID string, u api.PaymentUpdate) (*model.Payment, error) {
	_, err := f.money(ctx, fcall{ActionUpdatePayment, u.IdempotencyKey, "", u.Metadata}, func() *api.RefundResult {
		if u.Metadata != nil {
			f.order.Payments[0].Metadata = maps.Clone(u.Metadata)
		}
		return &api.RefundResult{}
	})
	if err != nil {
		return nil, err
	}
	return &f.order.Payments[0], nil
}

type env struct {
	t   *testing.T
	clk *sandboxtest.Clock
	j   *Journal
	f   *fakeProvider
	p   api.Provider
	rec []AuditRecord
	mu  sync.Mutex
}

func newEnv(t *testing.T, idem api.IdempotencyKind) *env {
	t.Helper()
	e := &env{t: t, clk: sandboxtest.NewClock(time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC))}
	var err error
	e.j, err = Open(Options{Dir: filepath.Join(t.TempDir(), "state", "journal"), Now: e.clk.Now, SettleTime: time.Minute,
		Auditor: AuditorFunc(func(r AuditRecord) error { e.mu.Lock(); e.rec = append(e.rec, r); e.mu.Unlock(); return nil })})
	if err != nil {
		t.Fatal(err)
	}
	e.f = newFake(e.clk, idem)
	e.p = Wrap(e.f, e.j, "alice")
	return e
}

func (e *env) refund(amount string) (*api.RefundResult, error) {
	return e.refundKey(amount, "")
}

func (e *env) refundKey(amount, key string) (*api.RefundResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return e.p.RefundPayment(ctx, "o1", "p1", api.RefundPaymentRequest{
		IdempotencyKey: key, Amount: model.MustParse(amount, "USD"), Reason: "damaged", Metadata: model.Metadata{"ticket": "T-1"},
	})
}

func (e *env) only() Intent {
	e.t.Helper()
	ins, err := e.j.intents("fake", "o1")
	if err != nil {
		e.t.Fatal(err)
	}
	if len(ins) == 0 {
		e.t.Fatal("no intent recorded")
	}
	return ins[len(ins)-1]
}

func TestRefundSucceeds(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	res, err := e.refund("12.5")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refunds) != 1 {
		t.Fatalf("refunds %v", res.Refunds)
	}
	in := e.only()
	if in.State != StateSucceeded || len(in.RefundIDs) != 1 || in.RefundIDs[0] != res.Refunds[0].ID {
		t.Fatalf("intent %+v", in)
	}
	if in.Amount != "12.50" || in.Currency != "USD" || in.Actor != "alice" || in.Sends != 1 {
		t.Fatalf("intent %+v", in)
	}
	if u, err := uuid.Parse(in.ID); err != nil || u.Version() != 7 {
		t.Fatalf("intent id %q is not a UUIDv7", in.ID)
	}
	if u, err := uuid.Parse(in.IdempotencyKey); err != nil || u.Version() != 7 {
		t.Fatalf("minted key %q is not a UUIDv7", in.IdempotencyKey)
	}
	c := e.f.Calls()
	if len(c) != 1 || c[0].Key != in.IdempotencyKey || c[0].Amount != "12.50" ||
		c[0].Metadata[MarkerKey] != in.ID || c[0].Metadata["ticket"] != "T-1" {
		t.Fatalf("calls %+v", c)
	}
	// Every transition is on disk, in order.
	b, err := os.ReadFile(e.j.orderPath("fake", "o1", ".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		for _, s := range []State{StatePrepared, StateSent, StateSucceeded} {
			if strings.Contains(line, `"state":"`+string(s)+`"`) {
				states = append(states, string(s))
			}
		}
	}
	if strings.Join(states, ",") != "prepared,sent,succeeded" {
		t.Fatalf("transitions %v", states)
	}
	for path, want := range map[string]os.FileMode{
		e.j.Dir(): 0o700, filepath.Dir(e.j.Dir()): 0o700, e.j.providerDir("fake"): 0o700,
		e.j.orderPath("fake", "o1", ".jsonl"): 0o600, e.j.orderPath("fake", "o1", ".lock"): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	// One line before sending, one for the outcome.
	if len(e.rec) != 2 || e.rec[0].Outcome != StatePrepared || e.rec[1].Outcome != StateSucceeded ||
		e.rec[1].Amount != "12.50" || e.rec[0].IntentID != e.rec[1].IntentID ||
		strings.Join(e.rec[1].MetadataKeys, ",") != "paydesk_intent,ticket" {
		t.Fatalf("audit %+v", e.rec)
	}
}

func TestUnknownIsNeverFailedAndReplaysSameKey(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	e.f.setScript(lost)
	_, err := e.refund("10.00")
	if !api.IsOutcomeUnknown(err) {
		t.Fatalf("got %v, want outcome unknown", err)
	}
	var ie *IntentError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "may have happened") {
		t.Fatalf("message %q", err)
	}
	first := e.only()
	if first.State != StateUnknown {
		t.Fatalf("state %s, want unknown", first.State)
	}
	if p, _ := e.j.Pending("fake", "o1"); len(p) != 1 {
		t.Fatalf("pending %v", p)
	}
	// A new refund on the order first replays the old one with its key; the
	// old one turns out to have happened, so the new one is not sent.
	_, err = e.refund("5.00")
	if !errors.Is(err, ErrEarlierSucceeded) || api.IsOutcomeUnknown(err) {
		t.Fatalf("got %v, want ErrEarlierSucceeded", err)
	}
	c := e.f.Calls()
	if len(c) != 2 || c[1].Key != c[0].Key || c[1].Amount != c[0].Amount || !maps.Equal(c[0].Metadata, c[1].Metadata) {
		t.Fatalf("calls %+v: the replay must repeat the first request exactly", c)
	}
	if n := len(e.f.Refunds()); n != 1 {
		t.Fatalf("%d refunds at the provider, want 1", n)
	}
	got := e.only()
	if got.ID != first.ID || got.State != StateSucceeded || got.Sends != 2 {
		t.Fatalf("intent %+v", got)
	}
	// Now the agent confirms again: it goes through.
	if _, err := e.refund("5.00"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.f.Refunds()); n != 2 {
		t.Fatalf("%d refunds, want 2", n)
	}
}

func TestSameKeyIsOneAction(t *testing.T) {
	e := newEnv(t, api.IdempotencyNone) // even without provider help
	if _, err := e.refundKey("10.00", "k-1"); err != nil {
		t.Fatal(err)
	}
	res, err := e.refundKey("10.00", "k-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.f.Calls()) != 1 || len(res.Refunds) != 1 || res.Refunds[0].ID != e.only().RefundIDs[0] {
		t.Fatalf("calls %d, result %+v", len(e.f.Calls()), res)
	}
	if _, err := e.refundKey("11.00", "k-1"); !errors.Is(err, ErrKeyReused) {
		t.Fatalf("got %v, want ErrKeyReused", err)
	}
	e.f.setScript(refuse)
	if _, err := e.refundKey("20.00", "k-2"); err == nil || api.StatusOf(err) != 400 {
		t.Fatalf("got %v, want the 400", err)
	}
	if _, err := e.refundKey("20.00", "k-2"); !errors.Is(err, ErrAlreadyFailed) {
		t.Fatalf("got %v, want ErrAlreadyFailed", err)
	}
	if len(e.f.Calls()) != 2 {
		t.Fatalf("calls %d, want 2", len(e.f.Calls()))
	}
}

func TestUnclassifiedErrorIsUnknown(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	e.f.setScript(plain)
	_, err := e.refund("10.00")
	if !api.IsOutcomeUnknown(err) || e.only().State != StateUnknown {
		t.Fatalf("got %v (%s): an error the client did not classify may have happened", err, e.only().State)
	}
}

func TestDefiniteRefusalIsFailed(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	e.f.setScript(refuse)
	_, err := e.refund("999.00")
	if err == nil || api.IsOutcomeUnknown(err) || api.CodeOf(err) != "refund_exceeds_order_total" {
		t.Fatalf("got %v", err)
	}
	in := e.only()
	if in.State != StateFailed || in.ErrorCode != "refund_exceeds_order_total" {
		t.Fatalf("intent %+v", in)
	}
	if _, err := e.refund("1.00"); err != nil {
		t.Fatalf("a failed intent must not block the order: %v", err)
	}
}

func TestNoIdempotencyReconcilesByReading(t *testing.T) {
	t.Run("found by marker", func(t *testing.T) {
		e := newEnv(t, api.IdempotencyNone)
		e.f.setScript(lost)
		if _, err := e.refund("10.00"); !api.IsOutcomeUnknown(err) {
			t.Fatal(err)
		}
		out := e.j.Recover(context.Background(), map[string]api.Provider{"fake": e.f})
		if len(out) != 1 || out[0].Intent.State != StateSucceeded || out[0].Err != nil {
			t.Fatalf("outcomes %+v", out)
		}
		if len(e.f.Calls()) != 1 {
			t.Fatalf("a provider without keys was sent the request again: %+v", e.f.Calls())
		}
		if got := e.only().RefundIDs; len(got) != 1 || got[0] != e.f.Refunds()[0].ID {
			t.Fatalf("refund ids %v", got)
		}
	})
	t.Run("marker holds the key", func(t *testing.T) {
		e := newEnv(t, api.IdempotencyNone)
		e.f.markWithKey = true
		e.f.setScript(lost)
		_, _ = e.refund("10.00")
		e.clk.Advance(time.Hour)
		out := e.j.Recover(context.Background(), map[string]api.Provider{"fake": e.f})
		if len(out) != 1 || out[0].Intent.State != StateSucceeded || len(out[0].Intent.RefundIDs) != 1 {
			t.Fatalf("outcomes %+v", out)
		}
	})
	t.Run("a refund marked by another intent is not ours", func(t *testing.T) {
		e := newEnv(t, api.IdempotencyNone)
		e.f.setScript(dropped)
		_, _ = e.refund("10.00")
		e.f.mu.Lock()
		e.f.newRefund("p1", model.MustParse("10.00", "USD"), model.Metadata{MarkerKey: "someone-else"})
		e.f.mu.Unlock()
		e.clk.Advance(time.Hour)
		out := e.j.Recover(context.Background(), map[string]api.Provider{"fake": e.f})
		if len(out) != 1 || out[0].Intent.State != StateFailed {
			t.Fatalf("outcomes %+v", out)
		}
	})
	t.Run("found without marker", func(t *testing.T) {
		e := newEnv(t, api.IdempotencyNone)
		e.f.setScript(lost)
		_, _ = e.refund("10.00")
		// The provider dropped the metadata.
		e.f.mu.Lock()
		e.f.order.Refunds[0].Metadata = nil
		e.f.mu.Unlock()
		out := e.j.Recover(context.Background(), map[string]api.Provider{"fake": e.f})
		if len(out) != 1 || out[0].Intent.State != StateSucceeded {
			t.Fatalf("outcomes %+v", out)
		}
	})
	t.Run("not found: unknown until settled, then failed", func(t *testing.T) {
		e := newEnv(t, api.IdempotencyNone)
		e.f.setScript(dropped)
		_, _ = e.refund("10.00")
		_, err := e.refund("10.00")
		if !errors.Is(err, ErrUnresolved) || api.IsOutcomeUnknown(err) {
			t.Fatalf("got %v, want ErrUnresolved (and not an unknown outcome of the new action)", err)
		}
		if !strings.Contains(err.Error(), "nothing sent") || !strings.Contains(err.Error(), "by alice") {
			t.Fatalf("message %q", err)
		}
		if len(e.f.Calls()) != 1 {
			t.Fatalf("calls %d", len(e.f.Calls()))
		}
		e.clk.Advance(2 * time.Minute)
		if _, err := e.refund("10.00"); err != nil {
			t.Fatal(err)
		}
		ins, _ := e.j.intents("fake", "o1")
		if ins[0].State != StateFailed || ins[0].ErrorCode != "not_found_at_provider" || ins[1].State != StateSucceeded {
			t.Fatalf("intents %+v", ins)
		}
		if len(e.f.Refunds()) != 1 {
			t.Fatalf("refunds %d", len(e.f.Refunds()))
		}
	})
}

func TestPastKeyWindowReadsInsteadOfReplaying(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	e.f.setScript(lost)
	_, _ = e.refund("10.00")
	e.clk.Advance(9*time.Minute + 30*time.Second) // inside 10m, but not inside the margin
	out := e.j.Recover(context.Background(), map[string]api.Provider{"fake": e.f})
	if len(out) != 1 || out[0].Intent.State != StateSucceeded {
		t.Fatalf("outcomes %+v", out)
	}
	if len(e.f.Calls()) != 1 {
		t.Fatalf("replayed past the key window: %+v", e.f.Calls())
	}
}

func TestRefusedReplayIsCheckedByReading(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	e.f.setScript(lost, refuse) // happened; the replay is refused (as Forage does for refund_all)
	_, _ = e.refund("10.00")
	out := e.j.Recover(context.Background(), map[string]api.Provider{"fake": e.f})
	if len(out) != 1 || out[0].Intent.State != StateSucceeded {
		t.Fatalf("outcomes %+v", out)
	}
	// And when it had not happened: the refusal is believed only after
	// reading shows nothing and the settle time passed.
	e2 := newEnv(t, api.IdempotencyHeader)
	e2.f.setScript(dropped, refuse, refuse)
	_, _ = e2.refund("10.00")
	out = e2.j.Recover(context.Background(), map[string]api.Provider{"fake": e2.f})
	if len(out) != 1 || out[0].Intent.State != StateUnknown {
		t.Fatalf("outcomes %+v", out)
	}
	e2.clk.Advance(2 * time.Minute)
	out = e2.j.Recover(context.Background(), map[string]api.Provider{"fake": e2.f})
	if len(out) != 1 || out[0].Intent.State != StateFailed {
		t.Fatalf("outcomes %+v", out)
	}
	if len(e2.f.Refunds()) != 0 {
		t.Fatal("refund appeared")
	}
}

func TestUnreadableOrderKeepsUnknown(t *testing.T) {
	e := newEnv(t, api.IdempotencyNone)
	e.f.setScript(lost)
	_, _ = e.refund("10.00")
	e.f.getErr = &api.Error{HTTPStatus: 503, Retryable: true}
	e.clk.Advance(time.Hour)
	out := e.j.Recover(context.Background(), map[string]api.Provider{"fake": e.f})
	if len(out) != 1 || out[0].Intent.State != StateUnknown || out[0].Err == nil {
		t.Fatalf("outcomes %+v", out)
	}
}

func TestPreparedIsCanceledNotSent(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	e.j.testHook = func(step string) {
		if step == "prepared" {
			panic("crash")
		}
	}
	func() {
		defer func() { _ = recover() }()
		_, _ = e.refund("10.00")
	}()
	e.j.testHook = nil
	if in := e.only(); in.State != StatePrepared {
		t.Fatalf("state %s", in.State)
	}
	out := e.j.Recover(context.Background(), map[string]api.Provider{"fake": e.f})
	if len(out) != 1 || out[0].Intent.State != StateCanceled {
		t.Fatalf("outcomes %+v", out)
	}
	if len(e.f.Calls()) != 0 {
		t.Fatal("a never-sent intent was sent by recovery")
	}
}

func TestCancelAndUpdate(t *testing.T) {
	e := newEnv(t, api.IdempotencyNone)
	ctx := context.Background()
	e.f.setScript(lost)
	_, err := e.p.CancelPayment(ctx, "o1", "p2", api.CancelRequest{})
	if !api.IsOutcomeUnknown(err) {
		t.Fatal(err)
	}
	if out := e.j.Recover(ctx, map[string]api.Provider{"fake": e.f}); len(out) != 1 || out[0].Intent.State != StateSucceeded {
		t.Fatalf("outcomes %+v", out)
	}
	e.rec = nil
	if _, err := e.p.UpdatePayment(ctx, "o1", "p1", api.PaymentUpdate{Metadata: model.Metadata{"a": "1", "b": "secret-value"}}); err != nil {
		t.Fatal(err)
	}
	if in := e.only(); in.Action != ActionUpdatePayment || in.State != StateSucceeded || in.Metadata[MarkerKey] != "" {
		t.Fatalf("intent %+v", in)
	}
	if len(e.rec) != 2 || strings.Join(e.rec[0].MetadataKeys, ",") != "b" || strings.Join(e.rec[1].MetadataKeys, ",") != "b" {
		t.Fatalf("audit %+v: only changed key names", e.rec)
	}
	// An unresolved update does not block a refund.
	e.f.setScript(dropped)
	_, _ = e.p.UpdatePayment(ctx, "o1", "p1", api.PaymentUpdate{Metadata: model.Metadata{"c": "3"}})
	if _, err := e.refund("1.00"); err != nil {
		t.Fatal(err)
	}
}

func TestRefundOrder(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	e.f.setScript(lost)
	_, err := e.p.RefundOrder(context.Background(), "o1", api.RefundOrderRequest{Reason: "all", Expected: model.MustParse("150", "USD")})
	if !api.IsOutcomeUnknown(err) {
		t.Fatal(err)
	}
	out := e.j.Recover(context.Background(), map[string]api.Provider{"fake": e.f})
	if len(out) != 1 || out[0].Intent.State != StateSucceeded || len(out[0].Intent.RefundIDs) != 2 {
		t.Fatalf("outcomes %+v", out)
	}
	c := e.f.Calls()
	if len(c) != 2 || c[0].Amount != "150.00" || c[1].Amount != "150.00" || c[0].Key != c[1].Key {
		t.Fatalf("calls %+v", c)
	}
	if len(e.f.Refunds()) != 2 {
		t.Fatalf("refunds %d", len(e.f.Refunds()))
	}
}

func TestBusyOrder(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	e.f.block, e.f.entered = make(chan struct{}), make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { _, err := e.refund("10.00"); done <- err }()
	<-e.f.entered
	other := Wrap(e.f, e.j, "bob")
	_, err := other.RefundPayment(context.Background(), "o1", "p2", api.RefundPaymentRequest{Amount: model.MustParse("1", "USD")})
	var be *BusyError
	if !errors.As(err, &be) || !errors.Is(err, ErrBusy) || be.Actor != "alice" || be.PID != os.Getpid() {
		t.Fatalf("got %v, want busy by alice", err)
	}
	if !strings.Contains(err.Error(), "in progress by alice") || !strings.Contains(err.Error(), "since 14:00:00 UTC") {
		t.Fatalf("message %q", err)
	}
	close(e.f.block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	e.f.block = nil
	if _, err := other.RefundPayment(context.Background(), "o1", "p2", api.RefundPaymentRequest{Amount: model.MustParse("1", "USD")}); err != nil {
		t.Fatalf("after the first finished: %v", err)
	}
}

func TestCanceledBeforeSending(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.p.RefundPayment(ctx, "o1", "p1", api.RefundPaymentRequest{Amount: model.MustParse("1", "USD")})
	if !errors.Is(err, context.Canceled) || api.IsOutcomeUnknown(err) {
		t.Fatalf("got %v", err)
	}
	if in := e.only(); in.State != StateCanceled || len(e.f.Calls()) != 0 {
		t.Fatalf("intent %+v calls %d", in, len(e.f.Calls()))
	}
}

func TestReadOnlyAndBadAmounts(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	ro := Wrap(api.ReadOnly(e.f), e.j, "alice")
	if _, err := ro.RefundPayment(context.Background(), "o1", "p1", api.RefundPaymentRequest{Amount: model.MustParse("1", "USD")}); !errors.Is(err, api.ErrReadOnly) {
		t.Fatal(err)
	}
	if _, err := e.p.RefundPayment(context.Background(), "o1", "p1", api.RefundPaymentRequest{Amount: model.Zero("USD")}); err == nil {
		t.Fatal("zero refund accepted")
	}
	if _, err := e.p.RefundPayment(context.Background(), "o1", "p1", api.RefundPaymentRequest{Amount: model.Money{Currency: "XXX"}}); err == nil {
		t.Fatal("unknown currency accepted")
	}
	if ins, _ := e.j.intents("fake", "o1"); len(ins) != 0 || len(e.f.Calls()) != 0 {
		t.Fatalf("intents %v calls %v", ins, e.f.Calls())
	}
}

func TestTornLastLine(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	if _, err := e.refund("1.00"); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(e.j.orderPath("fake", "o1", ".jsonl"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(`{"id":"0199-torn","state":"sen`)
	_ = f.Close()
	if _, err := e.refund("2.00"); err != nil {
		t.Fatal(err)
	}
	ins, err := e.j.intents("fake", "o1")
	if err != nil || len(ins) != 2 || ins[1].State != StateSucceeded {
		t.Fatalf("intents %+v, %v", ins, err)
	}
}

func TestHostileOrderIDStaysInTheJournal(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	id := "../../etc/passwd\x1b]52;c;x\x07"
	e.f.order.ID = id
	_, err := e.p.RefundPayment(context.Background(), id, "p1", api.RefundPaymentRequest{Amount: model.MustParse("1", "USD")})
	if err != nil {
		t.Fatal(err)
	}
	ins, err := e.j.intents("fake", id)
	if err != nil || len(ins) != 1 || ins[0].OrderID != id {
		t.Fatalf("intents %+v %v", ins, err)
	}
	matches, _ := filepath.Glob(filepath.Join(e.j.Dir(), "*", "h-*.jsonl"))
	if len(matches) != 1 {
		t.Fatalf("files %v", matches)
	}
}

func TestRecoverWithoutProvider(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	e.f.setScript(lost)
	_, _ = e.refund("1.00")
	out := e.j.Recover(context.Background(), nil)
	if len(out) != 1 || !errors.Is(out[0].Err, ErrNoProvider) || out[0].Resolved() {
		t.Fatalf("outcomes %+v", out)
	}
}

func TestMarkChecked(t *testing.T) {
	e := newEnv(t, api.IdempotencyNone)
	e.f.setScript(dropped)
	_, _ = e.refund("1.00")
	in := e.only()
	if err := e.j.MarkChecked("fake", "o1", in.ID, StateFailed, "carol", "not in the dashboard"); err != nil {
		t.Fatal(err)
	}
	if got := e.only(); got.State != StateFailed || !strings.Contains(got.Note, "carol") {
		t.Fatalf("intent %+v", got)
	}
	if err := e.j.MarkChecked("fake", "o1", in.ID, StateSucceeded, "carol", ""); err == nil {
		t.Fatal("a resolved intent was changed")
	}
}

func TestOpenTightensTheDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("PAYDESK_STATE_DIR", "/s")
	t.Setenv("XDG_STATE_HOME", "/x")
	if d, _ := DefaultDir(); d != "/s/journal" {
		t.Fatal(d)
	}
	t.Setenv("PAYDESK_STATE_DIR", "")
	if d, _ := DefaultDir(); d != "/x/paydesk/journal" {
		t.Fatal(d)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/h")
	if d, _ := DefaultDir(); d != "/h/.local/state/paydesk/journal" {
		t.Fatal(d)
	}
}

// TestAnswerAfterSendIsClassifiedByStatus: whatever the client flagged, an
// answer that does not prove the request was refused (a redirect, 401, 409,
// 429, 5xx) leaves the intent unknown and is settled by reading or replaying;
// only a definite refusal (400, 403, 404, 422) is failed. Each case commits
// the refund at the provider and then answers with the status, the way a
// provider that redirects after a POST (or a proxy) does.
func TestAnswerAfterSendIsClassifiedByStatus(t *testing.T) {
	cases := []struct {
		status  int
		unknown bool // the client's own flag
		want    State
	}{
		{302, false, StateUnknown}, {303, false, StateUnknown}, {307, false, StateUnknown},
		{401, false, StateUnknown}, {408, false, StateUnknown}, {409, false, StateUnknown},
		{429, false, StateUnknown}, {500, false, StateUnknown}, {503, false, StateUnknown},
		{400, true, StateUnknown}, {200, false, StateUnknown}, {0, true, StateUnknown},
		{400, false, StateFailed}, {403, false, StateFailed}, {404, false, StateFailed}, {422, false, StateFailed},
	}
	for _, idem := range []api.IdempotencyKind{api.IdempotencyHeader, api.IdempotencyNone} {
		for _, tc := range cases {
			name := fmt.Sprintf("idem%d/%d/unknown=%v", idem, tc.status, tc.unknown)
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, idem)
				e.f.answer = &api.Error{Provider: "fake", HTTPStatus: tc.status, Code: "x", Unknown: tc.unknown, Err: io.ErrUnexpectedEOF}
				if tc.status != 0 {
					e.f.answer.(*api.Error).Err = nil
				}
				e.f.setScript(answer)
				_, err := e.refund("10.00")
				in := e.only()
				if in.State != tc.want {
					t.Fatalf("state %s (%s), want %s", in.State, in.Note, tc.want)
				}
				if tc.want == StateUnknown && !api.IsOutcomeUnknown(err) {
					t.Fatalf("error %v does not say outcome unknown", err)
				}
				if tc.want == StateFailed {
					if api.IsOutcomeUnknown(err) {
						t.Fatalf("definite refusal reported as unknown: %v", err)
					}
					return
				}
				// The refund is at the provider: the next action on the
				// order settles it (replay with the same key inside the key
				// window, else a read) and never sends a second refund.
				e.f.setScript()
				if _, err := e.refund("5.00"); !errors.Is(err, ErrEarlierSucceeded) {
					t.Fatalf("next refund: %v, want ErrEarlierSucceeded", err)
				}
				if n := len(e.f.Refunds()); n != 1 {
					t.Fatalf("%d refunds at the provider, want 1", n)
				}
				first, _ := e.j.intents("fake", "o1")
				if first[0].State != StateSucceeded {
					t.Fatalf("first intent %s, want succeeded", first[0].State)
				}
			})
		}
	}
}

// A waiter whose flock failed reads the holder's name from the lock file;
// on a loaded host the holder can finish and unlock before that read. The
// file keeps the last holder's name, so the waiter is still told who
// (TestTwoSessionsRefundingOneOrderMakeOneRefund in ui failed under load
// with "by another agent" while unlocking emptied the file).
func TestLockFileKeepsTheLastHoldersName(t *testing.T) {
	fb, err := OpenFiles(t.TempDir(), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	k := Key{Provider: "forage", Account: "acct", OrderID: "o1"}
	u, err := fb.Lock(k, "alice")
	if err != nil {
		t.Fatal(err)
	}
	u.Unlock()
	b, err := os.ReadFile(fb.orderPath(k, ".lock"))
	if err != nil {
		t.Fatal(err)
	}
	var h holder
	if err := json.Unmarshal(b, &h); err != nil || h.Actor != "alice" || !h.Done {
		t.Fatalf("lock file after unlock: %q (%v), want alice's name, marked done", b, err)
	}
	u, err = fb.Lock(k, "bob") // a shorter name over a longer one: whole
	if err != nil {
		t.Fatal(err)
	}
	defer u.Unlock()
	b, _ = os.ReadFile(fb.orderPath(k, ".lock"))
	h = holder{}
	if err := json.Unmarshal(b, &h); err != nil || h.Actor != "bob" || h.Done {
		t.Fatalf("lock file of bob: %q (%v)", b, err)
	}
}
