package ui

import (
	"io"
	"regexp"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"
)

// copyable is what y may put on the clipboard: ids and refs only. Free text
// from a provider never goes there, so a hostile value cannot plant a command
// for the agent to paste, and a card number cannot leave the screen.
var copyable = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$`)

// OSC52Copier returns a Context.Copy that writes an OSC 52 sequence to out.
// It works over SSH and inside tmux (with set-clipboard on), where no
// clipboard tool exists on the jump host.
func OSC52Copier(out io.Writer) func(string) tea.Cmd {
	o := termenv.NewOutput(out)
	return func(text string) tea.Cmd {
		return func() tea.Msg {
			if !copyable.MatchString(text) {
				return StatusMsg{Text: "Only refs and ids can be copied."}
			}
			o.Copy(text)
			return StatusMsg{Text: "Sent " + text + " to the terminal's clipboard (OSC 52)."}
		}
	}
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
