package main

import (
	"image"
	"math"
)

// Box drawing, block elements and braille are drawn as shapes rather than
// taken from the font, as terminals such as kitty and WezTerm do: the lines
// then meet exactly across cells whatever the cell size, and runes the Go
// fonts lack (rounded corners, heavy lines, braille spinners) still draw.

// boxArms gives, for each line-drawing rune, the weight of its arm going
// up, right, down and left: '.' none, 'l' light, 'h' heavy, 'd' double.
var boxArms = map[rune]string{
	'─': ".l.l", '━': ".h.h", '│': "l.l.", '┃': "h.h.",
	'┌': ".ll.", '┍': ".hl.", '┎': ".lh.", '┏': ".hh.",
	'┐': "..ll", '┑': "..lh", '┒': "..hl", '┓': "..hh",
	'└': "ll..", '┕': "lh..", '┖': "hl..", '┗': "hh..",
	'┘': "l..l", '┙': "l..h", '┚': "h..l", '┛': "h..h",
	'├': "lll.", '┝': "lhl.", '┞': "hll.", '┟': "llh.",
	'┠': "hlh.", '┡': "hhl.", '┢': "lhh.", '┣': "hhh.",
	'┤': "l.ll", '┥': "l.lh", '┦': "h.ll", '┧': "l.hl",
	'┨': "h.hl", '┩': "h.lh", '┪': "l.hh", '┫': "h.hh",
	'┬': ".lll", '┭': ".llh", '┮': ".hll", '┯': ".hlh",
	'┰': ".lhl", '┱': ".lhh", '┲': ".hhl", '┳': ".hhh",
	'┴': "ll.l", '┵': "ll.h", '┶': "lh.l", '┷': "lh.h",
	'┸': "hl.l", '┹': "hl.h", '┺': "hh.l", '┻': "hh.h",
	'┼': "llll", '┽': "lllh", '┾': "lhll", '┿': "lhlh",
	'╀': "hlll", '╁': "llhl", '╂': "hlhl", '╃': "hllh",
	'╄': "hhll", '╅': "llhh", '╆': "lhhl", '╇': "hhlh",
	'╈': "lhhh", '╉': "hlhh", '╊': "hhhl", '╋': "hhhh",
	'═': ".d.d", '║': "d.d.",
	'╒': ".dl.", '╓': ".ld.", '╔': ".dd.",
	'╕': "..ld", '╖': "..dl", '╗': "..dd",
	'╘': "ld..", '╙': "dl..", '╚': "dd..",
	'╛': "l..d", '╜': "d..l", '╝': "d..d",
	'╞': "ldl.", '╟': "dld.", '╠': "ddd.",
	'╡': "l.ld", '╢': "d.dl", '╣': "d.dd",
	'╤': ".dld", '╥': ".ldl", '╦': ".ddd",
	'╧': "ld.d", '╨': "dl.l", '╩': "dd.d",
	'╪': "ldld", '╫': "dldl", '╬': "dddd",
	'╴': "...l", '╵': "l...", '╶': ".l..", '╷': "..l.",
	'╸': "...h", '╹': "h...", '╺': ".h..", '╻': "..h.",
	'╼': ".h.l", '╽': "l.h.", '╾': ".l.h", '╿': "h.l.",
	// dashed lines: drawn by dashes below
	'┄': ".l.l", '┅': ".h.h", '┆': "l.l.", '┇': "h.h.",
	'┈': ".l.l", '┉': ".h.h", '┊': "l.l.", '┋': "h.h.",
	'╌': ".l.l", '╍': ".h.h", '╎': "l.l.", '╏': "h.h.",
}

// dashes is the number of dashes per cell of the dashed lines.
var dashes = map[rune]int{
	'┄': 3, '┅': 3, '┆': 3, '┇': 3,
	'┈': 4, '┉': 4, '┊': 4, '┋': 4,
	'╌': 2, '╍': 2, '╎': 2, '╏': 2,
}

type specialKey struct {
	r    rune
	w, h int
}

// specialMask returns the coverage mask of r drawn in a w x h cell, or nil
// if r is not drawn as a shape.
func (r *Renderer) specialMask(ch rune, w, h int) *image.Alpha {
	if !isSpecial(ch) {
		return nil
	}
	k := specialKey{ch, w, h}
	if m, ok := r.special[k]; ok {
		return m
	}
	m := drawSpecial(ch, w, h, r.lineWidth())
	r.special[k] = m
	return m
}

func isSpecial(ch rune) bool {
	return (ch >= 0x2500 && ch <= 0x259f) || (ch >= 0x2800 && ch <= 0x28ff)
}

type canvas struct {
	a    *image.Alpha
	w, h int
}

func (c *canvas) rect(x0, y0, x1, y1 int) {
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, c.w), min(y1, c.h)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			c.a.Pix[y*c.a.Stride+x] = 0xff
		}
	}
}

func (c *canvas) fill(alpha uint8) {
	for i := range c.a.Pix {
		c.a.Pix[i] = alpha
	}
}

// shape adds anti-aliased coverage for the region where inside is true,
// sampled 4x4 per pixel.
func (c *canvas) shape(inside func(x, y float64) bool) {
	const n = 4
	for y := 0; y < c.h; y++ {
		for x := 0; x < c.w; x++ {
			hits := 0
			for sy := range n {
				for sx := range n {
					if inside(float64(x)+(float64(sx)+0.5)/n, float64(y)+(float64(sy)+0.5)/n) {
						hits++
					}
				}
			}
			if hits > 0 {
				i := y*c.a.Stride + x
				c.a.Pix[i] = uint8(min(255, int(c.a.Pix[i])+hits*255/(n*n)))
			}
		}
	}
}

func drawSpecial(ch rune, w, h, light int) *image.Alpha {
	c := &canvas{a: image.NewAlpha(image.Rect(0, 0, w, h)), w: w, h: h}
	switch {
	case ch >= 0x2800:
		c.braille(int(ch - 0x2800))
	case ch >= 0x2580:
		c.block(ch)
	case ch >= 0x256d && ch <= 0x2570:
		c.arc(ch, light)
	case ch >= 0x2571 && ch <= 0x2573:
		c.diagonal(ch, light)
	default:
		c.lines(boxArms[ch], dashes[ch], light)
	}
	return c.a
}

func (c *canvas) lines(arms string, dash, light int) {
	if len(arms) != 4 {
		return
	}
	heavy := light*2 + 1
	thick := func(b byte) int {
		switch b {
		case 'h':
			return heavy
		case 'l', 'd':
			return light
		}
		return 0
	}
	up, right, down, left := arms[0], arms[1], arms[2], arms[3]
	cx, cy := c.w/2, c.h/2
	gap := max(2, light*2) // distance of each line of a double line from the centre
	// start of a line of thickness t centred on p
	at := func(p, t int) int { return p - t/2 }
	// double lines: the two lines' starts
	dxl, dxr := at(cx-gap, light), at(cx+gap, light)
	dyt, dyb := at(cy-gap, light), at(cy+gap, light)

	if dash > 0 {
		t := thick(right)
		if up != '.' {
			t = thick(up)
		}
		if up != '.' {
			seg := float64(c.h) / float64(dash)
			for i := range dash {
				y0 := int(math.Round(float64(i) * seg))
				c.rect(at(cx, t), y0, at(cx, t)+t, y0+int(math.Round(seg*0.6)))
			}
		} else {
			seg := float64(c.w) / float64(dash)
			for i := range dash {
				x0 := int(math.Round(float64(i) * seg))
				c.rect(x0, at(cy, t), x0+int(math.Round(seg*0.6)), at(cy, t)+t)
			}
		}
		return
	}

	// horizontal arms
	vt := max(thick(up), thick(down)) // thickness of the vertical stroke they meet
	vDouble := up == 'd' || down == 'd'
	for _, arm := range []struct {
		b       byte
		isRight bool
	}{{right, true}, {left, false}} {
		if arm.b == '.' {
			continue
		}
		// span returns the x range of a line from the centre region to the edge
		span := func(join int, joinEnd bool) (int, int) {
			// join is where the line stops near the centre; joinEnd says the
			// position is the far side of a vertical stroke starting at join
			if arm.isRight {
				return join, c.w
			}
			if joinEnd {
				return 0, join + light
			}
			return 0, join
		}
		if arm.b == 'd' {
			for _, top := range []bool{true, false} {
				near, far := up == 'd', down == 'd' // near: the vertical on this line's side is double
				if !top {
					near, far = far, near
				}
				var x0, x1 int
				switch {
				case near: // stop at the inner vertical line
					if arm.isRight {
						x0, x1 = span(dxr, false)
					} else {
						x0, x1 = span(dxl, true)
					}
				case far: // outer corner: reach the outer vertical line
					if arm.isRight {
						x0, x1 = span(dxl, false)
					} else {
						x0, x1 = span(dxr, true)
					}
				case vt > 0:
					if arm.isRight {
						x0, x1 = at(cx, vt), c.w
					} else {
						x0, x1 = 0, at(cx, vt)+vt
					}
				default:
					x0, x1 = span(cx, false)
				}
				y := dyb
				if top {
					y = dyt
				}
				c.rect(x0, y, x1, y+light)
			}
			continue
		}
		t := thick(arm.b)
		var x0, x1 int
		switch {
		case vDouble && up != '.' && down != '.': // T-join on a double vertical: meet the near line
			if arm.isRight {
				x0, x1 = dxr, c.w
			} else {
				x0, x1 = 0, dxl+light
			}
		case vDouble: // corner: meet the far line
			if arm.isRight {
				x0, x1 = dxl, c.w
			} else {
				x0, x1 = 0, dxr+light
			}
		case vt > 0:
			if arm.isRight {
				x0, x1 = at(cx, vt), c.w
			} else {
				x0, x1 = 0, at(cx, vt)+vt
			}
		default:
			if arm.isRight {
				x0, x1 = cx, c.w
			} else {
				x0, x1 = 0, cx
			}
		}
		c.rect(x0, at(cy, t), x1, at(cy, t)+t)
	}

	// vertical arms, the same with the axes swapped
	ht := max(thick(left), thick(right))
	hDouble := left == 'd' || right == 'd'
	for _, arm := range []struct {
		b      byte
		isDown bool
	}{{down, true}, {up, false}} {
		if arm.b == '.' {
			continue
		}
		rangeFrom := func(join int, joinEnd bool) (int, int) {
			if arm.isDown {
				return join, c.h
			}
			if joinEnd {
				return 0, join + light
			}
			return 0, join
		}
		if arm.b == 'd' {
			for _, leftLine := range []bool{true, false} {
				near, far := left == 'd', right == 'd'
				if !leftLine {
					near, far = far, near
				}
				var y0, y1 int
				switch {
				case near:
					if arm.isDown {
						y0, y1 = rangeFrom(dyb, false)
					} else {
						y0, y1 = rangeFrom(dyt, true)
					}
				case far:
					if arm.isDown {
						y0, y1 = rangeFrom(dyt, false)
					} else {
						y0, y1 = rangeFrom(dyb, true)
					}
				case ht > 0:
					if arm.isDown {
						y0, y1 = at(cy, ht), c.h
					} else {
						y0, y1 = 0, at(cy, ht)+ht
					}
				default:
					y0, y1 = rangeFrom(cy, false)
				}
				x := dxr
				if leftLine {
					x = dxl
				}
				c.rect(x, y0, x+light, y1)
			}
			continue
		}
		t := thick(arm.b)
		var y0, y1 int
		switch {
		case hDouble && left != '.' && right != '.':
			if arm.isDown {
				y0, y1 = dyb, c.h
			} else {
				y0, y1 = 0, dyt+light
			}
		case hDouble:
			if arm.isDown {
				y0, y1 = dyt, c.h
			} else {
				y0, y1 = 0, dyb+light
			}
		case ht > 0:
			if arm.isDown {
				y0, y1 = at(cy, ht), c.h
			} else {
				y0, y1 = 0, at(cy, ht)+ht
			}
		default:
			if arm.isDown {
				y0, y1 = cy, c.h
			} else {
				y0, y1 = 0, cy
			}
		}
		c.rect(at(cx, t), y0, at(cx, t)+t, y1)
	}
}

// arc draws ╭ ╮ ╯ ╰: a quarter circle joining the middle of two edges,
// with straight lines to the edges where the cell is taller than wide.
func (c *canvas) arc(ch rune, light int) {
	cx, cy := c.w/2, c.h/2
	// centre line of a light stroke
	fx := float64(cx-light/2) + float64(light)/2
	fy := float64(cy-light/2) + float64(light)/2
	rad := math.Min(fx, float64(c.w)-fx)
	goRight := ch == '╭' || ch == '╰'
	goDown := ch == '╭' || ch == '╮'
	ox, oy := fx-rad, fy-rad // arc centre
	if goRight {
		ox = fx + rad
	}
	if goDown {
		oy = fy + rad
	}
	half := float64(light) / 2
	c.shape(func(x, y float64) bool {
		if (goRight && x > ox) || (!goRight && x < ox) || (goDown && y > oy) || (!goDown && y < oy) {
			return false
		}
		d := math.Hypot(x-ox, y-oy)
		return math.Abs(d-rad) <= half
	})
	// straight parts from where the arc ends to the edges
	x0 := cx - light/2
	if goDown {
		c.rect(x0, int(math.Round(oy)), x0+light, c.h)
	} else {
		c.rect(x0, 0, x0+light, int(math.Round(oy)))
	}
	y0 := cy - light/2
	if goRight {
		c.rect(int(math.Round(ox)), y0, c.w, y0+light)
	} else {
		c.rect(0, y0, int(math.Round(ox)), y0+light)
	}
}

func (c *canvas) diagonal(ch rune, light int) {
	w, h := float64(c.w), float64(c.h)
	half := float64(light)/2 + 0.25
	norm := math.Hypot(w, h)
	// distance from (x, y) to the line through (0,0)-(w,h) and to (w,0)-(0,h)
	down := func(x, y float64) bool { return math.Abs(h*x-w*y)/norm <= half }
	up := func(x, y float64) bool { return math.Abs(h*x+w*y-w*h)/norm <= half }
	c.shape(func(x, y float64) bool {
		switch ch {
		case '╱':
			return up(x, y)
		case '╲':
			return down(x, y)
		}
		return up(x, y) || down(x, y)
	})
}

func (c *canvas) block(ch rune) {
	w, h := c.w, c.h
	eighthX := func(n int) int { return int(math.Round(float64(w*n) / 8)) }
	eighthY := func(n int) int { return int(math.Round(float64(h*n) / 8)) }
	hx, hy := w/2, h/2
	quad := func(ul, ur, ll, lr bool) {
		if ul {
			c.rect(0, 0, hx, hy)
		}
		if ur {
			c.rect(hx, 0, w, hy)
		}
		if ll {
			c.rect(0, hy, hx, h)
		}
		if lr {
			c.rect(hx, hy, w, h)
		}
	}
	switch {
	case ch == '▀':
		c.rect(0, 0, w, hy)
	case ch >= '▁' && ch <= '█': // lower n/8
		c.rect(0, h-eighthY(int(ch-'▁')+1), w, h)
	case ch >= '▉' && ch <= '▏': // left 7/8 .. 1/8
		c.rect(0, 0, eighthX(int('▏'-ch)+1), h)
	case ch == '▐':
		c.rect(hx, 0, w, h)
	case ch == '░':
		c.fill(0x40)
	case ch == '▒':
		c.fill(0x80)
	case ch == '▓':
		c.fill(0xc0)
	case ch == '▔':
		c.rect(0, 0, w, eighthY(1))
	case ch == '▕':
		c.rect(w-eighthX(1), 0, w, h)
	case ch == '▖':
		quad(false, false, true, false)
	case ch == '▗':
		quad(false, false, false, true)
	case ch == '▘':
		quad(true, false, false, false)
	case ch == '▙':
		quad(true, false, true, true)
	case ch == '▚':
		quad(true, false, false, true)
	case ch == '▛':
		quad(true, true, true, false)
	case ch == '▜':
		quad(true, true, false, true)
	case ch == '▝':
		quad(false, true, false, false)
	case ch == '▞':
		quad(false, true, true, false)
	case ch == '▟':
		quad(false, true, true, true)
	}
}

// braille draws the dots of U+2800+bits: bits 0-2 and 6 are the left
// column top to bottom, bits 3-5 and 7 the right column.
func (c *canvas) braille(bits int) {
	type dot struct{ col, row int }
	pos := [8]dot{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1}, {1, 2}, {0, 3}, {1, 3}}
	w, h := float64(c.w), float64(c.h)
	r := math.Max(0.8, math.Min(w/4, h/8)*0.6)
	c.shape(func(x, y float64) bool {
		for i, p := range pos {
			if bits&(1<<i) == 0 {
				continue
			}
			dx := x - w*float64(2*p.col+1)/4
			dy := y - h*float64(2*p.row+1)/8
			if dx*dx+dy*dy <= r*r {
				return true
			}
		}
		return false
	})
}
