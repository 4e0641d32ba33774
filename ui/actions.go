package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// action is one thing a key does on a screen (after k9s's KeyAction). A
// screen lists its actions once, in the order its help shows them; key
// handling and help both walk that list, so what the footer offers and
// what a key does cannot drift apart.
type action struct {
	// key is the binding from the KeyMap (keys.go); its help text is what
	// the footer shows.
	key key.Binding
	// enabled says whether pressing the key does this now; nil is always.
	// A key whose action is not enabled falls through to the next action
	// with the same key (one that says why not, say), then to refusal.
	enabled func() bool
	// shown says whether help offers it; nil is "whenever enabled". An
	// action can act without being offered (an explanation of why a key
	// does nothing here), or be enabled without being worth offering.
	shown func() bool
	run   func(msg tea.KeyMsg) tea.Cmd
}

func (a action) on() bool { return a.enabled == nil || a.enabled() }

func (a action) offered() bool {
	if !a.key.Enabled() { // a read-only agent's mutating keys
		return false
	}
	if a.shown == nil {
		return a.on()
	}
	return a.shown()
}

// never and always are for enabled and shown: an action never offered in
// help (an explanation why a key does nothing here), or listed for help
// while another part (huh) acts on the key.
func never() bool  { return false }
func always() bool { return true }

// do adapts a command that does not look at the key to action.run.
func do(f func() tea.Cmd) func(tea.KeyMsg) tea.Cmd {
	return func(tea.KeyMsg) tea.Cmd { return f() }
}

// runAction runs the first enabled action bound to msg. handled is false
// when none is.
func runAction(actions []action, msg tea.KeyMsg) (cmd tea.Cmd, handled bool) {
	for _, a := range actions {
		if key.Matches(msg, a.key) && a.on() {
			return a.run(msg), true
		}
	}
	return nil, false
}

// actionHelp is the help of the actions offered now, in list order.
func actionHelp(actions []action) []key.Binding {
	var out []key.Binding
	for _, a := range actions {
		if a.offered() {
			out = append(out, a.key)
		}
	}
	return out
}

// liveActions are the keys every live screen ends with: refresh, pause
// (its help says what pressing it will do), copy and back.
func (v *liveScreen) liveActions(copyRef func() tea.Cmd) []action {
	k := v.c.Keys
	return []action{
		{key: k.Refresh, run: do(v.refresh)},
		{key: v.live.pauseKey(k), run: do(v.togglePause)},
		{key: k.Copy, run: do(copyRef)},
		{key: k.Back, run: do(v.back)},
	}
}

// back closes the screen.
func (b *base) back() tea.Cmd { return b.pop(nil) }
