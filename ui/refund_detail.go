package ui

import (
	"context"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"paydesk/api"
	"paydesk/model"
	"paydesk/model/safetext"
)

// refundScreen is one refund: its status in large type, amount, reason,
// metadata, receipt with the EBT balance and whether that balance has
// settled. It re-reads the refund (GetRefund) until it is settled.
type refundScreen struct {
	liveScreen
	refundID string
	refund   *model.Refund // the latest reading; nil until one arrives
	prev     *model.Refund // the reading before, for Settled
	settled  bool
	scroll   scroller
}

type refundLoadedMsg struct {
	gen    int
	refund *model.Refund
	err    error
}

func newRefundScreen(c *Context, provider int, order *model.Order, refundID string) Screen {
	s := &refundScreen{liveScreen: newLiveScreen(c, provider, order), refundID: refundID}
	s.liveHooks = liveHooks{read: s.fetch, gotRefund: s.gotRefund, readFailed: s.readFailed, took: s.tookAction, key: s.key}
	s.live.hasRefunds = true
	s.live.lastOK = c.Now()
	if r := order.Refund(refundID); r != nil {
		cp := *r
		s.take(&cp)
	} else {
		s.live.active = true
		s.render()
	}
	return s
}

func (s *refundScreen) SetSize(w, h int) { s.base.SetSize(w, h); s.render() }
func (s *refundScreen) Title() string    { return "Refund " + s.refundID }

func (s *refundScreen) fetch() tea.Cmd {
	gen := s.live.begin()
	p, oid, rid := s.prov(), s.order.ID, s.refundID
	return call(&s.base, func(ctx context.Context) (*model.Refund, error) { return p.GetRefund(ctx, oid, rid) },
		func(r *model.Refund, err error) tea.Msg { return refundLoadedMsg{gen: gen, refund: r, err: err} })
}

// take records a new reading and decides whether polling goes on.
func (s *refundScreen) take(r *model.Refund) {
	s.prev, s.refund = s.refund, r
	s.settled = r.Settled(s.prev)
	s.live.active = !s.settled
	s.live.lost = 0
	if refundLost(r) {
		s.live.lost = 1
	}
	s.render()
}

// tookAction shows at once what an action screen popped back with (an
// edit of this refund comes back as ActionDone.Refund).
func (s *refundScreen) tookAction(done ActionDone) {
	if done.Refund != nil && done.Refund.ID == s.refundID {
		cp := *done.Refund
		s.take(&cp)
	}
	if o := mergeDone(s.order, done); o != nil {
		s.order = o
	}
}

func (s *refundScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	cmd, _ := s.update(msg)
	return s, cmd
}

func (s *refundScreen) readFailed(err error) tea.Cmd {
	if api.StatusOf(err) == 404 {
		s.live.active = false // it will not appear by asking again
	}
	s.render()
	return s.live.failed(&s.base, err)
}

func (s *refundScreen) gotRefund(r *model.Refund) tea.Cmd {
	was := s.live.active
	s.take(r)
	var told tea.Cmd
	if was && s.settled {
		// Watched to the end here: the status line says how it ended.
		o := mergeDone(s.order, ActionDone{Refund: s.refund})
		told = outcome(s.prov().Name(), o, map[string]bool{s.refundID: true})
		s.live.errShown = false
	}
	return tea.Batch(s.live.succeeded(s.c, &s.base), told)
}

func (s *refundScreen) key(msg tea.KeyMsg) tea.Cmd {
	if cmd, ok := s.scroll.keyOr(s.c.Keys, msg, s.bodyRows(), s.actions); ok {
		return cmd
	}
	return refusal(s.c, msg)
}

// actions are the refund screen's keys, in the order help lists them.
func (s *refundScreen) actions() []action {
	k := s.c.Keys
	return append([]action{
		{key: k.Edit, enabled: s.canEdit, run: do(func() tea.Cmd {
			o := mergeDone(s.order, ActionDone{Refund: s.refund})
			return s.push(newEditRefundScreen(s.c, s.provider, o, s.refundID))
		})},
		{key: k.Edit, shown: never, enabled: func() bool { return !s.caps().UpdateRefund },
			run: do(func() tea.Cmd { return cannotEdit(s.c, s.prov(), "refund") })},
	}, s.liveActions(func() tea.Cmd { return copyRef(s.c, s.refundID) })...)
}

func (s *refundScreen) canEdit() bool {
	return s.c.Keys.Edit.Enabled() && s.caps().UpdateRefund && s.refund != nil
}

func (s *refundScreen) Help() []key.Binding { return actionHelp(s.actions()) }

// render formats the refund when a reading arrives or the width changes.
func (s *refundScreen) render() {
	st := s.c.Styles
	w := s.width
	r := s.refund
	if r == nil {
		switch {
		case s.err != nil && api.StatusOf(s.err) == 404:
			s.scroll.set([]string{st.StatusErr.Render("✗ Not found: " + s.prov().Name() + " has no refund “" + safetext.Line(s.refundID) + "” on this order."),
				"", wrapText(DescribeError(s.err), w)})
		case s.err != nil:
			s.scroll.set([]string{st.StatusErr.Render("✗ Could not load this refund."), "", wrapText(DescribeError(s.err), w), "", st.Faint.Render("r tries again.")})
		default:
			s.scroll.set([]string{st.Faint.Render("Loading refund…")})
		}
		return
	}
	col := halfCol(w)
	var l []string
	big := st.ForStatus(r.Status).Bold(true).Render(r.Status.Glyph() + "  " + strings.ToUpper(r.Status.Label()))
	l = append(l, strings.Split(st.Box.Render(big), "\n")...)
	// The provider's own word, when it says something ours does not.
	if raw := r.ProviderStatus; raw != "" && !strings.EqualFold(raw, string(r.Status)) && !strings.EqualFold(raw, r.Status.Label()) {
		l[len(l)-2] += "  " + st.Faint.Render("provider status: "+safetext.Truncate(raw, 24))
	}
	switch {
	case r.Status == model.StatusUnknown:
		l = append(l, st.Unknown.Render("The provider could not say whether this money moved. It is NOT failed: do not refund again; paydesk keeps checking."))
	case !r.Status.Final():
		l = append(l, st.Pending.Render("Still processing at the provider; this screen refreshes by itself."))
	case refundLost(r):
		next := upperFirst(nextStep) + "."
		if madeUp(s.order, r) {
			next = "A later refund from the same payment covers it; do not refund again."
		}
		l = append(l, strings.Split(st.Bad.Render(wrapText("This refund "+r.Status.Label()+": "+lostReason(r)+". "+next, w)), "\n")...)
	}
	l = append(l, "",
		pair(st, "Amount", st.Bold.Render(fmtMoney(r.Amount)), "Payment", orDash(r.PaymentID), col),
		pair(st, "Order", orDash(s.order.Ref), "Created", fmtDate(r.Created), col),
		pair(st, "Updated", fmtDate(r.Updated), "Settled", s.settledCell(r), col),
		kvCell(st, "Reason", orDash(r.Reason), w),
	)
	// The failure reason once. The statement above names it for a refund
	// that was lost; the processing error below carries it when the
	// provider's reason is its code (Digital River), and then gives only
	// the words the statement does not.
	said := refundLost(r)
	if r.FailureReason != "" && !said && (r.LastError == nil || r.LastError.Code != r.FailureReason) {
		l = append(l, kvCell(st, "Failure", safetext.Line(r.FailureReason), w))
	}
	le := r.LastError
	if said && le != nil && le.Code != "" && safetext.Line(le.Code) == lostReason(r) && le.Message != "" {
		le = &model.ProcessingError{Message: le.Message}
	}
	l = append(l, "", st.Bold.Render("Last processing error"))
	l = append(l, errorLines(st, le, w)...)
	l = append(l, "")
	l = append(l, metadataLines(st, r.Metadata, r.MetadataTotal, w)...)
	l = append(l, "")
	l = append(l, receiptLines(st, r.Receipt, w, "", r.Created)...)
	if r.Receipt != nil && r.Receipt.Balance != nil {
		settled := st.Pending.Render("no — the balance is still moving; wait before quoting it")
		if s.settled {
			settled = st.Good.Render("yes")
		}
		l = append(l, "  "+kvCell(st, "Bal. settled", settled, w-2))
	}
	if len(r.Fields) > 0 {
		l = append(l, "", st.Bold.Render("All fields")+st.Faint.Render(" (as "+s.prov().Name()+" sent them)"))
		l = append(l, fieldLines(st, r.Fields, w)...)
	}
	s.scroll.set(l)
}

// settledCell never says "yes" alone beside a refund that did not go
// through: settled only means the provider will not change its answer.
func (s *refundScreen) settledCell(r *model.Refund) string {
	if s.settled && refundLost(r) {
		return s.c.Styles.Bad.Render("yes, it " + r.Status.Label())
	}
	return yesNo(s.settled)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (s *refundScreen) View() string {
	st := s.c.Styles
	badge := s.live.indicator(s.c, s.width)
	left := st.Title.Render("Refund " + fitID(s.refundID, max(s.width-max(lipgloss.Width(badge), badgeSlot(s.width))-10, 10)))
	head := spread(left, badge, s.width)
	return head + "\n\n" + s.scroll.view(st, s.bodyRows())
}
