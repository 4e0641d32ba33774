package ui

import (
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
// header's badge, and when the first of them expires. It reads the
// approval store, not a provider: this process's memory, or PostgreSQL
// when PAYDESK_DATABASE_URL is set (then it is a query, run here in
// Update). A request past its expiry is not counted, whether or not anyone
// has marked it expired yet.
func countPending(s api.ApprovalStore, now time.Time) (n int, first time.Time) {
	if s == nil {
		return 0, time.Time{}
	}
	all, err := s.List()
	if err != nil {
		return 0, time.Time{}
	}
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

// approvalsDueMsg is the badge's timer: the first pending request expires,
// and no event says so.
type approvalsDueMsg struct{ gen int }

// recount sets the badge and arms one timer for the next expiry (a newer
// timer orphans the older one).
func (a *App) recount() tea.Cmd {
	if !a.c.seesApprovals() {
		return nil
	}
	now := a.c.Now()
	n, first := countPending(a.c.Approvals, now)
	a.c.pendingApprovals = n
	a.c.dueGen++
	if first.IsZero() {
		return nil
	}
	gen := a.c.dueGen
	return tea.Tick(first.Sub(now), func(time.Time) tea.Msg { return approvalsDueMsg{gen} })
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
	if e.Kind == api.EventApproval && a.top() != nil {
		if _, ok := a.top().(*approvalsScreen); !ok {
			// The approvals screen is refreshed even when covered by
			// its confirmation, so coming back shows the new states.
			for _, st := range a.stacks {
				for _, s := range st {
					if as, ok := s.(*approvalsScreen); ok {
						as.reload()
					}
				}
			}
		}
	}
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
