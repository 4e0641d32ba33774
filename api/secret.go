package api

import (
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
	short []string // credentials shorter than runLen, matched whole
}

// NewScrubber builds a scrubber for the given credentials. Empty strings are
// ignored; credentials under 4 bytes are ignored as well (they would scrub
// ordinary words and protect nothing).
func NewScrubber(creds ...string) *Scrubber {
	s := &Scrubber{grams: map[string]struct{}{}}
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

// Scrub returns s with every credential run replaced by [REDACTED].
func (s *Scrubber) Scrub(text string) string {
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
