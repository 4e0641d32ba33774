package main

import (
	"image"
	"image/color"
	"sort"
)

// Palettize returns img as a paletted image of at most n colours, which PNG
// stores in a byte per pixel and compresses far better than RGB. A terminal
// screen has a handful of colours plus the anti-aliased edges of glyphs
// between them, typically 700-1400 distinct values. When there are at most n
// the result is exact; otherwise the n most frequent colours form the
// palette and every other colour (a rare edge shade) becomes its nearest
// palette entry, which is not visible at 1:1. n outside 2..256 returns nil.
func Palettize(img *image.RGBA, n int) *image.Paletted {
	if n < 2 || n > 256 {
		return nil
	}
	b := img.Bounds()
	count := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[img.RGBAAt(x, y)]++
		}
	}
	colors := make([]color.RGBA, 0, len(count))
	for c := range count {
		colors = append(colors, c)
	}
	// most frequent first; ties by value, so the output is deterministic
	sort.Slice(colors, func(i, j int) bool {
		ci, cj := count[colors[i]], count[colors[j]]
		if ci != cj {
			return ci > cj
		}
		a, b := colors[i], colors[j]
		if a.R != b.R {
			return a.R < b.R
		}
		if a.G != b.G {
			return a.G < b.G
		}
		if a.B != b.B {
			return a.B < b.B
		}
		return a.A < b.A
	})
	keep := colors
	if len(keep) > n {
		keep = keep[:n]
	}
	pal := make(color.Palette, len(keep))
	index := make(map[color.RGBA]uint8, len(colors))
	for i, c := range keep {
		pal[i] = c
		index[c] = uint8(i)
	}
	for _, c := range colors[len(keep):] {
		best, bestD := 0, -1
		for i, p := range keep {
			if d := dist2(c, p); bestD < 0 || d < bestD {
				best, bestD = i, d
			}
		}
		index[c] = uint8(best)
	}
	out := image.NewPaletted(b, pal)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			out.SetColorIndex(x, y, index[img.RGBAAt(x, y)])
		}
	}
	return out
}

func dist2(a, b color.RGBA) int {
	dr, dg, db := int(a.R)-int(b.R), int(a.G)-int(b.G), int(a.B)-int(b.B)
	// weighted towards green, as the eye is
	return 3*dr*dr + 4*dg*dg + 2*db*db
}
