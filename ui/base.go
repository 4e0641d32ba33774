package ui

import (
	"context"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// base is what every screen embeds: its id for routed messages, the shared
// context, its size, and a context.Context that lives while the screen is on
// top. Suspend cancels it, so requests in flight stop when the agent leaves.
type base struct {
	c      *Context
	id     int
	width  int
	height int
	ctx    context.Context
	cancel context.CancelFunc
}

func newBase(c *Context) base {
	ctx, cancel := context.WithCancel(context.Background())
	return base{c: c, id: c.NewID(), width: c.Width, height: c.BodyHeight(), ctx: ctx, cancel: cancel}
}

// ScreenID implements Screen.
func (b *base) ScreenID() int { return b.id }

// SetSize records the body size; screens with layout override it and call this.
func (b *base) SetSize(w, h int) { b.width, b.height = w, h }

// suspend cancels whatever the screen has in flight.
func (b *base) suspend() { b.cancel() }

// resume gives the screen a fresh context after a suspend.
func (b *base) resume() {
	if b.ctx.Err() != nil {
		b.ctx, b.cancel = context.WithCancel(context.Background())
	}
}

// call runs an API call routed back to this screen, with the shared deadline.
func call[T any](b *base, fn func(context.Context) (T, error), wrap func(T, error) tea.Msg) tea.Cmd {
	return Routed(b.id, Call(b.ctx, b.c.Timeout, fn, wrap))
}

// push opens next on top of this screen. It happens as soon as this
// screen's Update returns (see Context.nav); the nil command is there so
// call sites read "return s.push(...)".
func (b *base) push(next Screen) tea.Cmd {
	b.c.nav = append(b.c.nav, navOp{push: next, from: b.id})
	return nil
}

// pop closes this screen (and no other) with an optional result for the
// screen beneath, as soon as this screen's Update returns.
func (b *base) pop(result any) tea.Cmd {
	b.c.nav = append(b.c.nav, navOp{result: result, from: b.id})
	return nil
}

// tick schedules msg after d, routed back to this screen.
func (b *base) tick(d time.Duration, msg tea.Msg) tea.Cmd {
	return Routed(b.id, tea.Tick(d, func(time.Time) tea.Msg { return msg }))
}
