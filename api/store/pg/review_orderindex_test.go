package pg_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"paydesk/api/store/pg"
	"paydesk/api/store/pg/pgtest"
)

// TestReviewCorruptIndexRowDoesNotStopSharing: one row of the shared order
// index that the schema admits but no host wrote (a NULL among the refs,
// refs in two dimensions, an infinite creation time: a hand edit, a restore, another tool) must
// not stop every host from pulling what comes after it. The pull resumes
// from the last stamp it merged, so a row it cannot read was read again,
// and failed again, at every sync, for good.
func TestReviewCorruptIndexRowDoesNotStopSharing(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	st, err := pg.Open(ctx, url, pg.Options{Host: "host-a"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`INSERT INTO paydesk_order_index (provider, account, order_id, ref) VALUES ('forage', $1, 'good-1', 'good-1')`,
		`INSERT INTO paydesk_order_index (provider, account, order_id, payment_refs) VALUES ('forage', $1, 'bad-1', ARRAY[NULL]::text[])`,
		`INSERT INTO paydesk_order_index (provider, account, order_id, created_at) VALUES ('forage', $1, 'bad-2', 'infinity')`,
		`INSERT INTO paydesk_order_index (provider, account, order_id, refund_refs) VALUES ('forage', $1, 'bad-3', ARRAY[['r1','r2'],['r3','r4']])`,
		`INSERT INTO paydesk_order_index (provider, account, order_id, ref) VALUES ('forage', $1, 'good-2', 'good-2')`,
	} {
		if _, err := conn.Exec(ctx, q, acct); err != nil {
			t.Fatal(err)
		}
	}
	h := newHost(st)
	var errs []error
	for range 3 {
		errs = append(errs, h.y.Sync(ctx))
	}
	if errs[2] != nil {
		t.Errorf("sync still fails after three tries: %v (first %v)", errs[2], errs[0])
	}
	for _, id := range []string{"good-1", "good-2"} {
		if _, ok := h.ix.Lookup("forage", acct, id); !ok {
			t.Errorf("%s, written after a row no host could read, never arrives", id)
		}
	}
}
