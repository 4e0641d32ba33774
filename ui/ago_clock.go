package ui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

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
