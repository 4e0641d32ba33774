// Package audit is paydesk's append-only, hash-chained audit log: one JSON
// line per money or metadata action (who, when, which provider and refs, the
// amount, the idempotency key and the outcome).
//
// # Location
//
// [DefaultPath] is $PAYDESK_AUDIT_LOG when set, else
// $XDG_STATE_HOME/paydesk/audit.jsonl, else ~/.local/state/paydesk/audit.jsonl.
// The directory is created 0700 and the file 0600.
//
// # Format and chain
//
// Each line is a JSON object whose keys come in a fixed order and end with
//
//	..., "prev":"<64 hex>","hash":"<64 hex>"}
//
// hash is the hex SHA-256 of the line's own bytes up to (not including)
// `,"hash":` followed by `}`, i.e. of the line as it would be without its hash
// field. prev is the previous line's hash (64 zeros on line 1) and seq counts
// from 1. So an edited line fails its own hash; a line edited and re-hashed,
// deleted, inserted or moved breaks the next line's prev and seq. [Verify]
// names the first bad line.
//
// # What verify catches
//
// `paydesk audit verify` ([Verify]) on its own catches, naming the first bad
// line: a line edited (its hash no longer matches); a line edited and
// re-hashed, deleted, inserted or moved anywhere but at the end (the next
// line's prev or seq breaks); a line torn or not in canonical form; control
// bytes; a line over MaxLineBytes.
//
// It cannot catch, on its own: the newest line or lines removed (the rest is
// a shorter intact chain), the file truncated to empty (an empty log is
// valid), or any suffix from line K on rewritten and the chain re-hashed
// after it (or a whole new chain), by someone with write access who knows
// this format.
//
// With an anchor, `paydesk audit verify --head HASH:N` ([VerifyAnchored]),
// where HASH:N was printed earlier by `paydesk audit head` ([HeadAnchor])
// and kept off this machine (a ticket, a chat message, another host's log),
// it also catches: fewer than N lines (tail truncation, truncation to
// empty), and any rewrite of lines 1..N, re-hashed or not (line N's hash no
// longer matches HASH). Still not caught: lines after N removed or
// rewritten since the anchor was taken. So anchor often (after each shift,
// or from cron), and ship the log itself off the machine if its whole
// history must be provable.
//
// # What goes in
//
// No metadata values, no secrets, no free text beyond refs and codes: there
// is no field for them. Fields lists the names of metadata keys that were
// changed. Every string is passed through safetext.Line, so the log holds no
// control bytes and is safe to cat to a terminal.
//
// # When the log cannot be written
//
// paydesk moves no money without an audit line: the journal writes a
// "prepared" line before every action and refuses to send when Append fails.
// Append refuses, with an error that says what to do, when
//
//   - the last line is damaged (torn by a crash, edited): nothing is chained
//     onto it. Open refuses too, so the console does not start on a damaged
//     log. Repair: run `paydesk audit verify`, which names the first bad
//     line N; keep a copy of the file; if only the last line is torn, keep
//     lines 1..N-1 (head -n N-1 audit.jsonl > audit.fixed && mv audit.fixed
//     audit.jsonl) and verify again. Any other damage is tampering to
//     investigate; start a new log only after keeping the old one.
//   - the file at the log's path is gone or is no longer the file this
//     session opened (deleted, moved, replaced): lines would go into an
//     unlinked file and a restart would find an empty log that verifies.
//     Put the file back, verify it, restart paydesk.
//   - the write itself fails (a full disk): the partial line is cut off
//     again, so the log stays whole and the next append works once there is
//     room. If it cannot be cut off, every later append in the session is
//     refused.
//
// # Concurrency
//
// Appends take an in-process mutex and an exclusive flock(2) on the file, read
// the current last line under the lock, write the new line in one write(2)
// on an O_APPEND descriptor and fsync it before returning. Several goroutines
// and several paydesk processes on one host can share a log.
package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"paydesk/model/safetext"
)

// EnvPath names the environment variable that moves the audit log.
const EnvPath = "PAYDESK_AUDIT_LOG"

// ZeroHash is the prev of the first line.
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// MaxLineBytes bounds one line; Verify refuses longer lines.
const MaxLineBytes = 64 << 10

// Outcome is how an action ended.
type Outcome string

// The outcomes. Unknown means the request may have taken effect (timeout,
// reset, 5xx after sending): never report it as failed.
const (
	Prepared  Outcome = "prepared"
	Succeeded Outcome = "succeeded"
	Failed    Outcome = "failed"
	Unknown   Outcome = "unknown"
	Refused   Outcome = "refused"
)

// Valid reports whether o is one of the defined outcomes.
func (o Outcome) Valid() bool {
	switch o {
	case Prepared, Succeeded, Failed, Unknown, Refused:
		return true
	}
	return false
}

// Entry is one audit line. Seq, Prev and Hash are set by Append; values the
// caller puts there are ignored. The JSON field order is fixed by this
// struct and is part of the format.
type Entry struct {
	Seq            int64     `json:"seq"`
	Time           time.Time `json:"ts"`
	Actor          string    `json:"actor"`
	Provider       string    `json:"provider"`
	Action         string    `json:"action"`
	OrderRef       string    `json:"order_ref,omitempty"`
	PaymentRef     string    `json:"payment_ref,omitempty"`
	RefundRefs     []string  `json:"refund_refs,omitempty"`
	Amount         string    `json:"amount,omitempty"`   // fixed scale, e.g. "20.00"
	Currency       string    `json:"currency,omitempty"` // ISO 4217, e.g. "USD"
	IdempotencyKey string    `json:"idempotency_key,omitempty"`
	Outcome        Outcome   `json:"outcome"`
	ErrorCode      string    `json:"error_code,omitempty"`
	Fields         []string  `json:"fields,omitempty"` // names of metadata keys changed, never values
	Prev           string    `json:"prev"`
	Hash           string    `json:"hash"`
}

var (
	amountRE   = regexp.MustCompile(`^-?[0-9]{1,30}(\.[0-9]{1,6})?$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	hexRE      = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// validate checks an entry's caller-supplied fields.
func (e *Entry) validate() error {
	switch {
	case e.Action == "":
		return errors.New("audit: entry has no action")
	case e.Actor == "":
		return errors.New("audit: entry has no actor")
	case !e.Outcome.Valid():
		return fmt.Errorf("audit: outcome %q is not one of prepared, succeeded, failed, unknown, refused", e.Outcome)
	case e.Amount != "" && !amountRE.MatchString(e.Amount):
		return fmt.Errorf("audit: amount %q is not a fixed-scale decimal", e.Amount)
	case e.Currency != "" && !currencyRE.MatchString(e.Currency):
		return fmt.Errorf("audit: currency %q is not an ISO 4217 code", e.Currency)
	}
	return nil
}

func (e *Entry) sanitize() {
	for _, p := range []*string{&e.Actor, &e.Provider, &e.Action, &e.OrderRef, &e.PaymentRef,
		&e.Amount, &e.Currency, &e.IdempotencyKey, &e.ErrorCode} {
		*p = safetext.Line(*p)
	}
	e.RefundRefs = lineAll(e.RefundRefs)
	e.Fields = lineAll(e.Fields)
	e.Outcome = Outcome(safetext.Line(string(e.Outcome)))
}

func lineAll(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = safetext.Line(s)
	}
	return out
}

// hashMarker separates a line's body from its own hash.
var hashMarker = []byte(`,"hash":"`)

// encode returns the full line (with its trailing newline) for e, whose Seq
// and Prev are already set, and the line's hash.
func encode(e Entry) ([]byte, string, error) {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		return nil, "", err
	}
	// json.Marshal ends with ...,"hash":""}; the body is everything before
	// the marker, closed with "}".
	i := bytes.LastIndex(b, hashMarker)
	if i < 0 {
		return nil, "", errors.New("audit: internal: no hash field")
	}
	body := append(b[:i:i], '}')
	sum := sha256.Sum256(body)
	h := hex.EncodeToString(sum[:])
	line := make([]byte, 0, len(b)+len(h)+2)
	line = append(line, b[:i]...)
	line = append(line, hashMarker...)
	line = append(line, h...)
	line = append(line, '"', '}', '\n')
	return line, h, nil
}

// ParseLine parses one line (without its newline) and checks that the line
// hashes to its own hash field and is in the canonical encoding. It does not
// check the chain (seq, prev); Verify does.
func ParseLine(line []byte) (Entry, error) {
	var e Entry
	if len(line) > MaxLineBytes {
		return e, fmt.Errorf("line is longer than %d bytes", MaxLineBytes)
	}
	for _, c := range line {
		if c < 0x20 || c == 0x7f {
			return e, fmt.Errorf("line holds control byte 0x%02x", c)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return Entry{}, fmt.Errorf("not a valid entry: %v", err)
	}
	if dec.More() {
		return Entry{}, errors.New("trailing data after the entry")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Entry{}, errors.New("trailing data after the entry")
	}
	if !hexRE.MatchString(e.Hash) {
		return Entry{}, errors.New("hash is not 64 lowercase hex digits")
	}
	if !hexRE.MatchString(e.Prev) {
		return Entry{}, errors.New("prev is not 64 lowercase hex digits")
	}
	i := bytes.LastIndex(line, hashMarker)
	if i < 0 {
		return Entry{}, errors.New("hash is not the last field")
	}
	body := append(line[:i:i], '}')
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != e.Hash {
		return Entry{}, errors.New("content does not match its hash (line edited)")
	}
	// The hash covers the bytes; also insist on the canonical encoding so
	// that two different byte strings cannot mean the same entry.
	want, _, err := encode(e)
	if err != nil {
		return Entry{}, err
	}
	if !bytes.Equal(want[:len(want)-1], line) {
		return Entry{}, errors.New("line is not in canonical form (line edited)")
	}
	if e.Seq < 1 {
		return Entry{}, fmt.Errorf("seq %d is not positive", e.Seq)
	}
	if e.Time.IsZero() {
		return Entry{}, errors.New("entry has no time")
	}
	if err := e.validate(); err != nil {
		return Entry{}, errors.New(strings.TrimPrefix(err.Error(), "audit: "))
	}
	return e, nil
}

// VerifyError names the first bad line of a log.
type VerifyError struct {
	Path   string
	Line   int // 1-based
	Reason string
	// Unit is what Line counts: "line" (a file) when empty, "row seq" for
	// a table.
	Unit string
}

func (e *VerifyError) Error() string {
	unit := e.Unit
	if unit == "" {
		unit = "line"
	}
	return fmt.Sprintf("audit log %s: %s %d: %s", e.Path, unit, e.Line, e.Reason)
}

// Appender takes audit entries: a file Log, or a shared store's chain.
type Appender interface {
	Append(Entry) error
}

// Seal is what every backend does to an entry before storing it: sanitise
// and check it, default its time to now(), chain it as number seq after
// prev, and encode it canonically. It returns the entry as stored, its line
// (without a newline) and its hash, computed exactly as for the file log so
// that a chain kept elsewhere verifies with the same code.
func Seal(e Entry, seq int64, prev string, now func() time.Time) (Entry, []byte, error) {
	if err := e.prepare(now); err != nil {
		return Entry{}, nil, err
	}
	e.Seq, e.Prev = seq, prev
	line, h, err := encode(e)
	if err != nil {
		return Entry{}, nil, fmt.Errorf("audit: %w", err)
	}
	if len(line) > MaxLineBytes {
		return Entry{}, nil, fmt.Errorf("audit: entry is %d bytes, more than %d", len(line), MaxLineBytes)
	}
	e.Hash = h
	return e, line[:len(line)-1], nil
}

// prepare sanitises and checks e, and sets its time (now() when zero) in UTC.
func (e *Entry) prepare(now func() time.Time) error {
	e.sanitize()
	if err := e.validate(); err != nil {
		return err
	}
	if e.Time.IsZero() {
		e.Time = now()
	}
	e.Time = e.Time.UTC()
	return nil
}

// VerifyStream checks a log given as newline-terminated lines from r (a
// table's rows in seq order, say), naming it name in errors with unit for
// what a line is ("row seq"). With a.Lines > 0 it is VerifyAnchored. It
// returns the lines verified and the head.
func VerifyStream(name, unit string, r io.Reader, a Anchor) (int, Anchor, error) {
	seq, hash, lines, at, err := scan(name, r, a.Lines)
	head := Anchor{Hash: hash, Lines: seq}
	var ve *VerifyError
	if errors.As(err, &ve) {
		ve.Unit = unit
	}
	if err != nil {
		return lines, head, err
	}
	if int64(lines) < a.Lines {
		return lines, head, &VerifyError{Path: name, Unit: unit, Line: lines + 1, Reason: fmt.Sprintf(
			"the log ends after %s %d, but the anchored head %s says it had %d: entries were removed from its end",
			unit, lines, a, a.Lines)}
	}
	if a.Lines > 0 && at != a.Hash {
		return lines, head, &VerifyError{Path: name, Unit: unit, Line: int(a.Lines), Reason: fmt.Sprintf(
			"hash %s differs from the anchored head %s: the log was rewritten at or before this entry and re-hashed",
			at, a)}
	}
	return lines, head, nil
}

// Verify reads the log at path and checks every line and the chain. It
// returns the number of lines that verified; when err is a *VerifyError, the
// lines before err.Line are intact. A missing file is an error; an empty file
// verifies with 0 lines. On its own it cannot see lines removed from the end
// or a chain rewritten and re-hashed: see [VerifyAnchored].
func Verify(path string) (lines int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	_, _, lines, _, err = scan(path, f, 0)
	return lines, err
}

// Anchor is a log's head recorded somewhere else (`paydesk audit head`
// prints it as HASH:N): the hash of line N and the line count N.
type Anchor struct {
	Hash  string
	Lines int64
}

// String is the HASH:N form.
func (a Anchor) String() string { return fmt.Sprintf("%s:%d", a.Hash, a.Lines) }

// ParseAnchor reads HASH:N (64 lowercase hex digits, a colon, a line count).
func ParseAnchor(s string) (Anchor, error) {
	s = strings.TrimSpace(s)
	h, n, ok := strings.Cut(s, ":")
	if !ok || !hexRE.MatchString(h) {
		return Anchor{}, fmt.Errorf("audit: head %q is not HASH:N (64 lowercase hex digits, a colon, the line count)", s)
	}
	lines, err := strconv.ParseInt(n, 10, 64)
	if err != nil || lines < 0 {
		return Anchor{}, fmt.Errorf("audit: head %q: %q is not a line count", s, n)
	}
	if (lines == 0) != (h == ZeroHash) {
		return Anchor{}, fmt.Errorf("audit: head %q: only an empty log (0 lines) has the zero hash", s)
	}
	return Anchor{Hash: h, Lines: lines}, nil
}

// HeadAnchor verifies the whole log and returns its head as an Anchor, to
// be kept off this machine.
func HeadAnchor(path string) (Anchor, error) {
	seq, hash, err := Head(path)
	return Anchor{Hash: hash, Lines: seq}, err
}

// VerifyAnchored is Verify plus a check against a head recorded earlier: the
// log must still have at least a.Lines lines and line a.Lines must still
// hash to a.Hash. That catches what the chain alone cannot: lines removed
// from the end (down to an empty file), and a rewrite of any line up to
// a.Lines with the chain re-hashed after it. Lines appended after the anchor
// are checked by the chain as usual.
func VerifyAnchored(path string, a Anchor) (lines int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	_, _, lines, at, err := scan(path, f, a.Lines)
	if err != nil {
		return lines, err
	}
	if int64(lines) < a.Lines {
		return lines, &VerifyError{Path: path, Line: lines + 1, Reason: fmt.Sprintf(
			"the log ends after line %d, but the anchored head %s says it had %d lines: lines were removed from its end",
			lines, a, a.Lines)}
	}
	if a.Lines > 0 && at != a.Hash {
		return lines, &VerifyError{Path: path, Line: int(a.Lines), Reason: fmt.Sprintf(
			"hash %s differs from the anchored head %s: the log was rewritten at or before this line and re-hashed",
			at, a)}
	}
	return lines, nil
}

// Head returns the seq and hash of the last line after verifying the whole
// log, so they can be recorded elsewhere as an anchor. An empty log gives
// 0 and ZeroHash.
func Head(path string) (seq int64, hash string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	seq, hash, _, _, err = scan(path, f, 0)
	return seq, hash, err
}

// scan checks every line and the chain, returning the last seq and hash,
// the number of lines verified and the hash of line `at` (when at > 0).
func scan(path string, r io.Reader, at int64) (seq int64, hash string, lines int, hashAt string, err error) {
	br := bufio.NewReaderSize(r, MaxLineBytes+1)
	prev := ZeroHash
	var last int64
	for n := 1; ; n++ {
		line, rerr := br.ReadSlice('\n')
		if rerr == io.EOF && len(line) == 0 {
			return last, prev, n - 1, hashAt, nil
		}
		bad := func(format string, a ...any) (int64, string, int, string, error) {
			return last, prev, n - 1, hashAt, &VerifyError{Path: path, Line: n, Reason: fmt.Sprintf(format, a...)}
		}
		switch {
		case errors.Is(rerr, bufio.ErrBufferFull):
			return bad("line is longer than %d bytes", MaxLineBytes)
		case rerr == io.EOF:
			return bad("last line is truncated (no newline at end of file)")
		case rerr != nil:
			return last, prev, n - 1, hashAt, rerr
		}
		e, perr := ParseLine(line[:len(line)-1])
		if perr != nil {
			return bad("%v", perr)
		}
		if e.Seq != last+1 {
			return bad("seq is %d, want %d (a line was deleted, inserted or moved before this one)", e.Seq, last+1)
		}
		if e.Prev != prev {
			return bad("prev does not match the hash of line %d (a line before this one was edited, deleted, inserted or moved)", n-1)
		}
		last, prev = e.Seq, e.Hash
		if int64(n) == at {
			hashAt = e.Hash
		}
	}
}

// DefaultPath returns where the audit log lives: $PAYDESK_AUDIT_LOG, else
// $XDG_STATE_HOME/paydesk/audit.jsonl, else ~/.local/state/paydesk/audit.jsonl.
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvPath); p != "" {
		return p, nil
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "paydesk", "audit.jsonl"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("audit: no home directory for the default log path (set %s): %w", EnvPath, err)
	}
	return filepath.Join(home, ".local", "state", "paydesk", "audit.jsonl"), nil
}

// Log appends to one audit file. It is safe for concurrent use.
type Log struct {
	mu   sync.Mutex
	f    *os.File
	path string
	now  func() time.Time
	// write writes one line to f; tests replace it to play a full disk.
	write func(f *os.File, b []byte) (int, error)
	// broken, once set, refuses every later append: a failed write could
	// not be undone, so the file's end is not known to be whole.
	broken error
}

// Open opens (creating if needed) the audit log at path for appending. It
// creates missing parent directories 0700 and the file 0600, tightens an
// existing file to 0600, and checks that the last line is intact, so a
// damaged log is noticed before any action is taken rather than after.
func Open(path string) (*Log, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().Perm()&0o077 != 0 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit: %s is readable by others and cannot be tightened: %w", path, err)
		}
	}
	l := &Log{f: f, path: path, now: time.Now, write: (*os.File).Write}
	if err := l.locked(func() error { _, _, err := l.tail(); return err }); err != nil {
		f.Close()
		return nil, err
	}
	return l, nil
}

// Path returns the file the log appends to.
func (l *Log) Path() string { return l.path }

// Close closes the file.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// Append sanitises e, chains it to the current last line, writes it and
// fsyncs the file before returning. A zero e.Time means now. It refuses an
// entry without action or actor, with an unknown outcome, or with an amount
// or currency in the wrong form, and it refuses to chain onto a damaged last
// line.
func (l *Log) Append(e Entry) error {
	if err := e.prepare(l.now); err != nil {
		return err
	}
	return l.locked(func() error {
		if l.broken != nil {
			return l.broken
		}
		if err := l.samePath(); err != nil {
			return err
		}
		seq, prev, err := l.tail()
		if err != nil {
			return err
		}
		e.Seq, e.Prev = seq+1, prev
		line, _, err := encode(e)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		if len(line) > MaxLineBytes {
			return fmt.Errorf("audit: entry is %d bytes, more than %d", len(line), MaxLineBytes)
		}
		fi, err := l.f.Stat()
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		size := fi.Size()
		_, err = l.write(l.f, line)
		if err == nil {
			if serr := l.f.Sync(); serr != nil {
				err = fmt.Errorf("fsync: %w", serr)
			}
		}
		if err != nil {
			// A short write (a full disk) leaves a torn line that every
			// later append would refuse to chain onto: cut it off, so the
			// log stays whole and appends work again once there is room.
			if terr := l.f.Truncate(size); terr != nil {
				l.broken = fmt.Errorf("audit: a write to %s failed (%v) and the partial line could not be removed (%v); "+
					"no more lines are appended in this session. Run `paydesk audit verify`, repair the file as it says, and restart paydesk", l.path, err, terr)
				return l.broken
			}
			_ = l.f.Sync()
			return fmt.Errorf("audit: could not write to %s: %w (the line was not added; free disk space and try again)", l.path, err)
		}
		return nil
	})
}

// samePath checks that the open file is still the one at the log's path. A
// log deleted (or moved, or replaced) while paydesk runs would otherwise take
// lines into an unlinked file nobody will read, and the next start would find
// an empty log that verifies. Call with the lock held.
func (l *Log) samePath() error {
	open, err := l.f.Stat()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	onDisk, err := os.Stat(l.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("audit: the audit log %s was deleted or moved while paydesk was running; nothing more is written to it. "+
			"Put the file back (from a backup or the moved copy), run `paydesk audit verify`, and restart paydesk", l.path)
	case err != nil:
		return fmt.Errorf("audit: %w", err)
	case !os.SameFile(open, onDisk):
		return fmt.Errorf("audit: the audit log %s was replaced by another file while paydesk was running; nothing more is written to it. "+
			"Find out who replaced it, run `paydesk audit verify` on both files, and restart paydesk", l.path)
	}
	return nil
}

// locked runs fn holding the in-process mutex and the exclusive file lock.
func (l *Log) locked(fn func() error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return errors.New("audit: log is closed")
	}
	if err := lockFile(l.f); err != nil {
		return fmt.Errorf("audit: lock %s: %w", l.path, err)
	}
	defer unlockFile(l.f)
	return fn()
}

// tail reads and checks the last line of the file: its seq and hash, or 0
// and ZeroHash for an empty file. Call with the lock held.
func (l *Log) tail() (int64, string, error) {
	fi, err := l.f.Stat()
	if err != nil {
		return 0, "", fmt.Errorf("audit: %w", err)
	}
	size := fi.Size()
	if size == 0 {
		return 0, ZeroHash, nil
	}
	n := int64(MaxLineBytes + 1)
	if n > size {
		n = size
	}
	buf := make([]byte, n)
	if _, err := l.f.ReadAt(buf, size-n); err != nil && err != io.EOF {
		return 0, "", fmt.Errorf("audit: read %s: %w", l.path, err)
	}
	damaged := func(why string) (int64, string, error) {
		return 0, "", fmt.Errorf("audit: the last line of %s is damaged (%s), and nothing is appended past it. "+
			"Run `paydesk audit verify` to find the first bad line, keep a copy of the file, then repair it: a line torn by a "+
			"crash or a full disk is cut off by keeping only the lines before it (head -n N-1, N being the line verify names); "+
			"anything else is tampering to investigate before the log is started afresh", l.path, why)
	}
	if buf[len(buf)-1] != '\n' {
		return damaged("no newline at end of file")
	}
	buf = buf[:len(buf)-1]
	start := bytes.LastIndexByte(buf, '\n') + 1
	if start == 0 && n < size {
		return damaged("line too long")
	}
	e, err := ParseLine(buf[start:])
	if err != nil {
		return damaged(err.Error())
	}
	return e.Seq, e.Hash, nil
}
