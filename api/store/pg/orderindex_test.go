package pg_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"paydesk/api/index"
	"paydesk/api/store/pg"
	"paydesk/api/store/pg/pgtest"
	"paydesk/model"
)

const acct = "https://forage.example|9000055"

func usd(s string) model.Money {
	return model.Money{Amount: decimal.RequireFromString(s), Currency: "USD"}
}

// host is one paydesk host: its own index and syncer on the shared store.
type host struct {
	ix *index.Index
	y  *pg.IndexSync
}

func newHost(st *pg.Store) host {
	ix := index.New()
	ix.Register("forage", acct)
	return host{ix, st.SyncIndex(ix, pg.IndexSyncOptions{Sources: []pg.IndexSource{{Provider: "forage", Account: acct}}})}
}

func (h host) sync(t *testing.T) {
	t.Helper()
	if err := h.y.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func fullOrder(id, ext string) *model.Order {
	t0 := time.Date(2026, 10, 9, 15, 0, 0, 0, time.UTC)
	return &model.Order{
		Provider: "forage", ID: id, Ref: id, Status: model.StatusPartlyRefunded,
		Currency: "USD", Total: usd("47.44"), CustomerID: "cust-77", ExternalOrderID: ext,
		Metadata: model.Metadata{"note": "METADATA-VALUE-1"},
		Payments: []model.Payment{{ID: "pay-" + id, Created: t0, Amount: usd("47.44"), Metadata: model.Metadata{"k": "METADATA-VALUE-2"},
			Receipt: &model.Receipt{RefNumber: "RRN-" + id, Last4: "4242"}}},
		Refunds: []model.Refund{{ID: "ref-" + id, PaymentID: "pay-" + id, Metadata: model.Metadata{"k": "METADATA-VALUE-3"}}},
	}
}

// Two hosts on one database: an order indexed on A is found on B after a
// sync; a full read on A upgrades B's list-only entry (B will not read it
// again); days A indexed count as done on B; another account's rows stay
// out of B.
func TestOrderIndexSharedBetweenHosts(t *testing.T) {
	sa, sb := openTwo(t)
	a, b := newHost(sa), newHost(sb)
	a.sync(t)
	b.sync(t)

	a.ix.AddOrder(acct, fullOrder("a1b2c3d4e5", "GRC-2026-889360"))
	b.ix.AddSummary(acct, &model.OrderSummary{Provider: "forage", ID: "f0f0f0f0f0", Status: model.StatusSucceeded, Total: usd("12.00")}, index.RefOther)
	today := index.Day(time.Now())
	a.ix.MarkDay("forage", acct, today-5)
	a.ix.AddOrder("other-account", fullOrder("0000000001", "OTHER-EXT"))
	a.sync(t)
	b.sync(t)
	if hits := b.ix.Search("grc-2026-889360"); len(hits) != 1 || hits[0].ID != "a1b2c3d4e5" || hits[0].Field != index.FieldExternal {
		t.Fatalf("B: search by A's external id = %+v", hits)
	}
	if !b.ix.DayDone("forage", acct, today-5) {
		t.Fatal("a day A indexed is not done on B")
	}
	if _, ok := b.ix.Lookup("forage", "other-account", "0000000001"); ok {
		t.Fatal("B loaded an account it does not read")
	}
	if !b.ix.NeedsDetail("forage", acct, "f0f0f0f0f0") {
		t.Fatal("setup: B's entry should be list-only")
	}
	// B's list-only row reached A; A reads it in full; B is upgraded.
	a.sync(t)
	if _, ok := a.ix.Lookup("forage", acct, "f0f0f0f0f0"); !ok {
		t.Fatal("B's list row did not reach A")
	}
	a.ix.AddOrder(acct, fullOrder("f0f0f0f0f0", "GRC-2"))
	a.sync(t)
	b.sync(t)
	if b.ix.NeedsDetail("forage", acct, "f0f0f0f0f0") {
		t.Fatal("B would read again an order A read in full")
	}
	if hits := b.ix.Search("RRN-f0f0f0f0f0"); len(hits) != 1 || hits[0].Field != index.FieldPayment {
		t.Fatalf("B: search by the payment ref A read = %+v", hits)
	}
	// B's list row seen again later does not undo the full read anywhere.
	b.ix.AddSummary(acct, &model.OrderSummary{Provider: "forage", ID: "f0f0f0f0f0", Status: model.StatusSucceeded, Total: usd("47.44")}, index.RefOther)
	b.sync(t)
	a.sync(t)
	if a.ix.NeedsDetail("forage", acct, "f0f0f0f0f0") || len(a.ix.Search("ref-f0f0f0f0f0")) != 1 {
		t.Fatal("a list row undid a full read")
	}
	// Nothing ping-pongs: rows merged from the database are not pushed back.
	before := b.y.Status().Pushed
	a.sync(t)
	b.sync(t)
	b.sync(t)
	if got := b.y.Status().Pushed; got != before {
		t.Errorf("B pushed %d rows with nothing new", got-before)
	}
	// A restart of B (a new process) loads everything back.
	c := newHost(sb)
	c.sync(t)
	if len(c.ix.Search("GRC-2026-889360")) != 1 || len(c.ix.Search("4242 47.44")) != 2 || !c.ix.DayDone("forage", acct, today-5) {
		t.Fatalf("after a restart: %s", c.ix)
	}
}

// The table holds the index's fields and nothing else: no metadata value
// of an order, a payment or a refund reaches it.
func TestOrderIndexTableHoldsNoMetadata(t *testing.T) {
	st, _ := openTwo(t)
	a := newHost(st)
	a.ix.AddOrder(acct, fullOrder("a1b2c3d4e5", "GRC-1"))
	a.sync(t)
	ctx := context.Background()
	rows, err := st.Pool().Query(ctx, `SELECT row_to_json(t)::text FROM paydesk_order_index t`)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	rows.Close()
	if len(all) != 1 || !strings.Contains(all[0], "RRN-a1b2c3d4e5") {
		t.Fatalf("rows: %v", all)
	}
	if strings.Contains(strings.ToLower(all[0]), "metadata") {
		t.Fatalf("a metadata value reached the table: %s", all[0])
	}
	var cols []string
	rows, err = st.Pool().Query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_name = 'paydesk_order_index' ORDER BY ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c string
		_ = rows.Scan(&c)
		cols = append(cols, c)
	}
	rows.Close()
	want := []string{"provider", "account", "order_id", "ref", "external_id", "customer_id", "status", "currency",
		"amount_minor", "last4", "created_at", "detailed_day", "payment_refs", "refund_refs", "stamp"}
	if !slices.Equal(cols, want) {
		t.Fatalf("columns %v, want %v", cols, want)
	}
}

// The database goes away while a host indexes: the index keeps working in
// memory (searches answer, coverage counts), the syncer retries, and once
// the database is back everything indexed meanwhile reaches the other host.
func TestOrderIndexSurvivesDatabaseOutage(t *testing.T) {
	url := pgtest.URL(t)
	px, purl := proxyURL(t, url)
	sa, err := pg.Open(context.Background(), purl, pg.Options{Host: "host-a"})
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sb, err := pg.Open(context.Background(), url, pg.Options{Host: "host-b"})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	ixA := index.New()
	ixA.Register("forage", acct)
	ya := sa.SyncIndex(ixA, pg.IndexSyncOptions{Every: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	stop := ya.Start()
	<-ya.Ready()
	b := newHost(sb)

	ixA.AddOrder(acct, fullOrder("0000000001", "BEFORE-1"))
	waitFor(t, "the first order pushed", func() bool { return ya.Status().Pushed >= 1 })
	px.cut()
	start := time.Now()
	for i := 2; i <= 50; i++ {
		ixA.AddOrder(acct, fullOrder(fmt.Sprintf("%010d", i), fmt.Sprintf("DURING-%d", i)))
	}
	ixA.MarkDay("forage", acct, index.Day(time.Now()))
	if took := time.Since(start); took > time.Second {
		t.Errorf("indexing 49 orders with the database away took %v: it waited on the database", took)
	}
	if len(ixA.Search("during-7")) != 1 || ixA.Coverage("forage", acct, time.Now(), 1) != 1 {
		t.Fatal("the index stopped working with the database away")
	}
	waitFor(t, "the syncer to see the outage", func() bool { return ya.Status().Err != nil })
	px.restore()
	waitFor(t, "a sync after the database came back", func() bool {
		st := ya.Status()
		return st.Err == nil && st.Pushed >= 50
	})
	ixA.AddOrder(acct, fullOrder("0000000051", "AFTER-51"))
	stop() // pushes once more
	b.sync(t)
	for _, q := range []string{"BEFORE-1", "DURING-2", "DURING-50", "AFTER-51"} {
		if len(b.ix.Search(q)) != 1 {
			t.Errorf("B cannot find %s", q)
		}
	}
	if !b.ix.DayDone("forage", acct, index.Day(time.Now())) {
		t.Error("the day marked during the outage did not reach B")
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// records makes n orders like a merchant's: Forage-like ten-hex ids and
// external ids, one in ten read in full with a payment and a refund.
func records(n int) []index.Record {
	out := make([]index.Record, n)
	t0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		r := index.Record{Provider: "forage", Account: acct, ID: fmt.Sprintf("%010x", i+1), External: fmt.Sprintf("GRC-2026-%06d", i),
			Status: "succeeded", Currency: "USD", Amount: int64(100 + i%9000), Created: t0.Add(time.Duration(i) * time.Minute)}
		r.Ref = r.ID
		if i%10 == 0 {
			r.Detailed, r.Customer, r.Last4 = 20400, fmt.Sprintf("cust-%d", i%5000), fmt.Sprintf("%04d", i%10000)
			r.Payments, r.Refunds = []string{fmt.Sprintf("pay-%08d", i)}, []string{fmt.Sprintf("rf-%08d", i)}
		}
		out[i] = r
	}
	return out
}

// 100k orders: pushed from one host, loaded by another at start. The
// times are reported (go test ./api/store/pg -run OrderIndex100k -v).
func TestOrderIndex100kPushAndLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("100k rows")
	}
	sa, sb := openTwo(t)
	a := newHost(sa)
	a.ix.Merge(records(100_000), nil) // as if indexed here
	start := time.Now()
	a.sync(t)
	push := time.Since(start)
	b := newHost(sb)
	start = time.Now()
	b.sync(t)
	load := time.Since(start)
	if b.ix.Len() != 100_000 || len(b.ix.Search("GRC-2026-099999")) != 1 || len(b.ix.Search("rf-00099990")) != 1 {
		t.Fatalf("B after the load: %s", b.ix)
	}
	t.Logf("100k orders: push (COPY + upsert) %v, load on another host %v", push.Round(time.Millisecond), load.Round(time.Millisecond))
	if load > 10*time.Second {
		t.Errorf("loading 100k rows took %v, want a few seconds", load)
	}
	// A steady-state push: 1000 orders changed.
	recs := records(1000)
	for i := range recs {
		recs[i].Status = "refunded"
	}
	a.ix.Merge(recs, nil)
	start = time.Now()
	a.sync(t)
	t.Logf("push of 1000 changed orders into 100k: %v", time.Since(start).Round(time.Millisecond))
}

// go test ./api/store/pg -run '^$' -bench OrderIndexLoad -benchtime 3x
func BenchmarkOrderIndexLoad100k(b *testing.B) {
	url := pgtest.URL(b)
	st, err := pg.Open(context.Background(), url, pg.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	a := newHost(st)
	a.ix.Merge(records(100_000), nil)
	if err := a.y.Sync(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		h := newHost(st)
		if err := h.y.Sync(context.Background()); err != nil {
			b.Fatal(err)
		}
		if h.ix.Len() != 100_000 {
			b.Fatal(h.ix.Len())
		}
	}
}
