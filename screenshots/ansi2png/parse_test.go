package main

import (
	"testing"
)

func cellAt(t *testing.T, s *Screen, x, y int) Cell {
	t.Helper()
	if y >= len(s.Cells) || x >= len(s.Cells[y]) {
		t.Fatalf("no cell %d,%d in %dx%d screen", x, y, s.Cols, s.Rows)
	}
	return s.Cells[y][x]
}

func TestParsePlainText(t *testing.T) {
	s := Parse([]byte("hello\nwo\n"), 0, 0)
	if s.Cols != 5 || s.Rows != 2 {
		t.Fatalf("size = %dx%d, want 5x2", s.Cols, s.Rows)
	}
	if got := s.String(); got != "hello\nwo" {
		t.Errorf("text = %q", got)
	}
	if c := cellAt(t, s, 4, 1); c.Text != "" || c.Width != 1 || c.Style != (Style{}) {
		t.Errorf("padding cell = %+v, want blank default", c)
	}
}

func TestParseBasicColours(t *testing.T) {
	s := Parse([]byte("\x1b[31mR\x1b[42mG\x1b[39mD\x1b[49m\x1b[94mB\x1b[103mY\x1b[0mN"), 0, 0)
	tests := []struct {
		x      int
		fg, bg Color
	}{
		{0, Indexed(1), Color{}},
		{1, Indexed(1), Indexed(2)},
		{2, Color{}, Indexed(2)},
		{3, Indexed(12), Color{}},
		{4, Indexed(12), Indexed(11)},
		{5, Color{}, Color{}},
	}
	for _, tt := range tests {
		c := cellAt(t, s, tt.x, 0)
		if c.Style.FG != tt.fg || c.Style.BG != tt.bg {
			t.Errorf("cell %d (%q): fg %+v bg %+v, want fg %+v bg %+v", tt.x, c.Text, c.Style.FG, c.Style.BG, tt.fg, tt.bg)
		}
	}
}

func TestParseAttributes(t *testing.T) {
	in := "\x1b[1mb\x1b[2mf\x1b[22mx\x1b[3mi\x1b[23m\x1b[4mu\x1b[24m\x1b[7mr\x1b[27mn\x1b[1;7;4mA\x1b[mZ"
	s := Parse([]byte(in), 0, 0)
	want := []Attr{
		AttrBold,
		AttrBold | AttrFaint,
		0,
		AttrItalic,
		AttrUnderline,
		AttrReverse,
		0,
		AttrBold | AttrReverse | AttrUnderline,
		0,
	}
	for x, w := range want {
		if got := cellAt(t, s, x, 0).Style.Attrs; got != w {
			t.Errorf("cell %d (%q): attrs %b, want %b", x, s.Cells[0][x].Text, got, w)
		}
	}
}

func TestParseExtendedColours(t *testing.T) {
	in := "\x1b[38;5;208ma\x1b[48;5;17mb\x1b[0m" +
		"\x1b[38;2;10;20;30mc\x1b[48;2;255;0;128md\x1b[0m" +
		"\x1b[38:5:99me\x1b[38:2::1:2:3mf\x1b[48:2:4:5:6mg\x1b[0m" +
		"\x1b[1;38;5;196;48;2;0;0;255;4mh" +
		"\x1b[0;58;2;1;2;3;32mi\x1b[58;5;3mj"
	s := Parse([]byte(in), 0, 0)
	tests := []struct {
		x      int
		fg, bg Color
		attrs  Attr
	}{
		{0, Indexed(208), Color{}, 0},
		{1, Indexed(208), Indexed(17), 0},
		{2, RGB(10, 20, 30), Color{}, 0},
		{3, RGB(10, 20, 30), RGB(255, 0, 128), 0},
		{4, Indexed(99), Color{}, 0},
		{5, RGB(1, 2, 3), Color{}, 0},
		{6, RGB(1, 2, 3), RGB(4, 5, 6), 0},
		{7, Indexed(196), RGB(0, 0, 255), AttrBold | AttrUnderline},
		{8, Indexed(2), Color{}, 0}, // underline colour is skipped, not read as 2 = faint
		{9, Indexed(2), Color{}, 0},
	}
	for _, tt := range tests {
		c := cellAt(t, s, tt.x, 0)
		if c.Style.FG != tt.fg || c.Style.BG != tt.bg || c.Style.Attrs != tt.attrs {
			t.Errorf("cell %d (%q): %+v, want fg %+v bg %+v attrs %b", tt.x, c.Text, c.Style, tt.fg, tt.bg, tt.attrs)
		}
	}
}

func TestParseStyleCarriesAcrossLines(t *testing.T) {
	// tmux capture-pane -e only emits changes, so a colour set on one line
	// still applies on the next
	s := Parse([]byte("\x1b[32ma\nb\x1b[0m\nc"), 0, 0)
	if fg := cellAt(t, s, 0, 1).Style.FG; fg != Indexed(2) {
		t.Errorf("line 2 fg = %+v, want green", fg)
	}
	if fg := cellAt(t, s, 0, 2).Style.FG; fg != (Color{}) {
		t.Errorf("line 3 fg = %+v, want default", fg)
	}
}

func TestParseIgnoresOtherEscapes(t *testing.T) {
	in := "\x1b[?25l\x1b[2J\x1b[H\x1b]8;;https://example.com\x1b\\li\x1b]8;;\x1b\\nk" +
		"\x1b]0;title\x07\x1b(B\x1b=\x1bPdcs\x1b\\\x1b[>4;1m\x1b[31;1H!\r\a"
	s := Parse([]byte(in), 0, 0)
	if got := s.String(); got != "link!" {
		t.Errorf("text = %q, want %q", got, "link!")
	}
	if st := cellAt(t, s, 4, 0).Style; st != (Style{}) {
		t.Errorf("style = %+v, want default (private and non-m CSI ignored)", st)
	}
}

func TestParseWideRunes(t *testing.T) {
	s := Parse([]byte("a日本b\n"), 0, 0)
	if s.Cols != 6 {
		t.Fatalf("cols = %d, want 6", s.Cols)
	}
	want := []Cell{
		{Text: "a", Width: 1},
		{Text: "日", Width: 2},
		{Width: 0},
		{Text: "本", Width: 2},
		{Width: 0},
		{Text: "b", Width: 1},
	}
	for x, w := range want {
		if c := cellAt(t, s, x, 0); c != w {
			t.Errorf("cell %d = %+v, want %+v", x, c, w)
		}
	}
	if got := s.String(); got != "a日本b" {
		t.Errorf("text = %q", got)
	}
}

func TestParseWideRuneCutAtEdge(t *testing.T) {
	s := Parse([]byte("ab日"), 3, 1)
	if c := cellAt(t, s, 2, 0); c.Width != 1 || c.Text != "" {
		t.Errorf("cut wide rune = %+v, want a blank narrow cell", c)
	}
}

func TestParseBoxDrawingIsNarrow(t *testing.T) {
	s := Parse([]byte("╭─╮│•…"), 0, 0)
	if s.Cols != 6 {
		t.Errorf("cols = %d, want 6 (ambiguous-width runes are narrow)", s.Cols)
	}
}

func TestParseCombiningMark(t *testing.T) {
	s := Parse([]byte("e\u0301x"), 0, 0)
	if s.Cols != 2 || cellAt(t, s, 0, 0).Text != "e\u0301" {
		t.Errorf("cells = %+v, want the mark joined to e", s.Cells[0])
	}
}

func TestParseCropAndPad(t *testing.T) {
	s := Parse([]byte("abcdef\n\x1b[44mxy\n1\n2\n"), 4, 2)
	if s.Cols != 4 || s.Rows != 2 {
		t.Fatalf("size = %dx%d, want 4x2", s.Cols, s.Rows)
	}
	if got := s.String(); got != "abcd\nxy" {
		t.Errorf("text = %q", got)
	}
	// padding is default-coloured, not the colour in effect at the line end
	if bg := cellAt(t, s, 3, 1).Style.BG; bg != (Color{}) {
		t.Errorf("pad bg = %+v, want default", bg)
	}
	s = Parse([]byte("ab\n"), 3, 3)
	if s.Rows != 3 || len(s.Cells[2]) != 3 {
		t.Errorf("padded screen = %dx%d", s.Cols, s.Rows)
	}
}

func TestParseTab(t *testing.T) {
	s := Parse([]byte("ab\tc"), 0, 0)
	if got := s.String(); got != "ab      c" {
		t.Errorf("text = %q", got)
	}
}
