package pg

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"paydesk/api/store"
	"paydesk/api/store/pg/pgtest"
)

// The queue's read walks an index for each half and stops at its LIMIT: no
// sort of the whole history, no scan of the table. Scans and sorts are
// priced out so the plan shows what the indexes allow: a sort still in it
// would mean no index gives the order (on a table this small the planner
// would otherwise rightly scan and sort).
func TestRecentApprovalsReadIsIndexed(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.URL(t), Options{Host: "host-a"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off`); err != nil {
		t.Fatal(err)
	}
	for q, index := range map[string]string{recentOpen: "paydesk_approvals_open", strings.ReplaceAll(recentClosed, "$1", "5"): "paydesk_approvals_closed"} {
		rows, err := conn.Query(ctx, "EXPLAIN "+q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, l)
		}
		rows.Close()
		p := strings.Join(plan, "\n")
		if !strings.Contains(p, index) || strings.Contains(p, "Sort") || strings.Contains(p, "Seq Scan") {
			t.Errorf("plan of %s:\n%s\nwant an ordered walk of %s, no sort", q, p, index)
		}
		if index == "paydesk_approvals_closed" && !strings.HasPrefix(plan[0], "Limit") {
			t.Errorf("plan of the closed half does not stop at its limit:\n%s", p)
		}
	}
}

// Requests recorded before the queue was bounded (migration 003) get their
// last change from their stored body, so they sort where they belong.
func TestMigrationFillsTheLastChangeOfOldRequests(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	s, err := Open(ctx, url, Options{Host: "host-a"})
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	a, err := s.Approvals().Request(store.Approval{Provider: "forage", Action: "refund_order", OrderID: "o1",
		Amount: "500.00", Currency: "USD", Maker: "desk-1", MakerKey: "SHA256:maker"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Approvals().Decide(a.ID, "boss", "SHA256:boss", false); err != nil {
		t.Fatal(err)
	}
	// Back to the schema before 003, with a body written then: the
	// column and the indexes are gone and the migration not yet applied.
	for _, q := range []string{
		`DROP INDEX paydesk_approvals_open`, `DROP INDEX paydesk_approvals_closed`,
		`ALTER TABLE paydesk_approvals DROP COLUMN updated_at`,
		`DELETE FROM paydesk_migrations WHERE version = 3`,
		`ALTER TABLE paydesk_approvals DISABLE TRIGGER paydesk_approvals_move`,
		fmt.Sprintf(`UPDATE paydesk_approvals SET body = jsonb_set(body::jsonb, '{updated_at}', '"%s"')::text`, when.Format(time.RFC3339Nano)),
		`ALTER TABLE paydesk_approvals ENABLE TRIGGER paydesk_approvals_move`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, err = Open(ctx, url, Options{Host: "host-a"})
	if err != nil {
		t.Fatalf("migrating a database with requests in it: %v", err)
	}
	defer s.Close()
	var got time.Time
	if err := s.pool.QueryRow(ctx, `SELECT updated_at FROM paydesk_approvals WHERE id = $1`, a.ID).Scan(&got); err != nil || !got.Equal(when) {
		t.Fatalf("updated_at = %v, %v; want %v from the body", got, err, when)
	}
	// The life-cycle trigger is back on.
	if _, err := s.pool.Exec(ctx, `UPDATE paydesk_approvals SET state = 'requested' WHERE id = $1`, a.ID); err == nil {
		t.Fatal("after the migration a rejected request moved back to requested")
	}
	if all, err := s.Approvals().Recent(5); err != nil || len(all) != 1 || all[0].ID != a.ID {
		t.Fatalf("Recent = %+v, %v", all, err)
	}
}
