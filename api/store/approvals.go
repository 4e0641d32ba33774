package store

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"paydesk/api/journal"
)

// ApprovalState is where a four-eyes approval request is in its life:
//
//	requested -> approved -> sent -> finished (Outcome says how)
//	          -> rejected | expired
type ApprovalState string

const (
	ApprovalRequested ApprovalState = "requested"
	ApprovalApproved  ApprovalState = "approved"
	ApprovalRejected  ApprovalState = "rejected"
	ApprovalExpired   ApprovalState = "expired"
	ApprovalSent      ApprovalState = "sent"
	ApprovalFinished  ApprovalState = "finished"
)

// DefaultApprovalTTL is how long a request waits for a decision.
const DefaultApprovalTTL = 30 * time.Minute

// Approval is one request for a second person to allow a money action. The
// idempotency key is minted with the request, so an approval retried after
// a crash moves money once.
type Approval struct {
	ID        string `json:"id"`
	Provider  string `json:"provider"`
	Account   string `json:"account,omitempty"`
	Action    string `json:"action"` // refund_order | refund_payment
	OrderID   string `json:"order_id"`
	OrderRef  string `json:"order_ref,omitempty"`
	PaymentID string `json:"payment_id,omitempty"`
	Amount    string `json:"amount"` // fixed scale
	Currency  string `json:"currency"`
	Reason    string `json:"reason,omitempty"`
	// Metadata and ExternalOrderID go with the refund exactly as the maker
	// typed them (the approver sends what was asked, nothing else).
	Metadata        map[string]string `json:"metadata,omitempty"`
	ExternalOrderID string            `json:"external_order_id,omitempty"`
	IdempotencyKey  string            `json:"idempotency_key"`
	Maker           string            `json:"maker"`
	MakerKey        string            `json:"maker_key"`            // public key fingerprint
	MakerRole       string            `json:"maker_role,omitempty"` // viewer | agent | approver | admin
	Approver        string            `json:"approver,omitempty"`
	ApproverKey     string            `json:"approver_key,omitempty"`
	ApproverRole    string            `json:"approver_role,omitempty"`
	State           ApprovalState     `json:"state"`
	Outcome         string            `json:"outcome,omitempty"`    // journal state once finished
	RefundIDs       []string          `json:"refund_ids,omitempty"` // the provider's refunds the action made
	CreatedAt       time.Time         `json:"created_at"`
	ExpiresAt       time.Time         `json:"expires_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// Approval errors.
var (
	ErrNoApproval      = errors.New("no such approval request")
	ErrApprovalState   = errors.New("approval request is not in a state that allows this")
	ErrOwnApproval     = errors.New("the maker of a request cannot approve it")
	ErrApprovalExpired = errors.New("approval request expired")
	// ErrNoApprover: a decision must name who made it, by name and key; an
	// empty key would differ from the maker's and pass as a second person.
	ErrNoApprover = errors.New("a decision on an approval request needs the approver's name and key")
)

// ownApproval: an approver who is the maker by name or by key (one person
// with two keys is still one person) is refused by every backend, whoever
// wrote the transition. A maker may withdraw their own (a rejection).
func ownApproval(a Approval) bool {
	return a.Approver != "" && a.State != ApprovalRejected && (a.Approver == a.Maker || (a.ApproverKey != "" && a.ApproverKey == a.MakerKey))
}

// ApprovalRows is what a backend provides: rows and an atomic update.
type ApprovalRows interface {
	Insert(a Approval) error
	Get(id string) (Approval, error)
	List() ([]Approval, error)
	// Recent returns every open request, oldest first, then the newest
	// closed ones, the latest change first, at most closed of them
	// (api.ApprovalStore.Recent).
	Recent(closed int) ([]Approval, error)
	// Update runs fn on the current row and stores its result, atomically
	// against every other update of the row (in any process or host).
	Update(id string, fn func(*Approval) error) (Approval, error)
}

// Approvals applies the rules of four-eyes approval over a backend's rows,
// the same for every backend, and publishes every transition.
type Approvals struct {
	rows ApprovalRows
	ev   Events
	now  func() time.Time
}

// Request records a new request (state requested). ID, IdempotencyKey
// (when empty), CreatedAt and ExpiresAt (when zero: DefaultApprovalTTL) are
// set here.
func (s *Approvals) Request(a Approval) (Approval, error) {
	if a.Maker == "" || a.MakerKey == "" {
		return Approval{}, errors.New("approval request: maker and maker key are required")
	}
	if a.OrderID == "" || a.Amount == "" || a.Currency == "" {
		return Approval{}, errors.New("approval request: order, amount and currency are required")
	}
	now := s.now().UTC()
	a.ID, a.State, a.Outcome = newID(), ApprovalRequested, ""
	a.Approver, a.ApproverKey = "", ""
	if a.IdempotencyKey == "" {
		a.IdempotencyKey = newID()
	}
	a.CreatedAt, a.UpdatedAt = now, now
	if a.ExpiresAt.IsZero() {
		a.ExpiresAt = now.Add(DefaultApprovalTTL)
	}
	a.ExpiresAt = a.ExpiresAt.UTC()
	if err := s.rows.Insert(a); err != nil {
		return Approval{}, err
	}
	s.publish(a, a.Maker)
	return a, nil
}

// Create records a request exactly as given (the api layer mints its id,
// key and times itself), refusing one that is not in state requested or
// has no maker.
func (s *Approvals) Create(a Approval) error {
	switch {
	case a.ID == "" || a.IdempotencyKey == "":
		return errors.New("approval request: id and idempotency key are required")
	case a.Maker == "" || a.MakerKey == "":
		return errors.New("approval request: maker and maker key are required")
	case a.State != ApprovalRequested || a.Approver != "":
		return fmt.Errorf("%w: a new request must be requested, with no approver", ErrApprovalState)
	}
	if err := s.rows.Insert(a); err != nil {
		return err
	}
	s.publish(a, a.Maker)
	return nil
}

// Transition runs fn on the current row and stores its result, atomically
// against every other transition of the row in any process or host (the
// api layer's four-eyes rules run inside fn). Whatever fn did, a row whose
// approver is its maker is refused, and so is a move back to requested or
// out of rejected or expired. The transition is published, with actor
// ("" names the approver once there is one, else the maker).
func (s *Approvals) Transition(id, actor string, fn func(*Approval) error) (Approval, error) {
	a, err := s.rows.Update(id, func(a *Approval) error {
		from := a.State
		if err := fn(a); err != nil {
			return err
		}
		if ownApproval(*a) {
			return ErrOwnApproval
		}
		if movesMoney(a.State) && (strings.TrimSpace(a.Approver) == "" || strings.TrimSpace(a.ApproverKey) == "") {
			return ErrNoApprover
		}
		if !validMove(from, a.State) {
			return fmt.Errorf("%w: %s cannot become %s", ErrApprovalState, from, a.State)
		}
		return nil
	})
	if err == nil {
		if actor == "" {
			actor = cmp.Or(a.Approver, a.Maker)
		}
		s.publish(a, actor)
	}
	return a, err
}

// movesMoney: the states a request reaches only once approved.
func movesMoney(st ApprovalState) bool {
	return st == ApprovalApproved || st == ApprovalSent || st == ApprovalFinished
}

// validMove is the request's life as a table: requested -> approved |
// rejected | expired; approved -> sent; sent -> sent (a resumed send) |
// finished; finished -> finished (an unknown outcome settled later).
func validMove(from, to ApprovalState) bool {
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
	return false // rejected and expired are final
}

// Get returns one request.
func (s *Approvals) Get(id string) (Approval, error) { return s.rows.Get(id) }

// List returns the requests in the given states (all when none), oldest
// first.
func (s *Approvals) List(states ...ApprovalState) ([]Approval, error) {
	all, err := s.rows.List()
	if err != nil {
		return nil, err
	}
	if len(states) > 0 {
		all = slices.DeleteFunc(all, func(a Approval) bool { return !slices.Contains(states, a.State) })
	}
	slices.SortStableFunc(all, func(a, b Approval) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return all, nil
}

// Recent returns every open request, oldest first, then the newest closed
// ones, the latest change first, at most closed of them.
func (s *Approvals) Recent(closed int) ([]Approval, error) { return s.rows.Recent(closed) }

// Decide approves or rejects a request. The approver must differ from the
// maker in name and in key; a request past its expiry becomes expired
// instead (ErrApprovalExpired).
func (s *Approvals) Decide(id, approver, approverKey string, approve bool) (Approval, error) {
	if strings.TrimSpace(approver) == "" || strings.TrimSpace(approverKey) == "" {
		return Approval{}, ErrNoApprover
	}
	now := s.now().UTC()
	expired := false
	a, err := s.rows.Update(id, func(a *Approval) error {
		if a.State != ApprovalRequested {
			return fmt.Errorf("%w: it is %s", ErrApprovalState, a.State)
		}
		if !now.Before(a.ExpiresAt) {
			a.State, a.UpdatedAt, expired = ApprovalExpired, now, true
			return nil
		}
		if approve && (approver == a.Maker || approverKey == a.MakerKey) {
			return ErrOwnApproval
		}
		a.Approver, a.ApproverKey, a.UpdatedAt = approver, approverKey, now
		a.State = ApprovalRejected
		if approve {
			a.State = ApprovalApproved
		}
		return nil
	})
	if err != nil {
		return a, err
	}
	s.publish(a, approver)
	if expired {
		return a, fmt.Errorf("%w at %s", ErrApprovalExpired, a.ExpiresAt.Format("15:04:05 UTC"))
	}
	return a, nil
}

// ExpireDue moves every request past its expiry to expired and returns them.
func (s *Approvals) ExpireDue() ([]Approval, error) {
	now := s.now().UTC()
	pending, err := s.List(ApprovalRequested)
	if err != nil {
		return nil, err
	}
	var out []Approval
	for _, p := range pending {
		if now.Before(p.ExpiresAt) {
			continue
		}
		a, err := s.rows.Update(p.ID, func(a *Approval) error {
			if a.State != ApprovalRequested {
				return ErrApprovalState
			}
			a.State, a.UpdatedAt = ApprovalExpired, now
			return nil
		})
		if errors.Is(err, ErrApprovalState) {
			continue // decided meanwhile
		}
		if err != nil {
			return out, err
		}
		s.publish(a, "")
		out = append(out, a)
	}
	return out, nil
}

// MarkSent records that an approved request's action is being sent. Only
// one caller wins: a second gets ErrApprovalState.
func (s *Approvals) MarkSent(id, actor string) (Approval, error) {
	return s.move(id, actor, ApprovalApproved, ApprovalSent, "")
}

// MarkOutcome records how a sent request ended (the journal's state:
// succeeded, failed, unknown, ...). unknown may later be replaced.
func (s *Approvals) MarkOutcome(id, actor, outcome string) (Approval, error) {
	a, err := s.rows.Update(id, func(a *Approval) error {
		if a.State != ApprovalSent && !(a.State == ApprovalFinished && a.Outcome == "unknown") {
			return fmt.Errorf("%w: it is %s", ErrApprovalState, a.State)
		}
		a.State, a.Outcome, a.UpdatedAt = ApprovalFinished, outcome, s.now().UTC()
		return nil
	})
	if err == nil {
		s.publish(a, actor)
	}
	return a, err
}

func (s *Approvals) move(id, actor string, from, to ApprovalState, outcome string) (Approval, error) {
	a, err := s.rows.Update(id, func(a *Approval) error {
		if a.State != from {
			return fmt.Errorf("%w: it is %s, not %s", ErrApprovalState, a.State, from)
		}
		a.State, a.Outcome, a.UpdatedAt = to, outcome, s.now().UTC()
		return nil
	})
	if err == nil {
		s.publish(a, actor)
	}
	return a, err
}

func (s *Approvals) publish(a Approval, actor string) {
	if s.ev == nil {
		return
	}
	_, _ = s.ev.Publish(Event{Kind: KindApproval, Provider: a.Provider, Account: a.Account, OrderID: a.OrderID,
		ApprovalID: a.ID, State: string(a.State), Actor: actor})
}

// NewApprovals puts the approval rules over a backend's rows; ev (may be
// nil) gets an event per transition, now is the clock.
func NewApprovals(rows ApprovalRows, ev Events, now func() time.Time) *Approvals {
	if now == nil {
		now = time.Now
	}
	return &Approvals{rows: rows, ev: ev, now: now}
}

// Publishing wraps a journal backend so every intent snapshot it records is
// also published to ev (a backend that publishes in the same transaction
// does not need it).
func Publishing(b journal.Backend, ev Events) journal.Backend { return publishing{Backend: b, ev: ev} }
