package ui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"paydesk/api"
	"paydesk/api/journal"
	"paydesk/model"
)

// busMsg is one event from the process's bus (another session's refund, an
// approval request or decision).
type busMsg struct{ e api.Event }

// OrderChangedMsg tells the screen on top that an order may have changed in
// another session (or by an approval): a screen showing it reads it again.
type OrderChangedMsg struct{ Provider, OrderID string }

// waitEvent waits for the next event on the session's subscription. The
// channel is closed when the session ends (Session.Close), which ends the
// wait: no goroutine outlives the session.
func waitEvent(ch <-chan api.Event) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		e, ok := <-ch
		if !ok {
			return nil
		}
		return busMsg{e}
	}
}

// countPending is the number of requests waiting for a decision, for the
// header's badge, and when the first of them expires. A request past its
// expiry is not counted, whether or not anyone has marked it expired yet.
func countPending(all []api.Approval, now time.Time) (n int, first time.Time) {
	for _, a := range all {
		if a.State == api.ApprovalRequested && now.Before(a.ExpiresAt) {
			n++
			if first.IsZero() || a.ExpiresAt.Before(first) {
				first = a.ExpiresAt
			}
		}
	}
	return n, first
}

// storeRead runs a read of the approval store, whose methods take no
// context, under ctx's deadline: with PAYDESK_DATABASE_URL the store is
// PostgreSQL, and a slow query must end in an error the screen can show,
// not hold the command past the session's deadline. The read itself ends on
// the store's own deadline; its late result is dropped.
func storeRead[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: a late read never blocks
	go func() {
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// approvalsDueMsg is the badge's timer: the first pending request expires,
// and no event says so.
type approvalsDueMsg struct{ gen int }

// approvalCountMsg is the result of one badge count, read in a command.
type approvalCountMsg struct {
	gen   int
	n     int
	first time.Time
	err   error
}

// recount reads the pending requests in a command (the store may be a
// database: Update never waits for it) and tags the read with a new
// generation, so a count overtaken by a newer one, and the timer of an
// older count, are dropped.
func (a *App) recount() tea.Cmd {
	if !a.c.seesApprovals() {
		return nil
	}
	a.c.dueGen++
	gen, st, now := a.c.dueGen, a.c.Approvals, a.c.Now
	return Call(context.Background(), a.c.Timeout, func(ctx context.Context) ([]api.Approval, error) {
		// Open requests only (a bounded read): the badge counts those.
		return storeRead(ctx, func() ([]api.Approval, error) { return st.Recent(0) })
	}, func(all []api.Approval, err error) tea.Msg {
		n, first := countPending(all, now())
		return approvalCountMsg{gen: gen, n: n, first: first, err: err}
	})
}

// onCount sets the badge and arms one timer for the next expiry. A failed
// read keeps the last count: the next event or expiry reads again.
func (a *App) onCount(m approvalCountMsg) tea.Cmd {
	if m.gen != a.c.dueGen || m.err != nil {
		return nil
	}
	a.c.pendingApprovals = m.n
	if m.first.IsZero() {
		return nil
	}
	gen := m.gen
	return tea.Tick(m.first.Sub(a.c.Now()), func(time.Time) tea.Msg { return approvalsDueMsg{gen} })
}

func (a *App) onDue(m approvalsDueMsg) tea.Cmd {
	if m.gen != a.c.dueGen {
		return nil
	}
	return a.recount()
}

// seesApprovals: only approvers and admins get the approvals screen, its
// key and the badge.
func (c *Context) seesApprovals() bool {
	return c.Approvals != nil && api.CanApprove(c.Role)
}

// onEvent handles one bus event at the root: the badge is recounted, the
// screen on top hears that its order may have changed, and the wait for the
// next event starts again.
func (a *App) onEvent(e api.Event) tea.Cmd {
	cmds := []tea.Cmd{waitEvent(a.c.events)}
	if e.Kind == api.EventApproval {
		cmds = append(cmds, a.recount())
	}
	if a.top() != nil && e.OrderID != "" {
		cmds = append(cmds, a.updateTop(OrderChangedMsg{Provider: e.Provider, OrderID: e.OrderID}))
	}
	// A covered approvals screen reads the requests again when it is back
	// on top (Resume), so coming back shows the new states.
	return tea.Batch(cmds...)
}

// startEvents begins the session's event loop and sets the badge's first
// count.
func (a *App) startEvents() tea.Cmd {
	return tea.Batch(a.recount(), waitEvent(a.c.events))
}

// approvalAuditor writes approval transitions as audit lines: the action is
// the transition ("approval_requested"), the actor names who moved it and,
// on every line, the maker (and the approver once there is one), so one
// line says both identities.
func approvalAuditor(au journal.Auditor) func(api.ApprovalAudit) error {
	if au == nil {
		return nil
	}
	return func(l api.ApprovalAudit) error {
		a := l.Approval
		actor := l.By.Actor()
		if l.By != a.Maker {
			actor += "; maker " + a.Maker.Actor()
		}
		if a.Approver != nil && l.By != *a.Approver {
			actor += "; approver " + a.Approver.Actor()
		}
		rec := journal.AuditRecord{
			Time: a.UpdatedAt, Actor: actor, Provider: a.Provider,
			Action: "approval_" + string(l.Transition) + " " + a.Action, IntentID: a.ID,
			OrderID: a.OrderID, PaymentID: a.PaymentID, Amount: a.Amount, Currency: a.Currency,
			IdempotencyKey: a.IdempotencyKey, Outcome: journal.StatePrepared, MetadataKeys: a.Metadata.Keys(),
		}
		switch {
		case l.Refused != "":
			rec.Outcome, rec.ErrorCode = journal.StateRefused, l.Refused
		case l.Transition == api.ApprovalRejected || l.Transition == api.ApprovalExpired:
			rec.Outcome, rec.ErrorCode = journal.StateRefused, string(l.Transition)
		case l.Transition == api.ApprovalFinished:
			rec.Outcome = journal.State(a.Outcome)
		}
		return au.Audit(rec)
	}
}

// throttled is a read the shared provider budget could not serve before its
// deadline: the status line says "throttled, next refresh in Ns" (an
// information, not an error) and the next poll waits for the budget.
func (l *live) throttled(b *base, te *api.ThrottledError) tea.Cmd {
	wait := max(te.Wait, b.c.Refresh)
	msg := "Throttled: provider budget shared by every session is low; next refresh in " + (&api.ThrottledError{Wait: wait}).Seconds() + "."
	if !l.active || l.paused {
		return Status(msg)
	}
	return tea.Batch(Status(msg), b.tick(wait, pollTickMsg{gen: l.gen}))
}

// about reports whether the event is about order o of the provider at index
// provider in this session.
func (m OrderChangedMsg) about(c *Context, provider int, o *model.Order) bool {
	return o != nil && provider < len(c.Providers) && m.Provider == c.Providers[provider].ID() && m.OrderID == o.ID
}
