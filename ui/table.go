package ui

import (
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"paydesk/model/safetext"
)

// Column describes one table column.
type Column struct {
	Title string
	Width int  // preferred width in cells
	Min   int  // narrowest it may shrink to when space is short (0 = Width)
	Right bool // right-align (money)
	Flex  bool // absorbs the slack; the last Flex column (or the last column) does
	// TrimLeft keeps the end of a value that does not fit, for ASCII values
	// whose start matters least: a date loses its year ("11-20 14:03").
	TrimLeft bool
	// TrimMiddle keeps both ends of an ASCII id that does not fit
	// ("01a2034…7c1d"): time-ordered ids differ at the start, random ones at
	// the end, and the agent needs to tell rows apart.
	TrimMiddle bool
}

// marker is the selection glyph: it survives NO_COLOR and the Ascii profile,
// where the Selected style draws nothing at all.
const (
	marker      = "▸ "
	markerBlur  = "▹ "
	markerBlank = "  "
	markerWidth = 2
)

// Table is a small, fast table: rows are pre-formatted cells set when the
// data changes; View renders only the visible window, and each rendered line
// is cached until the rows or the widths change, so a keypress costs the
// same at 100 rows as at 100k.
type Table struct {
	keys   *KeyMap
	styles *Styles
	cols   []Column
	widths []int
	marks  []string // header suffixes (sort arrows), by column
	rows   [][]string
	// cellStyle, when set, colours one cell of a non-selected row (status
	// glyphs); it is applied once per row and cached with the line.
	cellStyle func(row, col int) (lipgloss.Style, bool)

	cursor, offset int
	width, height  int // height = visible data rows (the header is extra)
	focused        bool
	selectable     bool

	header string
	cache  map[int]string // row -> rendered (styled) line at current widths
	plain  map[int]string // row -> plain line, for the selected row's style
}

// NewTable builds a table with the given columns.
func NewTable(c *Context, cols []Column) *Table {
	t := &Table{keys: c.Keys, styles: c.Styles, cols: cols, marks: make([]string, len(cols)), focused: true, selectable: true}
	t.invalidate()
	return t
}

// SetCellStyle sets the per-cell colour function (nil: no colour).
func (t *Table) SetCellStyle(f func(row, col int) (lipgloss.Style, bool)) {
	t.cellStyle = f
	t.invalidate()
}

// SetColumns replaces the columns (a provider with other amount columns).
func (t *Table) SetColumns(cols []Column) {
	t.cols = cols
	t.marks = make([]string, len(cols))
	t.layout()
}

// SetColumnWidth changes one column's preferred width (an id column that
// grows to the longest id loaded).
func (t *Table) SetColumnWidth(col, w int) {
	if col < 0 || col >= len(t.cols) || t.cols[col].Width == w {
		return
	}
	t.cols[col].Width = w
	t.layout()
}

// SetRows replaces the rows; the cursor stays where it was, clamped.
func (t *Table) SetRows(rows [][]string) {
	t.rows = rows
	t.invalidate()
	t.clamp()
}

// Rows is the number of rows.
func (t *Table) Rows() int { return len(t.rows) }

// Cursor is the selected row, or -1 when the table is empty.
func (t *Table) Cursor() int {
	if len(t.rows) == 0 {
		return -1
	}
	return t.cursor
}

// SetCursor selects row i (clamped).
func (t *Table) SetCursor(i int) {
	t.cursor = i
	t.clamp()
}

// SetFocused says whether the table gets the keys; an unfocused table marks
// its selection with a hollow glyph.
func (t *Table) SetFocused(f bool) { t.focused = f }

// SetSelectable(false) draws no cursor: a read-only listing.
func (t *Table) SetSelectable(b bool) { t.selectable = b }

// Focused reports whether the table has the focus.
func (t *Table) Focused() bool { return t.focused }

// SetMark sets a header suffix for one column (a sort arrow); "" clears it.
func (t *Table) SetMark(col int, mark string) {
	for i := range t.marks {
		t.marks[i] = ""
	}
	if col >= 0 && col < len(t.marks) {
		t.marks[col] = mark
	}
	t.header = t.renderHeader()
}

// SetSize sets the width in cells and the number of visible data rows.
func (t *Table) SetSize(width, rows int) {
	rows = max(rows, 1)
	if width == t.width && rows == t.height {
		return
	}
	t.height = rows
	if width != t.width {
		t.width = width
		t.layout()
	}
	t.clamp()
}

// Height is the number of visible data rows.
func (t *Table) Height() int { return t.height }

// Update moves the cursor for the movement keys; it reports whether the key
// was one of them.
func (t *Table) Update(msg tea.KeyMsg) bool {
	// Fast typing (or key repeat over a slow link) can deliver "jjj" as one
	// message; move once per rune when every rune is a movement key.
	if msg.Type == tea.KeyRunes && len(msg.Runes) > 1 && !msg.Paste {
		for _, r := range msg.Runes {
			one := tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}}
			if !key.Matches(one, t.keys.Up, t.keys.Down) {
				return false
			}
		}
		for _, r := range msg.Runes {
			t.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
		return true
	}
	k := t.keys
	switch {
	case key.Matches(msg, k.Up):
		t.cursor--
	case key.Matches(msg, k.Down):
		t.cursor++
	case key.Matches(msg, k.PageUp):
		t.cursor -= t.height
	case key.Matches(msg, k.PageDown):
		t.cursor += t.height
	case key.Matches(msg, k.Home):
		t.cursor = 0
	case key.Matches(msg, k.End):
		t.cursor = len(t.rows) - 1
	default:
		return false
	}
	t.clamp()
	return true
}

func (t *Table) clamp() {
	n := len(t.rows)
	if t.cursor >= n {
		t.cursor = n - 1
	}
	if t.cursor < 0 {
		t.cursor = 0
	}
	h := max(t.height, 1)
	if t.offset > t.cursor {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+h {
		t.offset = t.cursor - h + 1
	}
	// Keep the window full when the rows shrink under it.
	if t.offset > max(n-h, 0) {
		t.offset = max(n-h, 0)
	}
	if t.offset < 0 {
		t.offset = 0
	}
}

func (t *Table) invalidate() {
	t.cache = make(map[int]string)
	t.plain = make(map[int]string)
	t.header = t.renderHeader()
}

// layout shares the width among the columns: the preferred widths, the flex
// column taking the slack, and when short, columns shrink toward their
// minimum from the right, the flex column last (it holds what is left).
func (t *Table) layout() {
	n := len(t.cols)
	t.widths = make([]int, n)
	if n == 0 {
		t.invalidate()
		return
	}
	avail := t.width - markerWidth - (n - 1)
	flex := n - 1
	total := 0
	for i, c := range t.cols {
		t.widths[i] = c.Width
		total += c.Width
		if c.Flex {
			flex = i
		}
	}
	if total < avail {
		t.widths[flex] += avail - total
	}
	var order []int
	for i := n - 1; i >= 0; i-- {
		if i != flex {
			order = append(order, i)
		}
	}
	order = append(order, flex)
	for _, i := range order {
		if total <= avail {
			break
		}
		minW := t.cols[i].Min
		if minW <= 0 {
			minW = t.cols[i].Width
		}
		cut := min(t.widths[i]-minW, total-avail)
		if cut > 0 {
			t.widths[i] -= cut
			total -= cut
		}
	}
	t.invalidate()
}

func (t *Table) renderHeader() string {
	if len(t.widths) != len(t.cols) {
		return ""
	}
	var b strings.Builder
	b.WriteString(markerBlank)
	for i, c := range t.cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		title := c.Title
		if m := t.marks[i]; m != "" { // the sort arrow survives a narrow column
			title = safetext.Truncate(title, t.widths[i]-ansi.StringWidth(m)) + m
		}
		b.WriteString(t.cell(title, i))
	}
	return t.styles.TableHeader.Render(t.fit(b.String()))
}

// cell truncates and aligns one value to its column.
func (t *Table) cell(s string, col int) string {
	w := t.widths[col]
	if len(s) > w && w > 2 && isASCII(s) {
		switch {
		case t.cols[col].TrimLeft: // and never start on a separator
			s = strings.TrimLeft(s[len(s)-w:], "-/:. ")
		case t.cols[col].TrimMiddle:
			s = fitID(s, w)
		}
	}
	s = safetext.Truncate(s, w)
	sw := ansi.StringWidth(s)
	if t.cols[col].Right {
		return padLeft(s, sw, w)
	}
	return padRight(s, sw, w)
}

// fit cuts a line that is still too wide (columns at their minimum).
func (t *Table) fit(s string) string {
	if ansi.StringWidth(s) > t.width {
		return ansi.Truncate(s, t.width, "")
	}
	return s
}

func (t *Table) line(i int, styled bool) string {
	m := t.plain
	if styled {
		m = t.cache
	}
	if s, ok := m[i]; ok {
		return s
	}
	var b strings.Builder
	row := t.rows[i]
	for c := range t.cols {
		if c > 0 {
			b.WriteByte(' ')
		}
		v := ""
		if c < len(row) {
			v = row[c]
		}
		cell := t.cell(v, c)
		if styled && t.cellStyle != nil {
			if st, ok := t.cellStyle(i, c); ok {
				cell = st.Render(cell)
			}
		}
		b.WriteString(cell)
	}
	s := t.fit(markerBlank + b.String())[markerWidth:]
	// Bound the caches: they hold at most a few screens of rows.
	if len(m) > 8*max(t.height, 8) {
		clear(m)
	}
	m[i] = s
	return s
}

// View renders the header and the visible rows only.
func (t *Table) View() string {
	var b strings.Builder
	b.WriteString(t.header)
	end := min(t.offset+t.height, len(t.rows))
	for i := t.offset; i < end; i++ {
		b.WriteByte('\n')
		if i == t.cursor && t.selectable {
			if t.focused {
				b.WriteString(t.styles.Selected.Render(marker + t.line(i, false)))
			} else {
				b.WriteString(t.styles.SelectedDim.Render(markerBlur + t.line(i, false)))
			}
			continue
		}
		b.WriteString(markerBlank)
		b.WriteString(t.line(i, true))
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
