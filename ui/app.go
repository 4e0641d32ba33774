package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"paydesk/model/safetext"
)

// statusFade is how long an informational status line stays: long enough to
// read, short enough that "watching them settle" is gone once they have.
const statusFade = 10 * time.Second

// chromeLines is what the root draws around a screen's body: header,
// breadcrumb, status line and the one-line help footer.
const chromeLines = 4

// RecoveryMsg reports start-up recovery of earlier sessions' unresolved
// money actions, which runs while the console is up. Until Done, Text stays
// on the status line whenever nothing else is there; Done replaces it with
// Text as an ordinary status (empty: nothing to say).
type RecoveryMsg struct {
	Text string
	Done bool
}

// App is the root model: one stack of screens per provider (so tab comes
// back to where the agent was), the chrome, full help and the quit guard.
type App struct {
	c        *Context
	home     func(c *Context, provider int) Screen
	stacks   [][]Screen
	status   StatusMsg
	statusAt time.Time // when status was set: information fades, errors stay
	// recovery is start-up recovery's progress ("checking 3 earlier
	// actions…"): shown whenever no other status is, until RecoveryMsg.Done.
	recovery string
	showHelp bool
	// quitArmed is set by q while money is in flight: a second q quits.
	quitArmed bool
	help      help.Model
}

// NewApp builds the root. home makes the first screen of a provider's stack
// (the orders list).
func NewApp(c *Context, home func(c *Context, provider int) Screen) *App {
	a := &App{c: c, home: home, stacks: make([][]Screen, len(c.Providers)), help: newHelp(c.Styles.R)}
	a.help.Styles.ShortKey = c.Styles.FooterKey
	a.help.Styles.ShortDesc = c.Styles.Footer
	a.help.Styles.ShortSeparator = c.Styles.Footer
	a.help.Styles.FullKey = c.Styles.FooterKey
	a.help.Styles.FullDesc = c.Styles.Footer
	a.help.Styles.FullSeparator = c.Styles.Footer
	return a
}

// Init opens the active provider's home screen.
func (a *App) Init() tea.Cmd { return tea.Batch(a.ensureHome(), a.startEvents()) }

func (a *App) ensureHome() tea.Cmd {
	i := a.c.Active
	if len(a.stacks[i]) > 0 {
		return a.top().Resume()
	}
	s := a.home(a.c, i)
	s.SetSize(a.c.Width, a.c.BodyHeight())
	a.stacks[i] = []Screen{s}
	return s.Init()
}

func (a *App) stack() []Screen { return a.stacks[a.c.Active] }

func (a *App) top() Screen {
	st := a.stack()
	if len(st) == 0 {
		return nil
	}
	return st[len(st)-1]
}

// Context exposes the shared context, for tests and main.
func (a *App) Context() *Context { return a.c }

// Update routes messages: keys to the top screen (after the root's own keys),
// routed results to the screen that asked, sizes to everyone. Navigation the
// screens asked for is carried out before the next message.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := a.update(msg)
	return a, tea.Batch(cmd, a.navigate())
}

func (a *App) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.c.Width, a.c.Height = msg.Width, msg.Height
		a.help.Width = msg.Width
		small := a.c.Width < MinWidth || a.c.Height < MinHeight
		for _, st := range a.stacks {
			for _, s := range st {
				s.SetSize(a.c.Width, a.c.BodyHeight())
				// A confirmation the agent can no longer see in full
				// loses what was typed into it: they confirm again,
				// looking at what they confirm.
				if f, ok := s.(fitter); ok && (small || !f.fits()) {
					f.clearTyped()
				}
			}
		}
		return nil
	case routedMsg:
		return a.route(msg)
	case openOnMsg: // a search result on another tab (search.go)
		return a.openOn(msg)
	case StatusMsg:
		a.status = msg
		a.statusAt = a.c.Now()
		return nil
	case RecoveryMsg:
		a.recovery = ""
		if !msg.Done {
			a.recovery = msg.Text
		} else if msg.Text != "" {
			a.status, a.statusAt = StatusMsg{Text: msg.Text}, a.c.Now()
		}
		return nil
	case busMsg:
		return a.onEvent(msg.e)
	case approvalsDueMsg:
		return a.onDue(msg)
	case approvalCountMsg:
		return a.onCount(msg)
	case tea.KeyMsg:
		return a.key(msg)
	}
	if t := a.top(); t != nil {
		return a.updateTop(msg)
	}
	return nil
}

func (a *App) key(msg tea.KeyMsg) tea.Cmd {
	k := a.c.Keys
	if a.tooSmall() {
		// Only the notice is on screen: a key typed now would act on
		// something the agent cannot see. Quit is the one key it offers.
		if key.Matches(msg, k.QuitTyping, k.Quit) {
			if a.busy() && !a.quitArmed {
				a.quitArmed = true
				return nil
			}
			return tea.Quit
		}
		return nil
	}
	typing := false
	if t, ok := a.top().(Typing); ok {
		typing = t.Typing()
	}
	topBusy := false
	if b, ok := a.top().(Busy); ok {
		topBusy = b.Busy()
	}
	// While a request is on the wire nothing is being typed, so q means quit.
	if key.Matches(msg, k.QuitTyping) || ((!typing || topBusy) && key.Matches(msg, k.Quit)) {
		if a.busy() && !a.quitArmed {
			a.quitArmed = true
			a.status = StatusMsg{Text: "Money in flight; quitting leaves it unchecked. q again quits, any key stays."}
			a.statusAt = a.c.Now()
			return nil
		}
		return tea.Quit
	}
	if a.quitArmed {
		a.quitArmed = false
		a.status = StatusMsg{}
	}
	if a.showHelp {
		if key.Matches(msg, k.Help, k.Back) {
			a.showHelp = false
		}
		return nil
	}
	if topBusy {
		// A money request is in flight: the agent stays until its answer is
		// on screen (q and ctrl+c ask first).
		return a.updateTop(msg)
	}
	if !typing {
		switch {
		case key.Matches(msg, k.Help):
			a.showHelp = true
			return nil
		case key.Matches(msg, k.NextProvider) && len(a.c.Providers) > 1:
			return a.switchProvider()
		case key.Matches(msg, k.Approvals) && a.c.seesApprovals():
			if _, on := a.top().(*approvalsScreen); !on {
				return a.push(newApprovalsScreen(a.c))
			}
			return nil
		case key.Matches(msg, k.Back) && len(a.stack()) > 1:
			// esc is back on every screen above home; a screen that takes
			// text (a form, a filter) says so with Typing and handles it.
			return a.pop(nil)
		}
	}
	return a.updateTop(msg)
}

func (a *App) updateTop(msg tea.Msg) tea.Cmd {
	st := a.stack()
	if len(st) == 0 {
		return nil
	}
	s, cmd := st[len(st)-1].Update(msg)
	st[len(st)-1] = s
	return cmd
}

// navigate carries out the pushes and pops screens queued during the Update
// that just ran (and any their Init or Resume queue in turn), before the
// next message: a burst of keys ("R" then "esc") navigates in typing order.
func (a *App) navigate() tea.Cmd {
	var cmds []tea.Cmd
	for len(a.c.nav) > 0 {
		op := a.c.nav[0]
		a.c.nav = a.c.nav[1:]
		if op.push == nil {
			cmds = append(cmds, a.popFrom(op.from, op.result))
			continue
		}
		if op.from != screenID(a.top()) {
			continue // asked for by a screen no longer on top: not on another one
		}
		cmds = append(cmds, a.push(op.push))
	}
	return tea.Batch(cmds...)
}

// screenID is a screen's id, 0 for none (an empty stack).
func screenID(s Screen) int {
	if s == nil {
		return 0
	}
	return s.ScreenID()
}

func (a *App) route(m routedMsg) tea.Cmd {
	for i, st := range a.stacks {
		for j, s := range st {
			if s.ScreenID() == m.to {
				ns, cmd := s.Update(m.msg)
				a.stacks[i][j] = ns
				return cmd
			}
		}
	}
	return nil // the screen is gone; so is interest in the answer
}

func (a *App) push(s Screen) tea.Cmd {
	if t := a.top(); t != nil {
		t.Suspend()
	}
	s.SetSize(a.c.Width, a.c.BodyHeight())
	a.stacks[a.c.Active] = append(a.stack(), s)
	a.status = StatusMsg{}
	return s.Init()
}

func (a *App) pop(result any) tea.Cmd {
	st := a.stack()
	if len(st) <= 1 {
		return nil // the home screen stays
	}
	st[len(st)-1].Suspend()
	a.stacks[a.c.Active] = st[:len(st)-1]
	a.dropError()
	cmd := a.top().Resume()
	if result != nil {
		return tea.Batch(cmd, a.updateTop(PoppedMsg{Result: result}))
	}
	return cmd
}

// popFrom pops the screen with id from, with an optional result for the
// screen beneath. A screen that finished something after the agent moved to
// another provider's stack is popped there, quietly; a screen still on a
// stack but covered, or already gone, pops nothing.
func (a *App) popFrom(from int, result any) tea.Cmd {
	for i, st := range a.stacks {
		n := len(st)
		at := slices.IndexFunc(st, func(s Screen) bool { return s.ScreenID() == from })
		switch {
		case at < 0:
			continue
		case at != n-1 || n < 2:
			return nil // covered by another screen, or home: stays
		case i == a.c.Active:
			return a.pop(result)
		}
		st[n-1].Suspend()
		a.stacks[i] = st[:n-1]
		if result != nil {
			ns, cmd := a.stacks[i][n-2].Update(PoppedMsg{Result: result})
			a.stacks[i][n-2] = ns
			return cmd
		}
		return nil
	}
	return nil
}

// dropError clears an error on the status line when the screen it belongs
// to is left: it would read as if it were about the screen now on top.
// Information ("Refund requested …") stays and fades by itself.
func (a *App) dropError() {
	if a.status.Err != nil {
		a.status = StatusMsg{}
	}
}

func (a *App) switchProvider() tea.Cmd {
	if t := a.top(); t != nil {
		t.Suspend()
	}
	a.c.Active = (a.c.Active + 1) % len(a.c.Providers)
	a.status = StatusMsg{}
	return a.ensureHome()
}

func (a *App) busy() bool {
	for _, st := range a.stacks {
		for _, s := range st {
			if b, ok := s.(Busy); ok && b.Busy() {
				return true
			}
		}
	}
	return false
}

// fitter is a screen that must be seen in full to be acted on (a typed
// confirmation): fits says whether it does at its current size, and
// clearTyped drops what was typed into it when it no longer does.
type fitter interface {
	fits() bool
	clearTyped()
}

// tooSmall says the terminal cannot show the console, or not the whole of
// the screen on top.
func (a *App) tooSmall() bool {
	c := a.c
	if c.Width < MinWidth || c.Height < MinHeight {
		return true
	}
	f, ok := a.top().(fitter)
	return ok && !a.showHelp && !f.fits()
}

// notice is what shows instead of the console when it does not fit,
// wrapped to the width there is.
func (a *App) notice() string {
	c := a.c
	var text string
	if c.Width < MinWidth || c.Height < MinHeight {
		text = fmt.Sprintf("paydesk needs a terminal of at least %dx%d. This one is %dx%d: please enlarge it (or zoom out).",
			MinWidth, MinHeight, c.Width, c.Height)
	} else {
		text = fmt.Sprintf("This confirmation does not fit in %dx%d: enlarge the terminal to see what you confirm.", c.Width, c.Height)
	}
	if a.quitArmed {
		text += "\n\nMoney in flight; quitting leaves it unchecked. q again quits."
	} else {
		text += "\n\nKeys wait until it fits; q quits."
	}
	out := layoutRenderer.NewStyle().Width(c.Width).Render(text) // layout only: see layoutRenderer
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	if len(lines) > c.Height {
		lines = lines[:c.Height]
	}
	return strings.Join(lines, "\n")
}

// View draws the chrome and the top screen's body.
func (a *App) View() string {
	c := a.c
	if c.Width == 0 {
		return "" // no size yet: draw nothing rather than a guess
	}
	if a.tooSmall() {
		return a.notice()
	}
	var body string
	switch t := a.top(); {
	case a.showHelp:
		body = a.fullHelp()
	case t != nil:
		body = t.View()
	}
	body = fitHeight(body, c.BodyHeight())
	return strings.Join([]string{a.header(), a.breadcrumb(), body, a.statusLine(), a.footer()}, "\n")
}

func (a *App) header() string {
	s := a.c.Styles
	var tabs []string
	for i, p := range a.c.Providers {
		if i == a.c.Active {
			tabs = append(tabs, s.HeaderActive.Render("▸"+p.Name()))
		} else {
			tabs = append(tabs, s.HeaderTab.Render(" "+p.Name()))
		}
	}
	left := s.Header.Render("paydesk") + "  " + strings.Join(tabs, "  ")
	var badges []string
	if a.c.ReadOnly {
		badges = append(badges, s.ReadOnly.Render("READ-ONLY"))
	}
	if a.c.seesApprovals() && a.c.pendingApprovals > 0 {
		badges = append(badges, s.Sandbox.Render(fmt.Sprintf("%d TO APPROVE", a.c.pendingApprovals)))
	}
	if a.c.Sandbox {
		badges = append(badges, s.Sandbox.Render("SANDBOX"))
	}
	right := strings.Join(badges, " ")
	if lipgloss.Width(left)+1+lipgloss.Width(right) > a.c.Width && len(a.c.Providers) > 1 {
		// Compact: the provider on screen and where it is among the
		// others; the badges (read-only above all) must stay.
		p := a.c.Provider()
		left = s.Header.Render("paydesk") + " " + s.HeaderActive.Render(fmt.Sprintf("▸%s %d/%d", p.Name(), a.c.Active+1, len(a.c.Providers)))
	}
	return spread(left, right, a.c.Width)
}

func (a *App) breadcrumb() string {
	s := a.c.Styles
	var parts []string
	for _, sc := range a.stack() {
		parts = append(parts, safetext.Line(sc.Title()))
	}
	if a.showHelp {
		parts = append(parts, "Help")
	}
	// Too long for the line: drop the oldest parts, never the screen the
	// agent is on.
	line := strings.Join(parts, " › ")
	for len(parts) > 1 && ansi.StringWidth(line) > a.c.Width {
		parts = parts[1:]
		line = "… › " + strings.Join(parts, " › ")
	}
	return s.Crumb.Render(safetext.Truncate(line, a.c.Width))
}

func (a *App) statusLine() string {
	s := a.c.Styles
	switch {
	case a.status.Err != nil:
		return s.StatusErr.Render(safetext.Truncate("✗ "+DescribeError(a.status.Err), a.c.Width))
	case a.status.Text != "" && (a.quitArmed || a.c.Now().Sub(a.statusAt) < statusFade):
		return s.StatusInfo.Render(safetext.Truncate(safetext.Line(a.status.Text), a.c.Width))
	case a.recovery != "":
		return s.StatusInfo.Render(safetext.Truncate(safetext.Line(a.recovery), a.c.Width))
	}
	return ""
}

func (a *App) footer() string {
	var keys []key.Binding
	t := a.top()
	if t != nil && !a.showHelp {
		keys = append(keys, t.Help()...)
	}
	typing, busy := false, false
	if ty, ok := t.(Typing); ok {
		typing = ty.Typing()
	}
	if b, ok := t.(Busy); ok {
		busy = b.Busy()
	}
	switch {
	case a.showHelp:
		keys = []key.Binding{a.c.Keys.Back}
	case busy:
		// Nothing but quit acts while money is on the wire (and q asks).
		keys = append(keys, a.c.Keys.Quit)
	case typing:
		// ? and q are typed into the field here: only ctrl+c quits.
		keys = append(keys, a.c.Keys.QuitTyping)
	default:
		keys = append(keys, a.c.Keys.Help, a.c.Keys.Quit)
	}
	// The help line is styled text of our own: cut it ANSI-aware, never
	// through the provider-text sanitiser (which would show the escapes).
	return ansi.Truncate(a.help.ShortHelpView(keys), a.c.Width, "…")
}

func (a *App) fullHelp() string {
	k := a.c.Keys
	groups := [][]key.Binding{k.Movement()}
	if t := a.top(); t != nil {
		groups = append(groups, t.Help())
	}
	groups = append(groups, k.Global())
	groups = uniqueBindings(groups)
	title := a.c.Styles.Title.Render("Keys")
	if a.c.ReadOnly {
		// No money moves in this session: say what is off, not how it
		// would be confirmed.
		return title + "\n\n" + a.help.FullHelpView(groups) + "\n\n" +
			a.c.Styles.Faint.Width(a.c.Width).Render("Read-only: keys that change anything are switched off.")
	}
	confirm := a.c.Styles.Faint.Width(a.c.Width).Render("Money moves only after you type the order ref shown (the last 6 characters of a long id), then enter. esc always backs out.")
	return title + "\n\n" + a.help.FullHelpView(groups) + "\n\n" + confirm
}

// uniqueBindings drops a key that an earlier group already lists, so full
// help names each key once.
func uniqueBindings(groups [][]key.Binding) [][]key.Binding {
	seen := map[string]bool{}
	var out [][]key.Binding
	for _, g := range groups {
		var kept []key.Binding
		for _, b := range g {
			if h := b.Help().Key; b.Enabled() && !seen[h] {
				seen[h] = true
				kept = append(kept, b)
			}
		}
		if len(kept) > 0 {
			out = append(out, kept)
		}
	}
	return out
}

// spread puts left and right on one line of width w.
func spread(left, right string, w int) string {
	gap := w - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return left
	}
	return left + strings.Repeat(" ", gap) + right
}

// fitHeight pads or cuts s to exactly h lines so the chrome never moves.
func fitHeight(s string, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// NewOrdersScreen is the home screen of every provider's stack: main.go
// passes it to NewApp.
func NewOrdersScreen(c *Context, provider int) Screen { return newOrdersScreen(c, provider) }
