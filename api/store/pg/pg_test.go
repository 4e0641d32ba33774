package pg_test

import (
	"context"
	"os"
	"testing"

	"paydesk/api/store"
	"paydesk/api/store/pg"
	"paydesk/api/store/pg/pgtest"
	"paydesk/api/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openTwo opens two stores with separate pools on one fresh database: two
// servers' view of it.
func openTwo(t *testing.T) (*pg.Store, *pg.Store) {
	url := pgtest.URL(t)
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
			a, err := pg.Open(context.Background(), url, pg.Options{Host: "host-a"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := pg.Open(context.Background(), url, pg.Options{Host: "host-b"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close(); b.Close() })
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
}
