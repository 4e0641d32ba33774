package ui

import (
	"slices"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestActionTable: a key runs the first enabled action bound to it (an
// action not enabled falls through to the explanation after it), help lists
// the offered actions in table order, and a binding switched off for a
// read-only agent is neither run nor offered.
func TestActionTable(t *testing.T) {
	k := DefaultKeys(false)
	ro := DefaultKeys(true)
	var ran []string
	mark := func(name string) func(tea.KeyMsg) tea.Cmd {
		return func(tea.KeyMsg) tea.Cmd { ran = append(ran, name); return nil }
	}
	canEdit := false
	actions := []action{
		{key: k.Edit, enabled: func() bool { return canEdit }, run: mark("edit")},
		{key: k.Edit, shown: never, run: mark("why not")},
		{key: ro.Cancel, run: mark("cancel")},
		{key: k.Refresh, run: mark("refresh")},
		{key: k.Back, enabled: never, shown: always, run: mark("back")},
	}
	press := func(s string) bool {
		_, ok := runAction(actions, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)})
		return ok
	}
	helpKeys := func() []string {
		var out []string
		for _, b := range actionHelp(actions) {
			out = append(out, b.Help().Key)
		}
		return out
	}

	if !press("e") || ran[len(ran)-1] != "why not" {
		t.Fatalf("e with edit not enabled ran %v, want the explanation", ran)
	}
	if got := helpKeys(); !slices.Equal(got, []string{"r", "esc"}) {
		t.Fatalf("help = %v, want [r esc]: edit not enabled, its explanation never shown, cancel off", got)
	}
	canEdit = true
	if !press("e") || ran[len(ran)-1] != "edit" {
		t.Fatalf("e with edit enabled ran %v, want edit", ran)
	}
	if got := helpKeys(); !slices.Equal(got, []string{"e", "r", "esc"}) {
		t.Fatalf("help = %v, want [e r esc]", got)
	}
	if press("c") {
		t.Fatal("c ran although the read-only key map switched it off")
	}
	if press("x") {
		t.Fatal("a key no action is bound to was handled")
	}
	if _, ok := runAction(actions, tea.KeyMsg{Type: tea.KeyEsc}); ok {
		t.Fatal("esc ran an action that is listed for help only")
	}
}
