package store

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"paydesk/api"
	"paydesk/api/journal"
)

// ApprovalState is where a four-eyes approval request is in its life: the
// api's states (api.ApprovalState), so the store and the guard speak of one
// life, checked by one set of rules (api.ApprovalMoveAllowed and friends).
type ApprovalState = api.ApprovalState

const (
	ApprovalRequested = api.ApprovalRequested
	ApprovalApproved  = api.ApprovalApproved
	ApprovalRejected  = api.ApprovalRejected
	ApprovalExpired   = api.ApprovalExpired
	ApprovalSent      = api.ApprovalSent
	ApprovalFinished  = api.ApprovalFinished
)

// DefaultApprovalTTL is how long a request waits for a decision.
const DefaultApprovalTTL = api.DefaultApprovalTTL

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

// Approval errors: the api's, so a refusal reads and matches the same
// whichever layer made it.
var (
	ErrNoApproval      = api.ErrNoApproval
	ErrApprovalState   = api.ErrApprovalState
	ErrOwnApproval     = api.ErrOwnApproval
	ErrApprovalExpired = api.ErrApprovalExpired
	ErrNoApprover      = api.ErrNoApprover
)

// maker is the row's maker as the rules see people.
func (a Approval) maker() api.Person { return api.Person{Name: a.Maker, Fingerprint: a.MakerKey} }

// approver is the row's approver as the rules see people (zero when none).
func (a Approval) approver() api.Person {
	return api.Person{Name: a.Approver, Fingerprint: a.ApproverKey}
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
	if err := api.CheckNewApproval(fromStore(a)); err != nil {
		return err
	}
	if err := s.rows.Insert(a); err != nil {
		return err
	}
	s.publish(a, a.Maker)
	return nil
}

// Transition runs fn on the current row and stores its result, atomically
// against every other transition of the row in any process or host (the
// api layer's four-eyes rules run inside fn). Whatever fn did, the row is
// checked again by the same rules (api.CheckApprovalChange,
// api.CheckOutcomeChange): an approver who is its maker, a money move with
// no named approver, a move its life does not allow, an outcome written
// over one already known are refused. The transition is published, with actor
// ("" names the approver once there is one, else the maker).
func (s *Approvals) Transition(id, actor string, fn func(*Approval) error) (Approval, error) {
	a, err := s.rows.Update(id, func(a *Approval) error {
		from, outcome, refunds := a.State, a.Outcome, slices.Clone(a.RefundIDs)
		if err := fn(a); err != nil {
			return err
		}
		if err := api.CheckApprovalChange(from, a.State, a.maker(), a.approver()); err != nil {
			return err
		}
		return api.CheckOutcomeChange(from, outcome, refunds, a.Outcome, a.RefundIDs)
	})
	if err == nil {
		if actor == "" {
			actor = cmp.Or(a.Approver, a.Maker)
		}
		s.publish(a, actor)
	}
	return a, err
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
	who := api.Person{Name: approver, Fingerprint: approverKey}
	if !api.NamedPerson(who) {
		return Approval{}, ErrNoApprover
	}
	to := ApprovalRejected
	if approve {
		to = ApprovalApproved
	}
	now := s.now().UTC()
	expired := false
	a, err := s.rows.Update(id, func(a *Approval) error {
		if !api.ApprovalMoveAllowed(a.State, to) {
			return fmt.Errorf("%w: it is %s", ErrApprovalState, a.State)
		}
		if api.ApprovalDue(a.ExpiresAt, now) {
			a.State, a.UpdatedAt, expired = ApprovalExpired, now, true
			return nil
		}
		if approve && api.SamePerson(who, a.maker()) {
			return ErrOwnApproval
		}
		a.Approver, a.ApproverKey, a.UpdatedAt = approver, approverKey, now
		a.State = to
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
		if !api.ApprovalDue(p.ExpiresAt, now) {
			continue
		}
		a, err := s.rows.Update(p.ID, func(a *Approval) error {
			if !api.ApprovalMoveAllowed(a.State, ApprovalExpired) {
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
		if !api.OutcomeMayBeRecorded(a.State, a.Outcome) {
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
