package ui

import (
	"slices"
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
	// TrimHead keeps the tail of a value that does not fit, after "…":
	// external ids share their start ("GRC-2026-…") and differ at the end.
	TrimHead bool
	// Abbrev swaps a value that does not fit for its short form (statuses:
	// "◑ part refd", not "◑ partly r…").
	Abbrev bool
	// Date: the column is a "2006-01-02 15:04" date, drawn whole (16) or
	// without its year (11), never cut in between; see SetShortDates.
	Date bool
	// ShrinkFirst gives up width before every other column (a long id
	// shortens before a date or an amount does).
	ShrinkFirst bool
	// Optional columns are left out, from the right, when even the
	// narrowest widths of all columns do not fit.
	Optional bool
}

// isDayOnly: Date column i holds days without times.
func (t *Table) isDayOnly(i int) bool { return i < len(t.dayOnly) && t.dayOnly[i] }

// naturalWidth is what an Abbrev column would need to show every value whole.
func (t *Table) naturalWidth(i int) int {
	if i < len(t.natural) && t.natural[i] > 0 {
		return t.natural[i]
	}
	return t.cols[i].Width
}

// Widths of a Date column: whole, or without the year.
const (
	dateWide  = 16
	dateShort = 11
)

// marker is the selection glyph: it survives NO_COLOR and the Ascii profile,
// where the Selected style draws nothing at all.
const (
	marker      = "▸ "
	markerBlur  = "▹ "
	markerBlank = "  "
	markerWidth = 2
)

// Table is a small, fast table: its rows come from a RowSource that formats
// a row only when it is drawn; View renders only the visible window, and
// each rendered line is cached until the rows or the widths change, so a
// keypress costs the same at 100 rows as at 100k, and 100k loaded rows
// hold no formatted text.
type Table struct {
	keys   *KeyMap
	styles *Styles
	cols   []Column
	widths []int
	marks  []string // header suffixes (sort arrows), by column
	src    RowSource
	// cellStyle, when set, colours one cell of a non-selected row (status
	// glyphs); it is applied once per row and cached with the line.
	cellStyle func(row, col int) (lipgloss.Style, bool)

	// shortDates draws every Date column without its year, so two tables
	// on one screen use one date format.
	shortDates bool
	hidden     []bool // Optional columns left out at this width
	natural    []int  // Abbrev columns: the widest value now in the rows
	dayOnly    []bool // Date columns holding days without times

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

// SetColumnWidth changes one column's preferred width (an id column that
// grows to the longest id loaded).
func (t *Table) SetColumnWidth(col, w int) {
	if col < 0 || col >= len(t.cols) || t.cols[col].Width == w {
		return
	}
	t.cols[col].Width = w
	t.layout()
}

// RowSource gives a table its rows on demand: Cells formats row i when it
// is drawn (the table caches the drawn lines, a few screens' worth), and
// the two column summaries let the table size its columns without
// formatting every row.
type RowSource interface {
	Len() int
	Cells(i int) []string
	// Widest is the widest value (in cells) column col holds; asked only
	// for Abbrev columns.
	Widest(col int) int
	// DayOnly reports whether every value of Date column col is a day
	// without a time ("2026-11-20") or "—".
	DayOnly(col int) bool
}

// sliceRows is the RowSource of rows formatted up front (short tables).
type sliceRows [][]string

func (r sliceRows) Len() int             { return len(r) }
func (r sliceRows) Cells(i int) []string { return r[i] }

func (r sliceRows) Widest(col int) int {
	w := 0
	for _, row := range r {
		if col < len(row) {
			w = max(w, ansi.StringWidth(row[col]))
		}
	}
	return w
}

func (r sliceRows) DayOnly(col int) bool {
	for _, row := range r {
		if col < len(row) && !dayCell(row[col]) {
			return false
		}
	}
	return true
}

// dayCell: a Date cell that is a day without a time, or empty.
func dayCell(v string) bool { return len(v) == len("2006-01-02") || v == "—" }

// SetRows replaces the rows; the cursor stays where it was, clamped.
func (t *Table) SetRows(rows [][]string) { t.SetSource(sliceRows(rows)) }

// SetSource replaces the rows with a source that formats them when drawn;
// the cursor stays where it was, clamped.
func (t *Table) SetSource(src RowSource) {
	t.src = src
	n := src.Len()
	// A status column is as wide as its longest status (not the longest
	// there could be): "◔ processing" leaves the reason its room.
	changed := false
	for i, c := range t.cols {
		if c.Date {
			// A column of days without times ("2026-11-20", Forage's list)
			// is as wide as a day: it is whole, and never cut.
			only := n > 0 && src.DayOnly(i)
			if t.dayOnly == nil {
				t.dayOnly = make([]bool, len(t.cols))
			}
			if t.dayOnly[i] != only {
				t.dayOnly[i], changed = only, true
			}
			continue
		}
		if !c.Abbrev {
			continue
		}
		w := ansi.StringWidth(c.Title) + 2 // room for a sort arrow
		w = max(w, src.Widest(i))
		w = min(w, c.Width)
		if t.natural == nil {
			t.natural = make([]int, len(t.cols))
		}
		if t.natural[i] != w {
			t.natural[i], changed = w, true
		}
	}
	if changed {
		t.layout()
	} else {
		t.invalidate()
	}
	t.clamp()
}

// Rows is the number of rows.
func (t *Table) Rows() int {
	if t.src == nil {
		return 0
	}
	return t.src.Len()
}

// Cursor is the selected row, or -1 when the table is empty.
func (t *Table) Cursor() int {
	if t.Rows() == 0 {
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

// Shown reports whether column col is drawn at this width (an Optional
// column is left out when the columns do not fit).
func (t *Table) Shown(col int) bool { return col >= len(t.hidden) || !t.hidden[col] }

// SetMark sets a header suffix for one column (a sort arrow); "" clears it.
func (t *Table) SetMark(col int, mark string) {
	for i := range t.marks {
		t.marks[i] = ""
	}
	if col >= 0 && col < len(t.marks) {
		t.marks[col] = mark
	}
	// The sorted column's title keeps its words beside the arrow: the
	// widths are shared again.
	t.layout()
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

// SetShortDates(true) draws dates without their year whatever the width.
func (t *Table) SetShortDates(b bool) {
	if t.shortDates != b {
		t.shortDates = b
		t.layout()
	}
}

// ShortDates reports whether this table draws its dates without the year.
func (t *Table) ShortDates() bool {
	for i, c := range t.cols {
		if c.Date && !t.hidden[i] && !t.isDayOnly(i) && t.widths[i] < dateWide {
			return true
		}
	}
	return false
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
		t.cursor = t.Rows() - 1
	default:
		return false
	}
	t.clamp()
	return true
}

func (t *Table) clamp() {
	n := t.Rows()
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
// minimum (ShrinkFirst ones first, then from the right, the flex column,
// then statuses, dates last); when even the minimums do not fit, Optional columns are left out.
// Date columns then snap to whole or short dates. A column left narrower
// than its title is left out too ("Externa…" says nothing an agent can
// read), and the others share its room.
func (t *Table) layout() {
	dropped := make([]bool, len(t.cols))
	for {
		t.share(dropped)
		i := t.cutTitle()
		if i < 0 {
			break
		}
		dropped[i] = true
		// The Optional columns already left out rank below it: they do
		// not come back in its place.
		for j, c := range t.cols {
			if c.Optional && t.hidden[j] {
				dropped[j] = true
			}
		}
	}
	t.invalidate()
}

// cutTitle is the rightmost shown column too narrow for its title, or -1;
// the last column shown stays whatever its width.
func (t *Table) cutTitle() int {
	shown := 0
	for i := range t.cols {
		if !t.hidden[i] {
			shown++
		}
	}
	for i := len(t.cols) - 1; i >= 0 && shown > 1; i-- {
		if !t.hidden[i] && t.widths[i] < ansi.StringWidth(t.cols[i].Title) {
			return i
		}
	}
	return -1
}

// share is one pass of layout with the dropped columns left out.
func (t *Table) share(dropped []bool) {
	n := len(t.cols)
	t.widths = make([]int, n)
	t.hidden = slices.Clone(dropped)
	if n == 0 {
		return
	}
	minOf := func(i int) int {
		if t.isDayOnly(i) {
			return len("2006-01-02")
		}
		if t.cols[i].Min > 0 {
			return t.cols[i].Min
		}
		return t.cols[i].Width
	}
	// Optional columns make room for the others' titles too, with the
	// sort arrow of the sorted one.
	titled := func(i int) int {
		return max(minOf(i), ansi.StringWidth(t.cols[i].Title)+ansi.StringWidth(t.marks[i]))
	}
	shown := n
	need := 0
	for i := range t.cols {
		if t.hidden[i] {
			shown--
			continue
		}
		need += titled(i)
	}
	for i := n - 1; i >= 0 && need+shown-1 > t.width-markerWidth; i-- {
		if t.cols[i].Optional && !t.hidden[i] {
			t.hidden[i] = true
			need -= titled(i)
			shown--
		}
	}
	avail := t.width - markerWidth - (shown - 1)
	flex := -1
	total := 0
	for i, c := range t.cols {
		if t.hidden[i] {
			continue
		}
		t.widths[i] = c.Width
		if c.Abbrev && i < len(t.natural) && t.natural[i] > 0 {
			t.widths[i] = max(t.natural[i], minOf(i))
		}
		if t.isDayOnly(i) {
			t.widths[i] = len("2006-01-02 ▼")
		}
		if c.Date && t.shortDates {
			t.widths[i] = dateShort
		}
		t.widths[i] = max(t.widths[i], ansi.StringWidth(c.Title)+ansi.StringWidth(t.marks[i]))
		total += t.widths[i]
		if c.Flex || flex < 0 || (!t.cols[flex].Flex && i > flex) {
			flex = i
		}
	}
	if total < avail {
		t.widths[flex] += avail - total
		total = avail
	}
	var order []int
	for i := range t.cols {
		if i != flex && !t.hidden[i] && t.cols[i].ShrinkFirst {
			order = append(order, i)
		}
	}
	plain := func(c Column) bool { return !c.ShrinkFirst && !c.Date && !c.Abbrev }
	for i := n - 1; i >= 0; i-- {
		if i != flex && !t.hidden[i] && plain(t.cols[i]) {
			order = append(order, i)
		}
	}
	order = append(order, flex)
	// A status keeps its full words, and a date its year, while anything
	// else can give: the screen's other dates are whole, and one screen
	// reads one date format.
	for _, last := range []func(Column) bool{
		func(c Column) bool { return c.Abbrev && !c.Date },
		func(c Column) bool { return c.Date },
	} {
		for i := n - 1; i >= 0; i-- {
			if i != flex && !t.hidden[i] && !t.cols[i].ShrinkFirst && last(t.cols[i]) {
				order = append(order, i)
			}
		}
	}
	// Columns shrink to their titles first; only when that is not enough
	// does one go below its title (and layout then leaves it out).
	for _, whole := range []bool{true, false} {
		for _, i := range order {
			if total <= avail {
				break
			}
			floor := minOf(i)
			if whole {
				floor = max(floor, titled(i))
			}
			cut := min(t.widths[i]-floor, total-avail)
			if cut > 0 {
				t.widths[i] -= cut
				total -= cut
			}
		}
	}
	for i, c := range t.cols {
		// A status that cannot have its full words takes its short form's
		// width; the flex column has the rest.
		if c.Abbrev && !t.hidden[i] && i != flex && c.Min > 0 && t.widths[i] > c.Min && t.widths[i] < t.naturalWidth(i) {
			t.widths[flex] += t.widths[i] - c.Min
			t.widths[i] = c.Min
		}
		if !c.Date || t.hidden[i] || i == flex || t.isDayOnly(i) {
			continue
		}
		w := t.widths[i]
		snap := dateShort
		if w >= dateWide {
			snap = dateWide
		}
		if w > snap { // the cells between would cut a digit: the flex column has them
			t.widths[flex] += w - snap
			t.widths[i] = snap
		}
	}
}

func (t *Table) renderHeader() string {
	if len(t.widths) != len(t.cols) || len(t.hidden) != len(t.cols) {
		return ""
	}
	var b strings.Builder
	b.WriteString(markerBlank)
	first := true
	for i, c := range t.cols {
		if t.hidden[i] {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		title := c.Title
		if m := t.marks[i]; m != "" { // the sort arrow survives a narrow column
			title = safetext.Truncate(title, t.widths[i]-ansi.StringWidth(m)) + m
		}
		// A title is cut at its end ("External …"), whatever its values do.
		b.WriteString(t.cell(safetext.Truncate(title, t.widths[i]), i))
	}
	return t.styles.TableHeader.Render(t.fit(b.String()))
}

// cell truncates and aligns one value to its column.
func (t *Table) cell(s string, col int) string {
	w := t.widths[col]
	c := t.cols[col]
	if c.Date && w < dateWide && !t.isDayOnly(col) && isASCII(s) {
		switch len(s) {
		case dateWide: // "11-20 14:03": the year goes, nothing else
			s = s[dateWide-dateShort:]
		case len("2006-01-02"): // a day without its time: "11-20"
			s = s[5:]
		}
	}
	if ansi.StringWidth(s) > w && c.Abbrev {
		if a, ok := abbreviations[s]; ok {
			s = a
		}
	}
	if len(s) > w && w > 2 && isASCII(s) {
		switch {
		case c.TrimLeft: // and never start on a separator
			s = strings.TrimLeft(s[len(s)-w:], "-/:. ")
		case c.TrimMiddle:
			s = fitID(s, w)
		}
	}
	if c.TrimHead && ansi.StringWidth(s) > w && w > 2 {
		s = "…" + ansi.TruncateLeft(s, ansi.StringWidth(s)-w+1, "")
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
	row := t.src.Cells(i) // formatted now: only drawn rows ever are
	first := true
	for c := range t.cols {
		if t.hidden[c] {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
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
	end := min(t.offset+t.height, t.Rows())
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

func isASCII[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
