package pg

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"paydesk/api/index"
)

// The order index in the team store (migration 004): every host keeps its
// index in memory for search, and an IndexSync makes the database its
// persistence and the way hosts share it. At start it loads every row of
// the accounts this host reads; then every few seconds it pushes what this
// host indexed (COPY into a temporary table, then one upsert that keeps the
// better row: index.Record.Better) and pulls the rows other hosts changed
// (past the last change stamp seen). Days fully indexed go the same way, so
// the background indexer of one host skips the days another did.
//
// The database being away never blocks the console or the indexer: they
// work on the in-memory index, whose stamps remember what is not yet
// pushed, and the syncer retries with backoff.

// lockIndex serialises pushes, so change stamps commit in the order they
// are taken and a pull past stamp N never misses a row committed later
// with a smaller stamp.
const lockIndex int64 = 0x70617964_65736b04

// IndexSyncOptions tune an IndexSync. Zero values take the defaults noted.
type IndexSyncOptions struct {
	// Sources are the (provider, account) pairs this host reads: only
	// their rows are loaded and pulled. None: every row.
	Sources []IndexSource
	// Every is the time between two syncs (10s).
	Every time.Duration
	// MaxBackoff is the longest wait between retries while the database is
	// unavailable (1 minute); the first retry is after a second.
	MaxBackoff time.Duration
}

// IndexSource is a provider and the account it is read under (index.Wrap's).
type IndexSource struct{ Provider, Account string }

// IndexSyncStatus is what the syncer last did.
type IndexSyncStatus struct {
	Err      error     // the last sync's error, nil when it worked
	LastOK   time.Time // when a sync last worked
	Loaded   bool      // the first load is done
	Pushed   int       // rows pushed, since start
	Pulled   int       // rows pulled and merged, since start
	LoadTime time.Duration
}

// IndexSync shares one index through the store.
type IndexSync struct {
	s    *Store
	ix   *index.Index
	opts IndexSyncOptions

	mu      sync.Mutex // one sync at a time; guards what follows
	pushed  uint32     // the local stamp pushed up to
	merged  [][2]uint32
	dayPos  int
	lastRow int64 // the last row stamp pulled
	lastDay int64
	loaded  bool
	ready   chan struct{}

	smu    sync.Mutex // status only: read while a long load holds mu
	status IndexSyncStatus
}

func (y *IndexSync) setStatus(f func(*IndexSyncStatus)) {
	y.smu.Lock()
	f(&y.status)
	y.smu.Unlock()
}

// SyncIndex shares ix through the store. Nothing happens until Sync or
// Start.
func (s *Store) SyncIndex(ix *index.Index, o IndexSyncOptions) *IndexSync {
	if o.Every <= 0 {
		o.Every = 10 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = time.Minute
	}
	return &IndexSync{s: s, ix: ix, opts: o, ready: make(chan struct{})}
}

// Ready is closed once the first load from the database is done.
func (y *IndexSync) Ready() <-chan struct{} { return y.ready }

// Status is what the syncer last did.
func (y *IndexSync) Status() IndexSyncStatus {
	y.smu.Lock()
	defer y.smu.Unlock()
	return y.status
}

// Start syncs now and then every Every (after a failure: after 1s, 2s, ...
// up to MaxBackoff) in the background. stop ends it and pushes once more,
// within a few seconds, so what was indexed just before quitting is kept.
func (y *IndexSync) Start() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		backoff := time.Second
		for {
			wait := y.opts.Every
			if err := y.Sync(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				wait, backoff = backoff, min(backoff*2, y.opts.MaxBackoff)
			} else {
				backoff = time.Second
			}
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		y.mu.Lock()
		defer y.mu.Unlock()
		_ = y.push(ctx)
	}
}

// Sync pulls what other hosts changed (everything, the first time), then
// pushes what this host changed.
func (y *IndexSync) Sync(ctx context.Context) error {
	y.mu.Lock()
	defer y.mu.Unlock()
	err := y.pull(ctx)
	if err == nil {
		err = y.push(ctx)
	}
	y.setStatus(func(st *IndexSyncStatus) {
		st.Err = err
		if err == nil {
			st.LastOK = time.Now()
		}
	})
	return err
}

func (y *IndexSync) inMerged(seq uint32) bool {
	for _, r := range y.merged {
		if seq >= r[0] && seq <= r[1] {
			return true
		}
	}
	return false
}

// unpushed says whether an order's stamp is a change of this host's not
// yet pushed (not one merged from the database).
func (y *IndexSync) unpushed(seq uint32) bool { return seq > y.pushed && !y.inMerged(seq) }

const orderCols = `provider, account, order_id, ref, external_id, customer_id, status, currency, amount_minor, last4,
	created_at, detailed_day, payment_refs, refund_refs`

// pullCols are orderCols as a pull reads them: the schema admits what no
// host writes (a NULL among the refs, refs in two dimensions, an infinite
// time), and a row that failed to scan would be read again, and fail
// again, at every pull, so no host would ever get past it. Refs are read
// flat without NULLs; a time that is not finite is not known.
const pullCols = `provider, account, order_id, ref, external_id, customer_id, status, currency, amount_minor, last4,
	CASE WHEN isfinite(created_at) THEN created_at END, detailed_day,
	ARRAY(SELECT x FROM unnest(payment_refs) WITH ORDINALITY AS u(x, n) WHERE x IS NOT NULL ORDER BY n),
	ARRAY(SELECT x FROM unnest(refund_refs) WITH ORDINALITY AS u(x, n) WHERE x IS NOT NULL ORDER BY n)`

var copyCols = []string{"provider", "account", "order_id", "ref", "external_id", "customer_id", "status", "currency",
	"amount_minor", "last4", "created_at", "detailed_day", "payment_refs", "refund_refs"}

// upsert keeps the better row: a later read day, or on the same read day a
// different row (the last push wins a tie): index.Record.Better.
const upsert = `INSERT INTO paydesk_order_index AS t (` + orderCols + `)
	SELECT ` + orderCols + ` FROM paydesk_order_index_in
	ON CONFLICT (provider, account, order_id) DO UPDATE SET
		ref = EXCLUDED.ref, external_id = EXCLUDED.external_id, customer_id = EXCLUDED.customer_id,
		status = EXCLUDED.status, currency = EXCLUDED.currency, amount_minor = EXCLUDED.amount_minor,
		last4 = EXCLUDED.last4, created_at = EXCLUDED.created_at, detailed_day = EXCLUDED.detailed_day,
		payment_refs = EXCLUDED.payment_refs, refund_refs = EXCLUDED.refund_refs
	WHERE EXCLUDED.detailed_day > t.detailed_day OR (EXCLUDED.detailed_day = t.detailed_day AND
		(t.ref, t.external_id, t.customer_id, t.status, t.currency, t.amount_minor, t.last4, t.created_at,
			t.payment_refs, t.refund_refs) IS DISTINCT FROM
		(EXCLUDED.ref, EXCLUDED.external_id, EXCLUDED.customer_id, EXCLUDED.status, EXCLUDED.currency,
			EXCLUDED.amount_minor, EXCLUDED.last4, EXCLUDED.created_at, EXCLUDED.payment_refs, EXCLUDED.refund_refs))`

// push sends the orders and days this host changed since the last push.
func (y *IndexSync) push(ctx context.Context) error {
	recs, upTo := y.ix.Changes(y.pushed, y.inMerged)
	marks, pos := y.ix.DaysMarked(y.dayPos)
	if len(recs) > 0 || len(marks) > 0 {
		rowAfter, dayAfter := y.lastRow, y.lastDay
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		err := pgx.BeginFunc(ctx, y.s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockIndex); err != nil {
				return err
			}
			// When this host has pulled every row written before its push,
			// the rows the push writes need not be pulled back: nobody
			// else writes while the lock is held.
			var rowBefore, dayBefore int64
			if err := tx.QueryRow(ctx, maxStamps).Scan(&rowBefore, &dayBefore); err != nil {
				return err
			}
			if len(recs) > 0 {
				if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE paydesk_order_index_in (
					provider text, account text, order_id text, ref text, external_id text, customer_id text,
					status text, currency text, amount_minor bigint, last4 text, created_at timestamptz,
					detailed_day integer, payment_refs text[], refund_refs text[]) ON COMMIT DROP`); err != nil {
					return err
				}
				if _, err := tx.CopyFrom(ctx, pgx.Identifier{"paydesk_order_index_in"}, copyCols, recordRows(recs)); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, upsert); err != nil {
					return err
				}
			}
			if len(marks) > 0 {
				p, a, d := make([]string, len(marks)), make([]string, len(marks)), make([]int32, len(marks))
				for i, m := range marks {
					p[i], a[i], d[i] = m.Provider, m.Account, m.Day
				}
				if _, err := tx.Exec(ctx, `INSERT INTO paydesk_order_index_days (provider, account, day)
					SELECT * FROM unnest($1::text[], $2::text[], $3::integer[]) ON CONFLICT DO NOTHING`, p, a, d); err != nil {
					return err
				}
			}
			var rowNow, dayNow int64
			if err := tx.QueryRow(ctx, maxStamps).Scan(&rowNow, &dayNow); err != nil {
				return err
			}
			if rowBefore == y.lastRow {
				rowAfter = rowNow
			}
			if dayBefore == y.lastDay {
				dayAfter = dayNow
			}
			return nil
		})
		if err != nil {
			return y.s.unavailable("save the order index", err)
		}
		y.lastRow, y.lastDay = rowAfter, dayAfter
	}
	y.pushed, y.dayPos = upTo, pos
	y.setStatus(func(st *IndexSyncStatus) { st.Pushed += len(recs) })
	// Stamps at or below pushed are never asked about again.
	y.merged = slices.DeleteFunc(y.merged, func(r [2]uint32) bool { return r[1] <= y.pushed })
	return nil
}

const maxStamps = `SELECT COALESCE((SELECT max(stamp) FROM paydesk_order_index), 0),
	COALESCE((SELECT max(stamp) FROM paydesk_order_index_days), 0)`

// recordRows feeds CopyFrom from records without copying them again.
func recordRows(recs []index.Record) pgx.CopyFromSource {
	i := -1
	return pgx.CopyFromFunc(func() ([]any, error) {
		i++
		if i >= len(recs) {
			return nil, nil
		}
		r := &recs[i]
		var created any
		if !r.Created.IsZero() {
			created = r.Created
		}
		return []any{r.Provider, r.Account, r.ID, r.Ref, r.External, r.Customer, r.Status, r.Currency, r.Amount,
			r.Last4, created, r.Detailed, nonNil(r.Payments), nonNil(r.Refunds)}, nil
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// pullBatch is how many rows are merged under one lock of the index: a
// search waits at most for one batch.
const pullBatch = 4096

// pull merges the rows and days changed past the last stamps seen, in
// stamp order, a batch at a time (a load of the whole table is the first
// pull).
func (y *IndexSync) pull(ctx context.Context) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	p, a := y.sourceArrays()
	filter := ``
	args := []any{y.lastRow}
	if p != nil {
		filter = ` AND (provider, account) IN (SELECT * FROM unnest($2::text[], $3::text[]))`
		args = append(args, p, a)
	}
	rows, err := y.s.pool.Query(ctx, `SELECT `+pullCols+`, stamp FROM paydesk_order_index WHERE stamp > $1`+filter+` ORDER BY stamp`, args...)
	if err != nil {
		return y.s.unavailable("read the order index", err)
	}
	batch := make([]index.Record, 0, pullBatch)
	var last int64
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if from, to := y.ix.Merge(batch, y.unpushed); to >= from {
			y.merged = append(y.merged, [2]uint32{from, to})
		}
		n := len(batch)
		y.setStatus(func(st *IndexSyncStatus) { st.Pulled += n })
		y.lastRow = last
		batch = batch[:0]
	}
	for rows.Next() {
		var r index.Record
		var created *time.Time
		if err := rows.Scan(&r.Provider, &r.Account, &r.ID, &r.Ref, &r.External, &r.Customer, &r.Status, &r.Currency,
			&r.Amount, &r.Last4, &created, &r.Detailed, &r.Payments, &r.Refunds, &last); err != nil {
			rows.Close()
			return y.s.unavailable("read the order index", err)
		}
		if created != nil {
			r.Created = *created
		}
		batch = append(batch, r)
		if len(batch) == pullBatch {
			flush()
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		flush() // what was read whole is merged; the rest comes next time
		return y.s.unavailable("read the order index", err)
	}
	flush()

	args[0] = y.lastDay
	drows, err := y.s.pool.Query(ctx, `SELECT provider, account, day, stamp FROM paydesk_order_index_days WHERE stamp > $1`+filter+` ORDER BY stamp`, args...)
	if err != nil {
		return y.s.unavailable("read the order index", err)
	}
	var marks []index.DayMark
	lastDay := y.lastDay
	for drows.Next() {
		var m index.DayMark
		if err := drows.Scan(&m.Provider, &m.Account, &m.Day, &lastDay); err != nil {
			drows.Close()
			return y.s.unavailable("read the order index", err)
		}
		marks = append(marks, m)
	}
	drows.Close()
	if err := drows.Err(); err != nil {
		return y.s.unavailable("read the order index", err)
	}
	y.ix.MergeDays(marks)
	y.lastDay = lastDay
	if !y.loaded {
		y.loaded = true
		y.setStatus(func(st *IndexSyncStatus) { st.Loaded, st.LoadTime = true, time.Since(start) })
		close(y.ready)
	}
	return nil
}

func (y *IndexSync) sourceArrays() (p, a []string) {
	for _, s := range y.opts.Sources {
		p, a = append(p, s.Provider), append(a, s.Account)
	}
	return p, a
}
