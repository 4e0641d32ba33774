package ui

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"paydesk/api"
	"paydesk/model"
	"paydesk/model/safetext"
)

// paymentScreen shows every field of one payment, its metadata, last
// processing error, receipt and refunds, scrolling when taller than the
// body. While a refund of the payment is not settled the order is re-read.
type paymentScreen struct {
	base
	provider  int
	order     *model.Order
	paymentID string
	prev      map[string]model.Refund
	err       error
	live      live
	ago       agoClock
	scroll    scroller
	refs      *Table
	pending   map[string]model.Refund // see orderScreen.pending
}

func newPaymentScreen(c *Context, provider int, order *model.Order, paymentID string) Screen {
	s := &paymentScreen{base: newBase(c), provider: provider, order: order, paymentID: paymentID}
	s.refs = NewTable(c, refundColumns(false))
	s.live.lastOK = c.Now()
	s.setOrder(order)
	return s
}

// refundColumns are the columns of a refunds table; withPayment adds the
// payment column (the order screen), a payment's own list leaves it out.
func refundColumns(withPayment bool) []Column {
	cols := []Column{{Title: "Ref", Width: 12, Min: 10, TrimMiddle: true, ShrinkFirst: true}}
	if withPayment {
		cols = append(cols, Column{Title: "Payment", Width: 12, Min: 10, TrimMiddle: true, ShrinkFirst: true, Optional: true})
	}
	return append(cols,
		Column{Title: "Amount", Width: 10, Min: 9, Right: true},
		Column{Title: "Status", Width: 17, Min: 11, Abbrev: true},
		Column{Title: "Reason", Width: 14, Min: 6, Flex: true},
		Column{Title: "Updated", Width: 16, Min: 11, Date: true})
}

func (s *paymentScreen) prov() api.Provider      { return s.c.Providers[s.provider] }
func (s *paymentScreen) Init() tea.Cmd           { return tea.Batch(s.fetch(), s.ago.start(&s.base)) }
func (s *paymentScreen) SetSize(w, h int)        { s.base.SetSize(w, h); s.render() }
func (s *paymentScreen) Suspend()                { s.live.restart(); s.ago.stop(); s.suspend() }
func (s *paymentScreen) payment() *model.Payment { return s.order.Payment(s.paymentID) }

func (s *paymentScreen) Title() string {
	if p := s.payment(); p != nil && p.ID != "" {
		return "Payment " + p.ID
	}
	return "Payment " + s.paymentID
}

func (s *paymentScreen) Resume() tea.Cmd {
	s.resume()
	s.live.restart()
	ago := s.ago.start(&s.base)
	if s.live.paused {
		return ago
	}
	return tea.Batch(ago, s.fetch())
}

func (s *paymentScreen) fetch() tea.Cmd {
	gen := s.live.begin()
	p, id := s.prov(), s.order.ID
	return call(&s.base, func(ctx context.Context) (*model.Order, error) { return p.GetOrder(ctx, id) },
		func(o *model.Order, err error) tea.Msg { return orderLoadedMsg{gen: gen, order: o, err: err} })
}

func (s *paymentScreen) setOrder(o *model.Order) {
	s.order = o
	mine := paymentRefunds(o, s.paymentID)
	s.live.hasRefunds = len(mine) > 0
	s.live.active, s.prev = settleAll(mine, s.prev)
	rows := make([][]string, len(mine))
	for i, r := range mine {
		rows[i] = []string{orDash(r.ID), fmtAmount(r.Amount), statusCell(r.Status), orDash(r.Reason), fmtDate(r.Updated)}
	}
	s.refs.SetRows(rows)
	s.refs.SetCellStyle(func(row, col int) (lipgloss.Style, bool) {
		if col != 2 || row >= len(mine) {
			return lipgloss.Style{}, false
		}
		return s.c.Styles.ForStatus(mine[row].Status), true
	})
	s.render()
}

func (s *paymentScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
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
			s.live.active = true // keep trying, slower
			return s, s.live.failed(&s.base, msg.err)
		}
		s.err = nil
		s.setOrder(withPending(msg.order, s.pending))
		return s, s.live.succeeded(s.c, &s.base)
	case agoTickMsg:
		return s, s.ago.on(&s.base, msg)
	case pollTickMsg:
		if !s.live.due(msg) {
			return s, nil
		}
		return s, s.fetch()
	case PoppedMsg:
		done, ok := msg.Result.(ActionDone)
		if !ok {
			return s, nil
		}
		s.pending = remember(s.pending, done)
		if o := mergeDone(s.order, done); o != nil {
			s.setOrder(o)
		}
		return s, s.live.afterAction(done, s.fetch)
	case tea.KeyMsg:
		return s, s.key(msg)
	}
	return s, nil
}

func (s *paymentScreen) key(msg tea.KeyMsg) tea.Cmd {
	k := s.c.Keys
	caps := s.prov().Capabilities()
	p := s.payment()
	mine := paymentRefunds(s.order, s.paymentID)
	switch {
	case s.scroll.key(k, msg, s.bodyRows()):
		return nil
	case key.Matches(msg, k.Back):
		return s.pop(nil)
	case len(mine) > 0 && key.Matches(msg, k.FocusNext):
		// ←/→ pick one of this payment's refunds (↑/↓ scroll the page).
		step := 1
		if msg.String() == "left" || msg.String() == "h" {
			step = -1
		}
		s.refs.SetCursor(s.refs.Cursor() + step)
		s.render()
		return nil
	case len(mine) > 0 && key.Matches(msg, k.Enter):
		if i := s.refs.Cursor(); i >= 0 && i < len(mine) {
			return s.push(newRefundScreen(s.c, s.provider, s.order, mine[i].ID))
		}
		return nil
	case key.Matches(msg, k.Refresh):
		return s.live.refreshNow(s.fetch)
	case key.Matches(msg, k.Pause):
		return pauseToggle(&s.live, s.fetch)
	case key.Matches(msg, k.Copy):
		return copyRef(s.c, s.paymentID)
	case p == nil:
		return nil
	case key.Matches(msg, k.Edit) && caps.UpdatePayment:
		return s.push(newEditPaymentScreen(s.c, s.provider, s.order, p.ID))
	case key.Matches(msg, k.Edit):
		return cannotEdit(s.c, s.prov(), "payment")
	case key.Matches(msg, k.RefundPart) && caps.PartialRefundOnOrder:
		// Partial refunds are taken from the order, never from this charge:
		// offering one here would promise what the provider does not do.
		return Status(s.prov().Name() + " refunds part of the order, not of one charge: esc, then f on the order screen.")
	case key.Matches(msg, k.RefundPart) && caps.RefundPayment:
		return s.push(newRefundPaymentScreen(s.c, s.provider, s.order, p.ID))
	case key.Matches(msg, k.Cancel) && caps.CancelPayment && caps.CanCancel != nil && caps.CanCancel(p):
		return s.push(newCancelPaymentScreen(s.c, s.provider, s.order, p.ID))
	}
	return refusal(s.c, msg)
}

// pauseToggle flips pause; resuming polls at once.
func pauseToggle(l *live, fetch func() tea.Cmd) tea.Cmd {
	l.paused = !l.paused
	if l.paused {
		return Status("Live refresh paused; p resumes, r refreshes once.")
	}
	l.restart()
	return tea.Batch(Status("Live refresh resumed."), fetch())
}

func (s *paymentScreen) Help() []key.Binding {
	k := s.c.Keys
	caps := s.prov().Capabilities()
	var out []key.Binding
	if len(paymentRefunds(s.order, s.paymentID)) > 0 {
		out = append(out, key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open refund")),
			key.NewBinding(key.WithKeys(k.FocusNext.Keys()...), key.WithHelp("←/→", "pick refund")))
	}
	if p := s.payment(); p != nil {
		if caps.UpdatePayment && k.Edit.Enabled() {
			out = append(out, k.Edit)
		}
		if caps.RefundPayment && !caps.PartialRefundOnOrder && k.RefundPart.Enabled() {
			out = append(out, k.RefundPart)
		}
		if caps.CancelPayment && caps.CanCancel != nil && caps.CanCancel(p) && k.Cancel.Enabled() {
			out = append(out, k.Cancel)
		}
	}
	return append(out, k.Refresh, s.live.pauseKey(k), k.Copy, k.Back)
}

func (s *paymentScreen) bodyRows() int { return max(s.height-2, 1) }

// render formats every line of the payment when the data or width changes.
func (s *paymentScreen) render() {
	st := s.c.Styles
	o := s.order
	p := s.payment()
	w := s.width
	if p == nil {
		s.scroll.set([]string{st.StatusErr.Render("✗ Payment " + safetext.Line(s.paymentID) + " is not on order " + safetext.Line(o.Ref) + " any more.")})
		return
	}
	col := halfCol(w)
	method := p.Method
	if p.FundingType != "" && p.FundingType != p.Method {
		method += " (" + p.FundingType + ")"
	}
	var l []string
	l = append(l,
		pair(st, "Amount", fmtMoney(p.Amount), "Refunded", fmtMoney(o.RefundedOn(p.ID)), col),
		pair(st, "Method", orDash(method), "Refundable", st.Bold.Render(fmtMoney(o.RefundableOn(p))), col),
		pair(st, "Order", orDash(o.Ref), externalIDLabel(s.prov().Capabilities().ReferenceColumn), orDash(p.ExternalOrderID), col),
		pair(st, "Created", fmtDate(p.Created), "Succeeded", fmtDatePtr(p.SuccessDate), col),
		pair(st, "Customer", orDash(p.CustomerID), "Updated", fmtDate(p.Updated), col),
	)
	if p.Card != nil {
		l = append(l, kvCell(st, "Card", safetext.Line(p.Card.Masked()), w))
	}
	if p.Description != "" {
		l = append(l, kvCell(st, "Description", safetext.Line(p.Description), w))
	}
	l = append(l, "", st.Bold.Render("Last processing error"))
	l = append(l, errorLines(st, p.LastError, w)...)

	mine := paymentRefunds(o, p.ID)
	l = append(l, "", st.Bold.Render("Refunds ("+strconv.Itoa(len(mine))+")"))
	if len(mine) == 0 {
		l = append(l, st.Faint.Render("  No refunds on this payment."))
	} else {
		s.refs.SetSize(w, len(mine))
		l = append(l, strings.Split(s.refs.View(), "\n")...)
	}
	l = append(l, "")
	l = append(l, metadataLines(st, p.Metadata, p.MetadataTotal, w)...)
	l = append(l, "")
	last4 := ""
	if p.Card != nil {
		last4 = p.Card.Last4
	}
	l = append(l, receiptLines(st, p.Receipt, w, last4, p.Created)...)
	l = append(l, "", st.Bold.Render("All fields")+st.Faint.Render(" (as "+s.prov().Name()+" sent them)"))
	l = append(l, fieldLines(st, p.Fields, w)...)
	s.scroll.set(l)
}

func (s *paymentScreen) View() string {
	p := s.payment()
	status, raw := model.StatusUnknown, ""
	if p != nil {
		status, raw = p.Status, p.ProviderStatus
	}
	head := titleLine(s.c, s.width, "Payment "+s.paymentID, status, raw, s.live.indicator(s.c, s.width))
	return head + "\n\n" + s.scroll.view(s.c.Styles, s.bodyRows())
}

// errorLines shows a last processing error, or that there is none.
func errorLines(st *Styles, e *model.ProcessingError, w int) []string {
	if e == nil {
		return []string{st.Faint.Render("  none")}
	}
	line := safetext.Line(e.Code)
	switch {
	case line == "":
		line = safetext.Line(e.Message)
	case e.Message != "":
		line += ": " + safetext.Line(e.Message)
	}
	// Wrapped, not cut: the end of the message says what to do next.
	wrapped := strings.Split(wrapText(line, max(w-4, 20)), "\n")
	out := make([]string, len(wrapped))
	for i, l := range wrapped {
		lead := "    "
		if i == 0 {
			lead = "  " + st.Bad.Render("✗ ")
		}
		out[i] = lead + strings.TrimRight(l, " ")
	}
	return out
}

// metadataLines shows metadata as key/value rows, keys sorted.
func metadataLines(st *Styles, md model.Metadata, total, w int) []string {
	out := []string{st.Bold.Render("Metadata (" + strconv.Itoa(len(md)) + ")")}
	if note := model.MetadataNote(len(md), total); note != "" {
		out = append(out, st.StatusWarn.Render(safetext.Truncate("  ⚠ "+note, max(w, 20))))
	}
	if len(md) == 0 {
		return append(out, st.Faint.Render("  none"))
	}
	kw := 8
	for _, k := range md.Keys() {
		kw = max(kw, lipgloss.Width(safetext.Line(k)))
	}
	kw = min(kw, 24)
	for _, k := range md.Keys() {
		out = append(out, kvRowLine(st, k, md[k], kw, w))
	}
	return out
}

// kvRowLine is "  key   value" with both sides made terminal-safe and cut.
func kvRowLine(st *Styles, k, v string, kw, w int) string {
	ks := safetext.Truncate(k, kw)
	vs := safetext.Truncate(v, max(w-kw-4, 8))
	if v == "" {
		vs = st.Faint.Render("—")
	}
	return "  " + st.Label.Render(padRight(ks, lipgloss.Width(ks), kw)) + "  " + vs
}

// fieldLines lists provider fields in their documented order.
func fieldLines(st *Styles, fields []model.Field, w int) []string {
	if len(fields) == 0 {
		return []string{st.Faint.Render("  none")}
	}
	kw := 8
	for _, f := range fields {
		kw = max(kw, lipgloss.Width(safetext.Line(f.Name)))
	}
	kw = min(kw, 28)
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		out = append(out, kvRowLine(st, f.Name, f.Value, kw, w))
	}
	return out
}

// receiptLines shows what the payment network said; the card is masked to
// its last four digits. What the lines above it already say (the card's
// last 4, the time it was created: last4 and created) is not said again,
// and the EBT amounts show only on a receipt that has them (Forage).
func receiptLines(st *Styles, r *model.Receipt, w int, last4 string, created time.Time) []string {
	out := []string{st.Bold.Render("Receipt")}
	if r == nil {
		return append(out, st.Faint.Render("  none"))
	}
	col := halfCol(w) - 1
	// Pairs as the network groups them; a cell the lines above already
	// show is left out, and a pair with neither cell goes.
	type kv struct{ k, v string }
	var card, when kv
	if r.Last4 != "" && r.Last4 != last4 {
		card = kv{"Card", "•••• " + safetext.Line(r.Last4)}
	}
	if !r.Created.IsZero() && fmtDate(r.Created) != fmtDate(created) {
		when = kv{"Created", fmtDate(r.Created)}
	}
	pairs := [][2]kv{{{"Ref number", orDash(r.RefNumber)}, {"Type", orDash(r.TransactionType)}}, {card, when}}
	ebt := false
	for _, m := range []model.Money{r.SnapAmount, r.CashAmount, r.OtherAmount, r.SalesTax} {
		ebt = ebt || m.Currency != ""
	}
	if ebt {
		pairs = append(pairs, [2]kv{{"SNAP", fmtMoney(r.SnapAmount)}, {"EBT Cash", fmtMoney(r.CashAmount)}},
			[2]kv{{"Other", fmtMoney(r.OtherAmount)}, {"Sales tax", fmtMoney(r.SalesTax)}})
	}
	pairs = append(pairs, [2]kv{{"Voided", yesNo(r.IsVoided)}, {"Message", orDash(r.Message)}})
	for _, p := range pairs {
		switch a, b := p[0], p[1]; {
		case a.k != "" && b.k != "":
			out = append(out, "  "+pair(st, a.k, a.v, b.k, b.v, col))
		case a.k != "":
			out = append(out, "  "+kvCell(st, a.k, a.v, col))
		case b.k != "":
			out = append(out, "  "+kvCell(st, b.k, b.v, col))
		}
	}
	if b := r.Balance; b != nil {
		out = append(out,
			"  "+kvCell(st, "Balance", "SNAP "+fmtMoneyPtr(b.Snap)+" · EBT Cash "+fmtMoneyPtr(b.Cash), w-2),
			"  "+kvCell(st, "Balance at", fmtDate(b.Updated), w-2))
	}
	return out
}

// scroller is a pre-rendered block of lines with a scroll offset: View
// slices the visible window, nothing is formatted per frame.
type scroller struct {
	lines []string
	off   int
}

func (sc *scroller) set(lines []string) {
	sc.lines = lines
	sc.off = min(sc.off, max(len(lines)-1, 0))
}

func (sc *scroller) key(k *KeyMap, msg tea.KeyMsg, h int) bool {
	maxOff := max(len(sc.lines)-h, 0)
	switch {
	case key.Matches(msg, k.Up):
		sc.off--
	case key.Matches(msg, k.Down):
		sc.off++
	case key.Matches(msg, k.PageUp):
		sc.off -= h
	case key.Matches(msg, k.PageDown):
		sc.off += h
	case key.Matches(msg, k.Home):
		sc.off = 0
	case key.Matches(msg, k.End):
		sc.off = maxOff
	default:
		return false
	}
	sc.off = max(min(sc.off, maxOff), 0)
	return true
}

// view shows h lines from the offset; when more is hidden below, the last
// line says so.
func (sc *scroller) view(st *Styles, h int) string {
	off := max(min(sc.off, len(sc.lines)-h), 0)
	end := min(off+h, len(sc.lines))
	vis := sc.lines[off:end]
	if end < len(sc.lines) && len(vis) > 0 {
		vis = append(vis[:len(vis)-1:len(vis)-1], st.Faint.Render("  ↓ "+strconv.Itoa(len(sc.lines)-end+1)+" more lines (↓/pgdn)"))
	}
	if off > 0 && len(vis) > 0 {
		vis = append([]string{st.Faint.Render("  ↑ " + strconv.Itoa(off+1) + " lines above")}, vis[1:]...)
	}
	return strings.Join(vis, "\n")
}

// paymentRefunds are the refunds a payment screen lists: those naming the
// payment and, on an order with one payment, the order-level refunds that
// name none (a Digital River refund that failed before it was spread over
// a charge belongs to the only charge there is; its raw fields say so).
func paymentRefunds(o *model.Order, paymentID string) []model.Refund {
	out := o.RefundsOf(paymentID)
	if len(o.Payments) != 1 || o.Payments[0].ID != paymentID {
		return out
	}
	for _, r := range o.Refunds {
		if r.PaymentID == "" {
			out = append(out, r)
		}
	}
	return out
}
