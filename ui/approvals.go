package ui

import (
	"context"
	"errors"
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
		return storeRead(ctx, func() ([]api.Approval, error) { return d.Requests(recentDecided) })
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
	return &approveScreen{confirmScreen: cs, id: a.ID, reread: func(ctx context.Context) (api.Approval, *model.Order, error) {
		d, ok := s.desk(a)
		if !ok {
			return a, nil, fmt.Errorf("no approval desk for %s", a.Provider)
		}
		ra, err := storeRead(ctx, func() (api.Approval, error) { return d.Request(a.ID) })
		if err != nil {
			return a, nil, err
		}
		var p api.Provider
		for _, q := range s.c.Providers {
			if q.ID() == ra.Provider {
				p = q
			}
		}
		if p == nil {
			return ra, nil, nil
		}
		ro, err := p.GetOrder(ctx, ra.OrderID)
		return ra, ro, err
	}}
}

// approveScreen is the approval's typed confirmation with one thing more:
// when the api refuses the approval because the request moved on under it
// (another approver was first, it expired or was rejected, the order it
// would refund changed), the screen does not keep the figures it opened
// with. It reads the request and its order again and shows them as they
// are now; a request that is closed is shown with who decided it and the
// refunds it made, and nothing is left to confirm. The refusal is said once,
// in the body: the status line does not repeat it.
type approveScreen struct {
	*confirmScreen
	id     string
	reread func(ctx context.Context) (api.Approval, *model.Order, error)
	// rereading: the refusal is in and the fresh read is out; closed: the
	// request is over and is shown as it is, only esc is left.
	rereading, closed bool
}

// rereadMsg is the fresh read after a refusal.
type rereadMsg struct {
	cause error
	a     api.Approval
	order *model.Order
	err   error
}

// lostRace: the api refused the approval because of the request's state or
// its order, not because of the provider or the network; a fresh read of
// the request says what happened.
func lostRace(err error) bool {
	for _, e := range []error{api.ErrApprovalState, api.ErrApprovalChanged, api.ErrApprovalExpired, api.ErrNoApproval} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (s *approveScreen) Typing() bool { return !s.closed && s.confirmScreen.Typing() }

func (s *approveScreen) Help() []key.Binding {
	if s.closed || s.rereading {
		return []key.Binding{s.c.Keys.Back}
	}
	return s.confirmScreen.Help()
}

func (s *approveScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case sentMsg:
		if msg.err != nil && lostRace(msg.err) {
			s.sending = false
			return s, s.startReread(msg.err)
		}
	case recheckedMsg:
		if s.checking && msg.err != nil && lostRace(msg.err) {
			s.checking = false
			return s, s.startReread(msg.err)
		}
	case rereadMsg:
		if !s.rereading {
			return s, nil
		}
		s.rereading = false
		s.showNow(msg)
		return s, nil
	case tea.KeyMsg:
		if s.closed || s.rereading {
			if key.Matches(msg, s.c.Keys.Back) {
				s.cancel()
				return s, s.pop(nil)
			}
			return s, nil // nothing to type or confirm
		}
	}
	_, cmd := s.confirmScreen.Update(msg)
	return s, cmd
}

func (s *approveScreen) startReread(cause error) tea.Cmd {
	s.rereading, s.note, s.err = true, "", nil
	s.input.Reset()
	reread := s.reread
	return call(&s.base, func(ctx context.Context) (rereadMsg, error) {
		a, o, err := reread(ctx)
		return rereadMsg{cause: cause, a: a, order: o, err: err}, nil
	}, func(m rereadMsg, _ error) tea.Msg { return m })
}

// showNow replaces what the screen opened with by what the fresh read says.
func (s *approveScreen) showNow(m rereadMsg) {
	switch {
	case m.err != nil || m.order == nil:
		// Nothing fresh to show: the refusal alone, once.
		s.err = m.cause
	case !m.a.State.Open():
		s.closed, s.lines = true, closedLines(m.a, m.order)
		s.input.Blur()
	default:
		// Still open (the order changed under it, or another approver's
		// send is under way): the figures as they are now, and why.
		s.lines, s.err = approveLines(m.a, m.order), m.cause
	}
}

// closedLines is a request that is over, as it is now: who asked, who
// decided, the refunds it made and the order after them.
func closedLines(a api.Approval, o *model.Order) []string {
	lines := []string{
		"Requested by " + safetext.Line(a.Maker.Name) + " (" + a.Maker.Role.String() + ") at " + a.CreatedAt.UTC().Format("15:04 UTC"),
		"for " + safetext.Line(a.Describe()),
		"",
	}
	what := "This request is " + string(a.State)
	switch {
	case a.State == api.ApprovalExpired:
		what += " (at " + a.ExpiresAt.UTC().Format("15:04 UTC") + ")"
	case a.Approver != nil && a.State == api.ApprovalRejected:
		what += ": rejected by " + safetext.Line(a.Approver.Name) + " (" + a.Approver.Role.String() + ")"
	case a.Approver != nil:
		what += ": approved by " + safetext.Line(a.Approver.Name) + " (" + a.Approver.Role.String() + ")"
	}
	if a.Outcome != "" {
		what += ", outcome " + safetext.Line(a.Outcome)
	}
	lines = append(lines, what+".")
	for _, id := range a.RefundIDs {
		l := "Refund " + safetext.Line(id)
		for _, r := range o.Refunds {
			if r.ID == id {
				l += ": " + r.Amount.String() + ", " + string(r.Status)
			}
		}
		lines = append(lines, l)
	}
	lines = append(lines, "Order now: paid "+o.Paid().String()+", refundable "+o.Refundable().String(), "")
	return append(lines, "Nothing was sent from this screen: there is nothing left to confirm.")
}

func (s *approveScreen) View() string {
	if !s.closed && !s.rereading {
		return s.confirmScreen.View()
	}
	st := s.c.Styles
	var b strings.Builder
	b.WriteString(st.Title.Render(safetext.Line(s.title)))
	b.WriteString("\n\n")
	for _, l := range s.lines {
		b.WriteString(s.fit(l) + "\n")
	}
	b.WriteString("\n")
	if s.rereading {
		b.WriteString(st.Faint.Render("The approval was refused; reading the request again…"))
	} else {
		b.WriteString(st.Faint.Render("esc goes back"))
	}
	return b.String()
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
