package api

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// Secret holds a credential. Every way Go has of printing it (%v, %+v, %#v,
// %s, JSON, slog) prints [REDACTED]; only Reveal gives the value, and only the
// code that puts it on the wire calls Reveal.
type Secret struct{ v string }

// NewSecret wraps a credential.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the credential for the one place that sends it.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether no credential was given.
func (s Secret) IsZero() bool { return s.v == "" }

const redacted = "[REDACTED]"

func (s Secret) String() string                { return redacted }
func (s Secret) GoString() string              { return redacted }
func (s Secret) MarshalJSON() ([]byte, error)  { return []byte(`"` + redacted + `"`), nil }
func (s Secret) MarshalText() ([]byte, error)  { return []byte(redacted), nil }
func (s Secret) LogValue() slog.Value          { return slog.StringValue(redacted) }
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// Credentials is implemented by whatever puts secrets on the wire (an
// Authenticator, or a client that sends its own Authorization header). It
// lists each credential string as sent or as its parts: a raw key, an
// "id:secret" pair, a current or earlier token. The transport scrubs every
// form of each from anything a provider says back (see Scrubber).
type Credentials interface{ Credentials() []string }

// runLen is the shortest run of a credential that is scrubbed: any 8 bytes
// of a key, in any of the forms below, count as the key.
const runLen = 8

// Scrubber removes credentials from text a provider sent back: an error
// message quoting the Authorization header, a field name built from it, a
// raw body excerpt. It matches every runLen-byte run of each credential in
// each of its forms (raw, Basic and other base64 at any byte alignment, URL
// escaped), so a prefix, a suffix or a base64 re-encoding is caught too.
type Scrubber struct {
	grams map[string]struct{}
	// packed holds each gram as a big-endian uint64, so a rolling window
	// over decoded bytes is looked up without building strings.
	packed map[uint64]struct{}
	short  []string // credentials shorter than runLen, matched whole
}

// NewScrubber builds a scrubber for the given credentials. Empty strings are
// ignored; credentials under 4 bytes are ignored as well (they would scrub
// ordinary words and protect nothing).
func NewScrubber(creds ...string) *Scrubber {
	s := &Scrubber{grams: map[string]struct{}{}, packed: map[uint64]struct{}{}}
	for _, c := range creds {
		if len(c) < 4 {
			continue
		}
		for _, f := range forms(c) {
			if len(f) < runLen {
				s.short = append(s.short, f)
				continue
			}
			for i := 0; i+runLen <= len(f); i++ {
				s.grams[f[i:i+runLen]] = struct{}{}
				s.packed[pack(f[i:i+runLen])] = struct{}{}
			}
		}
	}
	return s
}

// forms lists how a credential may travel or come back: as is, URL escaped,
// and base64 (standard and URL alphabets) of it and of its tails from the
// next two byte offsets, which is how it looks inside the base64 of a longer
// string (Basic base64(id:secret) quotes the secret at any alignment). The
// last base64 character of each tail depends on bytes that follow and is
// dropped, as is padding.
func forms(c string) []string {
	out := []string{c, url.QueryEscape(c), url.PathEscape(c)}
	for skip := 0; skip < 3 && skip < len(c); skip++ {
		tail := []byte(c[skip:])
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			b := enc.EncodeToString(tail)
			if len(tail)%3 != 0 {
				b = b[:len(b)-1] // its last character mixes in what follows
			}
			out = append(out, b)
		}
	}
	return out
}

// Scrub returns s with every credential run replaced by [REDACTED], also
// where the text spells a run with escapes (JSON \u0073 or \/, \x73, URL
// %73, HTML &#115;): such a text is returned with its escapes read, so what
// is left cannot be read back into the credential either.
func (s *Scrubber) Scrub(text string) string {
	text = s.scrubRaw(text)
	for range 4 {
		if !hiddenIn(s, text) {
			return text
		}
		text = s.scrubRaw(unescape(text))
	}
	// Escapes of escapes of escapes: nothing of it is worth the risk.
	return redacted
}

// scrubRaw replaces the credential runs that appear byte for byte.
func (s *Scrubber) scrubRaw(text string) string {
	if s == nil || text == "" {
		return text
	}
	for _, sh := range s.short {
		text = strings.ReplaceAll(text, sh, redacted)
	}
	if len(s.grams) == 0 || len(text) < runLen {
		return text
	}
	// Mark every byte covered by a matching run, then replace each marked
	// stretch once, so overlapping runs become one [REDACTED].
	var cover []bool
	for i := 0; i+runLen <= len(text); i++ {
		if _, ok := s.grams[text[i:i+runLen]]; ok {
			if cover == nil {
				cover = make([]bool, len(text))
			}
			for j := i; j < i+runLen; j++ {
				cover[j] = true
			}
		}
	}
	if cover == nil {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		if !cover[i] {
			b.WriteByte(text[i])
			i++
			continue
		}
		b.WriteString(redacted)
		for i < len(text) && cover[i] {
			i++
		}
	}
	return b.String()
}

// pack is a run of runLen bytes as one number.
func pack(run string) uint64 {
	var w uint64
	for i := 0; i < len(run); i++ {
		w = w<<8 | uint64(run[i])
	}
	return w
}

// hiddenIn reports whether text, read with its escapes decoded (see
// unescapeAt), holds a credential run. It allocates nothing, so a whole
// answer body can be checked.
func hiddenIn[T string | []byte](s *Scrubber, text T) bool {
	if s == nil || len(s.packed) == 0 {
		return false
	}
	var w uint64
	n := 0
	for i := 0; i < len(text); {
		var b byte
		b, i = unescapeAt(text, i)
		w = w<<8 | uint64(b)
		if n++; n >= runLen {
			if _, ok := s.packed[w]; ok {
				return true
			}
		}
	}
	return false
}

// unescape decodes every escape unescapeAt reads.
func unescape(text string) string {
	var b strings.Builder
	b.Grow(len(text))
	for i := 0; i < len(text); {
		var c byte
		c, i = unescapeAt(text, i)
		b.WriteByte(c)
	}
	return b.String()
}

// unescapeAt reads the byte at text[i], decoding an escape that starts there
// when it stands for a printable ASCII character (every credential form is
// printable ASCII): \uXXXX, \xXX, \/, %XX, &#DDD; and &#xXX;. It returns the
// byte and where the next one starts.
func unescapeAt[T string | []byte](text T, i int) (byte, int) {
	c := text[i]
	rest := len(text) - i
	printable := func(v int) bool { return v >= 0x20 && v < 0x7f }
	switch c {
	case '\\':
		if rest >= 2 && text[i+1] == '/' {
			return '/', i + 2
		}
		if rest >= 6 && text[i+1] == 'u' {
			if v, ok := hexAt(text, i+2, 4); ok && printable(v) {
				return byte(v), i + 6
			}
		}
		if rest >= 4 && text[i+1] == 'x' {
			if v, ok := hexAt(text, i+2, 2); ok && printable(v) {
				return byte(v), i + 4
			}
		}
	case '%':
		if v, ok := hexAt(text, i+1, 2); ok && printable(v) {
			return byte(v), i + 3
		}
	case '&':
		if rest >= 4 && text[i+1] == '#' {
			j, base := i+2, 10
			if text[j] == 'x' || text[j] == 'X' {
				j, base = j+1, 16
			}
			v, k := 0, j
			for k < len(text) && k < j+4 && digitVal(text[k], base) >= 0 {
				v = v*base + digitVal(text[k], base)
				k++
			}
			if k > j && k < len(text) && text[k] == ';' && printable(v) {
				return byte(v), k + 1
			}
		}
	}
	return c, i + 1
}

func hexAt[T string | []byte](text T, i, n int) (int, bool) {
	if i+n > len(text) {
		return 0, false
	}
	v := 0
	for k := i; k < i+n; k++ {
		d := digitVal(text[k], 16)
		if d < 0 {
			return 0, false
		}
		v = v*16 + d
	}
	return v, true
}

func digitVal(c byte, base int) int {
	d := -1
	switch {
	case c >= '0' && c <= '9':
		d = int(c - '0')
	case c >= 'a' && c <= 'f':
		d = int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		d = int(c-'A') + 10
	}
	if d >= base {
		return -1
	}
	return d
}

// shortIn reports whether text holds a credential too short for runs.
func (s *Scrubber) shortIn(text []byte) bool {
	for _, sh := range s.short {
		if bytes.Contains(text, []byte(sh)) {
			return true
		}
	}
	return false
}
