package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"paydesk/api"
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
	if te, ok := api.AsThrottled(err); ok {
		// Not a failure: the budget every session shares is spent for
		// now. Say when the next read goes, and wait at least that long.
		return l.throttled(b, te)
	}
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
		return relabel(k.Pause, "resume live")
	}
	return k.Pause
}

func trimDot(s string) string { return strings.TrimPrefix(s, " · ") }
