// Package store is the one interface to what paydesk processes must share:
// journal intents and per-order locks (journal.Backend), the audit chain,
// approval requests and the notifications that tell every session about a
// refund's new status or an approval's decision.
//
// Two implementations run the same conformance suite (api/store/storetest):
// Files (the default: the journal directory, the audit file, and two more
// JSON-lines files beside them, shared by processes on one host through
// flock) and Postgres (api/store/pg, chosen by PAYDESK_DATABASE_URL: shared
// by every host pointed at one database).
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"paydesk/api/audit"
	"paydesk/api/journal"
)

// EnvDatabaseURL names the variable (environment or credentials file) that
// puts the shared state in PostgreSQL.
const EnvDatabaseURL = "PAYDESK_DATABASE_URL"

// Store is everything paydesk keeps that another session, process or host
// must see.
type Store interface {
	// Journal keeps intents and takes per-order locks.
	Journal() journal.Backend
	// Audit is the hash-chained audit log.
	Audit() AuditLog
	// Approvals holds four-eyes approval requests.
	Approvals() *Approvals
	// Events publishes and delivers notifications.
	Events() Events
	// Describe says where the state is, without secrets ("PostgreSQL
	// db.example:5432/paydesk", "files in /var/lib/paydesk").
	Describe() string
	Close() error
}

// AuditLog is the audit chain as a store keeps it.
type AuditLog interface {
	audit.Appender
	// Verify checks the whole chain (and, with a.Lines > 0, that entry
	// a.Lines still has hash a.Hash) and returns how many entries verified
	// and the head. A broken chain is an *audit.VerifyError naming the
	// first bad entry.
	Verify(ctx context.Context, a audit.Anchor) (int, audit.Anchor, error)
}

// ErrUnavailable is in the chain of every error that says the shared store
// could not be reached: money actions are refused, reads from providers go
// on.
var ErrUnavailable = errors.New("shared store unavailable")

// UnavailableError says the store could not be reached for an action; its
// message is written for the agent.
type UnavailableError struct {
	Where string // "PostgreSQL db:5432/paydesk"
	Op    string // "take the order's lock"
	Err   error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("paydesk could not %s in the shared store (%s): %v. Money actions wait until it is back "+
		"(paydesk reconnects by itself); orders and refunds can still be read", e.Op, e.Where, e.Err)
}

func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// StoreUnavailable marks the error for packages that cannot import this one
// (the journal words its refusal by it).
func (e *UnavailableError) StoreUnavailable() bool { return true }

// Event kinds.
const (
	// KindIntent: a journal intent changed state (a refund was prepared,
	// sent, succeeded, ...): sessions showing the order refresh it.
	KindIntent = "intent"
	// KindApproval: an approval request was made or changed state.
	KindApproval = "approval"
)

// Event is one notification. Seq orders all events of a store and is how a
// subscriber catches up after a reconnect.
type Event struct {
	Seq        int64     `json:"seq"`
	Time       time.Time `json:"ts"`
	Kind       string    `json:"kind"`
	Provider   string    `json:"provider,omitempty"`
	Account    string    `json:"account,omitempty"`
	OrderID    string    `json:"order_id,omitempty"`
	IntentID   string    `json:"intent_id,omitempty"`
	ApprovalID string    `json:"approval_id,omitempty"`
	State      string    `json:"state,omitempty"`
	Actor      string    `json:"actor,omitempty"`
	// Origin names the store instance (one per process) that published
	// the event, so a process bridging events to its own sessions skips
	// the ones it already delivered itself.
	Origin string `json:"origin,omitempty"`
}

// Events publishes notifications to every subscriber of the store, in this
// process and in others.
type Events interface {
	// Publish stores e (Seq and Time are assigned) and wakes subscribers.
	Publish(e Event) (Event, error)
	// Since returns the events after seq, oldest first (at most limit).
	Since(seq int64, limit int) ([]Event, error)
	// Subscribe delivers every event after seq, in order and without gaps,
	// until ctx ends (then the channel is closed). When the store is
	// unreachable for a while, the events published meanwhile are delivered
	// once it is back.
	Subscribe(ctx context.Context, after int64) <-chan Event
	// Head is the Seq of the newest event (0 when none), to subscribe from
	// now on.
	Head() (int64, error)
	// Origin is what this instance writes in the Origin of the events it
	// publishes (unique per opened store).
	Origin() string
}

// publishing is a journal backend that tells subscribers about every
// intent snapshot it records.
type publishing struct {
	journal.Backend
	ev Events
}

// Append records the snapshot, then publishes it. A failed publish does
// not undo the record (the journal is the truth; sessions also refresh on
// their own), so its error is dropped.
func (p publishing) Append(in *journal.Intent) error {
	if err := p.Backend.Append(in); err != nil {
		return err
	}
	_, _ = p.ev.Publish(Event{Kind: KindIntent, Provider: in.Provider, Account: in.Account, OrderID: in.OrderID,
		IntentID: in.ID, State: string(in.State), Actor: in.Actor})
	return nil
}

func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}
