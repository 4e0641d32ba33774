// Package pii keeps personal and card data out of what an agent writes to a
// provider (metadata through Check; a refund reason, an external order id
// and other free text through Detect), and masks card numbers in provider
// text before it is shown.
//
// Forage, Stripe and Square all say not to put PII or card data in metadata,
// and PCI DSS allows at most the last four digits of a PAN on screen. Check
// runs on the write path, before any request is sent; MaskPAN runs on the
// display path.
//
// Detection is deliberately conservative for card numbers and deliberately
// narrow for everything else:
//
//   - card: any run of 13–19 ASCII digits, contiguous or written in card-like
//     groups of 3–6 digits joined by single spaces or dashes, is refused
//     whether or not it passes Luhn (Forage sandbox EBT numbers are any 16/18/19
//     digits starting 9999 and need not pass Luhn). A contiguous run longer
//     than 19 digits is refused too (it may hold a PAN). Luhn only changes the
//     message ("passes Luhn"). Dates (2026-11-22), UUIDs, 10-digit refs and
//     amounts do not form such runs. Check lets a contiguous 13-, 16- or
//     19-digit Unix timestamp in milliseconds, microseconds or nanoseconds
//     (years 2010–2039) and a compact 20YYMMDDhhmmss[fff] date-time through:
//     those start with 1 or 20–22, where no card brand issues numbers of those
//     lengths. MaskPAN masks them anyway (display errs on the safe side).
//     Digits of other scripts (Arabic-Indic, full-width, ...) count as
//     digits, and dots, slashes, underscores and typographic dashes and
//     spaces between the groups count as separators (see detect).
//     Not caught: a grouped card glued to a letter ("x4111 1111 1111 1111"),
//     because that is how hex ids and UUIDs look; contiguous runs always are.
//   - email: local@domain.tld, ASCII.
//   - phone: E.164 ("+" then 8–15 digits, separators allowed) and NANP forms
//     that carry separators ("(415) 555-2671", "415-555-2671",
//     "1 415 555 2671"). A bare 10-digit number is a ref, not a phone.
//   - US SSN: ddd-dd-dddd or ddd dd dddd, not area 000, 666 or 9xx, group 00 or serial 0000.
package pii

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrPII is wrapped by every error Check returns: errors.Is(err, ErrPII).
var ErrPII = errors.New("personal or card data in metadata")

// Kind names what was found.
type Kind string

// The kinds Check reports.
const (
	Card  Kind = "card"
	Email Kind = "email"
	Phone Kind = "phone"
	SSN   Kind = "ssn"
)

// Error says which metadata key was refused and why. It never contains the
// value, and when the PII is in the key itself it does not repeat the key.
type Error struct {
	Key    string // the metadata key as given
	InKey  bool   // the PII was found in the key, not the value
	Kind   Kind
	Reason string // e.g. "looks like a card number (passes Luhn)"
}

func (e *Error) Error() string {
	if e.InKey {
		return "metadata key refused: the key itself " + e.Reason + "; personal or card data must not go into metadata"
	}
	return fmt.Sprintf("metadata %q refused: value %s; personal or card data must not go into metadata", e.Key, e.Reason)
}

// Unwrap makes errors.Is(err, ErrPII) true.
func (e *Error) Unwrap() error { return ErrPII }

// Check refuses a metadata key/value pair that carries an email address, a
// phone number, a card-like digit run or a US SSN. It returns nil when the
// pair may be sent, or an *Error naming the key and the reason.
func Check(key, value string) error {
	if kind, reason := detect(value); kind != "" {
		return &Error{Key: key, Kind: kind, Reason: reason}
	}
	if kind, reason := detect(key); kind != "" {
		return &Error{Key: key, InKey: true, Kind: kind, Reason: reason}
	}
	return nil
}

// Detect reports what kind of personal or card data s carries and why it was
// taken for it ("looks like a card number (passes Luhn)"), or "" when none.
// It is Check for free text that is not metadata: a refund reason, an
// external order id, anything else the agent types that is sent to a
// provider.
func Detect(s string) (Kind, string) { return detect(s) }

// detect looks at s as typed, then as a keyboard in another script or a
// word processor may have written ASCII text: digits of any script and
// full-width forms read as ASCII, and (for card numbers) dots, slashes,
// underscores and typographic dashes and spaces read as the group separator.
// A card number in Arabic-Indic digits or written 4111.1111.1111.1111 is the
// same card number to whoever reads it at the provider.
func detect(s string) (Kind, string) {
	if kind, reason := detectASCII(s); kind != "" {
		return kind, reason
	}
	if f := fold(s, false); f != s {
		if kind, reason := detectASCII(f); kind != "" {
			return kind, reason
		}
	}
	if f := fold(s, true); f != s {
		if reason := cardReason(f); reason != "" {
			return Card, reason
		}
	}
	return "", ""
}

// fold rewrites s for detection only (it is never sent or shown): decimal
// digits of every script become 0-9, full-width ASCII forms become ASCII,
// and with seps the separators people put between card groups become ' '.
func fold(s string, seps bool) string {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = s[i] < 0x80 && !(seps && isCardSep(rune(s[i])))
	}
	if plain {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r, seps))
	}
	return b.String()
}

// foldRune is what fold makes of one rune.
func foldRune(r rune, seps bool) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ！ to ～
		r -= 0xFEE0
	case r >= 0x80 && unicode.IsDigit(r):
		r = '0' + digitValue(r)
	}
	if seps && isCardSep(r) {
		r = ' '
	}
	return r
}

// isCardSep reports a character written between the groups of a card number
// other than the ' ' and '-' nextChain reads (or hidden between them).
func isCardSep(r rune) bool {
	switch r {
	case '.', '/', '_':
		return true
	}
	// Format characters (zero-width space, soft hyphen, word joiner, BOM)
	// are invisible: text copied from a page or a PDF carries them between
	// the groups, and the provider's logs still hold the card number.
	return r >= 0x80 && (unicode.Is(unicode.Pd, r) || unicode.Is(unicode.Zs, r) || unicode.Is(unicode.Cf, r) || r == '\u2212')
}

// digitValue is the value of a decimal digit of any script: Unicode encodes
// every script's digits as one contiguous run from 0 to 9 (runs that touch,
// as the mathematical digits do, are whole runs of ten).
func digitValue(r rune) rune {
	z := r
	for r-z < 60 && unicode.IsDigit(z-1) {
		z--
	}
	return (r - z) % 10
}

func detectASCII(s string) (Kind, string) {
	if reason := cardReason(s); reason != "" {
		return Card, reason
	}
	if hasSSN(s) {
		return SSN, "looks like a US social security number"
	}
	if emailRE.MatchString(s) {
		return Email, "looks like an email address"
	}
	if hasPhone(s) {
		return Phone, "looks like a phone number"
	}
	return "", ""
}

// ---- card numbers ---------------------------------------------------------

// group is a maximal run of ASCII digits at s[start:end].
type group struct{ start, end int }

func (g group) n() int { return g.end - g.start }

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// nextChain finds the next chain at or after s[i]: digit groups joined by
// exactly one ' ' or '-'. It appends the groups to gs[:0] and returns them
// with the index just past the chain; no groups means no more chains.
func nextChain(s string, i int, gs []group) ([]group, int) {
	gs = gs[:0]
	for i < len(s) && !isDigit(s[i]) {
		i++
	}
	if i == len(s) {
		return gs, i
	}
	for {
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		gs = append(gs, group{start, i})
		if i+1 < len(s) && (s[i] == ' ' || s[i] == '-') && isDigit(s[i+1]) {
			i++
			continue
		}
		return gs, i
	}
}

// window is a card-like digit sequence inside a chain.
type window struct {
	digits string
	first  group
}

// cardWindows returns the card-like sequences of a chain: each contiguous
// group of 13 or more digits, and each longest sequence of 2+ groups shaped
// like a written card number (groups of 3–6 digits, the last 1–6, 13–19
// digits in total, not glued to letters on either side).
func cardWindows(s string, gs []group) []window {
	var out []window // in order of position
	for i := 0; i < len(gs); i++ {
		if g := gs[i]; g.n() >= 13 {
			out = append(out, window{s[g.start:g.end], g})
			continue
		}
		if gs[i].start > 0 && isLetter(s[gs[i].start-1]) {
			continue
		}
		total, best := 0, -1
		for j := i; j < len(gs); j++ {
			n := gs[j].n()
			if n > 6 {
				break
			}
			total += n
			if total > 19 {
				break
			}
			glued := gs[j].end < len(s) && isLetter(s[gs[j].end])
			if j > i && total >= 13 && !glued {
				best = j
			}
			if n < 3 {
				break // only the last group of a written card may be short
			}
		}
		if best >= 0 {
			var b strings.Builder
			for k := i; k <= best; k++ {
				b.WriteString(s[gs[k].start:gs[k].end])
			}
			out = append(out, window{b.String(), gs[i]})
			i = best
		}
	}
	return out
}

// cardReason returns why s holds a card-like number, or "".
func cardReason(s string) string {
	var reason string
	var buf [16]group
	for i := 0; i < len(s); {
		var gs []group
		gs, i = nextChain(s, i, buf[:0])
		if len(gs) == 0 {
			break
		}
		total := 0
		for _, g := range gs {
			total += g.n()
		}
		// "+" then at most 15 digits is an E.164 phone number: hasPhone
		// reports it with the right reason.
		if gs[0].start > 0 && s[gs[0].start-1] == '+' && total <= 15 {
			continue
		}
		if len(gs) == 1 && isTimestamp(s[gs[0].start:gs[0].end]) {
			continue
		}
		for _, w := range cardWindows(s, gs) {
			d := w.digits
			switch {
			case len(d) <= 19 && Luhn(d):
				return "looks like a card number (passes Luhn)"
			case reason != "":
			case len(d) > 19:
				reason = fmt.Sprintf("has a run of %d digits that may hold a card number", len(d))
			case strings.HasPrefix(d, "9999") && (len(d) == 16 || len(d) == 18 || len(d) == 19):
				reason = "looks like an EBT card number"
			default:
				reason = fmt.Sprintf("has a card-like run of %d digits", len(d))
			}
		}
	}
	return reason
}

// isTimestamp reports whether the contiguous digits d are a timestamp rather
// than a card: a Unix time in ms, µs or ns between 2010 and 2040 (these start
// with 1 or 20–22, where no card brand issues 13-, 16- or 19-digit numbers;
// Mastercard's 2-series starts at 2221), or a compact 20YYMMDDhhmmss[fff...]
// date-time (no brand starts with 20 either).
func isTimestamp(d string) bool {
	switch len(d) {
	case 13, 16, 19:
		secs, err := strconv.ParseUint(d[:10], 10, 64)
		if err == nil && secs >= 1_262_304_000 && secs < 2_208_988_800 { // 2010-01-01 .. 2040-01-01
			return true
		}
	}
	if len(d) >= 14 && len(d) <= 20 && strings.HasPrefix(d, "20") {
		num := func(i int) int { return int(d[i]-'0')*10 + int(d[i+1]-'0') }
		mo, day, h, mi, sec := num(4), num(6), num(8), num(10), num(12)
		return mo >= 1 && mo <= 12 && day >= 1 && day <= 31 && h <= 23 && mi <= 59 && sec <= 60
	}
	return false
}

// Luhn reports whether the ASCII digit string d passes the Luhn check.
func Luhn(d string) bool {
	if len(d) < 2 {
		return false
	}
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		c := d[i]
		if !isDigit(c) {
			return false
		}
		n := int(c - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

// MaskPAN replaces every card-like digit run in s with "•••• " and the last
// four digits of the card. When a chain of digit groups (joined by single
// spaces or dashes) holds a card-like run, the whole chain is masked, so no
// digit of the card can stay visible beside the mask. It reads digits as
// Detect does (one rule for what the agent types and what is drawn): as
// written, then with the digits of every script and full-width forms read
// as ASCII, then also with the separators people put between card groups
// (dots, slashes, underscores, typographic dashes and spaces) read as ' '.
// The last four are shown in ASCII digits. The result never contains 13 or
// more consecutive digits of any script, Detect finds no card number in
// it, and MaskPAN(MaskPAN(s)) == MaskPAN(s). Clean input is returned as is.
func MaskPAN(s string) string {
	if longestChain(s) < 13 {
		// No view of s has 13 digits in one chain: nothing to mask, and
		// nothing allocated.
		return s
	}
	// The widest view first, so a chain is masked whole at once. Each mask
	// takes 13 or more digits away and puts 4 back, so repeating until no
	// view finds anything ends, and leaves nothing for a second call.
	for {
		before := s
		for _, seps := range []bool{true, false} {
			if f, at := foldAt(s, seps); f != s {
				s = maskChains(s, f, at)
			}
		}
		s = maskChains(s, s, nil)
		if s == before {
			return s
		}
	}
}

// maskChains masks in s each chain of the view f (s itself, or fold of s
// with at mapping each byte of f, and len(f), to its offset in s) that
// holds a card-like run.
func maskChains(s, f string, at []int) string {
	orig := func(k int) int {
		if at == nil {
			return k
		}
		return at[k]
	}
	var b strings.Builder
	var buf [16]group
	last := 0
	for i := 0; i < len(f); {
		var gs []group
		gs, i = nextChain(f, i, buf[:0])
		if len(gs) == 0 {
			break
		}
		ws := cardWindows(f, gs)
		if len(ws) == 0 {
			continue
		}
		d := ws[len(ws)-1].digits
		if b.Len() == 0 {
			b.Grow(len(s))
		}
		b.WriteString(s[last:orig(gs[0].start)])
		b.WriteString(Mask)
		b.WriteString(d[len(d)-4:])
		last = orig(gs[len(gs)-1].end)
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// foldAt is fold(s, seps) with, for each byte of the result and for its
// end, the offset in s of the rune it came from (a rune fold keeps is
// copied byte for byte; one it rewrites becomes one ASCII byte).
func foldAt(s string, seps bool) (string, []int) {
	f := fold(s, seps)
	if f == s {
		return s, nil
	}
	at := make([]int, 0, len(f)+1)
	k := 0
	for i, r := range s {
		n := utf8.RuneLen(foldRune(r, seps))
		if n < 0 {
			n = len(string(utf8.RuneError))
		}
		for j := range n {
			if f[k] < utf8.RuneSelf {
				at = append(at, i)
			} else {
				at = append(at, i+j)
			}
			k++
		}
	}
	return f, append(at, len(s))
}

// longestChain is the most digits (of any script, full-width included) in
// one run of digit groups joined by single separators of any kind fold
// reads: an upper bound on the longest chain of every view of s, counted
// without allocating.
func longestChain(s string) int {
	best, cur, joined := 0, 0, false
	for _, r := range s {
		r = foldRune(r, true)
		switch {
		case r >= '0' && r <= '9':
			cur, joined = cur+1, false
		case (r == ' ' || r == '-') && cur > 0 && !joined:
			joined = true
		default:
			cur, joined = 0, false
		}
		best = max(best, cur)
	}
	return best
}

// Mask is what MaskPAN puts before the last four digits.
const Mask = "•••• "

// ---- SSN, email, phone ----------------------------------------------------

// ssnRE is ddd-dd-dddd, and the same written with spaces (as SSNs are read
// out and typed: "078 05 1120"); the separator is the same in both places.
var ssnRE = regexp.MustCompile(`(\d{3})-(\d{2})-(\d{4})|(\d{3}) (\d{2}) (\d{4})`)

func hasSSN(s string) bool {
	for _, m := range ssnRE.FindAllStringSubmatchIndex(s, -1) {
		if !bounded(s, m[0], m[1]) {
			continue
		}
		if m[2] < 0 { // the spaced alternative matched
			m = m[6:]
		}
		area, grp, serial := s[m[2]:m[3]], s[m[4]:m[5]], s[m[6]:m[7]]
		if area == "000" || area == "666" || area[0] == '9' || grp == "00" || serial == "0000" {
			continue
		}
		return true
	}
	return false
}

var emailRE = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}`)

var (
	// NANP with separators: optional +1/1, area code (parenthesised or
	// followed by a separator), exchange, separator, line number.
	nanpRE = regexp.MustCompile(`(?:\+?1[ .\-]?)?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .\-])[2-9]\d{2}[ .\-]\d{4}`)
	// E.164 with optional separators; digit count checked separately.
	e164RE = regexp.MustCompile(`\+[1-9](?:[ .\-]?\(?\d\)?)+`)
	// A signed decimal amount such as +1234567.89 is not a phone number.
	amountRE = regexp.MustCompile(`^\+\d+\.\d{1,3}$`)
)

func hasPhone(s string) bool {
	for _, m := range nanpRE.FindAllStringIndex(s, -1) {
		if bounded(s, m[0], m[1]) {
			return true
		}
	}
	for _, m := range e164RE.FindAllStringIndex(s, -1) {
		cand := s[m[0]:m[1]]
		if m[0] > 0 && (isLetter(s[m[0]-1]) || isDigit(s[m[0]-1])) {
			continue
		}
		if amountRE.MatchString(cand) {
			continue
		}
		n := 0
		for i := 0; i < len(cand); i++ {
			if isDigit(cand[i]) {
				n++
			}
		}
		if n >= 8 && n <= 15 && !(m[1] < len(s) && (isLetter(s[m[1]]) || isDigit(s[m[1]]))) {
			return true
		}
	}
	return false
}

// bounded reports whether s[start:end] stands alone: not glued to letters,
// digits or the joiners of a longer ref ("ORD-415-555-2671-X").
func bounded(s string, start, end int) bool {
	if start > 0 {
		c := s[start-1]
		if isLetter(c) || isDigit(c) || c == '-' || c == '_' || c == '/' || c == '.' {
			return false
		}
	}
	if end < len(s) {
		c := s[end]
		if isLetter(c) || isDigit(c) || c == '-' || c == '_' || c == '/' {
			return false
		}
		if c == '.' && end+1 < len(s) && isDigit(s[end+1]) {
			return false
		}
	}
	return true
}
