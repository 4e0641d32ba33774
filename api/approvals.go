package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"paydesk/model"
)

// ApprovalState is where a four-eyes approval request is in its life:
//
//	requested -> approved -> sent -> finished (Outcome says how)
//	          -> rejected | expired
//
// The names match the shared store's (api/store), so a PostgreSQL backend
// can keep the same rows.
type ApprovalState string

const (
	ApprovalRequested ApprovalState = "requested"
	ApprovalApproved  ApprovalState = "approved"
	ApprovalRejected  ApprovalState = "rejected"
	ApprovalExpired   ApprovalState = "expired"
	ApprovalSent      ApprovalState = "sent"
	ApprovalFinished  ApprovalState = "finished"
)

// Open reports whether the request still waits for a decision or for its
// money to move (approved or sent after a crash: approving again resumes
// it with the same idempotency key).
func (s ApprovalState) Open() bool {
	return s == ApprovalRequested || s == ApprovalApproved || s == ApprovalSent
}

// The rules of four-eyes approval, in one copy. The guard (approve.go) asks
// them before it acts, over either backend; the shared store's Approvals
// (api/store, over its files or PostgreSQL) asks them again of every row it
// changes, under that row's lock, and PostgreSQL's own constraints and
// trigger (migration 002) stay beneath as a last line. FileApprovals, the
// per-host file, asks them again too.

// ApprovalMoveAllowed is the request's life as a table: requested ->
// approved | rejected | expired; approved -> sent; sent -> sent (a resumed
// send) | finished; finished -> finished (an unknown outcome settled
// later). Rejected and expired are final.
func ApprovalMoveAllowed(from, to ApprovalState) bool {
	switch from {
	case ApprovalRequested:
		return to == ApprovalApproved || to == ApprovalRejected || to == ApprovalExpired
	case ApprovalApproved:
		return to == ApprovalSent
	case ApprovalSent:
		return to == ApprovalSent || to == ApprovalFinished
	case ApprovalFinished:
		return to == ApprovalFinished
	}
	return false
}

// MovesMoney: the states a request reaches only once approved.
func (s ApprovalState) MovesMoney() bool {
	return s == ApprovalApproved || s == ApprovalSent || s == ApprovalFinished
}

// SamePerson: one person by name, or by key when the key is known (one
// person with two keys, or two names on one key, is still one person).
func SamePerson(a, b Person) bool {
	return a.Name == b.Name || (a.Fingerprint != "" && a.Fingerprint == b.Fingerprint)
}

// CanApprove reports whether role may approve others' requests.
func CanApprove(r Role) bool { return r == RoleApprover || r == RoleAdmin }

// CanReject: approvers and admins reject any request; the maker (the same
// name and the same key) may withdraw their own.
func CanReject(r Role, who, maker Person) bool {
	return CanApprove(r) || (who.Name == maker.Name && who.Fingerprint == maker.Fingerprint)
}

// NamedPerson: a decision is made by someone known by name and by key; a
// blank either is nobody in particular.
func NamedPerson(p Person) bool {
	return strings.TrimSpace(p.Name) != "" && strings.TrimSpace(p.Fingerprint) != ""
}

// ApprovalDue: a request is past its expiry from the instant it expires.
func ApprovalDue(expiresAt, now time.Time) bool { return !now.Before(expiresAt) }

// OutcomeMayBeRecorded: an outcome goes on a sent request, or replaces an
// unknown one once it is settled.
func OutcomeMayBeRecorded(st ApprovalState, outcome string) bool {
	return st == ApprovalSent || (st == ApprovalFinished && outcome == "unknown")
}

// CheckOutcomeChange is what every store refuses in a changed row's
// outcome, whoever wrote the change: an outcome (or the refunds it names)
// written on a request that was not sent, or over an outcome already known.
// Only an unknown outcome is replaced, once settled; a later answer, a
// busy order or a lost race never overwrites what is known.
func CheckOutcomeChange(from ApprovalState, fromOutcome string, fromRefunds []string, toOutcome string, toRefunds []string) error {
	if toOutcome == fromOutcome && slices.Equal(fromRefunds, toRefunds) {
		return nil
	}
	if !OutcomeMayBeRecorded(from, fromOutcome) {
		if from == ApprovalFinished {
			return fmt.Errorf("%w (%s)", ErrOutcomeRecorded, fromOutcome)
		}
		return fmt.Errorf("%w: an outcome is recorded on a sent request, and it is %s", ErrApprovalState, from)
	}
	return nil
}

// CheckApprovalChange is what the shared store refuses in a changed row,
// whoever wrote the change: an approver who is the maker (a maker may
// only withdraw their own, which is a rejection), a request that moves
// money without naming its approver by name and key (an empty key would
// differ from the maker's and pass as a second person), and a move its
// life does not allow. approver is the zero Person when there is none.
func CheckApprovalChange(from, to ApprovalState, maker, approver Person) error {
	if approver.Name != "" && to != ApprovalRejected && SamePerson(approver, maker) {
		return ErrOwnApproval
	}
	if to.MovesMoney() && !NamedPerson(approver) {
		return ErrNoApprover
	}
	if !ApprovalMoveAllowed(from, to) {
		return fmt.Errorf("%w: %s cannot become %s", ErrApprovalState, from, to)
	}
	return nil
}

// CheckNewApproval is what the shared store refuses in a new row: no id or
// idempotency key, no maker by name and key, or a request that is not
// simply requested.
func CheckNewApproval(a Approval) error {
	switch {
	case a.ID == "" || a.IdempotencyKey == "":
		return errors.New("approval request: id and idempotency key are required")
	case a.Maker.Name == "" || a.Maker.Fingerprint == "":
		return errors.New("approval request: maker and maker key are required")
	case a.State != ApprovalRequested || a.Approver != nil:
		return fmt.Errorf("%w: a new request must be requested, with no approver", ErrApprovalState)
	}
	return nil
}

// DefaultApprovalTTL is how long a request waits for a decision.
const DefaultApprovalTTL = 30 * time.Minute

// Approval actions: the two money actions that can need a second person.
const (
	ApprovalRefundOrder   = "refund_order"
	ApprovalRefundPayment = "refund_payment"
)

// Person is who did something: the name and role from the users file and
// the fingerprint of the key that authenticated.
type Person struct {
	Name        string `json:"name"`
	Role        Role   `json:"role"`
	Fingerprint string `json:"key"`
}

// Actor is how the audit log names the person (the same form as a
// session's actor: name, role, key).
func (p Person) Actor() string {
	name := p.Name
	if name == "" {
		name = "unknown"
	}
	return name + " role=" + p.Role.String() + " key=" + p.Fingerprint
}

// Approval is one request for a second person to allow a money action
// above the maker's limit. Everything that will be sent is in it, and the
// idempotency key is minted when the request is made: an approval retried
// after a crash sends the same key through the journal, so the money moves
// once. A changed amount is a different request.
type Approval struct {
	ID        string `json:"id"`
	Provider  string `json:"provider"`
	Account   string `json:"account,omitempty"`
	Action    string `json:"action"` // refund_order | refund_payment
	OrderID   string `json:"order_id"`
	OrderRef  string `json:"order_ref,omitempty"`
	PaymentID string `json:"payment_id,omitempty"`
	// Amount is the partial refund's amount, or the whole-order total the
	// maker confirmed, fixed scale.
	Amount          string         `json:"amount"`
	Currency        string         `json:"currency"`
	Reason          string         `json:"reason,omitempty"`
	Metadata        model.Metadata `json:"metadata,omitempty"`
	ExternalOrderID string         `json:"external_order_id,omitempty"`
	IdempotencyKey  string         `json:"idempotency_key"`
	Maker           Person         `json:"maker"`
	Approver        *Person        `json:"approver,omitempty"`
	State           ApprovalState  `json:"state"`
	// Outcome is the money action's outcome once finished (succeeded,
	// failed, unknown) or why it could not be sent.
	Outcome string `json:"outcome,omitempty"`
	// RefundIDs are the provider's ids of the refunds the approved action
	// made, once it has an answer: what moved, for whoever looks later.
	RefundIDs []string  `json:"refund_ids,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Money is the amount the request moves.
func (a Approval) Money() (model.Money, error) { return model.ParseAmount(a.Amount, a.Currency) }

// Describe is one line for the screen and errors: "refund of 150.00 USD on
// payment p1 of order o1".
func (a Approval) Describe() string {
	what := "refund of the whole order " + a.orderName() + " (" + a.Amount + " " + a.Currency + ")"
	if a.Action == ApprovalRefundPayment {
		what = "refund of " + a.Amount + " " + a.Currency + " on payment " + a.PaymentID + " of order " + a.orderName()
	}
	return what
}

func (a Approval) orderName() string {
	if a.OrderRef != "" {
		return a.OrderRef
	}
	return a.OrderID
}

// Approval errors.
var (
	// ErrApprovalPending is in the chain of a *PendingApprovalError: the
	// action was not sent but became a request for approval.
	ErrApprovalPending = errors.New("sent for approval")
	ErrNoApproval      = errors.New("no such approval request")
	ErrApprovalState   = errors.New("approval request is not in a state that allows this")
	ErrOwnApproval     = errors.New("the maker of a request cannot approve it")
	ErrApprovalExpired = errors.New("approval request expired")
	// ErrNoApprover: a decision must name who made it, by name and key; an
	// empty key would differ from the maker's and pass as a second person.
	ErrNoApprover = errors.New("a decision on an approval request needs the approver's name and key")
	// ErrOutcomeRecorded: the request's outcome is already known (only an
	// unknown one is replaced once settled); a later answer, a busy order
	// or a lost race must not overwrite it.
	ErrOutcomeRecorded = fmt.Errorf("%w: its outcome is already recorded", ErrApprovalState)
	// ErrKeyFailed: the money action sent with this idempotency key already
	// failed, or was abandoned before it was sent; nothing moved, and the
	// key can never move money. The journal puts it in the chain of its
	// refusal to send such a key again, so whoever holds the key (an
	// approval request, whose key is minted with it) can close what it
	// was for.
	ErrKeyFailed = errors.New("the action with this idempotency key already failed")
	// ErrApprovalChanged: the order no longer matches the request (the
	// whole-order total moved, or the payment has less left): a changed
	// amount is a new request.
	ErrApprovalChanged = errors.New("the order changed since the request was made")
)

// ApprovalDoneError says the request's money action already has its
// outcome, recorded by another approval of it (another approver's, or an
// earlier send of the same request): nothing more was sent, and the
// request is as Approval shows it. It is in ErrApprovalState's chain, so a
// screen treats it as a race lost and reads the request again.
type ApprovalDoneError struct{ Approval Approval }

func (e *ApprovalDoneError) Error() string {
	a := e.Approval
	by := "another approver"
	if a.Approver != nil && strings.TrimSpace(a.Approver.Name) != "" {
		by = a.Approver.Name
	}
	switch a.Outcome {
	case "succeeded":
		refunds := ""
		if len(a.RefundIDs) > 0 {
			refunds = " (refund " + strings.Join(a.RefundIDs, ", ") + ")"
		}
		return fmt.Sprintf("Nothing more sent: the %s, approved by %s, already went through%s. The money moved once; there is nothing left to approve.",
			a.Describe(), by, refunds)
	case "failed":
		return fmt.Sprintf("Nothing more sent: the %s, approved by %s, was already sent and the provider refused it; nothing moved. The maker can make a new request.",
			a.Describe(), by)
	}
	return fmt.Sprintf("Nothing more sent: the %s, approved by %s, already ended (%s).", a.Describe(), by, a.Outcome)
}

func (e *ApprovalDoneError) Unwrap() error { return ErrApprovalState }

// PendingApprovalError is what a refund above the caller's limit returns
// when approvals are on: nothing was sent, a request waits for an approver.
type PendingApprovalError struct{ Approval Approval }

func (e *PendingApprovalError) Error() string {
	return fmt.Sprintf("Sent for approval: the %s is above your limit; nothing moves until an approver (not you) approves it. It expires at %s.",
		e.Approval.Describe(), e.Approval.ExpiresAt.UTC().Format("15:04 UTC"))
}

func (e *PendingApprovalError) Unwrap() error { return ErrApprovalPending }

// AsPendingApproval reports whether err says an action became an approval
// request.
func AsPendingApproval(err error) (*PendingApprovalError, bool) {
	var pe *PendingApprovalError
	ok := errors.As(err, &pe)
	return pe, ok
}

// ApprovalStore keeps approval requests for every session of a process
// (and, with a shared backend, of every process). The rules of four-eyes
// approval are applied by the guard; a store keeps rows, updates one
// atomically, and refuses a row the rules do not allow (CheckNewApproval,
// CheckApprovalChange, CheckOutcomeChange) as a second line.
type ApprovalStore interface {
	// Create records a new request.
	Create(a Approval) error
	// Get returns one request (ErrNoApproval when there is none).
	Get(id string) (Approval, error)
	// List returns every request ever made, oldest first: history, for
	// audits and tests. A queue reads Recent.
	List() ([]Approval, error)
	// Recent returns every open request (requested, approved, sent),
	// oldest first, then the newest closed ones (rejected, expired,
	// finished; the latest change first), at most closed of them: what a
	// queue shows, at a cost that does not grow with history.
	Recent(closed int) ([]Approval, error)
	// Transition runs fn on the current row and stores its result,
	// atomically against every other transition of it. An error from fn
	// leaves the row as it was.
	Transition(id string, fn func(*Approval) error) (Approval, error)
}

// FileApprovals keeps requests in memory and, when it has a path, in one
// JSON file beside the journal, so a restart keeps pending and approved
// requests. Every change rewrites the file crash-safely: a temporary file,
// fsync, rename over the old one, fsync of the directory; a crash leaves
// the old file or the new one, never half of either.
type FileApprovals struct {
	path string
	mu   sync.Mutex
	rows map[string]Approval
}

// OpenApprovals opens (or creates) the file store at path; "" keeps the
// requests in memory only.
func OpenApprovals(path string) (*FileApprovals, error) {
	s := &FileApprovals{path: path, rows: map[string]Approval{}}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("approvals: %w", err)
	}
	var rows []Approval
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, fmt.Errorf("approvals: %s is not an approvals file: %v", path, err)
	}
	for _, a := range rows {
		s.rows[a.ID] = a
	}
	return s, nil
}

func (s *FileApprovals) Create(a Approval) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.rows[a.ID]; dup || a.ID == "" {
		return fmt.Errorf("approvals: request id %q is empty or taken", a.ID)
	}
	// The same second line as the shared store's: whoever calls, a new
	// row is a request waiting, with its maker known by name and key.
	if err := CheckNewApproval(a); err != nil {
		return err
	}

	s.rows[a.ID] = a
	if err := s.save(); err != nil {
		delete(s.rows, a.ID)
		return err
	}
	return nil
}

func (s *FileApprovals) Get(id string) (Approval, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.rows[id]
	if !ok {
		return Approval{}, fmt.Errorf("%w: %s", ErrNoApproval, id)
	}
	return a, nil
}

func (s *FileApprovals) List() ([]Approval, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Approval, 0, len(s.rows))
	for _, a := range s.rows {
		out = append(out, a)
	}
	sortApprovals(out)
	return out, nil
}

func (s *FileApprovals) Recent(closed int) ([]Approval, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SelectRecent(slices.Collect(maps.Values(s.rows)), closed, approvalView), nil
}

func approvalView(a Approval) (ApprovalState, time.Time, time.Time, string) {
	return a.State, a.CreatedAt, a.UpdatedAt, a.ID
}

// SelectRecent is Recent over rows read whole (the file stores): every
// open row by creation, oldest first, then the closed ones by their last
// change, newest first, at most closed of them. view says a row's state,
// creation, last change and id. Ties fall to the id, as in PostgreSQL's
// query, so every backend lists the same rows in the same order.
func SelectRecent[T any](all []T, closed int, view func(T) (state ApprovalState, created, updated time.Time, id string)) []T {
	var open, done []T
	for _, r := range all {
		if st, _, _, _ := view(r); st.Open() {
			open = append(open, r)
		} else {
			done = append(done, r)
		}
	}
	slices.SortStableFunc(open, func(a, b T) int {
		_, ca, _, ia := view(a)
		_, cb, _, ib := view(b)
		if c := ca.Compare(cb); c != 0 {
			return c
		}
		return strings.Compare(ia, ib)
	})
	slices.SortStableFunc(done, func(a, b T) int {
		_, _, ua, ia := view(a)
		_, _, ub, ib := view(b)
		if c := ub.Compare(ua); c != 0 {
			return c
		}
		return strings.Compare(ib, ia)
	})
	return append(open, done[:min(max(closed, 0), len(done))]...)
}

func (s *FileApprovals) Transition(id string, fn func(*Approval) error) (Approval, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.rows[id]
	if !ok {
		return Approval{}, fmt.Errorf("%w: %s", ErrNoApproval, id)
	}
	a := old
	a.Metadata = maps.Clone(old.Metadata)
	a.RefundIDs = slices.Clone(old.RefundIDs)
	if err := fn(&a); err != nil {
		return old, err
	}
	// fn is the guard's, which applies the rules; they are asked again
	// of the row it made, as the shared store does, so no caller can
	// store a move the request's life does not allow.
	if err := checkRowChange(old, a); err != nil {
		return old, err
	}
	s.rows[id] = a
	if err := s.save(); err != nil {
		s.rows[id] = old
		return old, err
	}
	return a, nil
}

// checkRowChange is CheckApprovalChange and CheckOutcomeChange over two
// versions of a row.
func checkRowChange(old, a Approval) error {
	var approver Person
	if a.Approver != nil {
		approver = *a.Approver
	}
	if err := CheckApprovalChange(old.State, a.State, a.Maker, approver); err != nil {
		return err
	}
	return CheckOutcomeChange(old.State, old.Outcome, old.RefundIDs, a.Outcome, a.RefundIDs)
}

func sortApprovals(out []Approval) {
	slices.SortStableFunc(out, func(a, b Approval) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// save writes every row (caller holds mu).
func (s *FileApprovals) save() error {
	if s.path == "" {
		return nil
	}
	rows := make([]Approval, 0, len(s.rows))
	for _, a := range s.rows {
		rows = append(rows, a)
	}
	sortApprovals(rows)
	b, err := json.MarshalIndent(rows, "", " ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(s.path)
	f, err := os.CreateTemp(dir, ".approvals-*.tmp")
	if err != nil {
		return fmt.Errorf("approvals: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing to remove
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("approvals: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("approvals: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("approvals: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("approvals: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("approvals: %w", err)
	}
	// The rename is durable only once the directory entry is.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
