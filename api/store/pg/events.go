package pg

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"paydesk/api/store"
)

func jsonMarshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

type events struct{ s *Store }

// publishTx stores e with the next seq, under a transaction advisory lock
// so seqs are gapless in commit order (a subscriber that has seen seq N has
// seen everything before it), and NOTIFYs its seq at commit.
func publishTx(ctx context.Context, tx pgx.Tx, now time.Time, e store.Event) (store.Event, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockEvents); err != nil {
		return e, err
	}
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(seq), 0) + 1 FROM paydesk_events`).Scan(&e.Seq); err != nil {
		return e, err
	}
	e.Time = now.UTC()
	body, err := jsonMarshal(e)
	if err != nil {
		return e, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO paydesk_events (seq, ts, body) VALUES ($1, $2, $3)`, e.Seq, e.Time, body); err != nil {
		return e, err
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, strconv.FormatInt(e.Seq, 10))
	return e, err
}

func (ev events) Origin() string { return ev.s.origin }

func (ev events) Publish(e store.Event) (store.Event, error) {
	e.Origin = ev.s.origin
	ctx, cancel := ev.s.ctx()
	defer cancel()
	var out store.Event
	err := pgx.BeginFunc(ctx, ev.s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = publishTx(ctx, tx, ev.s.opts.Now(), e)
		return err
	})
	if err != nil {
		return e, ev.s.unavailable("publish a notification", err)
	}
	return out, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func since(ctx context.Context, q querier, seq int64, limit int) ([]store.Event, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	rows, err := q.Query(ctx, `SELECT body FROM paydesk_events WHERE seq > $1 ORDER BY seq LIMIT $2`, seq, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var body string
		var e store.Event
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		if err := jsonUnmarshal(body, &e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (ev events) Since(seq int64, limit int) ([]store.Event, error) {
	ctx, cancel := ev.s.ctx()
	defer cancel()
	out, err := since(ctx, ev.s.pool, seq, limit)
	if err != nil {
		return nil, ev.s.unavailable("read notifications", err)
	}
	return out, nil
}

func (ev events) Head() (int64, error) {
	ctx, cancel := ev.s.ctx()
	defer cancel()
	var n int64
	if err := ev.s.pool.QueryRow(ctx, `SELECT coalesce(max(seq), 0) FROM paydesk_events`).Scan(&n); err != nil {
		return 0, ev.s.unavailable("read notifications", err)
	}
	return n, nil
}

// catchUpBatch bounds one catch-up read, so a long outage is delivered in
// pieces instead of one huge result.
const catchUpBatch = 500

// Subscribe LISTENs on a connection of its own (not the pool's: a LISTEN
// belongs to its session). Every NOTIFY, and every (re)connect, triggers a
// read of the events after the last one delivered, so an event published
// while the connection was down is delivered once it is back, in order.
// Reconnects back off up to Options.Reconnect.
func (ev events) Subscribe(ctx context.Context, after int64) <-chan store.Event {
	ch := make(chan store.Event, 64)
	go func() {
		defer close(ch)
		wait := 50 * time.Millisecond
		for ctx.Err() == nil {
			err := ev.listen(ctx, &after, ch)
			if ctx.Err() != nil {
				return
			}
			if err == nil {
				wait = 50 * time.Millisecond
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(wait*2, ev.s.opts.Reconnect)
		}
	}()
	return ch
}

func (ev events) listen(ctx context.Context, after *int64, ch chan<- store.Event) error {
	cc := ev.s.cfg.ConnConfig.Copy()
	cc.RuntimeParams["application_name"] = "paydesk-listen"
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+channel); err != nil {
		return err
	}
	for {
		// Catch up first: this covers the events published before LISTEN
		// took effect and those missed while disconnected.
		for {
			batch, err := since(ctx, conn, *after, catchUpBatch)
			if err != nil {
				return err
			}
			for _, e := range batch {
				select {
				case ch <- e:
					*after = e.Seq
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			if len(batch) < catchUpBatch {
				break
			}
		}
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err // reconnect (or stop, if ctx ended)
		}
		if seq, _ := strconv.ParseInt(n.Payload, 10, 64); seq != 0 && seq <= *after {
			continue // already delivered by a catch-up read
		}
	}
}
