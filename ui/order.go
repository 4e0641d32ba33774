package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"paydesk/api"
	"paydesk/model"
	"paydesk/model/safetext"
)

// orderScreen is one order: a header with the figures an agent quotes on the
// phone, a payments table (focused, first row selected on arrival) and a
// refunds table. left/right moves between the tables (tab is the next
// provider). While any refund is not settled the order is re-read every
// --refresh (see live).
type orderScreen struct {
	base
	provider int
	orderID  string // what was asked for; the order's id once loaded
	order    *model.Order
	prev     map[string]model.Refund
	err      error
	live     live
	ago      agoClock
	spin     spinner.Model

	// pending holds refunds an action just created that a read has not
	// shown yet: a poll never hides a refund the agent just requested.
	pending map[string]model.Refund
	// watching holds the refunds this screen's actions created whose
	// outcome is not reported yet; once they have all settled the status
	// line says how they ended, replacing "watching them settle".
	watching map[string]bool

	pays, refs   *Table
	focusRefunds bool
	head         []string // rendered header lines (data or width changed)
}

// errEmptyAnswer stands in for a provider that answered nothing at all.
var errEmptyAnswer = errors.New("the provider returned no order")

type orderLoadedMsg struct {
	gen   int
	order *model.Order
	err   error
}

func newOrderScreen(c *Context, provider int, orderID string) Screen {
	s := &orderScreen{base: newBase(c), provider: provider, orderID: orderID}
	s.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(c.Styles.Faint))
	s.pays = NewTable(c, []Column{
		{Title: "Ref", Width: 12, Min: 10, TrimMiddle: true, ShrinkFirst: true},
		{Title: "Method", Width: 14, Min: 8, Flex: true},
		{Title: "Amount", Width: 10, Min: 9, Right: true},
		{Title: "Status", Width: 17, Min: 11, Abbrev: true},
		{Title: "Refunded", Width: 10, Min: 9, Right: true, Optional: true},
		{Title: "Date", Width: 16, Min: 11, Date: true},
	})
	s.refs = NewTable(c, refundColumns(true))
	s.pays.SetCellStyle(func(row, col int) (lipgloss.Style, bool) {
		if col != 3 || s.order == nil || row >= len(s.order.Payments) {
			return lipgloss.Style{}, false
		}
		return c.Styles.ForStatus(s.order.Payments[row].Status), true
	})
	s.refs.SetCellStyle(func(row, col int) (lipgloss.Style, bool) {
		if col != 3 || s.order == nil || row >= len(s.order.Refunds) {
			return lipgloss.Style{}, false
		}
		return c.Styles.ForStatus(s.order.Refunds[row].Status), true
	})
	s.refs.SetFocused(false)
	s.layout()
	return s
}

func (s *orderScreen) prov() api.Provider     { return s.c.Providers[s.provider] }
func (s *orderScreen) caps() api.Capabilities { return s.prov().Capabilities() }
func (s *orderScreen) Init() tea.Cmd {
	return tea.Batch(s.fetch(), Routed(s.id, s.spin.Tick), s.ago.start(&s.base))
}
func (s *orderScreen) SetSize(w, h int)    { s.base.SetSize(w, h); s.layout() }
func (s *orderScreen) Suspend()            { s.live.restart(); s.ago.stop(); s.suspend() }
func (s *orderScreen) loading() bool       { return s.order == nil && s.live.inFlight }
func (s *orderScreen) Order() *model.Order { return s.order }
func (s *orderScreen) selectedPayment() *model.Payment {
	if s.order == nil || s.pays.Cursor() < 0 || s.pays.Cursor() >= len(s.order.Payments) {
		return nil
	}
	return &s.order.Payments[s.pays.Cursor()]
}

func (s *orderScreen) selectedRefund() *model.Refund {
	if s.order == nil || s.refs.Cursor() < 0 || s.refs.Cursor() >= len(s.order.Refunds) {
		return nil
	}
	return &s.order.Refunds[s.refs.Cursor()]
}

func (s *orderScreen) Title() string {
	if s.order != nil {
		return "Order " + s.order.Ref
	}
	return "Order " + s.orderID
}

// Resume re-reads the order: an action taken on a screen above may have
// changed it, and polling restarts with a fresh generation.
func (s *orderScreen) Resume() tea.Cmd {
	s.resume()
	s.live.restart()
	ago := s.ago.start(&s.base)
	if s.live.paused && s.order != nil {
		return ago
	}
	if s.order == nil {
		return tea.Batch(ago, s.fetch(), Routed(s.id, s.spin.Tick))
	}
	return tea.Batch(ago, s.fetch())
}

func (s *orderScreen) fetch() tea.Cmd {
	gen := s.live.begin()
	p, id := s.prov(), s.orderID
	return call(&s.base, func(ctx context.Context) (*model.Order, error) { return p.GetOrder(ctx, id) },
		func(o *model.Order, err error) tea.Msg { return orderLoadedMsg{gen: gen, order: o, err: err} })
}

func (s *orderScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case orderLoadedMsg:
		if !s.live.accept(msg.gen) {
			return s, nil
		}
		if msg.err != nil || msg.order == nil {
			if msg.err == nil {
				msg.err = errEmptyAnswer
			}
			s.err = msg.err
			s.renderHead()
			if s.order == nil {
				// A missing or refused order will not appear by asking
				// again (r does); a timeout or a 5xx is retried with backoff.
				s.live.active = api.IsTransient(msg.err)
				// The body says it already (emptyView): once is enough.
				s.live.errStreak++
				return s, s.live.next(&s.base)
			}
			return s, s.live.failed(&s.base, msg.err)
		}
		s.err = nil
		s.setOrder(withPending(msg.order, s.pending))
		var told tea.Cmd
		if len(s.watching) > 0 && !s.live.active {
			told = outcome(s.prov().Name(), s.order, s.watching)
			s.watching = nil
			s.live.errShown = false // the outcome replaces a read error shown
		}
		return s, tea.Batch(s.live.succeeded(s.c, &s.base), told)
	case agoTickMsg:
		return s, s.ago.on(&s.base, msg)
	case pollTickMsg:
		if !s.live.due(msg) {
			return s, nil
		}
		return s, s.fetch()
	case spinner.TickMsg:
		if !s.loading() {
			return s, nil
		}
		var cmd tea.Cmd
		s.spin, cmd = s.spin.Update(msg)
		return s, Routed(s.id, cmd)
	case PoppedMsg:
		done, ok := msg.Result.(ActionDone)
		if !ok {
			return s, nil
		}
		s.pending = remember(s.pending, done)
		s.watching = watch(s.watching, done)
		if o := mergeDone(s.order, done); o != nil {
			s.setOrder(o)
		}
		return s, s.live.afterAction(done, s.fetch)
	case tea.KeyMsg:
		return s, s.key(msg)
	}
	return s, nil
}

func (s *orderScreen) key(msg tea.KeyMsg) tea.Cmd {
	k := s.c.Keys
	switch {
	case key.Matches(msg, k.Back):
		return s.pop(nil)
	case key.Matches(msg, k.Refresh):
		return s.live.refreshNow(s.fetch)
	case key.Matches(msg, k.Pause):
		return s.togglePause()
	}
	if s.order == nil {
		return nil
	}
	focused := s.pays
	if s.focusRefunds {
		focused = s.refs
	}
	caps := s.caps()
	switch {
	case focused.Update(msg):
		return nil
	case key.Matches(msg, k.FocusNext):
		s.focusRefunds = !s.focusRefunds && len(s.order.Refunds) > 0
		s.pays.SetFocused(!s.focusRefunds)
		s.refs.SetFocused(s.focusRefunds)
		return nil
	case key.Matches(msg, k.Enter):
		if s.focusRefunds {
			if r := s.selectedRefund(); r != nil {
				return s.push(newRefundScreen(s.c, s.provider, s.order, r.ID))
			}
		} else if p := s.selectedPayment(); p != nil {
			return s.push(newPaymentScreen(s.c, s.provider, s.order, p.ID))
		}
		return nil
	case key.Matches(msg, k.Copy):
		if s.focusRefunds {
			if r := s.selectedRefund(); r != nil {
				return copyRef(s.c, r.ID)
			}
		} else if p := s.selectedPayment(); p != nil {
			return copyRef(s.c, p.ID)
		}
		return copyRef(s.c, s.order.Ref)
	case key.Matches(msg, k.Edit) && s.canEdit(caps):
		if s.focusRefunds {
			return s.push(newEditRefundScreen(s.c, s.provider, s.order, s.selectedRefund().ID))
		}
		return s.push(newEditPaymentScreen(s.c, s.provider, s.order, s.selectedPayment().ID))
	case key.Matches(msg, k.Edit) && s.focusRefunds && !caps.UpdateRefund:
		return cannotEdit(s.c, s.prov(), "refund")
	case key.Matches(msg, k.Edit) && !s.focusRefunds && !caps.UpdatePayment:
		return cannotEdit(s.c, s.prov(), "payment")
	case key.Matches(msg, k.RefundPart) && s.canRefundPart(caps):
		if caps.PartialRefundOnOrder {
			// The provider takes partial refunds from the order, whichever
			// row is selected: say so rather than name a payment.
			return s.push(newRefundOrderPartScreen(s.c, s.provider, s.order))
		}
		return s.push(newRefundPaymentScreen(s.c, s.provider, s.order, s.selectedPayment().ID))
	case key.Matches(msg, k.RefundAll) && caps.RefundOrder:
		return s.push(newRefundOrderScreen(s.c, s.provider, s.order))
	case key.Matches(msg, k.Cancel) && s.canCancel(caps):
		return s.push(newCancelPaymentScreen(s.c, s.provider, s.order, s.selectedPayment().ID))
	}
	return refusal(s.c, msg)
}

func (s *orderScreen) togglePause() tea.Cmd {
	s.live.paused = !s.live.paused
	if s.live.paused {
		return Status("Live refresh paused; p resumes, r refreshes once.")
	}
	s.live.restart()
	return tea.Batch(Status("Live refresh resumed."), s.fetch())
}

func (s *orderScreen) canEdit(caps api.Capabilities) bool {
	if !s.c.Keys.Edit.Enabled() {
		return false
	}
	if s.focusRefunds {
		return caps.UpdateRefund && s.selectedRefund() != nil
	}
	return caps.UpdatePayment && s.selectedPayment() != nil
}

func (s *orderScreen) canRefundPart(caps api.Capabilities) bool {
	if !s.c.Keys.RefundPart.Enabled() {
		return false
	}
	if caps.PartialRefundOnOrder {
		return true // an order-level refund needs no selected payment
	}
	return !s.focusRefunds && caps.RefundPayment && s.selectedPayment() != nil
}

func (s *orderScreen) canCancel(caps api.Capabilities) bool {
	p := s.selectedPayment()
	return s.c.Keys.Cancel.Enabled() && !s.focusRefunds && caps.CancelPayment &&
		caps.CanCancel != nil && p != nil && caps.CanCancel(p)
}

// Help lists only the actions that work here and now.
func (s *orderScreen) Help() []key.Binding {
	k := s.c.Keys
	if s.order == nil {
		return []key.Binding{k.Refresh, k.Back}
	}
	caps := s.caps()
	out := []key.Binding{k.Enter}
	if s.canEdit(caps) {
		out = append(out, k.Edit)
	}
	// Refund keys are listed only while there is something to refund; pressed
	// anyway they say why not (the flow refuses at once with the reason).
	left := s.order.Refundable()
	if s.canRefundPart(caps) && left.IsPositive() && (caps.PartialRefundOnOrder || s.order.RefundableOn(s.selectedPayment()).IsPositive()) {
		out = append(out, k.RefundPart)
	}
	if caps.RefundOrder && k.RefundAll.Enabled() && left.IsPositive() {
		out = append(out, k.RefundAll)
	}
	if s.canCancel(caps) {
		out = append(out, k.Cancel)
	}
	if len(s.order.Refunds) > 0 {
		out = append(out, k.FocusNext)
	}
	return append(out, k.Refresh, s.live.pauseKey(k), k.Copy, k.Back)
}

// setOrder takes a fresh reading: rows are formatted here, not in View.
func (s *orderScreen) setOrder(o *model.Order) {
	first := s.order == nil
	s.order = o
	s.orderID = o.ID
	s.live.hasRefunds = len(o.Refunds) > 0
	s.live.lost = countLost(o.Refunds)
	s.live.active, s.prev = settleAll(o.Refunds, s.prev)

	rows := make([][]string, len(o.Payments))
	for i := range o.Payments {
		p := &o.Payments[i]
		method := p.Method
		if method == "" {
			method = p.FundingType
		}
		rows[i] = []string{orDash(p.ID), orDash(method), fmtAmount(p.Amount), providerStatusCell(p.Status, p.ProviderStatus),
			fmtAmount(o.RefundedOn(p.ID)), fmtDate(p.Created)}
	}
	s.pays.SetRows(rows)
	pw, rw := 10, 10
	for _, p := range o.Payments {
		pw = max(pw, min(len(p.ID), maxRefWidth))
	}
	for _, r := range o.Refunds {
		rw = max(rw, min(len(r.ID), maxRefWidth))
	}
	s.pays.SetColumnWidth(0, pw)
	s.refs.SetColumnWidth(0, rw)
	s.refs.SetColumnWidth(1, pw)
	if first {
		s.pays.SetCursor(0) // the first payment is selected on arrival
	}
	rrows := make([][]string, len(o.Refunds))
	for i := range o.Refunds {
		r := &o.Refunds[i]
		rrows[i] = []string{orDash(r.ID), orDash(r.PaymentID), fmtAmount(r.Amount), statusCell(r.Status),
			orDash(r.Reason), fmtDate(r.Updated)}
	}
	s.refs.SetRows(rrows)
	if len(o.Refunds) == 0 && s.focusRefunds {
		s.focusRefunds = false
		s.pays.SetFocused(true)
		s.refs.SetFocused(false)
	}
	s.layout()
}

// headLines is the number of lines above the tables.
const orderHeadLines = 6

// layout shares the body's height between the two tables.
func (s *orderScreen) layout() {
	np, nr := 1, 1
	if s.order != nil {
		np, nr = max(len(s.order.Payments), 1), max(len(s.order.Refunds), 1)
	}
	// head + "Payments" title + header + blank + "Refunds" title + header
	rest := max(s.height-orderHeadLines-5, 2)
	pr, rr := np, nr
	if pr+rr > rest {
		half := rest / 2
		switch {
		case pr <= half:
			rr = rest - pr
		case rr <= rest-half:
			pr = rest - rr
		default:
			pr, rr = half, rest-half
		}
	}
	s.pays.SetShortDates(false)
	s.refs.SetShortDates(false)
	s.pays.SetSize(s.width, max(pr, 1))
	s.refs.SetSize(s.width, max(rr, 1))
	// One date format on the screen: short in both tables if either
	// needs it.
	if short := s.pays.ShortDates() || s.refs.ShortDates(); short {
		s.pays.SetShortDates(true)
		s.refs.SetShortDates(true)
	}
	s.renderHead()
}

// renderHead formats the header block when the data or the width changes.
func (s *orderScreen) renderHead() {
	st := s.c.Styles
	o := s.order
	if o == nil {
		s.head = nil
		return
	}
	col := halfCol(s.width)
	s.head = []string{
		"", // title line: drawn in View (it carries the live badge)
		pair(st, "Customer", orDash(o.CustomerID), externalIDLabel(s.caps().ReferenceColumn), orDash(o.ExternalOrderID), col),
		pair(st, "Created", fmtDate(o.Created), "Paid", fmtMoney(o.Paid()), col),
		pair(st, "Total", fmtMoney(o.Total), "Refunded", fmtMoney(o.Refunded()), col),
		pair(st, "Pending", fmtMoney(o.Pending()), "Refundable", st.Bold.Render(fmtMoney(o.Refundable())), col),
		s.lostLine(),
	}
}

// lostLine is the header's last line: blank, or, when refunds on the order
// ended without money going back, the latest of them with the provider's
// reason and what to do, so "settled" never reads as "refunded".
func (s *orderScreen) lostLine() string {
	o := s.order
	var last *model.Refund
	open := 0
	for i := range o.Refunds {
		r := &o.Refunds[i]
		if !refundLost(r) || madeUp(o, r) {
			continue
		}
		open++
		if last == nil || !r.Updated.Before(last.Updated) {
			last = r
		}
	}
	if last == nil {
		return ""
	}
	// One line at any width: the provider's reason gives way before the
	// next step does (the refunds table has the id and the amount).
	head := "✗ Refund " + last.Status.Label() + " ("
	if open > 1 {
		head = fmt.Sprintf("✗ %d refunds failed, latest (", open)
	}
	tail := "): refund the customer another way."
	room := max(s.width-lipgloss.Width(head)-lipgloss.Width(tail), 8)
	text := head + safetext.Truncate(lostReason(last), room) + tail
	return s.c.Styles.Bad.Render(safetext.Truncate(text, max(s.width, 20)))
}

// madeUp reports whether a refund that did not go through was followed by
// one from the same payment, at least as large, that succeeded or may
// still: telling the agent to refund the customer another way would then
// invite a second refund.
func madeUp(o *model.Order, lost *model.Refund) bool {
	for i := range o.Refunds {
		r := &o.Refunds[i]
		if r.ID == lost.ID || refundLost(r) || r.PaymentID != lost.PaymentID || r.Created.Before(lost.Created) {
			continue
		}
		if c, err := r.Amount.Cmp(lost.Amount); err == nil && c >= 0 {
			return true
		}
	}
	return false
}

// pair draws two label/value cells on one line; values are already safe.
func pair(st *Styles, l1, v1, l2, v2 string, col int) string {
	return kvCell(st, l1, v1, col) + " " + kvCell(st, l2, v2, col)
}

const labelWidth = 14

// kvCell is "Label       value" in w cells; v may carry styling.
func kvCell(st *Styles, label, v string, w int) string {
	lw := labelWidth
	if w-lw < 17 { // narrow: the label gives way before a date would
		lw = max(w-17, 10)
	}
	label = safetext.Truncate(label, lw-1)
	l := st.Label.Render(padRight(label, lipgloss.Width(label), lw))
	vw := w - lw
	if lipgloss.Width(v) > vw {
		v = fitID(v, vw) // only plain values get this long
	}
	return l + padRight(v, lipgloss.Width(v), vw)
}

// titleLine is "Order 1a2b3c4d5e  ✓ succeeded  succeeded" with the live
// badge on the right; a long id gives way in the middle, then the
// provider's raw status goes.
func titleLine(c *Context, width int, title string, status model.Status, raw string, badge string) string {
	st := c.Styles
	room := width - max(lipgloss.Width(badge), badgeSlot(width)) - 2
	cell := providerStatusCell(status, raw)
	stxt := "  " + st.ForStatus(status).Render(cell)
	rtxt := ""
	// The provider's own word, for the agent on the phone with its support;
	// left out when it says the same as ours.
	if raw != "" && !strings.EqualFold(raw, string(status)) && !strings.EqualFold(raw, status.Label()) &&
		!strings.HasSuffix(cell, " "+raw) {
		rtxt = "  " + st.Faint.Render("("+c.Provider().Name()+": "+safetext.Truncate(raw, 24)+")")
	}
	tw := room - lipgloss.Width(stxt) - lipgloss.Width(rtxt)
	if tw < 16 {
		rtxt = ""
		tw = room - lipgloss.Width(stxt)
	}
	word, id, _ := strings.Cut(title, " ")
	t := word + " " + fitID(id, max(tw-len(word)-1, 8))
	return spread(st.Title.Render(t)+stxt+rtxt, badge, width)
}

func (s *orderScreen) View() string {
	st := s.c.Styles
	if s.order == nil {
		return s.emptyView()
	}
	o := s.order
	var b strings.Builder
	b.WriteString(titleLine(s.c, s.width, "Order "+o.Ref, o.Status, o.ProviderStatus, s.live.indicator(s.c, s.width)))
	for _, l := range s.head[1:] {
		b.WriteByte('\n')
		b.WriteString(l)
	}
	b.WriteByte('\n')
	b.WriteString(sectionTitle(st, "Payments", len(o.Payments), !s.focusRefunds))
	b.WriteByte('\n')
	if len(o.Payments) == 0 {
		b.WriteString(st.Faint.Render("  No payments on this order."))
	} else {
		b.WriteString(s.pays.View())
	}
	b.WriteString("\n\n")
	b.WriteString(sectionTitle(st, "Refunds", len(o.Refunds), s.focusRefunds))
	b.WriteByte('\n')
	if len(o.Refunds) == 0 {
		b.WriteString(st.Faint.Render("  No refunds yet."))
	} else {
		b.WriteString(s.refs.View())
	}
	return b.String()
}

func sectionTitle(st *Styles, name string, n int, focused bool) string {
	t := name + " (" + strconv.Itoa(n) + ")"
	if focused {
		return st.Bold.Render("▌" + t)
	}
	return st.Faint.Render(" " + t)
}

// emptyView is the body before the order arrived: a spinner, or why not.
func (s *orderScreen) emptyView() string {
	st := s.c.Styles
	id := safetext.Line(s.orderID)
	switch {
	case s.err != nil && api.StatusOf(s.err) == 404:
		return st.Title.Render("Order "+id) + "\n\n" +
			st.StatusErr.Render("✗ Not found: "+s.prov().Name()+" has no order “"+id+"”.") + "\n\n" +
			wrapText(DescribeError(s.err), s.width) + "\n\n" +
			st.Faint.Render("Check the ref; esc goes back, g on the list tries another.")
	case s.err != nil:
		return st.Title.Render("Order "+id) + "\n\n" +
			st.StatusErr.Render("✗ Could not load this order.") + "\n\n" +
			wrapText(DescribeError(s.err), s.width) + "\n\n" +
			st.Faint.Render("r tries again; esc goes back.")
	}
	return st.Title.Render("Order "+id) + "\n\n" + s.spin.View() + " Loading order…"
}

// wrapText wraps plain, already-safe text to w cells. It is layout only, no
// colour, so it needs no terminal's renderer: a throwaway one writing
// nowhere keeps lipgloss's process-wide default (and its colour profile)
// out of every session.
func wrapText(s string, w int) string {
	return lipgloss.NewRenderer(io.Discard).NewStyle().Width(max(w, 20)).Render(s)
}
