package ui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// scroller is a pre-rendered block of lines with a scroll offset: View
// slices the visible window, nothing is formatted per frame.
type scroller struct {
	lines []string
	off   int
}

func (sc *scroller) set(lines []string) {
	sc.lines = lines
	sc.off = min(sc.off, max(len(lines)-1, 0))
}

func (sc *scroller) key(k *KeyMap, msg tea.KeyMsg, h int) bool {
	maxOff := max(len(sc.lines)-h, 0)
	switch {
	case key.Matches(msg, k.Up):
		sc.off--
	case key.Matches(msg, k.Down):
		sc.off++
	case key.Matches(msg, k.PageUp):
		sc.off -= h
	case key.Matches(msg, k.PageDown):
		sc.off += h
	case key.Matches(msg, k.Home):
		sc.off = 0
	case key.Matches(msg, k.End):
		sc.off = maxOff
	default:
		return false
	}
	sc.off = max(min(sc.off, maxOff), 0)
	return true
}

// keyOr is key handling for a screen that is one scrolled page: the cursor
// keys scroll it, other keys go to the screen's actions. handled is false
// when neither took the key.
func (sc *scroller) keyOr(k *KeyMap, msg tea.KeyMsg, h int, actions func() []action) (cmd tea.Cmd, handled bool) {
	if sc.key(k, msg, h) {
		return nil, true
	}
	return runAction(actions(), msg)
}

// view shows h lines from the offset; when more is hidden below, the last
// line says so.
func (sc *scroller) view(st *Styles, h int) string {
	off := max(min(sc.off, len(sc.lines)-h), 0)
	end := min(off+h, len(sc.lines))
	vis := sc.lines[off:end]
	if end < len(sc.lines) && len(vis) > 0 {
		vis = append(vis[:len(vis)-1:len(vis)-1], st.Faint.Render("  ↓ "+strconv.Itoa(len(sc.lines)-end+1)+" more lines (↓/pgdn)"))
	}
	if off > 0 && len(vis) > 0 {
		vis = append([]string{st.Faint.Render("  ↑ " + strconv.Itoa(off+1) + " lines above")}, vis[1:]...)
	}
	return strings.Join(vis, "\n")
}
