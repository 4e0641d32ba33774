package ui

import (
	"errors"
	"fmt"
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
	liveScreen
	orderID string // what was asked for; the order's id once loaded
	prev    map[string]model.Refund
	spin    spinner.Model

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
	s := &orderScreen{liveScreen: newLiveScreen(c, provider, nil), orderID: orderID}
	s.liveHooks = liveHooks{read: s.fetch, gotOrder: s.gotOrder, readFailed: s.readFailed, took: s.tookAction, key: s.key}
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
	s.pays.SetCellStyle(statusStyle(c, 3, func(row int) *model.Payment { return rowAt(s.payments(), row) }))
	s.refs.SetCellStyle(statusStyle(c, 3, func(row int) *model.Refund { return rowAt(s.refunds(), row) }))
	s.refs.SetFocused(false)
	s.layout()
	return s
}

func (s *orderScreen) Init() tea.Cmd {
	return tea.Batch(s.fetch(), Routed(s.id, s.spin.Tick), s.ago.start(&s.base))
}
func (s *orderScreen) SetSize(w, h int)                { s.base.SetSize(w, h); s.layout() }
func (s *orderScreen) loading() bool                   { return s.order == nil && s.live.inFlight }
func (s *orderScreen) Order() *model.Order             { return s.order }
func (s *orderScreen) selectedPayment() *model.Payment { return rowAt(s.payments(), s.pays.Cursor()) }
func (s *orderScreen) selectedRefund() *model.Refund   { return rowAt(s.refunds(), s.refs.Cursor()) }

// payments and refunds are the rows of the two tables (none before the
// order arrives).
func (s *orderScreen) payments() []model.Payment {
	if s.order == nil {
		return nil
	}
	return s.order.Payments
}

func (s *orderScreen) refunds() []model.Refund {
	if s.order == nil {
		return nil
	}
	return s.order.Refunds
}

// rowAt is the item a table's cursor is on, nil when there is none.
func rowAt[T any](items []T, cursor int) *T {
	if cursor < 0 || cursor >= len(items) {
		return nil
	}
	return &items[cursor]
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
	ago := s.resumeLive()
	if s.live.paused && s.order != nil {
		return ago
	}
	if s.order == nil {
		return tea.Batch(ago, s.fetch(), Routed(s.id, s.spin.Tick))
	}
	return tea.Batch(ago, s.fetch())
}

func (s *orderScreen) fetch() tea.Cmd { return s.readOrder(s.orderID) }

// tookAction shows at once what an action screen popped back with, and
// watches the refunds it created until they settle.
func (s *orderScreen) tookAction(done ActionDone) {
	s.pending = remember(s.pending, done)
	s.watching = watch(s.watching, done)
	if o := mergeDone(s.order, done); o != nil {
		s.setOrder(o)
	}
}

func (s *orderScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	if cmd, ok := s.update(msg); ok {
		return s, cmd
	}
	if msg, ok := msg.(spinner.TickMsg); ok && s.loading() {
		var cmd tea.Cmd
		s.spin, cmd = s.spin.Update(msg)
		return s, Routed(s.id, cmd)
	}
	return s, nil
}

func (s *orderScreen) readFailed(err error) tea.Cmd {
	s.renderHead()
	if te, ok := api.AsThrottled(err); ok && s.order == nil {
		// Not a failure: the status line says so as information and the
		// read goes again once the budget allows, as on a loaded order.
		s.live.active = true
		return s.live.throttled(&s.base, te)
	}
	if s.order == nil {
		// A missing or refused order will not appear by asking again (r
		// does); a timeout or a 5xx is retried with backoff.
		s.live.active = api.IsTransient(err)
		// The body says it already (emptyView): once is enough.
		s.live.errStreak++
		return s.live.next(&s.base)
	}
	return s.live.failed(&s.base, err)
}

// gotOrder takes a reading; once the refunds this screen's actions created
// have all settled, the status line says how they ended.
func (s *orderScreen) gotOrder(o *model.Order) tea.Cmd {
	s.setOrder(withPending(o, s.pending))
	var told tea.Cmd
	if len(s.watching) > 0 && !s.live.active {
		told = outcome(s.prov().Name(), s.order, s.watching)
		s.watching = nil
		s.live.errShown = false // the outcome replaces a read error shown
	}
	return tea.Batch(s.live.succeeded(s.c, &s.base), told)
}

func (s *orderScreen) key(msg tea.KeyMsg) tea.Cmd {
	if s.order == nil {
		cmd, _ := runAction(s.actions(), msg)
		return cmd
	}
	if s.focused().Update(msg) {
		return nil
	}
	if cmd, ok := runAction(s.actions(), msg); ok {
		return cmd
	}
	return refusal(s.c, msg)
}

// focused is the table the cursor keys move in.
func (s *orderScreen) focused() *Table {
	if s.focusRefunds {
		return s.refs
	}
	return s.pays
}

// actions are the order screen's keys, in the order help lists them.
// Before the order arrives only refresh, pause and back work.
func (s *orderScreen) actions() []action {
	k := s.c.Keys
	if s.order == nil {
		return []action{
			{key: k.Refresh, run: do(s.refresh)},
			{key: k.Pause, shown: never, run: do(s.togglePause)},
			{key: k.Back, run: do(s.back)},
		}
	}
	caps := s.caps()
	// Refund keys are offered only while there is something to refund;
	// pressed anyway they say why not (the flow refuses at once with the
	// reason).
	left := s.order.Refundable().IsPositive()
	return append([]action{
		{key: k.Enter, run: do(s.open)},
		{key: k.Edit, enabled: func() bool { return s.canEdit(caps) }, run: do(s.edit)},
		{key: k.Edit, shown: never, enabled: func() bool { return s.focusRefunds && !caps.UpdateRefund },
			run: do(func() tea.Cmd { return cannotEdit(s.c, s.prov(), "refund") })},
		{key: k.Edit, shown: never, enabled: func() bool { return !s.focusRefunds && !caps.UpdatePayment },
			run: do(func() tea.Cmd { return cannotEdit(s.c, s.prov(), "payment") })},
		{key: k.RefundPart, enabled: func() bool { return s.canRefundPart(caps) },
			shown: func() bool {
				return s.canRefundPart(caps) && left &&
					(caps.PartialRefundOnOrder || s.order.RefundableOn(s.selectedPayment()).IsPositive())
			},
			run: do(func() tea.Cmd { return s.refundPart(caps) })},
		{key: k.RefundAll, enabled: func() bool { return caps.RefundOrder },
			shown: func() bool { return caps.RefundOrder && left },
			run:   do(func() tea.Cmd { return s.push(newRefundOrderScreen(s.c, s.provider, s.order)) })},
		{key: k.Cancel, enabled: func() bool { return s.canCancel(caps) },
			run: do(func() tea.Cmd {
				return s.push(newCancelPaymentScreen(s.c, s.provider, s.order, s.selectedPayment().ID))
			})},
		{key: k.FocusNext, shown: func() bool { return len(s.order.Refunds) > 0 }, run: do(s.switchTable)},
	}, s.liveActions(s.copy)...)
}

// open is enter: the selected payment or refund.
func (s *orderScreen) open() tea.Cmd {
	if s.focusRefunds {
		if r := s.selectedRefund(); r != nil {
			return s.push(newRefundScreen(s.c, s.provider, s.order, r.ID))
		}
	} else if p := s.selectedPayment(); p != nil {
		return s.push(newPaymentScreen(s.c, s.provider, s.order, p.ID))
	}
	return nil
}

// copy is y: the selected row's ref, else the order's.
func (s *orderScreen) copy() tea.Cmd {
	if s.focusRefunds {
		if r := s.selectedRefund(); r != nil {
			return copyRef(s.c, r.ID)
		}
	} else if p := s.selectedPayment(); p != nil {
		return copyRef(s.c, p.ID)
	}
	return copyRef(s.c, s.order.Ref)
}

func (s *orderScreen) edit() tea.Cmd {
	if s.focusRefunds {
		return s.push(newEditRefundScreen(s.c, s.provider, s.order, s.selectedRefund().ID))
	}
	return s.push(newEditPaymentScreen(s.c, s.provider, s.order, s.selectedPayment().ID))
}

func (s *orderScreen) refundPart(caps api.Capabilities) tea.Cmd {
	if caps.PartialRefundOnOrder {
		// The provider takes partial refunds from the order, whichever
		// row is selected: say so rather than name a payment.
		return s.push(newRefundOrderPartScreen(s.c, s.provider, s.order))
	}
	return s.push(newRefundPaymentScreen(s.c, s.provider, s.order, s.selectedPayment().ID))
}

// switchTable moves between the payments and the refunds (if any).
func (s *orderScreen) switchTable() tea.Cmd {
	s.focusRefunds = !s.focusRefunds && len(s.order.Refunds) > 0
	s.pays.SetFocused(!s.focusRefunds)
	s.refs.SetFocused(s.focusRefunds)
	return nil
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
	return s.c.Keys.Cancel.Enabled() && !s.focusRefunds && caps.Cancelable(s.selectedPayment())
}

// Help lists only the actions that work here and now.
func (s *orderScreen) Help() []key.Binding { return actionHelp(s.actions()) }

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
	case errors.Is(s.err, api.ErrThrottled):
		// The status line says when the next read goes.
		return st.Title.Render("Order "+id) + "\n\n" + st.Faint.Render("Waiting for the request budget to read this order…")
	case s.err != nil:
		return st.Title.Render("Order "+id) + "\n\n" +
			st.StatusErr.Render("✗ Could not load this order.") + "\n\n" +
			wrapText(DescribeError(s.err), s.width) + "\n\n" +
			st.Faint.Render("r tries again; esc goes back.")
	}
	return st.Title.Render("Order "+id) + "\n\n" + s.spin.View() + " Loading order…"
}
