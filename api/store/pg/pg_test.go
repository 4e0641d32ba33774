package pg_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/api/store"
	"paydesk/api/store/pg"
	"paydesk/api/store/pg/pgtest"
	"paydesk/api/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openTwo opens two stores with separate pools on one fresh database: two
// servers' view of it.
func openTwo(t *testing.T) (*pg.Store, *pg.Store) {
	return openTwoAt(t, pgtest.URL(t))
}

// openTwoAt is openTwo on a database the caller already holds the URL of
// (the journal conformance test also hands it to a child process). Both
// open the pair, and close it, the same way.
func openTwoAt(t *testing.T, url string) (*pg.Store, *pg.Store) {
	t.Helper()
	a, err := pg.Open(context.Background(), url, pg.Options{Host: "host-a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := pg.Open(context.Background(), url, pg.Options{Host: "host-b"})
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestPostgresConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, store.Store) { return openTwo(t) })
}

func pgJournal() storetest.Journal {
	return storetest.Journal{
		Open: func(t *testing.T) (store.Store, store.Store, []string) {
			url := pgtest.URL(t)
			a, b := openTwoAt(t, url)
			return a, b, []string{"PAYDESK_STORETEST_PG=" + url}
		},
		Reopen: func() (store.Store, error) {
			return pg.Open(context.Background(), os.Getenv("PAYDESK_STORETEST_PG"), pg.Options{Host: "child"})
		},
		HelperTest: "TestPostgresStoreChild",
	}
}

func TestPostgresStoreChild(t *testing.T) { storetest.Child(t, pgJournal().Reopen) }

func TestPostgresJournal(t *testing.T) { storetest.RunJournal(t, pgJournal()) }

// The database keeps the four-eyes rules itself: an UPDATE written by hand
// (or by a server with a bug) that makes the maker the approver, or moves a
// request backwards, is refused by the constraint and the trigger.
func TestPostgresApprovalRulesInTheDatabase(t *testing.T) {
	a, _ := openTwo(t)
	req, err := a.Approvals().Request(store.Approval{Provider: "forage", Action: "refund_order", OrderID: "o1",
		Amount: "500.00", Currency: "USD", Maker: "desk-1", MakerKey: "SHA256:maker"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, q := range []string{
		`UPDATE paydesk_approvals SET state = 'approved', approver = 'desk-1', approver_key = 'SHA256:x' WHERE id = $1`,
		`UPDATE paydesk_approvals SET state = 'approved', approver = 'boss', approver_key = 'SHA256:maker' WHERE id = $1`,
		`UPDATE paydesk_approvals SET state = 'approved', approver = 'boss', approver_key = '' WHERE id = $1`,
		`UPDATE paydesk_approvals SET state = 'approved' WHERE id = $1`,
		`UPDATE paydesk_approvals SET state = 'sent' WHERE id = $1`,
		`UPDATE paydesk_approvals SET maker = 'someone-else' WHERE id = $1`,
	} {
		if _, err := a.Pool().Exec(ctx, q, req.ID); err == nil {
			t.Errorf("the database accepted %s", q)
		}
	}
	if _, err := a.Approvals().Decide(req.ID, "boss", "SHA256:boss", false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Pool().Exec(ctx, `UPDATE paydesk_approvals SET state = 'requested' WHERE id = $1`, req.ID); err == nil {
		t.Error("the database moved a rejected request back to requested")
	}
	// A server whose clock is behind still cannot approve a request the
	// database's clock says has expired.
	old, err := a.Approvals().Request(store.Approval{Provider: "forage", Action: "refund_order", OrderID: "o2",
		Amount: "500.00", Currency: "USD", Maker: "desk-1", MakerKey: "SHA256:maker", ExpiresAt: time.Now().Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Approvals().Transition(old.ID, "", func(r *store.Approval) error {
		r.State, r.Approver, r.ApproverKey = store.ApprovalApproved, "boss", "SHA256:boss"
		return nil
	})
	if !errors.Is(err, store.ErrApprovalExpired) {
		t.Fatalf("approving past the expiry: %v, want ErrApprovalExpired", err)
	}
	if _, err := store.ForAPI(a.Approvals()).Transition(old.ID, func(r *api.Approval) error {
		r.State, r.Approver = api.ApprovalApproved, &api.Person{Name: "boss", Role: api.RoleApprover, Fingerprint: "SHA256:boss"}
		return nil
	}); !errors.Is(err, api.ErrApprovalExpired) {
		t.Fatalf("approving past the expiry through the api's store: %v, want api.ErrApprovalExpired", err)
	}
	if _, err := a.Pool().Exec(ctx, `UPDATE paydesk_approvals SET expires_at = now() + interval '1 hour' WHERE id = $1`, old.ID); err == nil {
		t.Error("the database let a request's expiry be moved")
	}
}

// A bridge whose LISTEN connection is killed reconnects by itself and
// delivers to its sessions what other hosts published meanwhile, in order.
func TestBridgeCatchesUpAfterReconnect(t *testing.T) {
	a, b := openTwo(t)
	ctx, cancel := context.WithCancel(context.Background())
	bus := api.NewBus()
	done, err := store.Bridge(ctx, b.Events(), bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-done }()
	sub, end := bus.Subscribe()
	defer end()
	if _, err := a.Events().Publish(store.Event{Kind: store.KindIntent, Provider: "forage", OrderID: "first", State: "sent"}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-sub:
		if e.OrderID != "first" {
			t.Fatalf("first event %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("first event not bridged")
	}
	var killed int
	if err := a.Pool().QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'paydesk-listen' AND datname = current_database()`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("killed %d listeners, %v", killed, err)
	}
	for i := range 3 {
		if _, err := a.Events().Publish(store.Event{Kind: store.KindApproval, Provider: "forage", OrderID: fmt.Sprint("missed-", i),
			ApprovalID: fmt.Sprint("ap-", i), State: "requested"}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		select {
		case e := <-sub:
			if e.Kind != api.EventApproval || e.OrderID != fmt.Sprint("missed-", i) {
				t.Fatalf("after reconnect got %+v, want approval on missed-%d", e, i)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d not bridged after the listener was killed", i)
		}
	}
}
