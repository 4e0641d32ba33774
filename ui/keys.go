package ui

import "github.com/charmbracelet/bubbles/key"

// KeyMap is every key of the console (DESIGN.md: a contract, shown by ? and
// in the README). Actions that change something are disabled for read-only
// agents, which also removes them from help.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
	Enter, Back                           key.Binding
	Filter, Sort, SortFlip, Goto          key.Binding
	NextProvider, Refresh, Pause          key.Binding
	Edit, RefundPart, RefundAll, Cancel   key.Binding
	Copy, Help, Quit                      key.Binding
	// QuitTyping is the quit that works while a field takes every key (q is
	// typed there).
	QuitTyping key.Binding
	// FocusNext moves between the tables of one screen (payments, refunds).
	FocusNext key.Binding
	// Approvals opens the four-eyes approval requests; only approvers and
	// admins have it switched on (NewSession).
	Approvals key.Binding
	// OpenRefund and PickRefund are Enter and FocusNext on a payment, which
	// lists its refunds in one row of cells: help says what they do there.
	OpenRefund, PickRefund key.Binding
	// Older, Newer, SetRange and RangeToNow move and set the orders list's
	// date range; the list relabels Older and Newer with the range's length.
	Older, Newer, SetRange, RangeToNow key.Binding
	// Widen asks the order index to cover a wider range (the search screen).
	Widen key.Binding
	// Form holds the keys of forms and the metadata editor.
	Form FormKeys
}

// FormKeys are the keys inside forms and the metadata editor, where letters
// are text (README, below the Keys table). Enter and esc there are the
// console's Enter and Back, relabelled by each screen for what they do in it.
type FormKeys struct {
	NextCell, PrevField key.Binding
	// RowDown and RowUp move between the editor's rows; RowDown's help
	// speaks for both.
	RowDown, RowUp    key.Binding
	AddRow, DeleteRow key.Binding
}

// DefaultKeys returns the key map; readOnly switches off every mutating key.
func DefaultKeys(readOnly bool) *KeyMap {
	k := &KeyMap{
		Up:           key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:         key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:       key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown:     key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Home:         key.NewBinding(key.WithKeys("home"), key.WithHelp("home", "first")),
		End:          key.NewBinding(key.WithKeys("end"), key.WithHelp("end", "last")),
		Enter:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:         key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Filter:       key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Sort:         key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort column")),
		SortFlip:     key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "flip sort")),
		Goto:         key.NewBinding(key.WithKeys("g"), key.WithHelp("g", "find order")),
		NextProvider: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next provider")),
		Refresh:      key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Pause:        key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause live")),
		Edit:         key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit metadata")),
		RefundPart:   key.NewBinding(key.WithKeys("f"), key.WithHelp("f", "refund part")),
		RefundAll:    key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "refund order")),
		Cancel:       key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "cancel payment")),
		Copy:         key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy ref")),
		Help:         key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:         key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		QuitTyping:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		FocusNext:    key.NewBinding(key.WithKeys("right", "left", "l", "h"), key.WithHelp("←/→", "payments/refunds")),
		Approvals:    key.NewBinding(key.WithKeys("A"), key.WithHelp("A", "approvals")),
		Older:        key.NewBinding(key.WithKeys("["), key.WithHelp("[", "30 days earlier")),
		Newer:        key.NewBinding(key.WithKeys("]"), key.WithHelp("]", "30 days later")),
		SetRange:     key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "set date range")),
		RangeToNow:   key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "back to now")),
		Widen:        key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "index a wider range")),
	}
	k.Approvals.SetEnabled(false)
	k.Form = FormKeys{
		NextCell:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next cell")),
		PrevField: key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous")),
		RowDown:   key.NewBinding(key.WithKeys("down"), key.WithHelp("↑/↓", "row")),
		RowUp:     key.NewBinding(key.WithKeys("up")),
		AddRow:    key.NewBinding(key.WithKeys("ctrl+n"), key.WithHelp("ctrl+n", "add row")),
		DeleteRow: key.NewBinding(key.WithKeys("ctrl+d"), key.WithHelp("ctrl+d", "delete row")),
	}
	k.OpenRefund = relabel(k.Enter, "open refund")
	k.PickRefund = relabel(k.FocusNext, "pick refund")
	if readOnly {
		for _, b := range []*key.Binding{&k.Edit, &k.RefundPart, &k.RefundAll, &k.Cancel} {
			b.SetEnabled(false)
		}
	}
	return k
}

// Global lists the keys every screen shares, for full help.
func (k *KeyMap) Global() []key.Binding {
	return []key.Binding{k.Back, k.NextProvider, k.Approvals, k.Help, k.Quit}
}

// Movement lists the cursor keys, for full help.
func (k *KeyMap) Movement() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End, k.Enter}
}

// relabel is b with another description: the same keys, saying what they do
// on one screen ("enter  open refund", "esc  close without saving").
func relabel(b key.Binding, desc string) key.Binding {
	return key.NewBinding(key.WithKeys(b.Keys()...), key.WithHelp(b.Help().Key, desc))
}
