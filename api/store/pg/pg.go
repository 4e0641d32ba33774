// Package pg is the PostgreSQL store: journal intents, per-order locks,
// approvals, the audit chain and notifications shared by every paydesk
// process pointed at one database (PAYDESK_DATABASE_URL).
//
//   - Migrations are embedded and applied at Open under an advisory lock,
//     so two servers starting at once apply them once.
//   - Intents are keyed by (provider, account, order); a partial unique
//     index allows at most one open money intent per order, so a second
//     one is never recorded and never sent.
//   - An order's lock is a session advisory lock held on a connection of its
//     own for the whole action; the holder (agent, host, pid) is in a table
//     so the agent who waits is told who. PostgreSQL drops the lock when the
//     holder's connection or process dies.
//   - The audit log is an insert-only table (a trigger refuses UPDATE,
//     DELETE and TRUNCATE) with a gapless seq assigned under a transaction
//     advisory lock; each row holds the same canonical JSON line, hashed in
//     Go, as the file log, and verifies with the same code.
//   - Events get a gapless seq the same way and a NOTIFY on commit;
//     subscribers LISTEN on a connection of their own, and after a
//     reconnect read what they missed by seq.
//
// A superuser can still disable the trigger and rewrite rows: anchor the
// head (`paydesk audit head`) somewhere else, as with the file log.
package pg

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"paydesk/api/audit"
	"paydesk/api/journal"
	"paydesk/api/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys of the store's own (orders use hashes of their keys,
// in a different key space: the two-int form).
const (
	lockMigrate int64 = 0x70617964_65736b01 // "paydesk" 1
	lockAudit   int64 = 0x70617964_65736b02
	lockEvents  int64 = 0x70617964_65736b03
)

// channel is the NOTIFY channel of events.
const channel = "paydesk_events"

// opTimeout bounds one store operation, so a database that stops answering
// refuses a money action within seconds instead of hanging the session.
const opTimeout = 5 * time.Second

// Options tune a Store. Zero values take the defaults noted.
type Options struct {
	// Now is the clock (time.Now).
	Now func() time.Time
	// Host names this server in lock holders (os.Hostname()).
	Host string
	// Reconnect is the longest wait between reconnect attempts of a
	// subscriber (2s).
	Reconnect time.Duration
}

// Store is the PostgreSQL store.
type Store struct {
	pool      *pgxpool.Pool
	cfg       *pgxpool.Config
	where     string
	opts      Options
	approvals *store.Approvals
	// origin is stamped on every event this instance publishes.
	origin string
}

var _ store.Store = (*Store)(nil)

// Open connects to url (postgres://...), applies pending migrations under
// an advisory lock and returns the store. The pool reconnects by itself.
func Open(ctx context.Context, url string, o Options) (*Store, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.Reconnect <= 0 {
		o.Reconnect = 2 * time.Second
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return nil, fmt.Errorf("%s is not a valid postgres:// URL", store.EnvDatabaseURL)
	}
	cfg.ConnConfig.ConnectTimeout = opTimeout
	if !strings.Contains(url, "pool_max_conns") {
		// Every money action in flight holds a connection for its order's
		// lock: pgxpool's default (4 on a small host) would make the fifth
		// concurrent refund on a busy server wait, then fail.
		cfg.MaxConns = 32
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "paydesk"
	s := &Store{cfg: cfg, opts: o, origin: uuid.NewString(),
		where: fmt.Sprintf("PostgreSQL %s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)}
	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, s.unavailable("connect", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.pool.Close()
		return nil, err
	}
	s.approvals = store.NewApprovals(approvalRows{s}, s.Events(), o.Now)
	return s, nil
}

func (s *Store) Journal() journal.Backend    { return intents{s} }
func (s *Store) Audit() store.AuditLog       { return auditLog{s} }
func (s *Store) Approvals() *store.Approvals { return s.approvals }
func (s *Store) Events() store.Events        { return events{s} }
func (s *Store) Describe() string            { return s.where }
func (s *Store) Close() error                { s.pool.Close(); return nil }

// Pool is the connection pool (tests use it to play an outage).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func (s *Store) unavailable(op string, err error) error {
	// pgx's connection errors name user, host and database, never the
	// password.
	return &store.UnavailableError{Where: s.where, Op: op, Err: err}
}

func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), opTimeout)
}

// migrate applies the embedded migrations not yet applied, in order, each
// in the transaction that holds the migration lock.
func (s *Store) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	slices.Sort(names)
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.unavailable("apply migrations", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockMigrate); err != nil {
		return s.unavailable("lock migrations", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS paydesk_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("store: migration %s has no number", base)
		}
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM paydesk_migrations WHERE version = $1)`, v).Scan(&done); err != nil {
			return fmt.Errorf("store: %w", err)
		}
		if done {
			continue
		}
		sql, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, string(sql)); err != nil {
			return fmt.Errorf("store: migration %s: %w", base, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO paydesk_migrations (version, name) VALUES ($1, $2)`, v, base); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return tx.Commit(ctx)
}

// ---- journal ----

type intents struct{ s *Store }

func scanIntents(rows pgx.Rows) ([]*journal.Intent, error) {
	var out []*journal.Intent
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		in := new(journal.Intent)
		if err := jsonUnmarshal(body, in); err != nil {
			return nil, fmt.Errorf("store: intent row: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

func (j intents) Load(k journal.Key) ([]*journal.Intent, error) {
	ctx, cancel := j.s.ctx()
	defer cancel()
	rows, err := j.s.pool.Query(ctx, `SELECT body FROM paydesk_intents
		WHERE provider = $1 AND order_id = $3 AND (account = $2 OR account = '')
		ORDER BY created_at, id`, k.Provider, k.Account, k.OrderID)
	if err != nil {
		return nil, j.s.unavailable("read the order's journal", err)
	}
	defer rows.Close()
	ins, err := scanIntents(rows)
	if err != nil {
		return nil, j.s.unavailable("read the order's journal", err)
	}
	return ins, nil
}

func (j intents) Append(in *journal.Intent) error {
	body, err := jsonMarshal(in)
	if err != nil {
		return err
	}
	ctx, cancel := j.s.ctx()
	defer cancel()
	return pgx.BeginFunc(ctx, j.s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO paydesk_intents (id, provider, account, order_id, action, state, created_at, updated_at, body)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at, body = EXCLUDED.body`,
			in.ID, in.Provider, in.Account, in.OrderID, string(in.Action), string(in.State), in.CreatedAt, in.UpdatedAt, body)
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.ConstraintName == "paydesk_intents_one_open" {
			return fmt.Errorf("journal: order %s already has an open money action in the shared journal (%w)", in.OrderID, journal.ErrUnresolved)
		}
		if err != nil {
			return j.s.unavailable("record "+string(in.State)+" in the journal", err)
		}
		_, err = publishTx(ctx, tx, j.s.opts.Now(), store.Event{Kind: store.KindIntent, Provider: in.Provider, Account: in.Account,
			OrderID: in.OrderID, IntentID: in.ID, State: string(in.State), Actor: in.Actor, Origin: j.s.origin})
		if err != nil {
			return j.s.unavailable("record "+string(in.State)+" in the journal", err)
		}
		return nil
	})
}

func (j intents) Unresolved() ([]journal.Intent, error) {
	ctx, cancel := j.s.ctx()
	defer cancel()
	rows, err := j.s.pool.Query(ctx, `SELECT body FROM paydesk_intents
		WHERE state NOT IN ('succeeded', 'failed', 'canceled') ORDER BY provider, account, order_id, created_at, id`)
	if err != nil {
		return nil, j.s.unavailable("read the journal", err)
	}
	defer rows.Close()
	ins, err := scanIntents(rows)
	if err != nil {
		return nil, j.s.unavailable("read the journal", err)
	}
	out := make([]journal.Intent, len(ins))
	for i, in := range ins {
		out[i] = *in
	}
	return out, nil
}

// lockKey is the order's lock name; its hash is the advisory lock key.
func lockKey(k journal.Key) string {
	// Quoted, so no choice of ids can make two keys one string.
	return fmt.Sprintf("order %q %q %q", k.Provider, k.Account, k.OrderID)
}

type orderLock struct {
	c   *pgxpool.Conn
	key string
}

// Lock takes the order's advisory lock on a connection of its own, without
// waiting, and records the holder. A session lock (not a transaction's):
// the action around it (resolution, the provider call, the outcome) takes
// seconds, and an open transaction that long would hold back vacuum.
func (j intents) Lock(k journal.Key, actor string) (journal.Unlocker, error) {
	ctx, cancel := j.s.ctx()
	defer cancel()
	c, err := j.s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("nothing sent: %w", j.s.unavailable("take the order's lock", err))
	}
	key := lockKey(k)
	var got bool
	if err := c.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key).Scan(&got); err != nil {
		c.Release()
		return nil, fmt.Errorf("nothing sent: %w", j.s.unavailable("take the order's lock", err))
	}
	if !got {
		be := &journal.BusyError{Provider: k.Provider, OrderID: k.OrderID}
		// The winner writes its name just after taking the lock: give it
		// a moment, and believe only a row whose session holds a lock.
		for try := 0; try < 10; try++ {
			var host string
			var pid int32
			err := c.QueryRow(ctx, `SELECT h.actor, h.host, h.pid, h.since FROM paydesk_lock_holders h
				WHERE h.lock_key = $1 AND EXISTS (SELECT 1 FROM pg_locks l
					WHERE l.pid = h.backend_pid AND l.locktype = 'advisory' AND l.granted)`, key).
				Scan(&be.Actor, &host, &pid, &be.Since)
			if err == nil {
				be.PID = int(pid)
				if host != "" {
					be.Actor += " on " + host
				}
				break
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		c.Release()
		return nil, be
	}
	_, err = c.Exec(ctx, `INSERT INTO paydesk_lock_holders (lock_key, actor, host, pid, since, backend_pid)
		VALUES ($1, $2, $3, $4, $5, pg_backend_pid())
		ON CONFLICT (lock_key) DO UPDATE SET actor = EXCLUDED.actor, host = EXCLUDED.host, pid = EXCLUDED.pid,
			since = EXCLUDED.since, backend_pid = EXCLUDED.backend_pid`,
		key, actor, j.s.opts.Host, os.Getpid(), j.s.opts.Now().UTC())
	if err != nil {
		l := &orderLock{c: c, key: key}
		l.Unlock()
		return nil, fmt.Errorf("nothing sent: %w", j.s.unavailable("take the order's lock", err))
	}
	return &orderLock{c: c, key: key}, nil
}

// Unlock releases the lock. If that fails (the connection broke), the
// connection is closed, which releases it too.
func (l *orderLock) Unlock() {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	var ok bool
	if err := l.c.QueryRow(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, l.key).Scan(&ok); err != nil || !ok {
		_ = l.c.Conn().Close(ctx)
	}
	l.c.Release()
}

// ---- audit ----

type auditLog struct{ s *Store }

// Append chains e after the last row. The seq is assigned under a
// transaction advisory lock, so concurrent appends from every host make one
// gapless chain; a last row that does not verify is not chained onto.
func (a auditLog) Append(e audit.Entry) error {
	ctx, cancel := a.s.ctx()
	defer cancel()
	return pgx.BeginFunc(ctx, a.s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockAudit); err != nil {
			return a.s.unavailable("write the audit log", err)
		}
		seq, prev := int64(0), audit.ZeroHash
		var line string
		err := tx.QueryRow(ctx, `SELECT seq, line FROM paydesk_audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &line)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			return a.s.unavailable("write the audit log", err)
		default:
			last, perr := audit.ParseLine([]byte(line))
			if perr != nil || last.Seq != seq {
				why := "seq column differs from the line"
				if perr != nil {
					why = perr.Error()
				}
				return fmt.Errorf("audit: the last row of the audit table (seq %d) is damaged (%s), and nothing is appended past it. "+
					"Run `paydesk audit verify` to find the first bad row and investigate", seq, why)
			}
			prev = last.Hash
		}
		sealed, b, err := audit.Seal(e, seq+1, prev, a.s.opts.Now)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO paydesk_audit (seq, ts, prev, hash, line) VALUES ($1, $2, $3, $4, $5)`,
			sealed.Seq, sealed.Time, sealed.Prev, sealed.Hash, string(b)); err != nil {
			return a.s.unavailable("write the audit log", err)
		}
		return nil
	})
}

// Verify streams the rows in seq order through the file log's checks.
func (a auditLog) Verify(ctx context.Context, an audit.Anchor) (int, audit.Anchor, error) {
	rows, err := a.s.pool.Query(ctx, `SELECT line FROM paydesk_audit ORDER BY seq`)
	if err != nil {
		return 0, audit.Anchor{}, a.s.unavailable("read the audit log", err)
	}
	pr, pw := io.Pipe()
	go func() {
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.WriteString(pw, line+"\n"); err != nil {
				return
			}
		}
		pw.CloseWithError(rows.Err())
	}()
	n, head, err := audit.VerifyStream("table paydesk_audit ("+a.s.where+")", "row seq", pr, an)
	pr.Close()
	return n, head, err
}

// ---- approvals ----

type approvalRows struct{ s *Store }

func (r approvalRows) Insert(a store.Approval) error {
	body, err := jsonMarshal(a)
	if err != nil {
		return err
	}
	ctx, cancel := r.s.ctx()
	defer cancel()
	_, err = r.s.pool.Exec(ctx, `INSERT INTO paydesk_approvals (id, state, created_at, body, maker, maker_key, approver, approver_key, expires_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		a.ID, string(a.State), a.CreatedAt, body, a.Maker, a.MakerKey, a.Approver, a.ApproverKey, a.ExpiresAt, a.UpdatedAt)
	return approvalErr(r.s, "record the approval request", err)
}

func (r approvalRows) Get(id string) (store.Approval, error) {
	ctx, cancel := r.s.ctx()
	defer cancel()
	return getApproval(ctx, r.s, r.s.pool.QueryRow(ctx, `SELECT body FROM paydesk_approvals WHERE id = $1`, id), id)
}

func getApproval(_ context.Context, s *Store, row pgx.Row, id string) (store.Approval, error) {
	var body string
	var a store.Approval
	if err := row.Scan(&body); errors.Is(err, pgx.ErrNoRows) {
		return a, fmt.Errorf("%w: %s", store.ErrNoApproval, id)
	} else if err != nil {
		return a, s.unavailable("read the approval request", err)
	}
	return a, jsonUnmarshal(body, &a)
}

func (r approvalRows) List() ([]store.Approval, error) {
	ctx, cancel := r.s.ctx()
	defer cancel()
	return r.query(ctx, r.s.pool, nil, `SELECT body FROM paydesk_approvals ORDER BY created_at, id`)
}

// The two halves of Recent, each walking its partial index (migration 003)
// in order; the states are api.ApprovalState.Open's and the rest.
const (
	recentOpen = `SELECT body FROM paydesk_approvals WHERE state IN ('requested', 'approved', 'sent')
		ORDER BY created_at, id COLLATE "C"`
	recentClosed = `SELECT body FROM paydesk_approvals WHERE state IN ('rejected', 'expired', 'finished')
		ORDER BY updated_at DESC, id COLLATE "C" DESC LIMIT $1`
)

// Recent reads both halves in one read-only snapshot, so a request decided
// between the two queries is listed once, in the half it is in.
func (r approvalRows) Recent(closed int) ([]store.Approval, error) {
	ctx, cancel := r.s.ctx()
	defer cancel()
	var out []store.Approval
	var readErr error // the queries' own (already worded), not the transaction's
	err := pgx.BeginTxFunc(ctx, r.s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if out, readErr = r.query(ctx, tx, out, recentOpen); readErr != nil || closed <= 0 {
			return readErr
		}
		out, readErr = r.query(ctx, tx, out, recentClosed, closed)
		return readErr
	})
	switch {
	case readErr != nil:
		return nil, readErr
	case err != nil:
		return nil, r.s.unavailable("read approval requests", err)
	}
	return out, nil
}

// query appends the requests whose bodies q returns to out.
func (r approvalRows) query(ctx context.Context, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, out []store.Approval, q string, args ...any) ([]store.Approval, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, r.s.unavailable("read approval requests", err)
	}
	defer rows.Close()
	for rows.Next() {
		var body string
		var a store.Approval
		if err := rows.Scan(&body); err != nil {
			return nil, r.s.unavailable("read approval requests", err)
		}
		if err := jsonUnmarshal(body, &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, r.s.unavailable("read approval requests", err)
	}
	return out, nil
}

// Update locks the row (SELECT ... FOR UPDATE) for fn, so two approvers on
// two hosts cannot both decide one request.
func (r approvalRows) Update(id string, fn func(*store.Approval) error) (store.Approval, error) {
	ctx, cancel := r.s.ctx()
	defer cancel()
	var out store.Approval
	err := pgx.BeginFunc(ctx, r.s.pool, func(tx pgx.Tx) error {
		a, err := getApproval(ctx, r.s, tx.QueryRow(ctx, `SELECT body FROM paydesk_approvals WHERE id = $1 FOR UPDATE`, id), id)
		if err != nil {
			return err
		}
		if err := fn(&a); err != nil {
			return err
		}
		body, err := jsonMarshal(a)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE paydesk_approvals SET state = $2, body = $3, maker = $4, maker_key = $5,
			approver = $6, approver_key = $7, expires_at = $8, updated_at = $9 WHERE id = $1`,
			id, string(a.State), body, a.Maker, a.MakerKey, a.Approver, a.ApproverKey, a.ExpiresAt, a.UpdatedAt)
		if err != nil {
			return approvalErr(r.s, "update the approval request", err)
		}
		out = a
		return nil
	})
	return out, err
}

// approvalErr words the database's own four-eyes refusals (migration 002)
// as the store's errors; anything else is the database being unavailable.
func approvalErr(s *Store, op string, err error) error {
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe) && pe.ConstraintName == "paydesk_approvals_four_eyes":
		return fmt.Errorf("%w (refused by the database)", store.ErrOwnApproval)
	case errors.As(err, &pe) && pe.ConstraintName == "paydesk_approvals_named_approver":
		return fmt.Errorf("%w (refused by the database)", store.ErrNoApprover)
	case errors.As(err, &pe) && pe.ConstraintName == "paydesk_approvals_expired":
		return fmt.Errorf("%w (by the database's clock)", store.ErrApprovalExpired)
	case errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "paydesk_approvals_pkey":
		return fmt.Errorf("%w (%s)", store.ErrApprovalExists, pe.Detail)
	case errors.As(err, &pe) && pe.Code == "23514": // check_violation: the state trigger or check
		return fmt.Errorf("%w: %s", store.ErrApprovalState, pe.Message)
	}
	return s.unavailable(op, err)
}

// ParseURL checks a database URL and returns its connection settings.
func ParseURL(url string) (*pgconn.Config, error) {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid postgres:// URL", store.EnvDatabaseURL)
	}
	return cfg, nil
}
