package ui

import (
	"io"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"

	"paydesk/model"
	"paydesk/model/safetext"
)

// pair draws two label/value cells on one line; values are already safe.
func pair(st *Styles, l1, v1, l2, v2 string, col int) string {
	return kvCell(st, l1, v1, col) + " " + kvCell(st, l2, v2, col)
}

const labelWidth = 14

// kvCell is "Label       value" in w cells; v may carry styling.
func kvCell(st *Styles, label, v string, w int) string {
	lw := labelWidth
	if w-lw < 17 { // narrow: the label gives way before a date would
		lw = max(w-17, 10)
	}
	label = safetext.Truncate(label, lw-1)
	l := st.Label.Render(padRight(label, lipgloss.Width(label), lw))
	vw := w - lw
	if lipgloss.Width(v) > vw {
		v = fitID(v, vw) // only plain values get this long
	}
	return l + padRight(v, lipgloss.Width(v), vw)
}

// titleLine is "Order 1a2b3c4d5e  ✓ succeeded  succeeded" with the live
// badge on the right; a long id gives way in the middle, then the
// provider's raw status goes.
func titleLine(c *Context, width int, title string, status model.Status, raw string, badge string) string {
	st := c.Styles
	room := width - max(lipgloss.Width(badge), badgeSlot(width)) - 2
	cell := providerStatusCell(status, raw)
	stxt := "  " + st.ForStatus(status).Render(cell)
	rtxt := ""
	// The provider's own word, for the agent on the phone with its support;
	// left out when it says the same as ours.
	if raw != "" && !strings.EqualFold(raw, string(status)) && !strings.EqualFold(raw, status.Label()) &&
		!strings.HasSuffix(cell, " "+raw) {
		rtxt = "  " + st.Faint.Render("("+c.Provider().Name()+": "+safetext.Truncate(raw, 24)+")")
	}
	tw := room - lipgloss.Width(stxt) - lipgloss.Width(rtxt)
	if tw < 16 {
		rtxt = ""
		tw = room - lipgloss.Width(stxt)
	}
	word, id, _ := strings.Cut(title, " ")
	t := word + " " + fitID(id, max(tw-len(word)-1, 8))
	return spread(st.Title.Render(t)+stxt+rtxt, badge, width)
}

func sectionTitle(st *Styles, name string, n int, focused bool) string {
	t := name + " (" + strconv.Itoa(n) + ")"
	if focused {
		return st.Bold.Render("▌" + t)
	}
	return st.Faint.Render(" " + t)
}

// layoutRenderer is for wrapText only: layout, never colour, so it writes
// nowhere and no session's colour profile depends on it. lipgloss's
// process-wide default renderer (tied to stdout) stays unused. One is made
// once, not per call: wrapText runs inside View on some screens.
var layoutRenderer = lipgloss.NewRenderer(io.Discard)

// wrapText wraps plain, already-safe text to w cells.
func wrapText(s string, w int) string {
	return layoutRenderer.NewStyle().Width(max(w, 20)).Render(s)
}
