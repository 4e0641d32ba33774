package ui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"paydesk/model"
	"paydesk/model/safetext"
)

// paymentScreen shows every field of one payment, its metadata, last
// processing error, receipt and refunds, scrolling when taller than the
// body. While a refund of the payment is not settled the order is re-read.
type paymentScreen struct {
	liveScreen
	paymentID string
	prev      map[string]model.Refund
	scroll    scroller
	refs      *Table
	pending   map[string]model.Refund // see orderScreen.pending
}

func newPaymentScreen(c *Context, provider int, order *model.Order, paymentID string) Screen {
	s := &paymentScreen{liveScreen: newLiveScreen(c, provider, order), paymentID: paymentID}
	s.liveHooks = liveHooks{read: s.fetch, gotOrder: s.gotOrder, readFailed: s.readFailed, took: s.tookAction, key: s.key}
	s.refs = NewTable(c, refundColumns(false))
	s.live.lastOK = c.Now()
	s.setOrder(order)
	return s
}

func (s *paymentScreen) SetSize(w, h int)        { s.base.SetSize(w, h); s.render() }
func (s *paymentScreen) payment() *model.Payment { return s.order.Payment(s.paymentID) }

func (s *paymentScreen) Title() string {
	if p := s.payment(); p != nil && p.ID != "" {
		return "Payment " + p.ID
	}
	return "Payment " + s.paymentID
}

func (s *paymentScreen) fetch() tea.Cmd { return s.readOrder(s.order.ID) }

// tookAction shows at once what an action screen popped back with.
func (s *paymentScreen) tookAction(done ActionDone) {
	s.pending = remember(s.pending, done)
	if o := mergeDone(s.order, done); o != nil {
		s.setOrder(o)
	}
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
	s.refs.SetCellStyle(statusStyle(s.c, 2, func(row int) *model.Refund { return rowAt(mine, row) }))
	s.render()
}

func (s *paymentScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	cmd, _ := s.update(msg)
	return s, cmd
}

func (s *paymentScreen) readFailed(err error) tea.Cmd {
	s.live.active = true // keep trying, slower
	return s.live.failed(&s.base, err)
}

func (s *paymentScreen) gotOrder(o *model.Order) tea.Cmd {
	s.setOrder(withPending(o, s.pending))
	return s.live.succeeded(s.c, &s.base)
}

func (s *paymentScreen) key(msg tea.KeyMsg) tea.Cmd {
	if cmd, ok := s.scroll.keyOr(s.c.Keys, msg, s.bodyRows(), s.actions); ok || s.payment() == nil {
		return cmd // a payment gone from the order has nothing to refuse
	}
	return refusal(s.c, msg)
}

// actions are the payment screen's keys, in the order help lists them.
func (s *paymentScreen) actions() []action {
	k := s.c.Keys
	caps := s.prov().Capabilities()
	p := s.payment()
	mine := paymentRefunds(s.order, s.paymentID)
	hasRefunds := func() bool { return len(mine) > 0 }
	here := func() bool { return p != nil }
	return append([]action{
		{key: k.OpenRefund, enabled: hasRefunds, run: do(func() tea.Cmd {
			if i := s.refs.Cursor(); i >= 0 && i < len(mine) {
				return s.push(newRefundScreen(s.c, s.provider, s.order, mine[i].ID))
			}
			return nil
		})},
		{key: k.PickRefund, enabled: hasRefunds, run: s.pickRefund},
		{key: k.Edit, enabled: func() bool { return p != nil && caps.UpdatePayment },
			run: do(func() tea.Cmd { return s.push(newEditPaymentScreen(s.c, s.provider, s.order, p.ID)) })},
		{key: k.Edit, shown: never, enabled: here,
			run: do(func() tea.Cmd { return cannotEdit(s.c, s.prov(), "payment") })},
		// Partial refunds are taken from the order, never from this charge:
		// offering one here would promise what the provider does not do.
		{key: k.RefundPart, shown: never, enabled: func() bool { return p != nil && caps.PartialRefundOnOrder },
			run: do(func() tea.Cmd {
				return Status(s.prov().Name() + " refunds part of the order, not of one charge: esc, then f on the order screen.")
			})},
		{key: k.RefundPart, enabled: func() bool { return p != nil && caps.RefundsPartOfPayment() },
			run: do(func() tea.Cmd { return s.push(newRefundPaymentScreen(s.c, s.provider, s.order, p.ID)) })},
		{key: k.Cancel, enabled: func() bool { return caps.Cancelable(p) },
			run: do(func() tea.Cmd { return s.push(newCancelPaymentScreen(s.c, s.provider, s.order, p.ID)) })},
	}, s.liveActions(func() tea.Cmd { return copyRef(s.c, s.paymentID) })...)
}

// pickRefund is ←/→: one of this payment's refunds (↑/↓ scroll the page).
func (s *paymentScreen) pickRefund(msg tea.KeyMsg) tea.Cmd {
	step := 1
	if msg.String() == "left" || msg.String() == "h" {
		step = -1
	}
	s.refs.SetCursor(s.refs.Cursor() + step)
	s.render()
	return nil
}

func (s *paymentScreen) Help() []key.Binding { return actionHelp(s.actions()) }

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
