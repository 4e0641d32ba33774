package main

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"
)

// ColorKind says how a Color is specified.
type ColorKind uint8

const (
	// ColorDefault is the terminal's default foreground or background.
	ColorDefault ColorKind = iota
	// ColorIndexed is an entry of the 256-colour palette (0-15 come from the theme).
	ColorIndexed
	// ColorRGB is a 24-bit colour.
	ColorRGB
)

// Color is a terminal colour as the SGR sequences name it, before it is
// resolved against a theme.
type Color struct {
	Kind    ColorKind
	Index   uint8
	R, G, B uint8
}

// Indexed returns palette colour n.
func Indexed(n uint8) Color { return Color{Kind: ColorIndexed, Index: n} }

// RGB returns a 24-bit colour.
func RGB(r, g, b uint8) Color { return Color{Kind: ColorRGB, R: r, G: g, B: b} }

// Attr is a set of text attributes.
type Attr uint16

// Text attributes set by SGR.
const (
	AttrBold Attr = 1 << iota
	AttrFaint
	AttrItalic
	AttrUnderline
	AttrReverse
	AttrHidden
	AttrStrike
)

// Style is the graphic rendition of a cell.
type Style struct {
	FG, BG Color
	Attrs  Attr
}

// Has reports whether all of a are set.
func (s Style) Has(a Attr) bool { return s.Attrs&a == a }

// Cell is one column of the screen. A wide rune occupies a cell of Width 2
// followed by a continuation cell of Width 0.
type Cell struct {
	Text  string // the rune plus any combining marks; "" is blank
	Width int    // 1, 2, or 0 for the right half of a wide rune
	Style Style
}

// Screen is a grid of cells, Rows lines of Cols cells each.
type Screen struct {
	Cols, Rows int
	Cells      [][]Cell
}

// widthCond is fixed (not taken from the locale) so output is the same on
// every machine: ambiguous-width runes such as box drawing are narrow, as
// they are in tmux with a UTF-8 non-CJK locale.
var widthCond = &runewidth.Condition{EastAsianWidth: false}

const tabWidth = 8

type parser struct {
	style Style
	lines [][]Cell
	cur   []Cell
}

// Parse reads text with SGR escape sequences, as `tmux capture-pane -p -e`
// prints it, into a Screen of cols x rows cells. A cols or rows of 0 takes
// the size from the input (the widest line, the number of lines). Longer
// lines and extra lines are cropped; shorter ones are padded with blank
// default-coloured cells. Escape sequences other than SGR are ignored.
// The rendition carries across line ends, as it does in tmux's output.
func Parse(data []byte, cols, rows int) *Screen {
	p := &parser{}
	for i := 0; i < len(data); {
		c := data[i]
		switch {
		case c == 0x1b:
			i = p.escape(data, i)
			continue
		case c == '\n':
			p.lines = append(p.lines, p.cur)
			p.cur = nil
		case c == '\t':
			n := tabWidth - len(p.cur)%tabWidth
			for range n {
				p.cur = append(p.cur, Cell{Width: 1, Style: p.style})
			}
		case c < 0x20 || c == 0x7f:
			// other C0 controls (including \r) draw nothing
		default:
			r, size := utf8.DecodeRune(data[i:])
			p.put(r)
			i += size
			continue
		}
		i++
	}
	if len(p.cur) > 0 {
		p.lines = append(p.lines, p.cur)
	}
	return fit(p.lines, cols, rows)
}

func (p *parser) put(r rune) {
	if r >= 0x80 && r < 0xa0 { // C1 controls
		return
	}
	w := widthCond.RuneWidth(r)
	if w == 0 {
		if unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc) && len(p.cur) > 0 {
			// a combining mark joins the cell before it (skip a wide rune's continuation)
			j := len(p.cur) - 1
			if p.cur[j].Width == 0 && j > 0 {
				j--
			}
			if p.cur[j].Text != "" {
				p.cur[j].Text += string(r)
			}
		}
		return // zero-width format characters draw nothing
	}
	p.cur = append(p.cur, Cell{Text: string(r), Width: w, Style: p.style})
	if w == 2 {
		p.cur = append(p.cur, Cell{Width: 0, Style: p.style})
	}
}

// escape skips the escape sequence starting at data[i] (an ESC), applying it
// if it is SGR, and returns the index just past it.
func (p *parser) escape(data []byte, i int) int {
	if i+1 >= len(data) {
		return len(data)
	}
	switch b := data[i+1]; {
	case b == '[': // CSI: parameters 0x30-0x3f, intermediates 0x20-0x2f, final 0x40-0x7e
		j := i + 2
		for j < len(data) && data[j] >= 0x30 && data[j] <= 0x3f {
			j++
		}
		params := data[i+2 : j]
		inter := j
		for j < len(data) && data[j] >= 0x20 && data[j] <= 0x2f {
			j++
		}
		if j >= len(data) || data[j] < 0x40 || data[j] > 0x7e {
			return j // malformed: drop what was read, keep the byte that broke it
		}
		if data[j] == 'm' && inter == j && (len(params) == 0 || params[0] < '<') {
			p.style.applySGR(string(params))
		}
		return j + 1
	case b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_':
		// OSC (ends with BEL or ST), DCS, SOS, PM, APC (end with ST)
		j := i + 2
		for j < len(data) {
			if data[j] == 0x07 && b == ']' {
				return j + 1
			}
			if data[j] == 0x1b && j+1 < len(data) && data[j+1] == '\\' {
				return j + 2
			}
			j++
		}
		return j
	case b >= 0x20 && b <= 0x2f: // nF escape such as ESC ( B: intermediates then a final byte
		j := i + 1
		for j < len(data) && data[j] >= 0x20 && data[j] <= 0x2f {
			j++
		}
		if j < len(data) {
			j++
		}
		return j
	default: // two-byte escape (ESC 7, ESC =, ESC M, ...)
		return i + 2
	}
}

func (s *Style) applySGR(params string) {
	if params == "" {
		*s = Style{}
		return
	}
	fields := strings.Split(params, ";")
	for k := 0; k < len(fields); k++ {
		sub := strings.Split(fields[k], ":")
		n := atoi(sub[0])
		switch {
		case n == 0:
			*s = Style{}
		case n == 1:
			s.Attrs |= AttrBold
		case n == 2:
			s.Attrs |= AttrFaint
		case n == 3:
			s.Attrs |= AttrItalic
		case n == 4:
			if len(sub) > 1 && atoi(sub[1]) == 0 { // 4:0 is "no underline"
				s.Attrs &^= AttrUnderline
			} else {
				s.Attrs |= AttrUnderline
			}
		case n == 7:
			s.Attrs |= AttrReverse
		case n == 8:
			s.Attrs |= AttrHidden
		case n == 9:
			s.Attrs |= AttrStrike
		case n == 21: // double underline
			s.Attrs |= AttrUnderline
		case n == 22:
			s.Attrs &^= AttrBold | AttrFaint
		case n == 23:
			s.Attrs &^= AttrItalic
		case n == 24:
			s.Attrs &^= AttrUnderline
		case n == 27:
			s.Attrs &^= AttrReverse
		case n == 28:
			s.Attrs &^= AttrHidden
		case n == 29:
			s.Attrs &^= AttrStrike
		case n >= 30 && n <= 37:
			s.FG = Indexed(uint8(n - 30))
		case n == 38 || n == 48:
			var c Color
			var ok bool
			if len(sub) > 1 {
				c, ok = extColorColon(sub[1:])
			} else {
				var used int
				c, used, ok = extColorSemicolon(fields[k+1:])
				k += used
			}
			if ok {
				if n == 38 {
					s.FG = c
				} else {
					s.BG = c
				}
			}
		case n == 58: // underline colour: read its arguments, then drop it
			if len(sub) == 1 {
				_, used, _ := extColorSemicolon(fields[k+1:])
				k += used
			}
		case n == 39:
			s.FG = Color{}
		case n >= 40 && n <= 47:
			s.BG = Indexed(uint8(n - 40))
		case n == 49:
			s.BG = Color{}
		case n >= 90 && n <= 97:
			s.FG = Indexed(uint8(n - 90 + 8))
		case n >= 100 && n <= 107:
			s.BG = Indexed(uint8(n - 100 + 8))
		}
	}
}

// extColorSemicolon reads "5;n" or "2;r;g;b" after a 38 or 48 and returns
// how many fields it used.
func extColorSemicolon(f []string) (Color, int, bool) {
	if len(f) == 0 {
		return Color{}, 0, false
	}
	switch atoi(f[0]) {
	case 5:
		if len(f) < 2 {
			return Color{}, len(f), false
		}
		return Indexed(clamp8(atoi(f[1]))), 2, true
	case 2:
		if len(f) < 4 {
			return Color{}, len(f), false
		}
		return RGB(clamp8(atoi(f[1])), clamp8(atoi(f[2])), clamp8(atoi(f[3]))), 4, true
	}
	return Color{}, 1, false
}

// extColorColon reads the ITU T.416 forms "5:n", "2:r:g:b" and
// "2:colourspace:r:g:b" after a 38: or 48:.
func extColorColon(sub []string) (Color, bool) {
	switch atoi(sub[0]) {
	case 5:
		if len(sub) >= 2 {
			return Indexed(clamp8(atoi(sub[1]))), true
		}
	case 2:
		switch {
		case len(sub) >= 5:
			return RGB(clamp8(atoi(sub[2])), clamp8(atoi(sub[3])), clamp8(atoi(sub[4]))), true
		case len(sub) == 4:
			return RGB(clamp8(atoi(sub[1])), clamp8(atoi(sub[2])), clamp8(atoi(sub[3]))), true
		}
	}
	return Color{}, false
}

func atoi(s string) int {
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func clamp8(n int) uint8 {
	return uint8(max(0, min(255, n)))
}

// fit crops or pads lines to cols x rows (0 means "as in the input").
func fit(lines [][]Cell, cols, rows int) *Screen {
	if rows <= 0 {
		rows = len(lines)
	}
	if cols <= 0 {
		for _, l := range lines {
			cols = max(cols, len(l))
		}
	}
	rows, cols = max(rows, 1), max(cols, 1)
	s := &Screen{Cols: cols, Rows: rows, Cells: make([][]Cell, rows)}
	for y := range rows {
		row := make([]Cell, cols)
		for x := range row {
			row[x] = Cell{Width: 1}
		}
		if y < len(lines) {
			n := copy(row, lines[y])
			// a wide rune cut in half at the right edge becomes a blank
			if n == cols && row[n-1].Width == 2 {
				row[n-1] = Cell{Width: 1, Style: row[n-1].Style}
			}
		}
		s.Cells[y] = row
	}
	return s
}

// String returns the screen's text without styling, lines joined by "\n",
// trailing blanks trimmed. Handy in tests and for debugging.
func (s *Screen) String() string {
	var b bytes.Buffer
	for y, row := range s.Cells {
		var line strings.Builder
		for _, c := range row {
			switch {
			case c.Width == 0:
			case c.Text == "":
				line.WriteByte(' ')
			default:
				line.WriteString(c.Text)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		if y < len(s.Cells)-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
