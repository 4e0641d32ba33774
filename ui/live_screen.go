package ui

import (
	"context"

	tea "github.com/charmbracelet/bubbletea"

	"paydesk/api"
	"paydesk/model"
)

// liveScreen is what the order, payment and refund screens embed: the
// provider they read from, the order they show, the poll chain and the
// "updated ago" clock that keep them current, and the handling of the
// messages those produce (ticks, pause, refresh, answers to its reads, what
// an action screen pops back with). The screen fills in its liveHooks;
// everything else about staying live is written once, here.
type liveScreen struct {
	base
	liveHooks
	provider int
	order    *model.Order
	// err is the last read's error; nil after a good read.
	err  error
	live live
	ago  agoClock
}

// liveHooks are what differs between the live screens.
type liveHooks struct {
	// read starts the screen's read (the order, or one refund of it).
	read func() tea.Cmd
	// gotOrder and gotRefund take a good reading (err is already nil);
	// a screen sets the one its read answers with.
	gotOrder  func(*model.Order) tea.Cmd
	gotRefund func(*model.Refund) tea.Cmd
	// readFailed takes a failed read (err is already set).
	readFailed func(error) tea.Cmd
	// took applies what an action screen popped back with, before the
	// read that follows it.
	took func(ActionDone)
	// key handles a key press.
	key func(tea.KeyMsg) tea.Cmd
}

func newLiveScreen(c *Context, provider int, order *model.Order) liveScreen {
	return liveScreen{base: newBase(c), provider: provider, order: order}
}

func (v *liveScreen) prov() api.Provider     { return v.c.Providers[v.provider] }
func (v *liveScreen) caps() api.Capabilities { return v.prov().Capabilities() }

// Init reads at once and starts the clock.
func (v *liveScreen) Init() tea.Cmd { return tea.Batch(v.read(), v.ago.start(&v.base)) }

// Suspend stops polling, the clock, and the read in flight.
func (v *liveScreen) Suspend() { v.live.restart(); v.ago.stop(); v.suspend() }

// Resume reads again (an action taken on a screen above may have changed
// what is shown) unless paused, with a fresh generation.
func (v *liveScreen) Resume() tea.Cmd {
	ago := v.resumeLive()
	if v.live.paused {
		return ago
	}
	return tea.Batch(ago, v.read())
}

// resumeLive gives the screen a fresh context and poll generation and
// restarts the clock, whose command it returns.
func (v *liveScreen) resumeLive() tea.Cmd {
	v.resume()
	v.live.restart()
	return v.ago.start(&v.base)
}

// bodyRows is the height of a scrolled page under its title line and the
// blank line after it (the payment and refund screens).
func (v *liveScreen) bodyRows() int { return max(v.height-2, 1) }

// readOrder reads order id, answering with an orderLoadedMsg.
func (v *liveScreen) readOrder(id string) tea.Cmd {
	gen := v.live.begin()
	p := v.prov()
	return call(&v.base, func(ctx context.Context) (*model.Order, error) { return p.GetOrder(ctx, id) },
		func(o *model.Order, err error) tea.Msg { return orderLoadedMsg{gen: gen, order: o, err: err} })
}

// answered takes the answer to a read tagged gen: dropped when it is stale
// (the screen left, or another read was started since), a failure when it
// has an error or nothing in it (errEmptyAnswer), else the reading, taken
// by got.
func (v *liveScreen) answered(gen int, err error, empty bool, got func() tea.Cmd) tea.Cmd {
	if !v.live.accept(gen) {
		return nil
	}
	if err == nil && empty {
		err = errEmptyAnswer
	}
	v.err = err
	if err != nil {
		return v.readFailed(err)
	}
	return got()
}

// refresh is r: read at once, unless a read is already on its way.
func (v *liveScreen) refresh() tea.Cmd { return v.live.refreshNow(v.read) }

// togglePause is p; resuming reads at once.
func (v *liveScreen) togglePause() tea.Cmd {
	l := &v.live
	l.paused = !l.paused
	if l.paused {
		return Status("Live refresh paused; p resumes, r refreshes once.")
	}
	l.restart()
	return tea.Batch(Status("Live refresh resumed."), v.read())
}

// update handles the messages every live screen gets: its clock's and its
// poll chain's ticks, answers to its reads, an action's result and keys.
// handled is false for every other message.
func (v *liveScreen) update(msg tea.Msg) (cmd tea.Cmd, handled bool) {
	switch msg := msg.(type) {
	case OrderChangedMsg:
		// Another session (or an approval) acted on this order: read it
		// now, unless the agent paused.
		if msg.about(v.c, v.provider, v.order) && !v.live.paused {
			return v.live.refreshNow(v.read), true
		}
		return nil, true
	case orderLoadedMsg:
		return v.answered(msg.gen, msg.err, msg.order == nil, func() tea.Cmd { return v.gotOrder(msg.order) }), true
	case refundLoadedMsg:
		return v.answered(msg.gen, msg.err, msg.refund == nil, func() tea.Cmd { return v.gotRefund(msg.refund) }), true
	case tea.KeyMsg:
		return v.key(msg), true
	case agoTickMsg:
		return v.ago.on(&v.base, msg), true
	case pollTickMsg:
		if !v.live.due(msg) {
			return nil, true
		}
		return v.read(), true
	case PoppedMsg:
		done, ok := msg.Result.(ActionDone)
		if !ok {
			return nil, true
		}
		v.took(done)
		return v.live.afterAction(done, v.read), true
	}
	return nil, false
}
