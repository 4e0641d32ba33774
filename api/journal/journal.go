// Package journal writes every money action down before it is sent, so a
// crash, a lost answer or a second agent can never turn one refund into two.
//
// An Intent (provider, order, payment, canonical amount, reason, metadata,
// idempotency key, actor) is appended to a per-order JSON-lines file and
// fsynced before any request leaves the machine. It then moves
//
//	prepared -> sent -> succeeded | failed | unknown
//
// with an fsync at every step. A timeout, reset or 5xx after sending is
// "unknown", never "failed": the money may have moved. The journal decides
// this itself from the error, whatever the client concluded: only a refusal
// before sending or a status that refuses the request as such (400, 403,
// 404, 422, ...) is failed; any api.Error with Unknown set, and any 1xx,
// 2xx, 3xx, 401, 408, 409, 425, 429 or 5xx answer, is unknown (a 303 after a
// refund POST usually means the provider made it). Wrap puts the journal
// in front of an api.Provider; Recover resolves what a crash left behind.
//
// # Resolution rules
//
// An unresolved intent is resolved before anything else happens on its order,
// and at start-up by Recover:
//
//   - prepared: the request provably never left (sent is written and fsynced
//     before the call), so the intent becomes canceled. It is not sent later:
//     the agent's confirmation may be stale, and they may already have
//     confirmed it again.
//   - sent / unknown, provider with idempotency (Capabilities.Idempotency is
//     not IdempotencyNone) and still inside Capabilities.KeyWindow of the
//     first send (less a safety margin and twice Options.Skew, since the
//     host resolving may not be the host that sent): the identical request is sent again,
//     same key, same canonical fields, so the client builds byte-identical
//     bodies. A definite refusal of the replay does not prove the first
//     attempt failed (it may be refused because it happened), so it is
//     checked by reading, below.
//   - otherwise (no idempotency, past the window, or a refused replay): read
//     the order. A refund whose metadata carries paydesk_intent=<intent id>
//     (Wrap adds it to every refund; the intent's idempotency key there
//     counts too) means succeeded. Without a marked refund,
//     an unmarked refund of the same payment and amount (any unmarked refund,
//     for a whole-order refund) created after the intent, and not claimed by
//     another intent, counts as found: a false "found" leaves a customer
//     short, which the agent can see and fix; a false "not found" invites a
//     second refund, which cannot be undone. Nothing found: failed
//     (not_found_at_provider) only by a read begun after Options.SettleTime
//     has passed since the last send, so a request the provider is still
//     working on, or a refund list that lags (Digital River), is not
//     declared failed on an early read; before that it stays unknown and
//     every later resolution reads again. This applies to keyed
//     providers past their window too: reading the order is the same
//     evidence whatever the provider's key support, and an intent that can
//     never resolve would block its order for good.
//   - cancel_payment and update_payment are checked by reading the payment
//     (canceled; metadata and fields as requested).
//
// A refund the provider accepted whose answer names no refund (Forage's
// refund_all reads the order back, and its refund list can lag) is read
// again, inside the settle window and the caller's deadline, until its
// marked refunds show; their refs go in the entry and the audit line. If
// they do not show in time, the entry is succeeded with RefundRefsPending
// and its audit line says CodeRefundRefsNotKnown; the next read of the
// order (through Wrap, ResolveOrder, or before the next action on it)
// fills the refs in and writes one more audit line naming them
// (CodeRefundRefsFound).
//
// Before a new money action on an order, Wrap resolves the order's
// unresolved intents. If one stays unresolved, nothing is sent
// (ErrUnresolved). If one turns out to have succeeded, nothing is sent either
// (ErrEarlierSucceeded): the agent may have been about to repeat it, so they
// look at the order again and confirm once more. A call that reuses an
// intent's idempotency key is that intent, never a second send: it gets the
// intent's result, ErrAlreadyFailed, or ErrKeyReused if the request differs.
//
// # Audit
//
// With Options.Auditor set, no action is sent without its audit line: a
// "prepared" line is written before sending and, if it cannot be, nothing is
// sent (*AuditError, ErrAuditUnavailable). Outcome lines the auditor refuses
// are owed and written before the next action, which is refused until they
// can be.
//
// A refund's "succeeded" line means the provider accepted it. When a later
// read of one of its refunds (the live refresh through Wrap's GetRefund or
// GetOrder, a recovery, a settle) shows it final in another state (declined,
// reversed, canceled, expired: failed; or succeeded again), one more line
// records the new state for that refund (error code refund_now_<status>),
// once per change (Intent.RefundStates); earlier lines are never rewritten.
//
// # Storage and locking
//
// Dir (default DefaultDir) holds one directory per provider, mode 0700, and
// in it per order an append-only <order>.jsonl (0600) with one complete
// intent snapshot per transition, and a <order>.lock file. Order ids that
// are not plain [A-Za-z0-9_-] are hashed into the file name. A torn last line
// (crash mid-write) is skipped by readers and closed off by the next append.
// The lock is flock(2) on the .lock file, taken without waiting for the whole
// of an action (resolution, send, outcome): a second agent or process gets a
// BusyError naming the holder, and the kernel drops the lock when a holder
// dies.
//
// # Use
//
//	j, _ := journal.Open(journal.Options{Auditor: journal.AuditLog(auditLog)})
//	n, wait := j.StartRecover(ctx, map[string]api.Provider{p.ID(): p}, report) // at start-up, in the background:
//	                                     // orders it has yet to check refuse money actions (ErrRecovering)
//	p = journal.Wrap(p, j, agentLogin)                        // then only use p
//	pending, _ := j.Pending(p.ID(), orderID)                  // show "outcome unknown" on the order
//	j.ResolveOrder(ctx, p, orderID, agentLogin)               // re-check it on demand
//	j.MarkChecked(p.ID(), orderID, intentID, journal.StateFailed, agentLogin, "not in the dashboard")
package journal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"paydesk/model"
)

// Action is what an intent does at the provider.
type Action string

const (
	ActionRefundOrder   Action = "refund_order"
	ActionRefundPayment Action = "refund_payment"
	ActionCancelPayment Action = "cancel_payment"
	ActionUpdatePayment Action = "update_payment"
)

// movesMoney reports whether an unresolved intent of this action blocks new
// actions on its order.
func (a Action) movesMoney() bool { return a != ActionUpdatePayment }

// refunds reports whether the action makes refunds.
func (a Action) refunds() bool { return a == ActionRefundOrder || a == ActionRefundPayment }

// State is where an intent is in its life.
type State string

const (
	StatePrepared  State = "prepared"  // written; nothing sent yet
	StateSent      State = "sent"      // about to be / being sent
	StateSucceeded State = "succeeded" // the provider accepted it (refund ids in RefundIDs; later states in RefundStates)
	StateFailed    State = "failed"    // it definitely did not happen
	StateUnknown   State = "unknown"   // it may have happened: never shown as failed
	StateCanceled  State = "canceled"  // never sent: nothing happened

	// StateRefused is never an intent's state: audit records use it for an
	// action refused before an intent was written (order busy, an earlier
	// outcome unresolved, a reused key).
	StateRefused State = "refused"
)

// Resolved reports whether the state is final.
func (s State) Resolved() bool {
	return s == StateSucceeded || s == StateFailed || s == StateCanceled
}

// Error codes on succeeded audit lines of a refund whose refs came late:
// the first line says the refs are not known yet, the later one names them.
const (
	CodeRefundRefsNotKnown = "refund_refs_not_known_yet"
	CodeRefundRefsFound    = "refund_refs_found_later"
)

// MarkerKey is the metadata key Wrap adds to every refund request, with the
// intent id as value, so reconciliation can find the refund an intent made.
// A refund whose marker holds the intent's idempotency key counts as well
// (the Digital River client writes the key there).
const MarkerKey = "paydesk_intent"

// Intent is one money action as written in the journal. Every line of an
// order's journal file is a complete snapshot of one intent; the last line
// of an id wins.
type Intent struct {
	ID       string `json:"id"` // UUIDv7
	Provider string `json:"provider"`
	// Account is the provider account the intent was made on (base URL and
	// merchant or account id, from Options.Accounts): two accounts of one
	// provider sharing a store never share an intent or a lock. Empty in
	// intents written before accounts were keyed, and for providers with no
	// account given.
	Account   string `json:"account,omitempty"`
	Action    Action `json:"action"`
	OrderID   string `json:"order_id"`
	PaymentID string `json:"payment_id,omitempty"`
	// Amount is Money.Fixed() (for refund_order the confirmed total); with
	// Currency it rebuilds the same canonical Money on every send.
	Amount   string `json:"amount,omitempty"`
	Currency string `json:"currency,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Metadata is sent as is (for refunds it includes MarkerKey). For
	// update_payment, null leaves the payment's metadata alone.
	Metadata        model.Metadata `json:"metadata"`
	ExternalOrderID string         `json:"external_order_id,omitempty"`
	// update_payment only: the fields to set (nil leaves them alone).
	SetExternalOrderID *string `json:"set_external_order_id,omitempty"`
	SetPaymentMethod   *string `json:"set_payment_method,omitempty"`

	IdempotencyKey string     `json:"idempotency_key"`
	Actor          string     `json:"actor"`
	State          State      `json:"state"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	FirstSentAt    *time.Time `json:"first_sent_at,omitempty"`
	LastSentAt     *time.Time `json:"last_sent_at,omitempty"`
	Sends          int        `json:"sends,omitempty"`
	RefundIDs      []string   `json:"refund_ids,omitempty"`
	// RefundRefsPending: the provider accepted the refund but no read so far
	// has shown the refunds it made (its refund list lags), so RefundIDs is
	// empty because the refs are not known yet, not because there are none.
	// The next read of the order fills them in.
	RefundRefsPending bool `json:"refund_refs_pending,omitempty"`
	// RefundStates is the last final state of each of its refunds that the
	// audit log was told of, where a later read showed it differ from
	// State (a refund the provider accepted, then declined or reversed).
	RefundStates map[string]State `json:"refund_states,omitempty"`
	// seen are the refunds the last call or read behind this snapshot
	// showed, for the audit lines of their states (not written down).
	seen      []model.Refund
	ErrorCode string `json:"error_code,omitempty"`
	// Error is the last error's text (provider text: sanitise before drawing).
	Error string `json:"error,omitempty"`
	// Note says how the state was reached ("replayed with the same key",
	// "found at the provider by reading", ...).
	Note string `json:"note,omitempty"`
}

// Money is the intent's amount, or the zero Money when it has none.
func (in *Intent) Money() (model.Money, error) {
	if in.Amount == "" {
		return model.Money{}, nil
	}
	return model.ParseAmount(in.Amount, in.Currency)
}

// Describe is a one-line summary for messages: "refund_payment 12.50 USD on
// order o1 (payment p1)".
func (in *Intent) Describe() string {
	var b strings.Builder
	b.WriteString(string(in.Action))
	if in.Amount != "" {
		fmt.Fprintf(&b, " %s %s", in.Amount, in.Currency)
	}
	fmt.Fprintf(&b, " on order %s", in.OrderID)
	if in.PaymentID != "" {
		fmt.Fprintf(&b, " (payment %s)", in.PaymentID)
	}
	return b.String()
}

// Options configure a Journal. Zero values take the defaults noted.
type Options struct {
	// Dir holds the journal; default DefaultDir().
	Dir string
	// SettleTime is how long after its last send an intent that cannot be
	// found at the provider stays unknown before it is declared failed;
	// default 2 minutes.
	SettleTime time.Duration
	// Skew is the clock difference allowed between this host and the
	// provider when matching refunds by creation time, and (twice over,
	// for a journal shared by hosts) when judging whether a replay is
	// still inside the provider's key window; default 2 minutes.
	Skew time.Duration
	// ResolveTimeout bounds the resolution of one order's intents in
	// Recover, so one hung provider call cannot eat the whole start-up;
	// default 30 seconds.
	ResolveTimeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Auditor, when set, gets a "prepared" record before every action is
	// sent and one record per action outcome, from Wrap and from every
	// resolution (Recover, ResolveOrder, MarkChecked). When it fails on the
	// prepared record nothing is sent (*AuditError); an outcome it fails on
	// is kept (in memory and in Dir's audit-owed.jsonl, so it outlives the
	// process) and written at the next recovery or before the next action,
	// which is refused until it can be.
	Auditor Auditor
	// Backend keeps the intents and takes the per-order locks; default the
	// files in Dir. A shared store (PostgreSQL) plugs in here.
	Backend Backend
	// StepHook, when set, is called after each step of a send ("prepared",
	// "sent", "after_call"): fault injection, so a test can kill the process
	// exactly there, whichever backend the journal runs on.
	StepHook func(step string)
	// Accounts maps a provider id to the account it is configured for (base
	// URL plus merchant or account id). Intents and locks are keyed by it.
	Accounts map[string]string
}

// Key names one order of one provider account: what intents are filed
// under and what a lock serialises.
type Key struct {
	Provider, Account, OrderID string
}

// Backend is where a Journal keeps its intents and takes its per-order
// locks. Every method must be durable before it returns: Append returns nil
// only once the snapshot survives a crash of this host.
type Backend interface {
	// Load returns the order's intents, oldest first, each at its latest
	// snapshot (for a non-empty account, intents written before accounts
	// were keyed are included).
	Load(k Key) ([]*Intent, error)
	// Append records one snapshot of in (keyed by its Provider, Account and
	// OrderID).
	Append(in *Intent) error
	// Unresolved lists every unresolved intent, for all providers.
	Unresolved() ([]Intent, error)
	// Lock takes the order's lock without waiting, for the whole of an
	// action. A held lock is a *BusyError naming the holder; a lock that
	// cannot be taken for another reason is another error, and nothing is
	// sent.
	Lock(k Key, actor string) (Unlocker, error)
}

// Unlocker releases a lock taken by Backend.Lock.
type Unlocker interface{ Unlock() }

// Journal is a directory of per-order intent files and their lock files.
// It is safe for concurrent use by goroutines and by processes sharing the
// directory.
type Journal struct {
	dir  string
	opts Options
	be   Backend
	// auditMu guards owed: outcome lines the audit log refused, written
	// before the next action is sent.
	auditMu sync.Mutex
	owed    []AuditRecord
	// recOrders are the orders start-up recovery has yet to check (money
	// actions on them are refused); recTotal is how many intents it checks.
	recMu     sync.Mutex
	recOrders map[orderKey]bool
	recTotal  int
	// testHook, when set, is called after each step ("prepared", "sent",
	// "after_call") of a send; the crash test kills the process there.
	testHook func(step string)
}

// DefaultDir is $PAYDESK_STATE_DIR/journal, else
// $XDG_STATE_HOME/paydesk/journal, else ~/.local/state/paydesk/journal.
func DefaultDir() (string, error) {
	if d := os.Getenv("PAYDESK_STATE_DIR"); d != "" {
		return filepath.Join(d, "journal"), nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "paydesk", "journal"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("journal: no state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "paydesk", "journal"), nil
}

// Open opens (creating, mode 0700) the journal directory, or with
// Options.Backend set, the journal in that backend.
func Open(o Options) (*Journal, error) {
	if o.SettleTime <= 0 {
		o.SettleTime = 2 * time.Minute
	}
	if o.Skew <= 0 {
		o.Skew = 2 * time.Minute
	}
	if o.ResolveTimeout <= 0 {
		o.ResolveTimeout = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var j *Journal
	if o.Backend != nil {
		// The backend keeps the intents; Dir, when given, is this host's
		// place for audit lines owed while the shared log was down.
		if o.Dir != "" {
			if err := mkdirSynced(o.Dir); err != nil {
				return nil, fmt.Errorf("journal: %w", err)
			}
		}
		j = &Journal{dir: o.Dir, opts: o, be: o.Backend, testHook: o.StepHook}
	} else {
		fb, err := OpenFiles(o.Dir, o.Now)
		if err != nil {
			return nil, err
		}
		o.Dir = fb.dir
		j = &Journal{dir: fb.dir, opts: o, be: fb, testHook: o.StepHook}
	}
	j.loadOwed()
	return j, nil
}

// Files is the default Backend: per-order JSON-lines files and flock(2)
// lock files in one directory (see the package documentation).
type Files struct {
	dir string
	now func() time.Time
}

// OpenFiles opens (creating, mode 0700) a files backend in dir (default
// DefaultDir()); now defaults to time.Now.
func OpenFiles(dir string, now func() time.Time) (*Files, error) {
	if now == nil {
		now = time.Now
	}
	o := struct{ Dir string }{dir}
	if o.Dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		o.Dir = d
	}
	if err := mkdirSynced(o.Dir); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if fi, err := os.Stat(o.Dir); err == nil && fi.Mode().Perm()&0o077 != 0 {
		// Intents name orders, amounts and agents: not for other users.
		if err := os.Chmod(o.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("journal: %s is open to other users and cannot be tightened: %w", o.Dir, err)
		}
	}
	return &Files{dir: o.Dir, now: now}, nil
}

// Dir is the journal's directory (empty for a backend other than files).
func (j *Journal) Dir() string { return j.dir }

// account is the account the journal keys a provider's intents by.
func (j *Journal) account(provider string) string { return j.opts.Accounts[provider] }

func (j *Journal) key(provider, orderID string) Key {
	return Key{Provider: provider, Account: j.account(provider), OrderID: orderID}
}

func (j *Journal) now() time.Time { return j.opts.Now().UTC() }

func (j *Journal) hook(step string) {
	if j.testHook != nil {
		j.testHook(step)
	}
}

// mkdirSynced creates dir and any missing parents with mode 0700, fsyncing
// each parent whose entries changed so the new directory survives a crash.
func mkdirSynced(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirSynced(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, unix.EINVAL) {
		return err
	}
	return nil
}

var plainName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// fileName turns a provider's id into a safe file name: plain ids stay
// readable ("o-1a2b3c"), anything else (ids can be hostile) is hashed.
func fileName(id string) string {
	if plainName.MatchString(id) {
		return "o-" + id
	}
	sum := sha256.Sum256([]byte(id))
	return "h-" + hex.EncodeToString(sum[:20])
}

// accountDir is the directory of one provider account: the provider's own
// directory for no account (as before accounts were keyed), else beside it
// one per account, named by a hash of the account (base URLs are not file
// names).
func accountDir(dir, provider, account string) string {
	name := fileName(provider)
	if account != "" {
		sum := sha256.Sum256([]byte(account))
		name += "~" + hex.EncodeToString(sum[:10])
	}
	return filepath.Join(dir, name)
}

func (j *Journal) providerDir(provider string) string {
	return accountDir(j.dir, provider, j.account(provider))
}

func (j *Journal) orderPath(provider, orderID, ext string) string {
	return filepath.Join(j.providerDir(provider), fileName(orderID)+ext)
}

func (f *Files) orderPath(k Key, ext string) string {
	return filepath.Join(accountDir(f.dir, k.Provider, k.Account), fileName(k.OrderID)+ext)
}

// append stamps and writes one snapshot of in to the backend.
func (j *Journal) append(in *Intent) error {
	in.UpdatedAt = j.now()
	return j.be.Append(in)
}

// Append writes one snapshot of in to its order's file and fsyncs it (and
// the directory when the file is new).
func (f *Files) Append(in *Intent) error {
	line, err := json.Marshal(in)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	k := Key{Provider: in.Provider, Account: in.Account, OrderID: in.OrderID}
	pdir := accountDir(f.dir, k.Provider, k.Account)
	if err := mkdirSynced(pdir); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return appendLine(f.orderPath(k, ".jsonl"), pdir, line, in.State)
}

func appendLine(path, pdir string, line []byte, state State) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	created := err == nil
	if errors.Is(err, fs.ErrExist) {
		f, err = os.OpenFile(path, os.O_RDWR|os.O_APPEND, 0o600)
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	if !created {
		// A crash in the middle of a write leaves a torn last line: end it,
		// so the reader skips it and this line stays whole.
		fi, err := f.Stat()
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		if n := fi.Size(); n > 0 {
			last := make([]byte, 1)
			if _, err := f.ReadAt(last, n-1); err != nil {
				return fmt.Errorf("journal: %w", err)
			}
			if last[0] != '\n' {
				line = append([]byte{'\n'}, line...)
			}
		}
	}
	if _, err := f.Write(line); err != nil {
		return fmt.Errorf("journal: writing %s: %w", state, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("journal: fsync %s: %w", state, err)
	}
	if created {
		if err := syncDir(pdir); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	return nil
}

// load returns the intents of one order, oldest first, each at its latest
// snapshot. Torn or unreadable lines are skipped.
func (j *Journal) load(provider, orderID string) ([]*Intent, error) {
	return j.be.Load(j.key(provider, orderID))
}

// Load reads the order's file; for a keyed account it also reads the file
// the order had before accounts were keyed, so an intent left unresolved
// by an older paydesk still blocks its order until it is resolved.
func (f *Files) Load(k Key) ([]*Intent, error) {
	ins, err := readFile(f.orderPath(k, ".jsonl"))
	if err != nil || k.Account == "" {
		return ins, err
	}
	old, err := readFile(f.orderPath(Key{Provider: k.Provider, OrderID: k.OrderID}, ".jsonl"))
	if err != nil {
		return nil, err
	}
	// An intent of another account under the old name is not this one's.
	old = slices.DeleteFunc(old, func(in *Intent) bool { return in.Account != "" && in.Account != k.Account })
	return append(old, ins...), nil
}

func readFile(path string) ([]*Intent, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	var (
		order []*Intent
		byID  = map[string]int{}
	)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		in := new(Intent)
		if err := json.Unmarshal(line, in); err != nil || in.ID == "" {
			continue // torn by a crash mid-write
		}
		if i, ok := byID[in.ID]; ok {
			order[i] = in
			continue
		}
		byID[in.ID] = len(order)
		order = append(order, in)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("journal: reading %s: %w", path, err)
	}
	return order, nil
}

// intents lists every intent recorded for one order, oldest first.
func (j *Journal) intents(provider, orderID string) ([]Intent, error) {
	ins, err := j.load(provider, orderID)
	return deref(ins), err
}

// Pending lists the unresolved intents of one order, oldest first: the UI
// shows them ("refund of 12.50 USD sent 14:02 by alice: outcome unknown").
func (j *Journal) Pending(provider, orderID string) ([]Intent, error) {
	ins, err := j.load(provider, orderID)
	if err != nil {
		return nil, err
	}
	return deref(slices.DeleteFunc(ins, func(in *Intent) bool { return in.State.Resolved() })), nil
}

// Unresolved lists every unresolved intent in the journal, for all providers.
func (j *Journal) Unresolved() ([]Intent, error) { return j.be.Unresolved() }

// Unresolved lists the unresolved intents of every file.
func (f *Files) Unresolved() ([]Intent, error) {
	var out []Intent
	files, err := filepath.Glob(filepath.Join(f.dir, "*", "*.jsonl"))
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	for _, name := range files {
		ins, err := readFile(name)
		if err != nil {
			return out, err
		}
		for _, in := range ins {
			if !in.State.Resolved() {
				out = append(out, *in)
			}
		}
	}
	return out, nil
}

func deref(ins []*Intent) []Intent {
	out := make([]Intent, len(ins))
	for i, in := range ins {
		out[i] = *in
	}
	return out
}

func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// BusyError says another agent or process is acting on the order.
type BusyError struct {
	Provider, OrderID string
	Actor             string
	PID               int
	Since             time.Time
}

// ErrBusy is in the chain of every *BusyError.
var ErrBusy = errors.New("order busy")

func (e *BusyError) Error() string {
	who := e.Actor
	if who == "" {
		who = "another agent"
	}
	if e.PID != 0 {
		who += fmt.Sprintf(" (pid %d)", e.PID)
	}
	since := ""
	if !e.Since.IsZero() {
		since = " since " + e.Since.UTC().Format("15:04:05 UTC")
	}
	return fmt.Sprintf("another refund or change on order %s is in progress by %s%s; wait for it to finish", e.OrderID, who, since)
}

func (e *BusyError) Unwrap() error { return ErrBusy }

type holder struct {
	Actor string    `json:"actor"`
	PID   int       `json:"pid"`
	Since time.Time `json:"since"`
	Done  bool      `json:"done,omitempty"` // unlocked since
}

type orderLock struct {
	f *os.File
	h holder
}

// held is a lock taken through the backend.
type held struct{ u Unlocker }

func (h *held) unlock() { h.u.Unlock() }

func (j *Journal) lock(provider, orderID, actor string) (*held, error) {
	u, err := j.be.Lock(j.key(provider, orderID), actor)
	if err != nil {
		return nil, err
	}
	return &held{u}, nil
}

// Lock takes the order's lock file with flock, without waiting. flock locks
// belong to the open file, so two goroutines of one process exclude each
// other as two processes do; the kernel drops the lock when a process dies.
func (fb *Files) Lock(k Key, actor string) (Unlocker, error) {
	provider, orderID := k.Provider, k.OrderID
	if err := mkdirSynced(accountDir(fb.dir, k.Provider, k.Account)); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	f, err := os.OpenFile(fb.orderPath(k, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			be := &BusyError{Provider: provider, OrderID: orderID}
			// The holder writes its name just after taking the lock: give
			// it a moment (on a loaded host that can be tens of
			// milliseconds), so the agent who waits is told who. A name
			// marked done is a holder that has since unlocked (or the one
			// before a new holder that has not written yet): it is the
			// answer only when no live name appears.
			for try := 0; try < 100; try++ {
				var h holder
				if b, rerr := os.ReadFile(f.Name()); rerr == nil && json.Unmarshal(b, &h) == nil {
					be.Actor, be.PID, be.Since = h.Actor, h.PID, h.Since
					if !h.Done {
						break
					}
				}
				time.Sleep(5 * time.Millisecond)
			}
			return nil, be
		}
		return nil, fmt.Errorf("journal: lock: %w", err)
	}
	h := holder{Actor: actor, PID: os.Getpid(), Since: fb.now().UTC()}
	b, _ := json.Marshal(h)
	// One write makes the name appear whole; the truncate drops the tail of
	// a longer earlier record (meanwhile the file is not JSON, and a
	// waiter reads again).
	if _, err := f.WriteAt(b, 0); err == nil {
		_ = f.Truncate(int64(len(b)))
	}
	return &orderLock{f: f, h: h}, nil
}

// Unlock releases the lock. The holder's name stays in the file, marked
// done: a waiter whose flock failed just before may read it only now.
func (l *orderLock) Unlock() {
	l.h.Done = true
	if b, err := json.Marshal(l.h); err == nil {
		_, _ = l.f.WriteAt(b, 0) // longer than the record it replaces
	}
	_ = unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	_ = l.f.Close()
}

// Dir is the backend's directory.
func (f *Files) Dir() string { return f.dir }
