package ui

import (
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/shopspring/decimal"

	"paydesk/api"
	"paydesk/model"
)

func editorFor(t *testing.T, md model.Metadata, w, h int) *editMetadataScreen {
	t.Helper()
	c := &Context{Width: w, Height: h, Styles: testStyles(), Keys: DefaultKeys(false),
		Providers: []api.Provider{benchProvider{}}, Refresh: time.Second, Timeout: time.Second,
		Now: func() time.Time { return testStart }, NewKey: func() string { return "k" }}
	usd := model.Money{Amount: decimal.RequireFromString("4.00"), Currency: "USD"}
	o := &model.Order{ID: "o1", Ref: "o1", Currency: "USD",
		Refunds: []model.Refund{{ID: "re1", Amount: usd, Status: model.StatusSucceeded, Metadata: md}}}
	s := newEditRefundScreen(c, 0, o, "re1").(*editMetadataScreen)
	s.SetSize(w, c.BodyHeight())
	return s
}

// TestEditorIntentMarkerIsReadOnly: paydesk's own marker cannot be deleted
// or changed in the editor (it would come back, or a retry would miss it);
// it is shown, read-only, and saved as it was.
func TestEditorIntentMarkerIsReadOnly(t *testing.T) {
	s := editorFor(t, model.Metadata{"paydesk_intent": "abc-123", "ticket": "CS-1"}, 80, 23)
	v := s.View()
	if !strings.Contains(v, "paydesk_intent") || !strings.Contains(v, "read-only") {
		t.Fatalf("the marker is not shown read-only:\n%s", v)
	}
	for range 4 { // delete every row the keys reach
		s.Update(tea_ctrl("d"))
	}
	md, _, errs := s.values()
	if len(errs) != 0 || md["paydesk_intent"] != "abc-123" {
		t.Fatalf("the marker did not survive: %v %v", md, errs)
	}
}

// TestEditorArrowsMoveByRow: ↓ goes to the row below (same column), tab
// across.
func TestEditorArrowsMoveByRow(t *testing.T) {
	s := editorFor(t, model.Metadata{"a": "1", "b": "2", "c": "3"}, 80, 23)
	s.Update(keyMsg("down"))
	if s.focus != 2 {
		t.Fatalf("↓ from row 1's key went to input %d, want 2 (row 2's key)", s.focus)
	}
	s.Update(keyMsg("tab"))
	if s.focus != 3 {
		t.Fatalf("tab went to input %d, want 3 (row 2's value)", s.focus)
	}
	s.Update(keyMsg("up"))
	if s.focus != 1 {
		t.Fatalf("↑ went to input %d, want 1 (row 1's value)", s.focus)
	}
}

// TestEditorErrorsFollowTheRows: errors shown after enter go away as the
// rows are fixed or deleted, and at 80x23 a long list of them is cut at a
// whole message with a count, never mid-sentence.
func TestEditorErrorsFollowTheRows(t *testing.T) {
	s := editorFor(t, model.Metadata{"a": "1"}, 80, 23)
	s.Update(tea_ctrl("n"))
	s.Update(keyMsg("tab")) // the new row's value
	s.typeInto("orphan")
	s.Update(keyMsg("enter"))
	if !strings.Contains(s.View(), "is blank but the row has a value") {
		t.Fatalf("no error:\n%s", s.View())
	}
	s.Update(tea_ctrl("d"))
	if strings.Contains(s.View(), "is blank") {
		t.Fatalf("the error stayed after its row was deleted:\n%s", s.View())
	}
	// Many errors at 80x23.
	md := model.Metadata{}
	for _, k := range []string{"k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"} {
		md[k] = "v"
	}
	s = editorFor(t, md, 80, 23)
	for i := range s.rows {
		s.rows[i].v.SetValue("mail me at someone" + string(rune('a'+i)) + "@example.com please")
	}
	s.Update(keyMsg("enter"))
	v := s.View()
	if n := strings.Count(v, "\n") + 1; n > s.height {
		t.Fatalf("%d lines in a body of %d:\n%s", n, s.height, v)
	}
	if !strings.Contains(v, "more") {
		t.Fatalf("errors cut without saying how many are left:\n%s", v)
	}
}

// TestEditorEmptyKeyHasNoPlaceholder: a new row's key is blank, not a
// faint "key" that reads like a key called key.
func TestEditorEmptyKeyHasNoPlaceholder(t *testing.T) {
	s := editorFor(t, model.Metadata{}, 80, 23)
	if s.rows[0].k.Placeholder != "" || s.rows[0].v.Placeholder != "" {
		t.Fatalf("placeholders %q/%q", s.rows[0].k.Placeholder, s.rows[0].v.Placeholder)
	}
}

// TestEditorFocusedCellVisibleWithoutColour: under NO_COLOR (the Ascii
// profile) the cell being edited is marked with a glyph.
func TestEditorFocusedCellVisibleWithoutColour(t *testing.T) {
	s := editorFor(t, model.Metadata{"a": "1", "b": "2"}, 80, 23)
	s.Update(keyMsg("tab"))
	lines := strings.Split(s.View(), "\n")
	var row string
	for _, l := range lines {
		if strings.HasPrefix(l, "▸ ") {
			row = l
		}
	}
	if !strings.Contains(row, "› 1") || strings.Contains(row, "› a") {
		t.Fatalf("the edited cell (row a's value) is not marked: %q", row)
	}
}

func tea_ctrl(k string) tea.KeyMsg {
	switch k {
	case "n":
		return tea.KeyMsg{Type: tea.KeyCtrlN}
	case "d":
		return tea.KeyMsg{Type: tea.KeyCtrlD}
	}
	return keyMsg(k)
}

func (s *editMetadataScreen) typeInto(text string) {
	for _, r := range text {
		s.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// TestEditorHeaderLinesUpWithTheCells: "Key" and "Value" stand over the
// text typed under them.
func TestEditorHeaderLinesUpWithTheCells(t *testing.T) {
	s := editorFor(t, model.Metadata{"ticket": "CS-0675"}, 80, 23)
	lines := strings.Split(s.View(), "\n")
	var head, row string
	for _, l := range lines {
		switch {
		case strings.Contains(l, "Key") && strings.Contains(l, "Value"):
			head = l
		case strings.Contains(l, "CS-0675"):
			row = l
		}
	}
	if hv, rv := strings.Index(head, "Value"), strings.Index(row, "CS-0675"); hv != lipgloss.Width(row[:rv]) {
		t.Fatalf("Value at %d, the value at %d:\n%q\n%q", hv, lipgloss.Width(row[:rv]), head, row)
	}
}
