package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func entry(i int) Entry {
	return Entry{
		Time:           time.Date(2026, 11, 22, 13, 0, i, 0, time.UTC),
		Actor:          "agent-7",
		Provider:       "forage",
		Action:         "refund_partial",
		OrderRef:       "ORD-" + strconv.Itoa(1000+i),
		PaymentRef:     "pay_abc",
		RefundRefs:     []string{"rf_" + strconv.Itoa(i)},
		Amount:         "20.00",
		Currency:       "USD",
		IdempotencyKey: "0193a1b2-0000-7000-8000-00000000000" + strconv.Itoa(i%10),
		Outcome:        Succeeded,
		Fields:         []string{"note"},
	}
}

func newLog(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state", "paydesk", "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := 1; i <= n; i++ {
		if err := l.Append(entry(i)); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func readLines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))[:bytes.Count(b, []byte("\n"))]
}

func writeLines(t *testing.T, path string, lines [][]byte) {
	t.Helper()
	if err := os.WriteFile(path, bytes.Join(lines, nil), 0o600); err != nil {
		t.Fatal(err)
	}
}

func wantBadLine(t *testing.T, path string, line int, reason string) {
	t.Helper()
	n, err := Verify(path)
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("Verify = %d, %v; want a VerifyError at line %d", n, err, line)
	}
	if ve.Line != line || !strings.Contains(ve.Reason, reason) {
		t.Fatalf("Verify error %q; want line %d with %q", err, line, reason)
	}
	if n != line-1 {
		t.Errorf("Verify verified %d lines, want %d", n, line-1)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("line %d:", line)) {
		t.Errorf("message %q does not name the line", err)
	}
}

func TestRoundTrip(t *testing.T) {
	path := newLog(t, 5)
	n, err := Verify(path)
	if err != nil || n != 5 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	di, _ := os.Stat(filepath.Dir(path))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", di.Mode().Perm())
	}
	lines := readLines(t, path)
	first, err := ParseLine(bytes.TrimSuffix(lines[0], []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	if first.Seq != 1 || first.Prev != ZeroHash || first.Amount != "20.00" || first.OrderRef != "ORD-1001" {
		t.Errorf("first entry %+v", first)
	}
	second, _ := ParseLine(bytes.TrimSuffix(lines[1], []byte("\n")))
	if second.Prev != first.Hash || second.Seq != 2 {
		t.Errorf("second entry not chained: %+v", second)
	}
	if !bytes.HasPrefix(lines[0], []byte(`{"seq":1,"ts":"2026-11-22T13:00:01Z","actor":"agent-7"`)) {
		t.Errorf("unexpected encoding: %s", lines[0])
	}

	// Reopening continues the chain.
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append(entry(6)); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if n, err := Verify(path); err != nil || n != 6 {
		t.Fatalf("after reopen Verify = %d, %v", n, err)
	}
	seq, head, err := Head(path)
	last, _ := ParseLine(bytes.TrimSuffix(readLines(t, path)[5], []byte("\n")))
	if err != nil || seq != 6 || head != last.Hash {
		t.Errorf("Head = %d %s %v", seq, head, err)
	}
}

func TestEmptyAndMissing(t *testing.T) {
	dir := t.TempDir()
	if _, err := Verify(filepath.Join(dir, "nope.jsonl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, nil, 0o600)
	if n, err := Verify(empty); n != 0 || err != nil {
		t.Errorf("empty file: %d %v", n, err)
	}
}

func TestSanitisedAndNoValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	e := entry(1)
	e.Actor = "agent\x1b]52;c;ZWNo\x07-7\u202e"
	e.ErrorCode = "bad\r\nthing\u009b31m"
	e.Fields = []string{"note\x00", "gift\u2028msg"}
	if err := l.Append(e); err != nil {
		t.Fatal(err)
	}
	l.Close()
	b, _ := os.ReadFile(path)
	for _, bad := range []string{"\x1b", "\\u001b", "\u202e", "\\u202e", "\r", "\\r", "\u009b", "\\u009b", "\\u0000", "\u2028", "\\u2028"} {
		if bytes.Contains(b, []byte(bad)) {
			t.Errorf("log holds %q: %s", bad, b)
		}
	}
	if _, err := Verify(path); err != nil {
		t.Fatal(err)
	}
	got, _ := ParseLine(bytes.TrimSuffix(b, []byte("\n")))
	if got.Actor != "agent\uFFFD-7\uFFFD" {
		t.Errorf("actor %q", got.Actor)
	}
}

func TestAppendRefuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for name, mut := range map[string]func(*Entry){
		"no action":    func(e *Entry) { e.Action = "" },
		"no actor":     func(e *Entry) { e.Actor = "" },
		"bad outcome":  func(e *Entry) { e.Outcome = "done" },
		"float amount": func(e *Entry) { e.Amount = "2e3" },
		"comma amount": func(e *Entry) { e.Amount = "20,00" },
		"bad currency": func(e *Entry) { e.Currency = "usd" },
		"huge refs":    func(e *Entry) { e.RefundRefs = slices.Repeat([]string{strings.Repeat("r", 4000)}, 17) },
	} {
		e := entry(1)
		mut(&e)
		if err := l.Append(e); err == nil {
			t.Errorf("%s: Append accepted %+v", name, e)
		}
	}
	if n, err := Verify(path); n != 0 || err != nil {
		t.Errorf("refused entries were written: %d %v", n, err)
	}
	for _, o := range []Outcome{Prepared, Succeeded, Failed, Unknown, Refused} {
		e := entry(1)
		e.Outcome = o
		e.Time = time.Time{}
		e.Amount, e.Currency = "", ""
		if err := l.Append(e); err != nil {
			t.Errorf("outcome %s: %v", o, err)
		}
	}
	if n, err := Verify(path); n != 5 || err != nil {
		t.Errorf("Verify = %d %v", n, err)
	}
}

func TestEditedLineDetected(t *testing.T) {
	path := newLog(t, 5)
	lines := readLines(t, path)
	lines[2] = bytes.Replace(lines[2], []byte(`"amount":"20.00"`), []byte(`"amount":"21.00"`), 1)
	writeLines(t, path, lines)
	wantBadLine(t, path, 3, "does not match its hash")
}

func TestEditedAndRehashedLineDetected(t *testing.T) {
	path := newLog(t, 5)
	lines := readLines(t, path)
	e, err := ParseLine(bytes.TrimSuffix(lines[2], []byte("\n")))
	if err != nil {
		t.Fatal(err)
	}
	e.Amount = "2000.00"
	line, _, _ := encode(e)
	lines[2] = line
	writeLines(t, path, lines)
	wantBadLine(t, path, 4, "prev does not match")
}

func TestReformattedLineDetected(t *testing.T) {
	path := newLog(t, 3)
	lines := readLines(t, path)
	// Same JSON meaning, different bytes: the hash no longer matches.
	lines[1] = bytes.Replace(lines[1], []byte(`{"seq":2,`), []byte(`{"seq": 2,`), 1)
	writeLines(t, path, lines)
	wantBadLine(t, path, 2, "hash")
}

func TestDeletedLineDetected(t *testing.T) {
	path := newLog(t, 5)
	lines := readLines(t, path)
	writeLines(t, path, append(lines[:1:1], lines[2:]...))
	wantBadLine(t, path, 2, "seq is 3, want 2")

	path = newLog(t, 5)
	lines = readLines(t, path)
	writeLines(t, path, lines[1:])
	wantBadLine(t, path, 1, "seq is 2, want 1")
}

func TestInsertedLineDetected(t *testing.T) {
	path := newLog(t, 4)
	lines := readLines(t, path)
	// A forged line with the right seq and prev, inserted after line 2.
	prev, _ := ParseLine(bytes.TrimSuffix(lines[1], []byte("\n")))
	forged := entry(99)
	forged.Seq, forged.Prev = 3, prev.Hash
	line, _, _ := encode(forged)
	out := append([][]byte{}, lines[:2]...)
	out = append(out, line)
	out = append(out, lines[2:]...)
	writeLines(t, path, out)
	wantBadLine(t, path, 4, "seq is 3, want 4")
}

func TestReorderedLinesDetected(t *testing.T) {
	path := newLog(t, 5)
	lines := readLines(t, path)
	lines[1], lines[2] = lines[2], lines[1]
	writeLines(t, path, lines)
	wantBadLine(t, path, 2, "seq is 3, want 2")
}

func TestTruncatedLastLine(t *testing.T) {
	path := newLog(t, 3)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-20], 0o600)
	wantBadLine(t, path, 3, "truncated")

	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("Open on a truncated log = %v, want a damaged-log error", err)
	}
	// Cut exactly at a line boundary: the chain is intact (only an anchor
	// kept elsewhere can show that lines are missing at the end).
	lines := readLines(t, newLog(t, 3))
	path2 := filepath.Join(t.TempDir(), "cut.jsonl")
	writeLines(t, path2, lines[:2])
	if n, err := Verify(path2); n != 2 || err != nil {
		t.Errorf("Verify = %d %v", n, err)
	}
}

func TestGarbageLines(t *testing.T) {
	for name, content := range map[string]string{
		"blank line":   "\n",
		"not json":     "hello\n",
		"unknown key":  `{"seq":1,"secret":"x"}` + "\n",
		"control byte": "{\"seq\":1,\x1b}\n",
	} {
		path := filepath.Join(t.TempDir(), "g.jsonl")
		os.WriteFile(path, []byte(content), 0o600)
		if _, err := Verify(path); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	path := filepath.Join(t.TempDir(), "long.jsonl")
	os.WriteFile(path, append(bytes.Repeat([]byte("x"), MaxLineBytes+10), '\n'), 0o600)
	wantBadLine(t, path, 1, "longer than")
}

func TestConcurrentAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.jsonl")
	// Two Logs on one file (two descriptors, as two processes would have),
	// each shared by several goroutines.
	logs := make([]*Log, 2)
	for i := range logs {
		l, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		logs[i] = l
	}
	const goroutines, each = 8, 25
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				e := entry(i)
				e.Actor = "agent-" + strconv.Itoa(g)
				if err := logs[g%2].Append(e); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if n, err := Verify(path); err != nil || n != goroutines*each {
		t.Fatalf("Verify = %d, %v; want %d lines", n, err, goroutines*each)
	}
}

// TestHelperAppender is run as a child process by TestMultiProcessAppends.
func TestHelperAppender(t *testing.T) {
	path := os.Getenv("PAYDESK_AUDIT_HELPER_PATH")
	if path == "" {
		t.Skip("helper process only")
	}
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := range 40 {
		if err := l.Append(entry(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMultiProcessAppends(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	path := filepath.Join(t.TempDir(), "p.jsonl")
	var cmds []*exec.Cmd
	for range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperAppender$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PAYDESK_AUDIT_HELPER_PATH="+path)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() {
			if t.Failed() {
				t.Log(out.String())
			}
		})
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
	}
	if n, err := Verify(path); err != nil || n != 120 {
		t.Fatalf("Verify = %d, %v; want 120", n, err)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv(EnvPath, "/tmp/x/audit.jsonl")
	if p, _ := DefaultPath(); p != "/tmp/x/audit.jsonl" {
		t.Errorf("env override: %s", p)
	}
	t.Setenv(EnvPath, "")
	t.Setenv("XDG_STATE_HOME", "/var/state")
	if p, _ := DefaultPath(); p != "/var/state/paydesk/audit.jsonl" {
		t.Errorf("xdg: %s", p)
	}
	t.Setenv("XDG_STATE_HOME", "relative/ignored")
	t.Setenv("HOME", "/home/agent")
	if p, _ := DefaultPath(); p != "/home/agent/.local/state/paydesk/audit.jsonl" {
		t.Errorf("home: %s", p)
	}
}

func TestOpenTightensMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "loose.jsonl")
	os.WriteFile(path, nil, 0o644)
	os.Chmod(path, 0o644)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}

func FuzzParseLine(f *testing.F) {
	e := entry(1)
	e.Seq, e.Prev = 1, ZeroHash
	good, _, _ := encode(e)
	f.Add(bytes.TrimSuffix(good, []byte("\n")))
	f.Add([]byte(`{"seq":1}`))
	f.Add([]byte(`{"seq":1,"hash":"` + strings.Repeat("0", 64) + `"}`))
	f.Add([]byte("{}"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, line []byte) {
		e, err := ParseLine(line)
		if err != nil {
			return
		}
		// Anything accepted re-encodes to exactly the same bytes and hash.
		again, h, err := encode(e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bytes.TrimSuffix(again, []byte("\n")), line) || h != e.Hash {
			t.Fatalf("accepted non-canonical line %q", line)
		}
		sum := sha256.Sum256(append(line[:bytes.LastIndex(line, hashMarker):bytes.LastIndex(line, hashMarker)], '}'))
		if hex.EncodeToString(sum[:]) != e.Hash {
			t.Fatalf("accepted line whose hash does not match")
		}
	})
}
