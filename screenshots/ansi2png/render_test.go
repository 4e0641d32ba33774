package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newTestRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := NewRenderer(14, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCellMetrics(t *testing.T) {
	r := newTestRenderer(t)
	// Go Mono's advance is 0.6 em; its line is about 1.2 em
	if r.CellW < 7 || r.CellW > 10 || r.CellH < 14 || r.CellH > 20 || r.Ascent >= r.CellH {
		t.Errorf("cell %dx%d ascent %d looks wrong for 14px Go Mono", r.CellW, r.CellH, r.Ascent)
	}
}

func TestRenderDimensions(t *testing.T) {
	r := newTestRenderer(t)
	img := r.Render(Parse([]byte("hi\n"), 100, 30))
	want := image.Rect(0, 0, 2*10+100*r.CellW, 2*10+30*r.CellH)
	if img.Bounds() != want {
		t.Errorf("bounds = %v, want %v", img.Bounds(), want)
	}
}

func TestRenderColours(t *testing.T) {
	r := newTestRenderer(t)
	th := r.Theme
	// cell 0: red background; cell 1: reverse video of a blue fg; cell 2: default
	img := r.Render(Parse([]byte("\x1b[41m \x1b[0;34;7m \x1b[0m "), 0, 0))
	at := func(x int) color.RGBA {
		rect := r.cellRect(x, 0, 1)
		return img.RGBAAt(rect.Min.X+1, rect.Min.Y+1)
	}
	if got := at(0); got != th.Palette[1] {
		t.Errorf("red bg = %v, want %v", got, th.Palette[1])
	}
	if got := at(1); got != th.Palette[4] {
		t.Errorf("reverse bg = %v, want the fg %v", got, th.Palette[4])
	}
	if got := at(2); got != th.BG {
		t.Errorf("default bg = %v, want %v", got, th.BG)
	}
	if got := img.RGBAAt(0, 0); got != th.BG {
		t.Errorf("margin = %v, want %v", got, th.BG)
	}
}

func TestThemeColors(t *testing.T) {
	th := DefaultTheme
	fg, bg := th.Colors(Style{FG: RGB(200, 100, 0), BG: RGB(0, 0, 0), Attrs: AttrFaint})
	if fg != (color.RGBA{100, 50, 0, 255}) || bg != (color.RGBA{0, 0, 0, 255}) {
		t.Errorf("faint = %v on %v, want half-way", fg, bg)
	}
	fg, bg = th.Colors(Style{Attrs: AttrReverse})
	if fg != th.BG || bg != th.FG {
		t.Errorf("reverse default = %v on %v", fg, bg)
	}
	if c := th.RGBA(Indexed(196), th.FG); c != (color.RGBA{255, 0, 0, 255}) {
		t.Errorf("256-colour 196 = %v", c)
	}
	if c := th.RGBA(Indexed(244), th.FG); c != (color.RGBA{128, 128, 128, 255}) {
		t.Errorf("256-colour 244 = %v", c)
	}
}

// countNot counts pixels in rect that are not c.
func countNot(img *image.RGBA, rect image.Rectangle, c color.RGBA) int {
	n := 0
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			if img.RGBAAt(x, y) != c {
				n++
			}
		}
	}
	return n
}

func TestRenderGlyphsAndBold(t *testing.T) {
	r := newTestRenderer(t)
	img := r.Render(Parse([]byte("M \x1b[1mM\x1b[0m  "), 0, 0))
	regular := countNot(img, r.cellRect(0, 0, 1), r.Theme.BG)
	bold := countNot(img, r.cellRect(2, 0, 1), r.Theme.BG)
	blank := countNot(img, r.cellRect(4, 0, 1), r.Theme.BG)
	if regular == 0 || blank != 0 {
		t.Errorf("inked pixels: glyph %d, blank %d", regular, blank)
	}
	if bold <= regular {
		t.Errorf("bold glyph has %d inked pixels, regular %d: want more", bold, regular)
	}
}

func TestRenderBoxDrawingJoins(t *testing.T) {
	r := newTestRenderer(t)
	// a vertical line through three rows must be unbroken across cells
	img := r.Render(Parse([]byte("╭╮\n││\n╰╯"), 0, 0))
	x := r.cellRect(0, 0, 1).Min.X + r.CellW/2
	top := r.cellRect(0, 0, 1).Min.Y + r.CellH - 1
	bottom := r.cellRect(0, 2, 1).Min.Y
	for y := top; y <= bottom; y++ {
		if img.RGBAAt(x, y) == r.Theme.BG {
			t.Fatalf("gap in the vertical line at y=%d", y)
		}
	}
	// every line-drawing rune in the table draws something
	for ch := range boxArms {
		if m := drawSpecial(ch, r.CellW, r.CellH, 1); countAlpha(m) == 0 {
			t.Errorf("%q draws nothing", ch)
		}
	}
	for _, ch := range "╭╮╯╰╱╲╳▀▄█░▚⣿⠁" {
		if m := drawSpecial(ch, r.CellW, r.CellH, 1); countAlpha(m) == 0 {
			t.Errorf("%q draws nothing", ch)
		}
	}
}

func countAlpha(m *image.Alpha) int {
	n := 0
	for _, a := range m.Pix {
		if a > 0 {
			n++
		}
	}
	return n
}

func TestRenderWideRuneSpansTwoCells(t *testing.T) {
	r := newTestRenderer(t)
	img := r.Render(Parse([]byte("\x1b[44m日\x1b[0mx"), 0, 0))
	blue := r.Theme.Palette[4]
	rect := r.cellRect(1, 0, 1) // the continuation cell keeps the background
	if got := img.RGBAAt(rect.Max.X-1, rect.Max.Y-1); got != blue {
		t.Errorf("continuation bg = %v, want %v", got, blue)
	}
	if got := countNot(img, r.cellRect(2, 0, 1), r.Theme.BG); got == 0 {
		t.Error("x after the wide rune not drawn in cell 2")
	}
}

func TestRunWritesPNG(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.txt")
	out := filepath.Join(dir, "out.png")
	if err := os.WriteFile(in, []byte("\x1b[1;32mok\x1b[0m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-in", in, "-out", out, "-cols", "80", "-rows", "24", "-pad", "8", "-fallback-font", "none"}, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	r := newTestRenderer(t)
	if cfg.Width != 16+80*r.CellW || cfg.Height != 16+24*r.CellH {
		t.Errorf("png is %dx%d, want %dx%d", cfg.Width, cfg.Height, 16+80*r.CellW, 16+24*r.CellH)
	}

	// stdin works too
	out2 := filepath.Join(dir, "stdin.png")
	if err := run([]string{"-out", out2, "-fallback-font", "none"}, strings.NewReader("abc\n")); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-in", in}, nil); err == nil {
		t.Error("missing -out accepted")
	}
}
