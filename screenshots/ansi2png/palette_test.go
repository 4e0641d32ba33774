package main

import (
	"image"
	"image/color"
	"testing"
)

func TestPalettizeExactWhenFewColours(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 16), uint8(y * 16), 7, 255})
		}
	}
	p := Palettize(img, 256)
	if p == nil {
		t.Fatal("Palettize returned nil for n=256")
	}
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			if got, want := color.RGBAModel.Convert(p.At(x, y)), img.RGBAAt(x, y); got != want {
				t.Fatalf("pixel %d,%d: got %v, want %v", x, y, got, want)
			}
		}
	}
}

func TestPalettizeMapsRareColoursToNearest(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 10, 1))
	dark, light := color.RGBA{30, 30, 46, 255}, color.RGBA{205, 214, 244, 255}
	for x := 0; x < 6; x++ {
		img.SetRGBA(x, 0, dark)
	}
	for x := 6; x < 9; x++ {
		img.SetRGBA(x, 0, light)
	}
	img.SetRGBA(9, 0, color.RGBA{40, 40, 60, 255}) // a rare edge shade near dark
	p := Palettize(img, 2)
	if len(p.Palette) != 2 {
		t.Fatalf("palette has %d colours, want 2", len(p.Palette))
	}
	if got := color.RGBAModel.Convert(p.At(9, 0)); got != dark {
		t.Errorf("rare shade became %v, want the nearest colour %v", got, dark)
	}
	if Palettize(img, 0) != nil || Palettize(img, 300) != nil {
		t.Error("Palettize should return nil for n outside 2..256")
	}
}
