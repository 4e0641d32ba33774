package ui

import (
	"context"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"paydesk/api"
	"paydesk/model/safetext"
)

// confirmScreen is the typed confirmation in front of every money action. No
// single key confirms: the agent types the word shown (the order ref, or the
// last 6 characters of a long id) and presses enter. A paste is refused, so a
// clipboard planted by a hostile string cannot confirm for them. Just before
// sending, the order is read again; if what will happen has changed, the new
// figures are shown and the agent confirms again.
type confirmScreen struct {
	base
	title   string
	lines   []string // what will happen, already terminal-safe
	word    string
	input   textinput.Model
	spin    spinner.Model
	recheck func(ctx context.Context) (lines []string, changed bool, err error)
	send    func(ctx context.Context) (ActionDone, error)
	// fromForm: success pops to a form (which pops again to its opener).
	fromForm bool
	// renew starts a new logical action (new idempotency key) after a
	// definite failure, so confirming again is a fresh attempt.
	renew func()
	// frozen is set once an attempt's outcome is unknown: enter then sends
	// the identical request with the same key, without re-reading first
	// (a re-read would see the refund if it happened and change the key).
	frozen bool

	checking, sending bool
	note              string // why the agent must look again
	err               error
}

type recheckedMsg struct {
	lines   []string
	changed bool
	err     error
}

type sentMsg struct {
	done ActionDone
	err  error
}

func newConfirmScreen(c *Context, title string, lines []string, word string) *confirmScreen {
	in := newTextInput(c.Styles.R)
	in.Prompt = "› "
	// No placeholder: a faint ref in the box reads as already typed.
	in.CharLimit = 64
	in.Width = max(len(word)+2, 16)
	in.Focus()
	sp := spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(c.Styles.R.NewStyle()))
	return &confirmScreen{base: newBase(c), title: title, lines: lines, word: word, input: in, spin: sp}
}

func (s *confirmScreen) Init() tea.Cmd { return textinput.Blink }
func (s *confirmScreen) Title() string { return s.title }
func (s *confirmScreen) Typing() bool  { return !s.sending } // esc, q and tab are the screen's own; while sending, q asks (the root's quit guard)
func (s *confirmScreen) Busy() bool    { return s.sending }
func (s *confirmScreen) Suspend()      { s.input.Blur() } // never cancel a money request half-way
func (s *confirmScreen) Resume() tea.Cmd {
	s.resume()
	return s.input.Focus()
}

// fits: the whole confirmation (figures, word, input) is on screen. The root
// shows a notice instead, and swallows keys, while it is not.
func (s *confirmScreen) fits() bool {
	// What must be seen is what is confirmed and where to type; a note or
	// an error below it (long after a failed send) may be cut, and the
	// status line repeats the error. Otherwise an OUTCOME UNKNOWN would
	// replace the whole screen with the notice at 80x23.
	note, err := s.note, s.err
	s.note, s.err = "", nil
	v := s.View()
	s.note, s.err = note, err
	return s.width >= MinWidth && strings.Count(v, "\n") < s.height
}

// clearTyped forgets a half-typed word when the screen shrinks out of view.
func (s *confirmScreen) clearTyped() { s.input.Reset() }

func (s *confirmScreen) Help() []key.Binding { return actionHelp(s.actions()) }

// actions are the confirmation's keys. Other keys type the word; while the
// order is re-read only esc works, and while the request is out none does.
func (s *confirmScreen) actions() []action {
	k := s.c.Keys
	switch {
	case s.checking:
		return []action{{key: relabel(k.Back, "back (nothing is sent)"), run: do(s.backUnsent)}}
	case s.sending:
		return nil // keys wait for the provider's answer
	}
	return []action{
		{key: relabel(k.Enter, "confirm (after typing "+safetext.Line(s.word)+")"), run: do(s.confirm)},
		{key: k.Back, run: do(s.back)},
	}
}

// backUnsent is esc during the re-read: nothing has gone out yet, so the
// re-read is dropped and the agent is told so, because "esc" while a
// spinner turns reads like it might have been too late.
func (s *confirmScreen) backUnsent() tea.Cmd {
	s.checking = false
	s.cancel()
	return tea.Batch(s.pop(nil), Status("Nothing was sent: you went back before it was sent."))
}

func (s *confirmScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case recheckedMsg:
		if !s.checking {
			return s, nil // the agent went back during the re-read
		}
		s.checking = false
		if msg.err != nil {
			s.err = msg.err
			return s, nil
		}
		if msg.changed {
			s.lines = msg.lines
			s.note = "The order changed since this screen opened. Check the new figures above and confirm again."
			s.input.Reset()
			return s, nil
		}
		return s, s.startSend()
	case sentMsg:
		s.sending = false
		if pe, ok := api.AsPendingApproval(msg.err); ok {
			// Above the limit: nothing was sent, a request waits for a
			// second person. That is this flow's result, not an error.
			msg.done, msg.err = ActionDone{Message: pe.Error()}, nil
		}
		if msg.err != nil {
			s.err = msg.err
			s.frozen = api.IsOutcomeUnknown(msg.err)
			if !s.frozen && s.renew != nil {
				s.renew()
			}
			// The provider refused named fields (Moyasar's 422, Digital
			// River's parameter errors): back to the form, where each
			// message stands next to its field and every value is kept.
			if e, ok := api.AsError(msg.err); ok && s.fromForm && !s.frozen && namesFormField(e.Fields) {
				return s, tea.Batch(s.pop(refused{fields: e.Fields}), StatusErr(msg.err))
			}
			return s, StatusErr(msg.err)
		}
		if s.fromForm {
			return s, s.pop(confirmed{done: msg.done})
		}
		return s, s.pop(msg.done)
	case spinner.TickMsg:
		if s.sending || s.checking {
			var cmd tea.Cmd
			s.spin, cmd = s.spin.Update(msg)
			return s, cmd
		}
		return s, nil
	case tea.KeyMsg:
		if cmd, ok := runAction(s.actions(), msg); ok {
			return s, cmd
		}
		if s.sending || s.checking {
			return s, nil // keys wait until the provider has answered
		}
		if msg.Paste {
			s.note = "Pasting is not accepted here: type the confirmation word."
			return s, nil
		}
		var cmd tea.Cmd
		s.input, cmd = s.input.Update(msg)
		return s, cmd
	}
	return s, nil
}

func (s *confirmScreen) confirm() tea.Cmd {
	typed := strings.TrimSpace(s.input.Value())
	if typed != s.word {
		if typed == "" {
			s.note = "Nothing was sent: type " + safetext.Line(s.word) + " to confirm, or esc to go back."
		} else {
			s.note = "That is not " + safetext.Line(s.word) + ". Nothing was sent."
		}
		return nil
	}
	s.note, s.err = "", nil
	if s.recheck != nil && !s.frozen {
		s.checking = true
		return tea.Batch(s.spin.Tick, call(&s.base, func(ctx context.Context) (recheckedMsg, error) {
			lines, changed, err := s.recheck(ctx)
			return recheckedMsg{lines: lines, changed: changed, err: err}, nil
		}, func(m recheckedMsg, _ error) tea.Msg { return m }))
	}
	return s.startSend()
}

// startSend sends the action. The request runs on a context of its own, not
// the screen's: once confirmed, leaving the screen must not cut a refund off
// half-way and turn it into an unknown.
func (s *confirmScreen) startSend() tea.Cmd {
	s.sending = true
	send := s.send
	return tea.Batch(s.spin.Tick, Routed(s.id, Call(context.Background(), moneyTimeout,
		func(ctx context.Context) (ActionDone, error) { return send(ctx) },
		func(d ActionDone, err error) tea.Msg { return sentMsg{done: d, err: err} })))
}

func (s *confirmScreen) View() string {
	st := s.c.Styles
	var b strings.Builder
	b.WriteString(st.Title.Render(safetext.Line(s.title)))
	b.WriteString("\n\n")
	for _, l := range s.lines {
		b.WriteString(s.fit(l))
		b.WriteString("\n")
	}
	b.WriteString("\n")
	switch {
	case s.sending:
		b.WriteString(st.StatusWarn.Render(s.spin.View() + " Sending… do not close paydesk until the provider answers."))
	case s.checking:
		b.WriteString(st.Faint.Render(s.spin.View() + " Re-reading the order before sending…"))
	default:
		b.WriteString(st.Danger.Render("Type "+s.word+" and press enter to confirm") + st.Faint.Render(" · esc goes back"))
		b.WriteString("\n")
		b.WriteString(st.InputFocused.Render(s.input.View()))
	}
	if s.note != "" {
		b.WriteString("\n" + s.fit(st.StatusWarn.Render(s.note)))
	}
	if s.err != nil {
		b.WriteString("\n" + s.fit(s.errorText()))
	}
	return b.String()
}

// fit wraps a line wider than the screen (a long reason, the provider's
// error and its explanation) instead of letting the terminal cut it off.
func (s *confirmScreen) fit(l string) string {
	if s.width <= 0 || lipgloss.Width(l) <= s.width {
		return l
	}
	return ansi.Wrap(l, s.width, "")
}

func (s *confirmScreen) errorText() string {
	st := s.c.Styles
	if api.IsOutcomeUnknown(s.err) {
		return st.Unknown.Render("⚠ OUTCOME UNKNOWN: the request reached the provider but no answer came back.") + "\n" +
			st.Faint.Render("It may have happened. Do not refund again by hand: press enter to check again with the same request and key.")
	}
	return st.StatusErr.Render("✗ " + DescribeError(s.err))
}
