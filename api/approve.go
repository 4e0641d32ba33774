package api

import (
	"context"
	"errors"
	"fmt"

	"paydesk/model"
)

// ApprovalDesk is what a guarded provider offers for four-eyes approval.
// Every rule is enforced here, under the approvals screen: the approver's
// role, a different key and a different name from the maker, expiry, and
// an order that still matches the request.
type ApprovalDesk interface {
	// Requests returns every open request, oldest first, then the newest
	// closed ones, at most closed of them (ApprovalStore.Recent), after
	// moving those past their expiry to expired.
	Requests(closed int) ([]Approval, error)
	// Preview re-reads the order of an open request and checks that what
	// was asked can still move, without changing anything: what the
	// approval screen shows before the typed confirmation.
	Preview(ctx context.Context, id string) (Approval, *model.Order, error)
	// Approve approves the request and sends its money action with the
	// idempotency key minted with the request. On a request already
	// approved or sent (a crash, an unknown outcome) it sends the same
	// request again, which the journal recognises by its key.
	Approve(ctx context.Context, id string) (*RefundResult, error)
	// Reject closes a request without moving money; the maker may
	// withdraw their own.
	Reject(id string) (Approval, error)
	// Request reads one request as it is now, whatever its state: what an
	// approver who lost a race to another is shown (who approved it, the
	// refunds it made). Approvers and admins read any; others their own.
	Request(id string) (Approval, error)
}

// DeskOf returns p's approval desk when p is guarded with approvals on.
func DeskOf(p Provider) (ApprovalDesk, bool) {
	g, ok := p.(guard)
	if !ok || g.o.Approvals == nil {
		return nil, false
	}
	return g, true
}

// request records a money action above the limit as an approval request.
// Its audit line goes in first: no request without one.
func (g guard) request(a Approval) error {
	now := g.o.Now().UTC()
	a.ID, a.Provider, a.Account, a.IdempotencyKey = g.o.NewID(), g.p.ID(), g.o.Account, g.o.NewID()
	a.Maker, a.Approver, a.State = g.o.Who, nil, ApprovalRequested
	a.CreatedAt, a.UpdatedAt, a.ExpiresAt = now, now, now.Add(g.o.TTL)
	if err := g.audit(ApprovalAudit{Approval: a, By: g.o.Who, Transition: ApprovalRequested}); err != nil {
		return fmt.Errorf("nothing requested: the audit log could not record the request (%w)", err)
	}
	if err := g.o.Approvals.Create(a); err != nil {
		return fmt.Errorf("nothing requested: %w", err)
	}
	g.published(a)
	return &PendingApprovalError{Approval: a}
}

func (g guard) audit(l ApprovalAudit) error {
	if g.o.Audit == nil {
		return errors.New("approvals have no audit log")
	}
	l.Approval.UpdatedAt = g.o.Now().UTC() // the line's time is the transition's
	return g.o.Audit(l)
}

func (g guard) published(a Approval) {
	g.o.Bus.Publish(Event{Kind: EventApproval, Provider: a.Provider, OrderID: a.OrderID, ApprovalID: a.ID, State: string(a.State)})
}

// refuse writes who tried what and why it was refused, and returns err.
func (g guard) refuse(a Approval, to ApprovalState, why string, err error) error {
	_ = g.audit(ApprovalAudit{Approval: a, By: g.o.Who, Transition: to, Refused: why})
	return err
}

func (g guard) Requests(closed int) ([]Approval, error) {
	all, err := g.o.Approvals.Recent(closed)
	if err != nil {
		return nil, err
	}
	now := g.o.Now()
	for i, a := range all {
		if a.State == ApprovalRequested && ApprovalDue(a.ExpiresAt, now) {
			if e, err := g.expire(a); err == nil {
				all[i] = e
			}
		}
	}
	return all, nil
}

// expire moves a request past its expiry to expired, with its audit line.
func (g guard) expire(a Approval) (Approval, error) {
	now := g.o.Now().UTC()
	e, err := g.o.Approvals.Transition(a.ID, func(r *Approval) error {
		if !ApprovalMoveAllowed(r.State, ApprovalExpired) {
			return fmt.Errorf("%w: it is %s", ErrApprovalState, r.State)
		}
		r.State, r.UpdatedAt = ApprovalExpired, now
		return nil
	})
	if err != nil {
		return a, err
	}
	_ = g.audit(ApprovalAudit{Approval: e, By: g.o.Who, Transition: ApprovalExpired})
	g.published(e)
	return e, nil
}

// ownRequest: the approver must differ from the maker in key and in name
// (one person with two keys is still one person).
func (g guard) ownRequest(a Approval) bool { return SamePerson(g.o.Who, a.Maker) }

// open loads a request for an approver and applies every rule that does
// not need the provider.
func (g guard) open(id string) (Approval, error) {
	if !CanApprove(g.role) {
		return Approval{}, &RoleError{Role: g.role, Action: "approve refunds"}
	}
	a, err := g.o.Approvals.Get(id)
	if err != nil {
		return a, err
	}
	if a.Provider != g.p.ID() || a.Account != g.o.Account {
		return a, fmt.Errorf("%w: request %s is for another provider account (%s)", ErrNoApproval, id, a.Provider)
	}
	if g.ownRequest(a) {
		return a, g.refuse(a, ApprovalApproved, "own_request",
			fmt.Errorf("Refused: %w; another approver (a different person with a different key) must approve it. Nothing was sent", ErrOwnApproval))
	}
	if !NamedPerson(g.o.Who) {
		return a, g.refuse(a, ApprovalApproved, "no_approver", fmt.Errorf("Refused: %w; nothing was sent", ErrNoApprover))
	}
	switch a.State {
	case ApprovalRequested:
		if ApprovalDue(a.ExpiresAt, g.o.Now()) {
			if _, err := g.expire(a); err != nil && !errors.Is(err, ErrApprovalState) {
				return a, err
			}
			return a, fmt.Errorf("Refused: %w at %s; nothing was sent. The maker can make a new request", ErrApprovalExpired, a.ExpiresAt.UTC().Format("15:04:05 UTC"))
		}
	case ApprovalApproved, ApprovalSent:
		// Approved earlier and not finished (a crash, an unknown outcome):
		// sending again with the request's key resumes it.
	default:
		return a, fmt.Errorf("%w: it is %s", ErrApprovalState, a.State)
	}
	return a, nil
}

// check re-reads the order and says whether the request can still move
// exactly what it asked for. A request already sent is not checked: its
// money may have moved, and the journal settles it by its key.
func (g guard) check(ctx context.Context, a Approval) (*model.Order, error) {
	o, err := g.p.GetOrder(ctx, a.OrderID)
	if err != nil {
		return nil, err
	}
	if a.State == ApprovalSent {
		return o, nil
	}
	want, err := a.Money()
	if err != nil {
		return o, err
	}
	switch a.Action {
	case ApprovalRefundOrder:
		left := o.Refundable()
		if c, err := left.Cmp(want); err != nil || c != 0 {
			return o, fmt.Errorf("%w: the order has %s left to refund, the request was for %s; a changed amount is a new request (reject this one)", ErrApprovalChanged, left, want)
		}
	case ApprovalRefundPayment:
		pm := o.Payment(a.PaymentID)
		if pm == nil {
			return o, fmt.Errorf("%w: payment %s is no longer on the order", ErrApprovalChanged, a.PaymentID)
		}
		left := o.RefundableOn(pm)
		if c, err := left.Cmp(want); err != nil || c < 0 {
			return o, fmt.Errorf("%w: payment %s has %s left to refund, the request was for %s", ErrApprovalChanged, a.PaymentID, left, want)
		}
	default:
		return o, fmt.Errorf("approval request %s has an unknown action %q", a.ID, a.Action)
	}
	return o, nil
}

func (g guard) Preview(ctx context.Context, id string) (Approval, *model.Order, error) {
	a, err := g.open(id)
	if err != nil {
		return a, nil, err
	}
	o, err := g.check(ctx, a)
	if errors.Is(err, ErrApprovalChanged) {
		err = g.overtaken(a, err)
	}
	return a, o, err
}

func (g guard) Approve(ctx context.Context, id string) (*RefundResult, error) {
	a, err := g.open(id)
	if err != nil {
		return nil, err
	}
	if _, err := g.check(ctx, a); err != nil {
		if errors.Is(err, ErrApprovalChanged) {
			return nil, g.refuse(a, ApprovalApproved, "order_changed", g.overtaken(a, err))
		}
		return nil, err
	}
	if err := g.spend(); err != nil {
		return nil, err
	}
	me := g.o.Who
	if a.State == ApprovalRequested {
		// The approval's line goes in before the approval: none without it.
		pre := a
		pre.Approver = &me
		if err := g.audit(ApprovalAudit{Approval: pre, By: me, Transition: ApprovalApproved}); err != nil {
			return nil, fmt.Errorf("nothing approved or sent: the audit log could not record the approval (%w)", err)
		}
		now := g.o.Now().UTC()
		a, err = g.o.Approvals.Transition(id, func(r *Approval) error {
			switch {
			case !ApprovalMoveAllowed(r.State, ApprovalApproved):
				return fmt.Errorf("%w: it is already %s", ErrApprovalState, r.State)
			case ApprovalDue(r.ExpiresAt, now):
				return ErrApprovalExpired
			}
			r.State, r.Approver, r.UpdatedAt = ApprovalApproved, &me, now
			return nil
		})
		if err != nil {
			// The line above said approved; this one says it did not
			// happen (another approver was first, or it expired).
			return nil, g.refuse(pre, ApprovalApproved, "not_approved", g.overtaken(pre, err))
		}
		g.published(a)
	}
	// Marked sent before it is sent: after a crash from here on, the
	// request is resumed with its key and never checked against an order
	// its own refund may already have changed.
	if err := g.audit(ApprovalAudit{Approval: a, By: me, Transition: ApprovalSent}); err != nil {
		return nil, fmt.Errorf("nothing sent: the audit log could not record the send (%w)", err)
	}
	a, err = g.o.Approvals.Transition(id, func(r *Approval) error {
		if !ApprovalMoveAllowed(r.State, ApprovalSent) {
			return fmt.Errorf("%w: it is %s", ErrApprovalState, r.State)
		}
		r.State, r.UpdatedAt = ApprovalSent, g.o.Now().UTC()
		return nil
	})
	if err != nil {
		return nil, g.overtaken(a, err)
	}
	g.published(a)
	res, serr := g.send(ctx, a)
	g.changed(a.OrderID)
	outcome, ours := sendOutcome(serr)
	if !ours {
		// Nothing was sent by this call (the order busy with another
		// refund, perhaps this very request's from another approver; an
		// earlier action to settle first; the audit log down): it says
		// nothing about the request, which stays as it is. Closing it as
		// failed could bury the other approver's success, which is the
		// truth.
		return nil, g.refuse(a, ApprovalFinished, "not_sent", g.overtaken(a, serr))
	}
	var refunds []string
	if res != nil {
		for _, r := range res.Refunds {
			refunds = append(refunds, r.ID)
		}
	}
	fin, err := g.o.Approvals.Transition(id, func(r *Approval) error {
		// The outcome already recorded (another approver's send of this
		// request, or an earlier send of it) is the request's; only an
		// unknown one is replaced once settled.
		if !OutcomeMayBeRecorded(r.State, r.Outcome) {
			return fmt.Errorf("%w (%s)", ErrOutcomeRecorded, r.Outcome)
		}
		r.Outcome, r.UpdatedAt = outcome, g.o.Now().UTC()
		if len(refunds) > 0 {
			r.RefundIDs = refunds
		}
		if outcome != "unknown" {
			// An unknown outcome leaves it sent: approving again resumes
			// it with the same key, and the journal settles it by reading
			// before anything is re-sent.
			r.State = ApprovalFinished
		}
		return nil
	})
	if errors.Is(err, ErrOutcomeRecorded) {
		if now, gerr := g.o.Approvals.Get(id); gerr == nil {
			return nil, g.refuse(now, ApprovalFinished, "outcome_known", &ApprovalDoneError{Approval: now})
		}
	}
	if err == nil {
		a = fin
		if errors.Is(serr, ErrKeyFailed) {
			// The journal's own words say to confirm again, which an
			// approval cannot: say what the request now is instead.
			serr = &ApprovalDoneError{Approval: fin}
		}
	}
	_ = g.audit(ApprovalAudit{Approval: a, By: me, Transition: ApprovalFinished})
	g.published(a)
	return res, serr
}

// sendOutcome is what the send said about the request itself: succeeded,
// unknown (it may have happened), or failed (refused outright, or the key's
// action already failed: nothing moved and nothing can with this key). ours is false when the answer is
// not about the request at all: the journal refused before sending (the
// order busy, an earlier action unresolved, recovery running, the audit
// log down), which it says with errors of its own, never with the
// provider's. Only the error itself, or single wraps of it, are looked at:
// the provider's error inside a journal refusal is about another action.
func sendOutcome(serr error) (outcome string, ours bool) {
	switch {
	case serr == nil:
		return "succeeded", true
	case IsOutcomeUnknown(serr):
		return "unknown", true
	case errors.Is(serr, ErrKeyFailed):
		// Resumed after a crash: the request's own key already failed.
		return "failed", true
	}
	for e := serr; e != nil; e = errors.Unwrap(e) {
		switch x := e.(type) {
		case *Error:
			// The journal's own refusal to send returns the provider's
			// error as it is; an unknown one was caught above. A status
			// of 0 is a refusal before anything left (the client's
			// checks, a transport failure before the request was written).
			return "failed", !x.Unknown && (x.HTTPStatus == 0 || (x.HTTPStatus >= 400 && x.HTTPStatus < 500))
		case model.ValidationError, *model.AmountError:
			return "failed", true
		}
		if e == ErrNotSupported || e == ErrReadOnly || e == model.ErrUnknownCurrency ||
			e == context.Canceled || e == context.DeadlineExceeded {
			// Refused before sending, or abandoned before sending (the
			// journal then marks the key's action canceled: this request
			// can never be sent with it).
			return "failed", true
		}
	}
	return "", false
}

// overtaken turns a refusal that another approver's progress on the same
// request can cause (the order no longer matching because the request's
// own refund landed, a state that moved on, the order busy with its send)
// into what happened, read from the request as it is now: a request that
// already has its outcome is an *ApprovalDoneError; one another approver
// approved and is sending says so. Any other refusal is returned as it is.
func (g guard) overtaken(a Approval, err error) error {
	now, gerr := g.o.Approvals.Get(a.ID)
	if gerr != nil {
		return err
	}
	if now.State == ApprovalFinished && !OutcomeMayBeRecorded(now.State, now.Outcome) {
		return &ApprovalDoneError{Approval: now}
	}
	if now.State != a.State && now.State.MovesMoney() && a.State == ApprovalRequested {
		by := "another approver"
		if now.Approver != nil {
			by = now.Approver.Name
		}
		return fmt.Errorf("%w: %s approved it meanwhile and it is %s; nothing was sent by you. Its outcome shows here once it is known",
			ErrApprovalState, by, now.State)
	}
	return err
}

// send is the request's money action, exactly as asked, with its key.
func (g guard) send(ctx context.Context, a Approval) (*RefundResult, error) {
	m, err := a.Money()
	if err != nil {
		return nil, err
	}
	switch a.Action {
	case ApprovalRefundPayment:
		return g.p.RefundPayment(ctx, a.OrderID, a.PaymentID, RefundPaymentRequest{
			IdempotencyKey: a.IdempotencyKey, Amount: m, Reason: a.Reason,
			Metadata: a.Metadata, ExternalOrderID: a.ExternalOrderID,
		})
	case ApprovalRefundOrder:
		return g.p.RefundOrder(ctx, a.OrderID, RefundOrderRequest{
			IdempotencyKey: a.IdempotencyKey, Expected: m, Reason: a.Reason,
			Metadata: a.Metadata, ExternalOrderID: a.ExternalOrderID,
		})
	}
	return nil, fmt.Errorf("approval request %s has an unknown action %q", a.ID, a.Action)
}

func (g guard) Request(id string) (Approval, error) {
	a, err := g.o.Approvals.Get(id)
	if err != nil {
		return Approval{}, err
	}
	if a.Provider != g.p.ID() || a.Account != g.o.Account {
		return Approval{}, fmt.Errorf("%w: request %s is for another provider account (%s)", ErrNoApproval, id, a.Provider)
	}
	if !CanReject(g.role, g.o.Who, a.Maker) { // who may decide on it may read it
		return Approval{}, &RoleError{Role: g.role, Action: "read others' approval requests"}
	}
	return a, nil
}

func (g guard) Reject(id string) (Approval, error) {
	a, err := g.o.Approvals.Get(id)
	if err != nil {
		return a, err
	}
	if !CanReject(g.role, g.o.Who, a.Maker) {
		return a, &RoleError{Role: g.role, Action: "reject others' requests"}
	}
	me := g.o.Who
	pre := a
	pre.Approver = &me
	if !ApprovalMoveAllowed(a.State, ApprovalRejected) {
		return a, fmt.Errorf("%w: it is %s", ErrApprovalState, a.State)
	}
	if err := g.audit(ApprovalAudit{Approval: pre, By: me, Transition: ApprovalRejected}); err != nil {
		return a, fmt.Errorf("not rejected: the audit log could not record it (%w)", err)
	}
	a, err = g.o.Approvals.Transition(id, func(r *Approval) error {
		if !ApprovalMoveAllowed(r.State, ApprovalRejected) {
			return fmt.Errorf("%w: it is %s", ErrApprovalState, r.State)
		}
		r.State, r.Approver, r.UpdatedAt = ApprovalRejected, &me, g.o.Now().UTC()
		return nil
	})
	if err != nil {
		return a, g.refuse(pre, ApprovalRejected, "not_rejected", err)
	}
	g.published(a)
	return a, nil
}
