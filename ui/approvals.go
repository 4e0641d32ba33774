package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"paydesk/api"
	"paydesk/model"
	"paydesk/model/safetext"
)

// approvalsScreen lists four-eyes approval requests for approvers and
// admins: open ones first (oldest first, they expire first), then the last
// decided ones. enter re-reads the order and opens the same typed
// confirmation as a refund; x rejects. Every rule (not your own request,
// not expired, the order still matches) is the api's, not this screen's.
type approvalsScreen struct {
	base
	rows   []api.Approval
	cursor int
	err    error
	// opening is the request whose order is being re-read for approval.
	opening string
	// loaded: the first read has come back; gen tags reads so a slow one
	// overtaken by a newer one is dropped.
	loaded bool
	gen    int
}

// requestsMsg is one read of the requests, made in a command.
type requestsMsg struct {
	gen int
	all []api.Approval
	err error
}

// rejectedMsg is the result of a reject, made in a command.
type rejectedMsg struct {
	a   api.Approval
	err error
}

// recentDecided is how many closed requests stay listed under the open ones.
const recentDecided = 5

func newApprovalsScreen(c *Context) *approvalsScreen {
	return &approvalsScreen{base: newBase(c)}
}

func (s *approvalsScreen) Init() tea.Cmd   { return s.reload() }
func (s *approvalsScreen) Title() string   { return "Approvals" }
func (s *approvalsScreen) Suspend()        { s.suspend() }
func (s *approvalsScreen) Resume() tea.Cmd { s.resume(); return s.reload() }

// desk is the approval desk of the request's provider in this session.
func (s *approvalsScreen) desk(a api.Approval) (api.ApprovalDesk, bool) {
	for _, p := range s.c.Providers {
		if p.ID() == a.Provider {
			return api.DeskOf(p)
		}
	}
	return nil, false
}

// anyDesk is one of the session's desks, for listing (every desk lists
// the same requests and expires the due ones, with audit lines).
func (s *approvalsScreen) anyDesk() (api.ApprovalDesk, bool) {
	for _, p := range s.c.Providers {
		if d, ok := api.DeskOf(p); ok {
			return d, true
		}
	}
	return nil, false
}

// reload reads the requests in a command: the store is this process's
// memory, or PostgreSQL when PAYDESK_DATABASE_URL is set, and a query must
// not hold the session's keys. The rows shown stay until the read is back.
func (s *approvalsScreen) reload() tea.Cmd {
	d, ok := s.anyDesk()
	if !ok {
		s.rows, s.err, s.loaded = nil, fmt.Errorf("approvals are not available in this session"), true
		return nil
	}
	s.gen++
	gen := s.gen
	return call(&s.base, func(ctx context.Context) ([]api.Approval, error) {
		return storeRead(ctx, d.Requests)
	}, func(all []api.Approval, err error) tea.Msg { return requestsMsg{gen: gen, all: all, err: err} })
}

// loadedRows shows one read, keeping the cursor on the same request.
func (s *approvalsScreen) loadedRows(m requestsMsg) {
	if m.gen != s.gen {
		return
	}
	s.loaded = true
	if m.err != nil {
		s.err = m.err
		return
	}
	all := m.all
	var sel string
	if s.cursor < len(s.rows) {
		sel = s.rows[s.cursor].ID
	}
	var open, closed []api.Approval
	for _, a := range all {
		if a.State.Open() {
			open = append(open, a)
		} else {
			closed = append(closed, a)
		}
	}
	slices.SortStableFunc(closed, func(a, b api.Approval) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	if len(closed) > recentDecided {
		closed = closed[:recentDecided]
	}
	s.rows, s.err = append(open, closed...), nil
	s.cursor = max(0, min(s.cursor, len(s.rows)-1))
	for i, a := range s.rows {
		if a.ID == sel {
			s.cursor = i
		}
	}
	// The same read sets the badge: no second read of the store.
	s.c.pendingApprovals, _ = countPending(all, s.c.Now())
}

var (
	approveKey = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "review and approve"))
	rejectKey  = key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "reject"))
)

func (s *approvalsScreen) Help() []key.Binding {
	return []key.Binding{approveKey, rejectKey, s.c.Keys.Refresh, s.c.Keys.Back}
}

type previewMsg struct {
	a     api.Approval
	order *model.Order
	err   error
}

func (s *approvalsScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case requestsMsg:
		s.loadedRows(msg)
		return s, nil
	case rejectedMsg:
		if msg.err != nil {
			return s, tea.Batch(s.reload(), StatusErr(msg.err))
		}
		a := msg.a
		return s, tea.Batch(s.reload(), Status("Rejected: "+safetext.Line(a.Describe())+" requested by "+safetext.Line(a.Maker.Name)+"."))
	case OrderChangedMsg:
		return s, s.reload()
	case previewMsg:
		s.opening = ""
		if msg.err != nil {
			return s, tea.Batch(s.reload(), StatusErr(msg.err))
		}
		return s, s.push(s.approveConfirm(msg.a, msg.order))
	case PoppedMsg:
		// Resume has already started a read of the requests.
		if d, ok := msg.Result.(ActionDone); ok && d.Message != "" {
			return s, Status(d.Message)
		}
		return s, nil
	case tea.KeyMsg:
		return s, s.key(msg)
	}
	return s, nil
}

func (s *approvalsScreen) key(msg tea.KeyMsg) tea.Cmd {
	k := s.c.Keys
	switch {
	case key.Matches(msg, k.Up):
		s.cursor = max(0, s.cursor-1)
	case key.Matches(msg, k.Down):
		s.cursor = min(len(s.rows)-1, s.cursor+1)
	case key.Matches(msg, k.Refresh):
		return s.reload()
	case key.Matches(msg, approveKey):
		if s.cursor >= len(s.rows) || s.opening != "" {
			return nil
		}
		a := s.rows[s.cursor]
		d, ok := s.desk(a)
		if !ok {
			return StatusErr(fmt.Errorf("request %s is for %s, which this session does not have", a.ID, a.Provider))
		}
		s.opening = a.ID
		return call(&s.base, func(ctx context.Context) (previewMsg, error) {
			ra, o, err := d.Preview(ctx, a.ID)
			return previewMsg{a: ra, order: o, err: err}, nil
		}, func(m previewMsg, _ error) tea.Msg { return m })
	case key.Matches(msg, rejectKey):
		if s.cursor >= len(s.rows) {
			return nil
		}
		a := s.rows[s.cursor]
		d, ok := s.desk(a)
		if !ok {
			return nil
		}
		// Rejecting moves no money: one key, and the audit log says who.
		// It writes the store, so it runs in a command too.
		return call(&s.base, func(ctx context.Context) (api.Approval, error) {
			return storeRead(ctx, func() (api.Approval, error) { return d.Reject(a.ID) })
		}, func(_ api.Approval, err error) tea.Msg { return rejectedMsg{a: a, err: err} })
	}
	return nil
}

// approveLines is exactly what will move, and who asked, for the
// confirmation. Everything comes from the request and the order just read.
func approveLines(a api.Approval, o *model.Order) []string {
	lines := []string{
		"Requested by " + safetext.Line(a.Maker.Name) + " (" + a.Maker.Role.String() + ", key " + safetext.Line(a.Maker.Fingerprint) + ")",
		"at " + a.CreatedAt.UTC().Format("15:04 UTC") + "; expires " + a.ExpiresAt.UTC().Format("15:04 UTC"),
		"",
	}
	switch a.Action {
	case api.ApprovalRefundOrder:
		lines = append(lines, "Refund the whole order "+safetext.Line(o.Ref)+": "+a.Amount+" "+a.Currency)
	default:
		lines = append(lines, "Refund "+a.Amount+" "+a.Currency+" of payment "+safetext.Line(a.PaymentID)+" on order "+safetext.Line(o.Ref))
	}
	lines = append(lines, "Order now: paid "+o.Paid().String()+", refundable "+o.Refundable().String())
	if a.Reason != "" {
		lines = append(lines, "Reason: "+safetext.Line(a.Reason))
	}
	if len(a.Metadata) > 0 {
		lines = append(lines, "Metadata: "+metadataText(a.Metadata))
	}
	lines = append(lines, "Idempotency key: "+a.IdempotencyKey)
	if a.State != api.ApprovalRequested {
		lines = append(lines, "Approved earlier and not finished: confirming sends the same request with the same key.")
	}
	return lines
}

// approveConfirm is the refund's own typed confirmation, re-reading the
// order before it sends and sending through the approval desk.
func (s *approvalsScreen) approveConfirm(a api.Approval, o *model.Order) Screen {
	cs := newConfirmScreen(s.c, "Approve refund requested by "+safetext.Line(a.Maker.Name), approveLines(a, o), confirmWord(o.Ref))
	lines := cs.lines
	cs.recheck = func(ctx context.Context) ([]string, bool, error) {
		d, ok := s.desk(a)
		if !ok {
			return nil, false, fmt.Errorf("no approval desk for %s", a.Provider)
		}
		ra, ro, err := d.Preview(ctx, a.ID)
		if err != nil {
			return nil, false, err
		}
		nl := approveLines(ra, ro)
		return nl, strings.Join(nl, "\n") != strings.Join(lines, "\n"), nil
	}
	cs.send = func(ctx context.Context) (ActionDone, error) {
		d, ok := s.desk(a)
		if !ok {
			return ActionDone{}, fmt.Errorf("no approval desk for %s", a.Provider)
		}
		res, err := d.Approve(ctx, a.ID)
		if err != nil {
			return ActionDone{}, err
		}
		done := ActionDone{Message: "Approved and sent: " + safetext.Line(a.Describe()) + " for " + safetext.Line(a.Maker.Name) + "."}
		if res != nil {
			done.Order, done.Refunds = res.Order, res.Refunds
		}
		return done, nil
	}
	return cs
}

func (s *approvalsScreen) View() string {
	st := s.c.Styles
	var b strings.Builder
	b.WriteString(st.Title.Render("Approval requests"))
	b.WriteString("\n\n")
	if s.err != nil {
		b.WriteString(st.StatusErr.Render("✗ " + DescribeError(s.err)))
		return b.String()
	}
	if !s.loaded {
		b.WriteString(st.Faint.Render("Reading the requests…"))
		return b.String()
	}
	if len(s.rows) == 0 {
		b.WriteString(st.Faint.Render("No requests. A refund above an agent's limit appears here for a second person to approve."))
		return b.String()
	}
	now := s.c.Now()
	// Two lines per request; only as many as fit are drawn, around the
	// cursor.
	per := 2
	fit := max(1, (s.height-2)/per)
	first := max(0, min(s.cursor-fit+1, len(s.rows)-fit))
	first = max(0, min(first, s.cursor))
	for i := first; i < len(s.rows) && i < first+fit; i++ {
		a := s.rows[i]
		what := "whole order " + safetext.Line(a.OrderRef)
		if a.OrderRef == "" {
			what = "whole order " + safetext.Line(a.OrderID)
		}
		if a.Action == api.ApprovalRefundPayment {
			what = "payment " + safetext.Line(a.PaymentID) + " of " + strings.TrimPrefix(what, "whole order ")
		}
		head := fmt.Sprintf("%-9s %14s  %s · %s", a.State, a.Amount+" "+a.Currency, a.Provider, what)
		sub := "  by " + safetext.Line(a.Maker.Name) + " (" + a.Maker.Role.String() + ")"
		switch {
		case a.State == api.ApprovalRequested:
			mins := int((a.ExpiresAt.Sub(now) + time.Minute - 1) / time.Minute)
			sub += fmt.Sprintf(", expires in %d min", max(mins, 0))
		case a.Approver != nil:
			sub += ", " + string(a.State) + " by " + safetext.Line(a.Approver.Name)
		}
		if a.Outcome != "" {
			sub += ", outcome " + safetext.Line(a.Outcome)
		}
		head = safetext.Truncate(head, max(s.width-2, 10))
		if i == s.cursor {
			b.WriteString(st.Selected.Render("▸ " + head))
		} else {
			b.WriteString("  " + head)
		}
		b.WriteString("\n" + st.Faint.Render(safetext.Truncate(sub, max(s.width, 10))) + "\n")
	}
	return strings.TrimRight(b.String(), "\n")
}
