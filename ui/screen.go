package ui

import (
	"context"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Screen is one page of the console. The root draws the chrome (header,
// breadcrumb, status line, help footer) around View(); a screen draws only
// its body, at the size given by SetSize.
type Screen interface {
	// Init starts the screen's first work (a load) when it is pushed.
	Init() tea.Cmd
	// Update handles keys (only when the screen is on top) and its own
	// routed messages (see Routed).
	Update(msg tea.Msg) (Screen, tea.Cmd)
	// View renders the body. Keep it cheap: format rows when data changes.
	View() string
	// SetSize tells the screen the body's size in cells.
	SetSize(width, height int)
	// Title is the screen's part of the breadcrumb ("Order 1a2b3c4d5e").
	Title() string
	// Help lists the keys shown in the one-line footer and in full help.
	Help() []key.Binding
	// Suspend is called when the screen is covered or popped: it must stop
	// polling (bump its generation) and cancel requests in flight.
	Suspend()
	// Resume is called when the screen is on top again; it may restart polls.
	Resume() tea.Cmd
	// ScreenID is the screen's id, unique in the session: routed messages
	// (see Routed) and pops (base.pop) find their screen by it. base has it.
	ScreenID() int
}

// Typing is implemented by screens that take free text (forms, filters,
// confirmations). While Typing() is true the root passes every key to the
// screen instead of treating q, ?, tab and friends as commands.
type Typing interface{ Typing() bool }

// Busy is implemented by screens with a money request in flight; q then asks
// before quitting, because quitting would leave the agent not knowing.
type Busy interface{ Busy() bool }

// PoppedMsg reaches the screen uncovered by base.pop with a result (a form's
// saved values, say).
type PoppedMsg struct{ Result any }

// StatusMsg sets the status line. Err wins over Text; a nil Err with empty
// Text clears it.
type StatusMsg struct {
	Text string
	Err  error
}

// Status returns a command that shows text in the status line.
func Status(text string) tea.Cmd { return func() tea.Msg { return StatusMsg{Text: text} } }

// StatusErr returns a command that shows an error in the status line.
func StatusErr(err error) tea.Cmd { return func() tea.Msg { return StatusMsg{Err: err} } }

// routedMsg carries a message to one screen, wherever it is in the stacks, so
// a load that finishes after the agent moved on reaches the screen that asked
// (or is dropped with it).
type routedMsg struct {
	to  int
	msg tea.Msg
}

// Routed wraps a command so its message goes to the screen with id. Wrap
// leaf commands (API calls, ticks), not tea.Batch.
func Routed(id int, cmd tea.Cmd) tea.Cmd {
	if cmd == nil {
		return nil
	}
	return func() tea.Msg {
		msg := cmd()
		if msg == nil {
			return nil
		}
		return routedMsg{to: id, msg: msg}
	}
}

// Call runs fn in a command with its own deadline derived from parent (the
// screen's context, cancelled when the screen goes away) and turns the result
// into a message with wrap. Every API call in the console goes through here.
func Call[T any](parent context.Context, timeout time.Duration, fn func(context.Context) (T, error), wrap func(T, error) tea.Msg) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, timeout)
		defer cancel()
		v, err := fn(ctx)
		return wrap(v, err)
	}
}
