// Command ansi2png renders a terminal screen, as `tmux capture-pane -p -e`
// prints it (text with SGR colour sequences), to a PNG image. It uses the
// Go Mono fonts embedded in golang.org/x/image, so it needs no system fonts.
//
//	tmux capture-pane -p -e -t shots | go run ./screenshots/ansi2png -out orders.png -cols 100 -rows 30
package main

import (
	"bufio"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "ansi2png:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader) error {
	fs := flag.NewFlagSet("ansi2png", flag.ContinueOnError)
	in := fs.String("in", "", "input file (default stdin)")
	out := fs.String("out", "", "output PNG file (required)")
	cols := fs.Int("cols", 0, "columns: crop or pad to this width (0: widest input line)")
	rows := fs.Int("rows", 0, "rows: crop or pad to this height (0: number of input lines)")
	size := fs.Float64("font-size", 14, "font size in pixels")
	pad := fs.Int("pad", -1, "margin around the screen in pixels (-1: the font size)")
	ncolors := fs.Int("colors", 256, "store the PNG with a palette of at most this many colours (2..256; exact when the screen has no more; 0: full RGB)")
	fallback := fs.String("fallback-font", "auto", `TrueType font for runes Go Mono lacks: a path, "auto" (DejaVu Sans Mono if installed) or "none"`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return fmt.Errorf("-out is required")
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}

	var data []byte
	var err error
	if *in == "" || *in == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(*in)
	}
	if err != nil {
		return err
	}

	fb := *fallback
	switch fb {
	case "none":
		fb = ""
	case "auto":
		fb = ""
		for _, p := range DefaultFallbackFonts {
			if _, err := os.Stat(p); err == nil {
				fb = p
				break
			}
		}
	}
	if *pad < 0 {
		*pad = int(*size)
	}
	r, err := NewRenderer(*size, *pad, fb)
	if err != nil {
		return err
	}
	if *ncolors != 0 && (*ncolors < 2 || *ncolors > 256) {
		return fmt.Errorf("-colors %d: want 2..256, or 0 for full RGB", *ncolors)
	}
	rgba := r.Render(Parse(data, *cols, *rows))
	var img image.Image = rgba
	if p := Palettize(rgba, *ncolors); p != nil {
		img = p
	}

	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(w, img); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
