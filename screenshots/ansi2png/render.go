package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/gomonobold"
	"golang.org/x/image/font/gofont/gomonobolditalic"
	"golang.org/x/image/font/gofont/gomonoitalic"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Theme maps terminal colours to RGB.
type Theme struct {
	FG, BG  color.RGBA
	Palette [16]color.RGBA
}

func hex(v uint32) color.RGBA {
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}
}

// DefaultTheme is a dark theme (Catppuccin Mocha colours).
var DefaultTheme = Theme{
	FG: hex(0xcdd6f4),
	BG: hex(0x1e1e2e),
	Palette: [16]color.RGBA{
		hex(0x45475a), hex(0xf38ba8), hex(0xa6e3a1), hex(0xf9e2af),
		hex(0x89b4fa), hex(0xf5c2e7), hex(0x94e2d5), hex(0xbac2de),
		hex(0x585b70), hex(0xf37799), hex(0x89d88b), hex(0xebd391),
		hex(0x74a8fc), hex(0xf2aede), hex(0x6bd7ca), hex(0xeff1f5),
	},
}

var cubeLevels = [6]uint8{0, 95, 135, 175, 215, 255}

// RGBA resolves c; def is used for ColorDefault.
func (t *Theme) RGBA(c Color, def color.RGBA) color.RGBA {
	switch c.Kind {
	case ColorRGB:
		return color.RGBA{c.R, c.G, c.B, 0xff}
	case ColorIndexed:
		n := int(c.Index)
		switch {
		case n < 16:
			return t.Palette[n]
		case n < 232:
			n -= 16
			return color.RGBA{cubeLevels[n/36], cubeLevels[n/6%6], cubeLevels[n%6], 0xff}
		default:
			v := uint8(8 + 10*(n-232))
			return color.RGBA{v, v, v, 0xff}
		}
	}
	return def
}

// Colors returns the foreground and background a cell is drawn with:
// reverse swaps them, faint puts the foreground half-way to the background,
// hidden makes it the background.
func (t *Theme) Colors(s Style) (fg, bg color.RGBA) {
	fg, bg = t.RGBA(s.FG, t.FG), t.RGBA(s.BG, t.BG)
	if s.Has(AttrReverse) {
		fg, bg = bg, fg
	}
	if s.Has(AttrFaint) {
		fg = mix(fg, bg)
	}
	if s.Has(AttrHidden) {
		fg = bg
	}
	return fg, bg
}

func mix(a, b color.RGBA) color.RGBA {
	return color.RGBA{
		uint8((int(a.R) + int(b.R)) / 2),
		uint8((int(a.G) + int(b.G)) / 2),
		uint8((int(a.B) + int(b.B)) / 2),
		0xff,
	}
}

const (
	faceRegular = iota
	faceBold
	faceItalic
	faceBoldItalic
)

type face struct {
	f    *sfnt.Font
	face font.Face
	buf  sfnt.Buffer
}

func (f *face) has(r rune) bool {
	i, err := f.f.GlyphIndex(&f.buf, r)
	return err == nil && i != 0
}

// Renderer draws Screens with a monospace font.
type Renderer struct {
	Theme Theme
	// Pad is the margin around the grid in pixels.
	Pad int
	// CellW and CellH are the size of one cell in pixels; Ascent is the
	// baseline's distance from the top of a cell.
	CellW, CellH, Ascent int

	faces    [4]*face
	fallback *face // optional, for runes the Go fonts lack
	special  map[specialKey]*image.Alpha
}

// DefaultFallbackFonts are tried, in order, for runes the embedded Go Mono
// fonts lack (✓, arrows, ...). None of them is required.
var DefaultFallbackFonts = []string{
	"/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
	"/usr/share/fonts/TTF/DejaVuSansMono.ttf",
	"/usr/share/fonts/dejavu/DejaVuSansMono.ttf",
}

// NewRenderer loads the embedded Go Mono fonts at size pixels. fallback, if
// not empty, is a TrueType font file used for runes Go Mono lacks.
func NewRenderer(size float64, pad int, fallback string) (*Renderer, error) {
	if size <= 0 {
		return nil, fmt.Errorf("font size must be positive, got %v", size)
	}
	r := &Renderer{Theme: DefaultTheme, Pad: max(pad, 0), special: map[specialKey]*image.Alpha{}}
	for i, ttf := range [][]byte{gomono.TTF, gomonobold.TTF, gomonoitalic.TTF, gomonobolditalic.TTF} {
		f, err := loadFace(ttf, size)
		if err != nil {
			return nil, err
		}
		r.faces[i] = f
	}
	if fallback != "" {
		ttf, err := os.ReadFile(fallback)
		if err != nil {
			return nil, err
		}
		if r.fallback, err = loadFace(ttf, size); err != nil {
			return nil, fmt.Errorf("%s: %w", fallback, err)
		}
	}
	reg := r.faces[faceRegular].face
	adv, _ := reg.GlyphAdvance('0')
	m := reg.Metrics()
	r.CellW = max(1, int(math.Round(float64(adv)/64)))
	r.Ascent = m.Ascent.Ceil()
	r.CellH = max(1, r.Ascent+m.Descent.Ceil())
	return r, nil
}

func loadFace(ttf []byte, size float64) (*face, error) {
	f, err := opentype.Parse(ttf)
	if err != nil {
		return nil, err
	}
	ff, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, err
	}
	return &face{f: f, face: ff}, nil
}

// Size returns the size in pixels of the image for a cols x rows screen.
func (r *Renderer) Size(cols, rows int) (w, h int) {
	return 2*r.Pad + cols*r.CellW, 2*r.Pad + rows*r.CellH
}

// Render draws s.
func (r *Renderer) Render(s *Screen) *image.RGBA {
	w, h := r.Size(s.Cols, s.Rows)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), &image.Uniform{r.Theme.BG}, image.Point{}, draw.Src)

	// backgrounds first, so glyphs that overhang their cell are not cut off
	for y, row := range s.Cells {
		for x, c := range row {
			_, bg := r.Theme.Colors(c.Style)
			if bg != r.Theme.BG {
				draw.Draw(img, r.cellRect(x, y, 1), &image.Uniform{bg}, image.Point{}, draw.Src)
			}
		}
	}
	for y, row := range s.Cells {
		for x, c := range row {
			if c.Width == 0 {
				continue
			}
			fg, _ := r.Theme.Colors(c.Style)
			rect := r.cellRect(x, y, c.Width)
			if c.Text != "" && c.Text != " " {
				r.drawText(img, rect, c, fg)
			}
			lw := r.lineWidth()
			if c.Style.Has(AttrUnderline) {
				uy := rect.Min.Y + min(r.Ascent+lw+1, r.CellH-lw)
				draw.Draw(img, image.Rect(rect.Min.X, uy, rect.Max.X, uy+lw), &image.Uniform{fg}, image.Point{}, draw.Over)
			}
			if c.Style.Has(AttrStrike) {
				sy := rect.Min.Y + r.Ascent*2/3
				draw.Draw(img, image.Rect(rect.Min.X, sy, rect.Max.X, sy+lw), &image.Uniform{fg}, image.Point{}, draw.Over)
			}
		}
	}
	return img
}

func (r *Renderer) cellRect(x, y, width int) image.Rectangle {
	x0, y0 := r.Pad+x*r.CellW, r.Pad+y*r.CellH
	return image.Rect(x0, y0, x0+width*r.CellW, y0+r.CellH)
}

// lineWidth is the thickness of light lines, underlines and strikes.
func (r *Renderer) lineWidth() int {
	return max(1, int(math.Round(float64(r.CellW)/9)))
}

func (r *Renderer) drawText(img *image.RGBA, rect image.Rectangle, c Cell, fg color.RGBA) {
	src := &image.Uniform{fg}
	runes := []rune(c.Text)
	if len(runes) == 1 {
		if m := r.specialMask(runes[0], rect.Dx(), rect.Dy()); m != nil {
			draw.DrawMask(img, rect, src, image.Point{}, m, image.Point{}, draw.Over)
			return
		}
	}
	style := faceRegular
	switch {
	case c.Style.Has(AttrBold | AttrItalic):
		style = faceBoldItalic
	case c.Style.Has(AttrBold):
		style = faceBold
	case c.Style.Has(AttrItalic):
		style = faceItalic
	}
	dot := fixed.P(rect.Min.X, rect.Min.Y+r.Ascent)
	for i, ch := range runes {
		f := r.faceFor(ch, style)
		if f == nil {
			if i == 0 {
				r.drawTofu(img, rect, src)
			}
			continue
		}
		at := dot
		if i > 0 {
			// A combining mark with an advance of its own (as in monospace
			// fonts) is drawn over the base glyph; one without is drawn
			// after it, where it reaches back over the base.
			if a, ok := f.face.GlyphAdvance(ch); ok && a > 0 {
				at = fixed.P(rect.Min.X, rect.Min.Y+r.Ascent)
			}
		}
		dr, mask, mp, adv, ok := f.face.Glyph(at, ch)
		if !ok {
			continue
		}
		if i == 0 && c.Width == 2 {
			// centre a narrow glyph in a wide cell
			if off := fixed.I(rect.Dx()) - adv; off > 0 {
				dr = dr.Add(image.Pt((off / 2).Round(), 0))
			}
		}
		draw.DrawMask(img, dr, src, image.Point{}, mask, mp, draw.Over)
		if i == 0 {
			dot.X += adv
		}
	}
}

func (r *Renderer) faceFor(ch rune, style int) *face {
	for _, f := range []*face{r.faces[style], r.faces[faceRegular], r.fallback} {
		if f != nil && f.has(ch) {
			return f
		}
	}
	return nil
}

// drawTofu draws an empty box for a rune no font has.
func (r *Renderer) drawTofu(img *image.RGBA, rect image.Rectangle, src image.Image) {
	in := image.Rect(rect.Min.X+1, rect.Min.Y+r.CellH/6, rect.Max.X-1, rect.Max.Y-r.CellH/6)
	for _, e := range []image.Rectangle{
		{in.Min, image.Pt(in.Max.X, in.Min.Y+1)},
		{image.Pt(in.Min.X, in.Max.Y-1), in.Max},
		{in.Min, image.Pt(in.Min.X+1, in.Max.Y)},
		{image.Pt(in.Max.X-1, in.Min.Y), in.Max},
	} {
		draw.Draw(img, e, src, image.Point{}, draw.Over)
	}
}
