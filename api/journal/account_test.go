package journal

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// Two accounts of one provider sharing a state directory (two Forage
// merchants) used to share files by order ref: one agent's refund on m1's
// order o1 blocked the other merchant's o1, and an unknown intent of one
// would have been resolved against the other.
func TestAccountsDoNotShareIntentsOrLocks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	clk := sandboxtest.NewClock(time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC))
	open := func(account string) *Journal {
		j, err := Open(Options{Dir: dir, Now: clk.Now, Accounts: map[string]string{"fake": account}})
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	j1, j2 := open("https://api.example m1"), open("https://api.example m2")
	lk, err := j1.lock("fake", "o1", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer lk.unlock()
	p2 := Wrap(newFake(clk, api.IdempotencyHeader), j2, "bob")
	if _, err := p2.RefundPayment(context.Background(), "o1", "p1", api.RefundPaymentRequest{Amount: model.MustParse("1.00", "USD")}); err != nil {
		t.Fatalf("m2's refund on its own o1 while m1's o1 is locked: %v", err)
	}
	if ins, _ := j1.intents("fake", "o1"); len(ins) != 0 {
		t.Fatalf("m1 sees m2's intents: %+v", ins)
	}
	ins, _ := j2.intents("fake", "o1")
	if len(ins) != 1 || ins[0].Account != "https://api.example m2" {
		t.Fatalf("m2's intents: %+v", ins)
	}
}

// An intent an older paydesk wrote before accounts were keyed still blocks
// its order once the account is configured.
func TestUnkeyedIntentStillBlocksKeyedAccount(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	clk := sandboxtest.NewClock(time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC))
	old, err := Open(Options{Dir: dir, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	sent := clk.Now()
	if err := old.append(&Intent{ID: "legacy", Provider: "fake", Action: ActionRefundPayment, OrderID: "o1", PaymentID: "p1",
		Amount: "5.00", Currency: "USD", IdempotencyKey: "k-legacy", Actor: "old", State: StateUnknown,
		CreatedAt: sent, FirstSentAt: &sent, LastSentAt: &sent, Sends: 1}); err != nil {
		t.Fatal(err)
	}
	j, err := Open(Options{Dir: dir, Now: clk.Now, Accounts: map[string]string{"fake": "https://api.example m1"}})
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := j.Pending("fake", "o1"); len(p) != 1 || p[0].ID != "legacy" {
		t.Fatalf("pending for the keyed account: %+v", p)
	}
	f := newFake(clk, api.IdempotencyNone)
	_, err = Wrap(f, j, "alice").RefundPayment(context.Background(), "o1", "p1", api.RefundPaymentRequest{Amount: model.MustParse("1.00", "USD")})
	if !errors.Is(err, ErrUnresolved) {
		t.Fatalf("refund with an unknown legacy intent on the order: %v, want refused as unresolved", err)
	}
	if len(f.Calls()) != 0 {
		t.Fatalf("provider called: %+v", f.Calls())
	}
}

// Recovery leaves an intent made on another account of the provider to the
// paydesk configured for that account.
func TestRecoverLeavesAnotherAccountsIntent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "journal")
	clk := sandboxtest.NewClock(time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC))
	other, _ := Open(Options{Dir: dir, Now: clk.Now, Accounts: map[string]string{"fake": "m2"}})
	sent := clk.Now()
	if err := other.append(&Intent{ID: "i2", Provider: "fake", Account: "m2", Action: ActionRefundPayment, OrderID: "o1", PaymentID: "p1",
		Amount: "5.00", Currency: "USD", IdempotencyKey: "k2", Actor: "bob", State: StateSent,
		CreatedAt: sent, FirstSentAt: &sent, LastSentAt: &sent, Sends: 1}); err != nil {
		t.Fatal(err)
	}
	j, _ := Open(Options{Dir: dir, Now: clk.Now, Accounts: map[string]string{"fake": "m1"}})
	f := newFake(clk, api.IdempotencyHeader)
	outs := j.Recover(context.Background(), map[string]api.Provider{"fake": f})
	if len(outs) != 1 || !errors.Is(outs[0].Err, ErrNoProvider) || outs[0].Intent.State != StateSent {
		t.Fatalf("outcomes %+v, want m2's intent left unresolved as not this configuration's", outs)
	}
	if len(f.Calls()) != 0 {
		t.Fatalf("m1's provider was called for m2's intent: %+v", f.Calls())
	}
}

type downErr struct{}

func (downErr) Error() string          { return "shared store unreachable" }
func (downErr) StoreUnavailable() bool { return true }

// With the shared store down, the refusal says to wait for it, not to free
// disk space; nothing is sent.
func TestAuditRefusalWhenStoreDownSaysSo(t *testing.T) {
	clk := sandboxtest.NewClock(time.Date(2026, 11, 22, 14, 0, 0, 0, time.UTC))
	j, err := Open(Options{Dir: t.TempDir(), Now: clk.Now, Auditor: AuditorFunc(func(AuditRecord) error { return downErr{} })})
	if err != nil {
		t.Fatal(err)
	}
	f := newFake(clk, api.IdempotencyHeader)
	_, err = Wrap(f, j, "alice").RefundPayment(context.Background(), "o1", "p1", api.RefundPaymentRequest{Amount: model.MustParse("1.00", "USD")})
	if !errors.Is(err, ErrAuditUnavailable) || !strings.Contains(err.Error(), "shared store is back") || strings.Contains(err.Error(), "disk") {
		t.Fatalf("refusal: %v", err)
	}
	if len(f.Calls()) != 0 {
		t.Fatalf("sent without an audit line: %+v", f.Calls())
	}
}
