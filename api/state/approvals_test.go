package state

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/api/store/pg"
	"paydesk/api/store/pg/pgtest"
)

// What serve opens: with PAYDESK_DATABASE_URL, approvals are one queue in the
// database and the other servers' transitions reach this server's bus;
// without it, approvals stay in the file beside the journal and there is
// nothing to bridge.
func TestServeSharesApprovalsAndLiveUpdatesThroughTheDatabase(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	files := &State{stateDir: t.TempDir()}
	q, err := files.Approvals(logger)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := q.(*api.FileApprovals); !ok {
		t.Fatalf("without a database, approvals are %T, want the file", q)
	}
	stop, err := files.Bridge(api.NewBus(), nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	stop()

	url := pgtest.URL(t)
	open := func(host string) *State {
		st, err := pg.Open(context.Background(), url, pg.Options{Host: host})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return &State{Shared: st, stateDir: t.TempDir()}
	}
	a, b := open("host-a"), open("host-b")
	qa, err := a.Approvals(logger)
	if err != nil {
		t.Fatal(err)
	}
	qb, err := b.Approvals(logger)
	if err != nil {
		t.Fatal(err)
	}
	busB := api.NewBus()
	stopB, err := b.Bridge(busB, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer stopB()
	sub, end := busB.Subscribe()
	defer end()
	now := time.Now().UTC()
	if err := qa.Create(api.Approval{ID: "ap-main", Provider: "forage", Action: api.ApprovalRefundOrder, OrderID: "o1",
		Amount: "500.00", Currency: "USD", IdempotencyKey: "k", State: api.ApprovalRequested,
		Maker:     api.Person{Name: "desk-1", Role: api.RoleAgent, Fingerprint: "SHA256:m"},
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, err := qb.Get("ap-main"); err != nil || got.Maker.Name != "desk-1" {
		t.Fatalf("host B's queue: %+v, %v; want host A's request", got, err)
	}
	select {
	case e := <-sub:
		if e.Kind != api.EventApproval || e.ApprovalID != "ap-main" {
			t.Fatalf("host B's bus got %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("host A's request never reached host B's sessions")
	}
}
