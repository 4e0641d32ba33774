package ui

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"paydesk/api"
	"paydesk/model"
	"paydesk/model/safetext"
)

// maxBackoff caps the poll interval after repeated errors.
const maxBackoff = 30 * time.Second

// live is the polling state of one screen (tui-notes §3.3): a tick chain
// tagged with a generation, one request in flight, exponential backoff after
// errors. Leaving the screen bumps the generation, so a tick or answer that
// arrives later is dropped; the request itself is cancelled by base.suspend.
type live struct {
	gen       int
	inFlight  bool
	errStreak int
	paused    bool
	lastOK    time.Time
	// active: something on the screen is not settled yet, keep polling.
	active bool
	// hasRefunds: there is something whose settling is worth reporting.
	hasRefunds bool
	// errShown: the status line shows this screen's read error.
	errShown bool
	// lost counts the refunds on the screen that ended without moving money
	// (failed, expired, canceled): "settled" is then never shown alone.
	lost int
}

// failed records a read that failed: the error goes to the status line and
// the next poll backs off.
func (l *live) failed(b *base, err error) tea.Cmd {
	l.errShown = true
	l.errStreak++
	return tea.Batch(StatusErr(err), l.next(b))
}

// succeeded records a good read (after the screen took its data, which
// decides whether anything is still settling): a read error it showed is
// cleared, the backoff resets and the next poll is scheduled.
func (l *live) succeeded(c *Context, b *base) tea.Cmd {
	var clear tea.Cmd
	if l.errShown {
		clear, l.errShown = Status(""), false
	}
	l.errStreak = 0
	l.lastOK = c.Now()
	return tea.Batch(clear, l.next(b))
}

// refreshNow is r: read at once, unless a read is already on its way.
func (l *live) refreshNow(fetch func() tea.Cmd) tea.Cmd {
	if l.inFlight {
		return nil
	}
	l.restart()
	return fetch()
}

// afterAction shows what an action flow reported and reads again at once
// (unless Resume already asked for a fresh copy).
func (l *live) afterAction(done ActionDone, fetch func() tea.Cmd) tea.Cmd {
	var st tea.Cmd
	if done.Message != "" {
		st = Status(done.Message)
	}
	if l.inFlight {
		return st
	}
	l.restart()
	return tea.Batch(st, fetch())
}

// agoClock redraws "updated 8s ago" while a screen is visible and idle: one
// tick every agoEvery, tagged, so leaving the screen ends the chain (no idle
// ticker runs for a screen nobody sees).
type agoClock struct{ gen int }

type agoTickMsg struct{ gen int }

// agoEvery is a second: "updated 7s ago" counts like a clock, not in steps.
const agoEvery = time.Second

// start begins a new chain (and orphans any old one).
func (a *agoClock) start(b *base) tea.Cmd {
	a.gen++
	return b.tick(agoEvery, agoTickMsg{gen: a.gen})
}

func (a *agoClock) stop() { a.gen++ }

// on re-arms the chain; the message itself is what makes the view redraw.
func (a *agoClock) on(b *base, m agoTickMsg) tea.Cmd {
	if m.gen != a.gen {
		return nil
	}
	return b.tick(agoEvery, agoTickMsg{gen: a.gen})
}

// pollTickMsg is the tick of one generation of a screen's poll chain.
type pollTickMsg struct{ gen int }

// begin marks a request in flight and returns the generation to tag it with.
func (l *live) begin() int {
	l.inFlight = true
	return l.gen
}

// accept reports whether an answer tagged gen is still wanted, and clears
// the in-flight flag when it is.
func (l *live) accept(gen int) bool {
	if gen != l.gen {
		return false
	}
	l.inFlight = false
	return true
}

// restart drops every tick and answer of the current generation.
func (l *live) restart() {
	l.gen++
	l.inFlight = false
}

// due reports whether a tick should fetch now.
func (l *live) due(m pollTickMsg) bool {
	return m.gen == l.gen && !l.paused && !l.inFlight && l.active
}

// delay is the wait before the next poll: the refresh interval, doubled per
// consecutive error, capped at maxBackoff.
func (l *live) delay(interval time.Duration) time.Duration {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	d := interval
	for i := 0; i < l.errStreak && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// next schedules the next tick when polling should go on.
func (l *live) next(b *base) tea.Cmd {
	if !l.active || l.paused {
		return nil
	}
	return b.tick(l.delay(b.c.Refresh), pollTickMsg{gen: l.gen})
}

// badgeSlot is the room the title line keeps for the live badge, whatever
// it says at the moment: the title and status to its left never move as the
// badge changes ("● live" → "● retrying · updated 59m ago").
func badgeSlot(width int) int {
	if width < 80 {
		return 12 // compact: the state without its age
	}
	return 28
}

// indicator is the live-status badge: "● live · updated 3s ago",
// "❚❚ paused · updated 1m ago", "✓ settled · updated 5s ago"; below 80
// columns the state alone ("● live"). It is never wider than badgeSlot.
func (l *live) indicator(c *Context, width int) string {
	st := c.Styles
	now := c.Now()
	ago := ""
	if !l.lastOK.IsZero() && width >= 80 {
		ago = " · updated " + fmtAgo(now, l.lastOK)
	}
	switch {
	case l.paused:
		return st.StatusWarn.Render("❚❚ paused" + ago)
	case l.active && l.errStreak > 0:
		return st.StatusErr.Render("● retrying" + ago)
	case l.active:
		stale := !l.lastOK.IsZero() && now.Sub(l.lastOK) > 3*max(c.Refresh, time.Second)+c.Timeout
		if stale {
			return st.StatusWarn.Render("● stale" + ago)
		}
		return st.StatusOK.Render("● live" + ago)
	case l.hasRefunds && l.lost == 1:
		return st.Bad.Render("✗ settled · 1 refund failed" + ago)
	case l.hasRefunds && l.lost > 1:
		return st.Bad.Render(fmt.Sprintf("✗ settled · %d refunds failed", l.lost) + ago)
	case l.hasRefunds:
		return st.Good.Render("✓ settled" + ago)
	}
	if ago == "" && !l.lastOK.IsZero() {
		return st.Faint.Render(fmtAgo(now, l.lastOK))
	}
	return st.Faint.Render(trimDot(ago))
}

// pauseKey is p as the footer should read it: what pressing it will do.
func (l *live) pauseKey(k *KeyMap) key.Binding {
	if l.paused {
		return key.NewBinding(key.WithKeys(k.Pause.Keys()...), key.WithHelp(k.Pause.Help().Key, "resume live"))
	}
	return k.Pause
}

func trimDot(s string) string { return strings.TrimPrefix(s, " · ") }

// refundLost reports whether a refund ended without money going back: the
// provider says so (failed), or it lapsed or was called off. Unknown is not
// lost: it may have moved money and is never shown as failed.
func refundLost(r *model.Refund) bool {
	switch r.Status {
	case model.StatusFailed, model.StatusExpired, model.StatusCanceled, model.StatusVoided:
		return true
	}
	return false
}

// countLost counts the refunds that ended without money going back.
func countLost(rs []model.Refund) int {
	n := 0
	for i := range rs {
		if refundLost(&rs[i]) {
			n++
		}
	}
	return n
}

// nextStep is what the agent does about a refund that did not go through.
const nextStep = "the money did not go back to the customer: refund the customer another way"

// lostReason is the provider's reason for a refund that did not go through,
// terminal-safe, or its status when the provider gave none.
func lostReason(r *model.Refund) string {
	switch {
	case r.FailureReason != "":
		return safetext.Line(r.FailureReason)
	case r.LastError != nil && r.LastError.Message != "":
		return safetext.Line(r.LastError.Message)
	case r.LastError != nil && r.LastError.Code != "":
		return safetext.Line(r.LastError.Code)
	case r.ProviderStatus != "":
		return "status " + safetext.Line(r.ProviderStatus)
	}
	return "no reason given"
}

// lostText is one refund that did not go through: what happened, the
// provider's reason and what to do next first (a narrow status line cuts
// from the right), then which refund it was.
func lostText(provider string, r *model.Refund) string {
	return fmt.Sprintf("Refund %s (%s): refund the customer another way. %s refund %s of %s; the money did not go back.",
		r.Status.Label(), lostReason(r), provider, safetext.Line(r.ID), r.Amount)
}

// outcome is the status line that replaces "watching them settle" once the
// refunds an action created have all settled: an error (it stays) when any
// of them did not go through, else a plain report. ids are the refunds
// watched; those not on the order are left out.
func outcome(provider string, o *model.Order, ids map[string]bool) tea.Cmd {
	var lost []*model.Refund
	n := 0
	sum := model.Zero(o.Currency)
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		r := o.Refund(id)
		if r == nil {
			continue
		}
		n++
		if refundLost(r) {
			lost = append(lost, r)
		} else {
			sum, _ = sum.Add(r.Amount)
		}
	}
	switch {
	case n == 0:
		return nil
	case len(lost) == 1 && n == 1:
		return StatusErr(errors.New(lostText(provider, lost[0])))
	case len(lost) > 0:
		return StatusErr(fmt.Errorf("%d of %d refunds did not go through: refund the customer another way. First: %s", len(lost), n, lostText(provider, lost[0])))
	case n == 1:
		return Status(fmt.Sprintf("Refund of %s settled: it succeeded.", sum))
	}
	return Status(fmt.Sprintf("All %d refunds settled: %s returned.", n, sum))
}

// settleAll says which refunds still need polling, given the previous
// readings, and returns the readings to compare the next poll with.
func settleAll(refunds []model.Refund, prev map[string]model.Refund) (active bool, next map[string]model.Refund) {
	next = make(map[string]model.Refund, len(refunds))
	for _, r := range refunds {
		var p *model.Refund
		if old, ok := prev[r.ID]; ok {
			p = &old
		}
		if !r.Settled(p) {
			active = true
		}
		next[r.ID] = r
	}
	return active, next
}

// mergeRefunds puts fresh refunds into an order at once (replacing by id,
// appending new ones), so a refund just created shows before the reload.
func mergeRefunds(o *model.Order, rs []model.Refund) {
	for _, r := range rs {
		if i := slices.IndexFunc(o.Refunds, func(x model.Refund) bool { return x.ID == r.ID }); i >= 0 {
			o.Refunds[i] = r
		} else {
			o.Refunds = append(o.Refunds, r)
		}
	}
}

// mergeDone applies what an action flow popped back with to a copy of the
// order: the order itself when the provider returned it, then the payment,
// refund and refunds it created.
func mergeDone(o *model.Order, d ActionDone) *model.Order {
	var n model.Order
	switch {
	case d.Order != nil:
		n = *d.Order
	case o != nil:
		n = *o
	default:
		return nil
	}
	n.Payments = slices.Clone(n.Payments)
	n.Refunds = slices.Clone(n.Refunds)
	if d.Payment != nil {
		if i := slices.IndexFunc(n.Payments, func(p model.Payment) bool { return p.ID == d.Payment.ID }); i >= 0 {
			n.Payments[i] = *d.Payment
		}
	}
	if d.Refund != nil {
		mergeRefunds(&n, []model.Refund{*d.Refund})
	}
	mergeRefunds(&n, d.Refunds)
	return &n
}

// remember adds the refunds an action created to the pending set.
func remember(pending map[string]model.Refund, d ActionDone) map[string]model.Refund {
	add := d.Refunds
	if d.Refund != nil {
		add = append(slices.Clone(add), *d.Refund)
	}
	for _, r := range add {
		if pending == nil {
			pending = map[string]model.Refund{}
		}
		pending[r.ID] = r
	}
	return pending
}

// watch adds the refunds an action created (ActionDone.Refunds; an edited
// refund comes back as ActionDone.Refund and is not watched) to the set
// whose outcome the status line will report.
func watch(ids map[string]bool, d ActionDone) map[string]bool {
	for _, r := range d.Refunds {
		if ids == nil {
			ids = map[string]bool{}
		}
		ids[r.ID] = true
	}
	return ids
}

// withPending adds to a fresh reading the pending refunds it does not show
// yet, and forgets the ones it does.
func withPending(o *model.Order, pending map[string]model.Refund) *model.Order {
	for _, id := range slices.Sorted(maps.Keys(pending)) {
		if o.Refund(id) != nil {
			delete(pending, id)
			continue
		}
		o.Refunds = append(o.Refunds, pending[id])
	}
	return o
}

// refusal is the status line for a mutating key pressed by a read-only
// agent. key.Matches ignores disabled bindings, so the raw key is compared.
func refusal(c *Context, msg tea.KeyMsg) tea.Cmd {
	if !c.ReadOnly {
		return nil
	}
	k := c.Keys
	s := msg.String()
	has := func(b key.Binding) bool { return slices.Contains(b.Keys(), s) }
	switch {
	case has(k.Edit):
		return Status("Read-only: editing is switched off")
	case has(k.Cancel):
		return Status("Read-only: cancels are switched off")
	case has(k.RefundPart), has(k.RefundAll):
		return Status("Read-only: refunds are switched off")
	}
	return nil
}

// cannotEdit says why e does nothing where the provider keeps no edits
// (Forage refunds, Moyasar payments), instead of nothing at all.
func cannotEdit(c *Context, p api.Provider, what string) tea.Cmd {
	if c.ReadOnly || !c.Keys.Edit.Enabled() {
		return nil // refusal says read-only
	}
	return Status(p.Name() + " does not let a " + what + "'s metadata change once it is made.")
}

// copyRef copies a ref over OSC 52 (c.Copy says so in the status line).
func copyRef(c *Context, ref string) tea.Cmd {
	switch {
	case ref == "":
		return nil
	case c.Copy == nil:
		return Status("No clipboard in this session.")
	}
	return c.Copy(ref)
}
