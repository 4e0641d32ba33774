// Package safetext is the one sanitiser every provider-supplied string passes
// before it is drawn on the agent's terminal.
//
// A Bubble Tea View() is written raw to the terminal, so a hostile order
// reason, metadata value or gateway error message could otherwise set the
// clipboard (OSC 52), set and report the window title (OSC 0/2 + CSI 21t),
// move the cursor to overwrite an amount (CSI, CR, BS), or reverse the digits
// of a ref with bidi overrides. charmbracelet/x/ansi.Strip alone is not enough
// (it keeps CR, BS, DEL, stray C1 bytes and bidi controls), so this package is
// a real scanner.
//
// What is removed, and how it is shown:
//
//   - ESC and every ESC-introduced sequence: CSI, OSC (BEL-, ST- or
//     unterminated), DCS, SOS, PM, APC, nF sequences (ESC intermediates final)
//     and two-byte ESC x;
//   - C1 controls U+0080–U+009F, both as UTF-8 runes and as raw bytes; the
//     8-bit introducers (CSI 0x9B, OSC 0x9D, DCS 0x90, SOS 0x98, PM 0x9E,
//     APC 0x9F) also swallow their parameters / string up to the terminator;
//   - C0 controls, DEL, a CR that is not part of CRLF, BS;
//   - invalid UTF-8 bytes;
//   - every format character (unicode.Cf), which covers the bidi controls
//     U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C, the zero-width
//     U+200B–U+200D, U+2060, U+FEFF, soft hyphen and tag characters.
//
// Every maximal run of removed input is replaced by ONE [Placeholder]
// ("\uFFFD", the Unicode replacement character: in every font, one cell wide,
// and already known to people as "something here could not be shown"), so the
// agent can see the value was odd: "\x1b]52;c;ZWNo\x07after" becomes "�after".
//
// Exceptions that are transformed rather than flagged: a tab becomes a space
// (Line) or spaces up to the next 4-column tab stop (Block); CRLF is a
// newline; a newline, U+2028 or U+2029 becomes [NewlineMarker] "␤" in Line and
// "\n" in Block; a zero-width joiner between two pictographs (the glue inside
// emoji such as 👩‍👩‍👧) is dropped silently, because the emoji stay
// readable without it.
//
// Output is valid UTF-8, contains no rune for which unicode.IsControl is true
// (except '\n' from Block), no Bidi_Control and no Cf rune, is capped at
// [MaxLineRunes] / [MaxBlockRunes] runes (the last rune being [Ellipsis]),
// and sanitising twice changes nothing: Line(Line(x)) == Line(x).
//
// Store and send raw values unchanged; sanitise only for display.
package safetext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"

	"paydesk/model/pii"
)

const (
	// Placeholder replaces each run of removed characters.
	Placeholder = "\uFFFD"
	// NewlineMarker is what a line break looks like in a single-line cell.
	NewlineMarker = "\u2424" // ␤ SYMBOL FOR NEWLINE
	// Ellipsis ends a value that was cut by the rune cap or by Truncate.
	Ellipsis = "…"
	// MaxLineRunes caps the output of Line (DoS guard against huge values).
	MaxLineRunes = 4096
	// MaxBlockRunes caps the output of Block.
	MaxBlockRunes = 16384
	// TabWidth is the tab stop distance Block expands tabs to.
	TabWidth = 4
)

const (
	esc = 0x1b
	bel = 0x07
	can = 0x18
	sub = 0x1a
)

// Line sanitises s for a single-line cell: nothing in the result can move the
// cursor, change terminal state or start a new row. Card-number-like digit
// runs are masked to their last four digits (PCI DSS 3.4.1): this is the one
// place every provider string passes before it is drawn or logged, so no
// screen can forget to mask.
func Line(s string) string { return pii.MaskPAN(sanitize(s, false)) }

// Block sanitises s for a multi-line area: like Line, but newlines are kept
// (CRLF, U+2028 and U+2029 become "\n") and tabs become spaces.
func Block(s string) string { return pii.MaskPAN(sanitize(s, true)) }

// Truncate sanitises s with Line and cuts it to at most width terminal cells,
// ending with "…" when something was cut. It is grapheme- and wide-rune-aware
// (a CJK character or emoji is never split). It expects plain text, not
// strings that already carry styling escape sequences. width <= 0 gives "".
func Truncate(s string, width int) string {
	if width <= 0 {
		return ""
	}
	s = Line(s)
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, Ellipsis)
}

// IsClean reports whether Line(s) == s, i.e. s needs no sanitising.
func IsClean(s string) bool { return isClean(s, false, MaxLineRunes) && pii.MaskPAN(s) == s }

// isClean reports whether s passes through sanitize unchanged. It never
// allocates; it is the fast path for the common, already-clean value.
func isClean(s string, block bool, max int) bool {
	if len(s) <= max {
		// ASCII fast path: printable ASCII (and '\n' in blocks) is kept as is.
		i := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c < 0x20 || c >= 0x7f {
				if c == '\n' && block {
					continue
				}
				break
			}
		}
		if i == len(s) {
			return true
		}
	}
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return false
		}
		if !(r == '\n' && block) && !keptAsIs(r) {
			return false
		}
		n++
		if n > max {
			return false
		}
		i += size
	}
	return true
}

// keptAsIs reports whether a valid rune is copied to the output unchanged.
func keptAsIs(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return false
	case r < 0x7f:
		return true
	case r <= 0x9f:
		return false
	case r == '\u2028' || r == '\u2029':
		return false
	}
	return !unicode.Is(unicode.Cf, r) && !unicode.Is(unicode.Bidi_Control, r)
}

// isPictograph is a cheap approximation of Extended_Pictographic, used only
// to decide whether a ZWJ is emoji glue (dropped silently) or suspicious
// (flagged with the placeholder). It is deliberately generous: either way the
// ZWJ itself never reaches the output.
func isPictograph(r rune) bool {
	switch {
	case r >= 0x1f000 && r <= 0x1faff:
		return true
	case r >= 0x2600 && r <= 0x27bf:
		return true
	case r == 0xfe0f: // emoji presentation selector ends many pictographs
		return true
	}
	return unicode.Is(unicode.So, r)
}

type writer struct {
	b       strings.Builder
	block   bool
	pending bool // a removed run is open and its placeholder not yet written
	n       int  // runes written
	col     int  // approximate column, for tab stops in blocks
	max     int
}

func (w *writer) full() bool { return w.n > w.max }

func (w *writer) flush() {
	if w.pending {
		w.pending = false
		w.b.WriteString(Placeholder)
		w.n++
		w.col++
	}
}

func (w *writer) rune(r rune) {
	w.flush()
	w.b.WriteRune(r)
	w.n++
	if w.block {
		if r == '\n' {
			w.col = 0
		} else {
			w.col += ansi.StringWidth(string(r)) // same measure as lipgloss
		}
	}
}

func (w *writer) newline() {
	if w.block {
		w.rune('\n')
	} else {
		w.rune('\u2424')
	}
}

func (w *writer) tab() {
	if !w.block {
		w.rune(' ')
		return
	}
	w.rune(' ')
	for w.col%TabWidth != 0 && !w.full() {
		w.rune(' ')
	}
}

func sanitize(s string, block bool) string {
	max := MaxLineRunes
	if block {
		max = MaxBlockRunes
	}
	if isClean(s, block, max) {
		return s
	}
	w := &writer{block: block, max: max}
	grow := len(s) + 8
	if grow > 4*max+8 {
		grow = 4*max + 8
	}
	w.b.Grow(grow)

	prev := rune(-1) // previous input rune that was kept, -1 after a removal
	for i := 0; i < len(s) && !w.full(); {
		c := s[i]

		// ESC and the sequence it introduces.
		if c == esc {
			i = skipEsc(s, i)
			w.pending, prev = true, -1
			continue
		}

		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Invalid UTF-8. A raw byte in 0x80–0x9F is an 8-bit C1 control
			// to a terminal in 8-bit mode: eat its parameters / string too.
			if c >= 0x80 && c <= 0x9f {
				i = skipC1(s, i+1, rune(c))
			} else {
				i++
			}
			w.pending, prev = true, -1
			continue
		}

		switch {
		case r >= 0x80 && r <= 0x9f:
			i = skipC1(s, i+size, r)
			w.pending, prev = true, -1
			continue
		case r == '\n' || r == '\u2028' || r == '\u2029':
			w.newline()
		case r == '\r' && i+1 < len(s) && s[i+1] == '\n':
			w.newline()
			size = 2
		case r == '\t':
			w.tab()
		case r == '\u200d' && prev >= 0 && isPictograph(prev) && nextIsPictograph(s[i+size:]):
			// emoji glue: drop silently, keep prev so chains like 👩‍👩‍👧 work
			i += size
			continue
		case keptAsIs(r):
			w.rune(r)
		default:
			i += size
			w.pending, prev = true, -1
			continue
		}
		prev = r
		i += size
	}
	if !w.full() {
		w.flush()
	}
	out := w.b.String()
	if w.n > max {
		out = cutRunes(out, max-1) + Ellipsis
	}
	return out
}

func nextIsPictograph(s string) bool {
	r, size := utf8.DecodeRuneInString(s)
	return size > 0 && r != utf8.RuneError && isPictograph(r)
}

// cutRunes returns the first n runes of s.
func cutRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// skipEsc returns the index just past the escape sequence starting with the
// ESC at s[i].
func skipEsc(s string, i int) int {
	i++ // ESC
	if i >= len(s) {
		return i
	}
	c := s[i]
	switch {
	case c == '[':
		return skipCSI(s, i+1)
	case c == ']':
		return skipString(s, i+1)
	case c == 'P' || c == 'X' || c == '^' || c == '_':
		return skipString(s, i+1)
	case c >= 0x20 && c <= 0x2f:
		// nF: intermediates, then one final byte (ESC ( B, ESC # 8, ...).
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	case c >= 0x30 && c <= 0x7e:
		// Fp/Fe/Fs: two-byte sequences such as ESC c (reset), ESC 7, ESC M.
		return i + 1
	}
	// ESC followed by a control, DEL or non-ASCII: only the ESC goes.
	return i
}

// skipC1 returns the index past the parameters or string that the C1 control
// r (already consumed, s[i:] follows it) introduces.
func skipC1(s string, i int, r rune) int {
	switch r {
	case 0x9b: // CSI
		return skipCSI(s, i)
	case 0x9d: // OSC
		return skipString(s, i)
	case 0x90, 0x98, 0x9e, 0x9f: // DCS, SOS, PM, APC
		return skipString(s, i)
	}
	return i
}

// skipCSI skips parameter and intermediate bytes (0x20–0x3F) and one final
// byte (0x40–0x7E). Anything else ends the sequence without being consumed;
// the caller then deals with it (and a removed byte joins the same run).
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString skips the body of an OSC/DCS/SOS/PM/APC string. It ends after
// BEL (any string; xterm accepts it for OSC and it is harmless to accept it
// elsewhere), after ST (ESC \, U+009C or a raw 0x9C byte), after CAN or SUB
// (which abort a sequence), before an ESC that is not ST (which starts a new
// sequence), or at the end of the input: an unterminated string swallows the
// rest, as it would on a terminal.
func skipString(s string, i int) int {
	for i < len(s) {
		c := s[i]
		switch {
		case c == bel || c == can || c == sub:
			return i + 1
		case c == esc:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i
		case c >= 0x80:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == 0x9c || (r == utf8.RuneError && size == 1 && c == 0x9c) {
				return i + size // ST as U+009C or as a raw 8-bit byte
			}
			i += size
			continue
		}
		i++
	}
	return i
}
