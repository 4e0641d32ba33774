package ui

import (
	"slices"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"paydesk/api"
)

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
