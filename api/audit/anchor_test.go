package audit

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// rewriteFrom edits every line from 1-based line `from` on and re-hashes
// the chain after it, as someone with write access who knows the format
// would: the result verifies on its own.
func rewriteFrom(t *testing.T, path string, from int) {
	t.Helper()
	lines := readLines(t, path)
	prev := ZeroHash
	for i := range lines {
		e, err := ParseLine(bytes.TrimSuffix(lines[i], []byte("\n")))
		if err != nil {
			t.Fatal(err)
		}
		if i+1 >= from {
			e.Amount = "1.00"
			e.Prev = prev
			lines[i], e.Hash, _ = encode(e)
		}
		prev = e.Hash
	}
	writeLines(t, path, lines)
}

// TestAnchoredHeadCatchesWhatTheChainCannot: tail truncation, truncation to
// empty and a rewrite-and-rehash all verify as an intact chain on their own;
// with the head recorded elsewhere (`paydesk audit head`) each is caught.
func TestAnchoredHeadCatchesWhatTheChainCannot(t *testing.T) {
	anchorOf := func(path string) Anchor {
		a, err := HeadAnchor(path)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	cases := []struct {
		name   string
		tamper func(path string)
		reason string
	}{
		{"last line deleted", func(p string) { writeLines(t, p, readLines(t, p)[:5]) }, "removed from its end"},
		{"last 3 lines deleted", func(p string) { writeLines(t, p, readLines(t, p)[:3]) }, "removed from its end"},
		{"truncated to empty", func(p string) { os.WriteFile(p, nil, 0o600) }, "removed from its end"},
		{"rewritten and re-hashed from line 4", func(p string) { rewriteFrom(t, p, 4) }, "rewritten"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := newLog(t, 6)
			a := anchorOf(path)
			if a.Lines != 6 || !hexRE.MatchString(a.Hash) {
				t.Fatalf("anchor %+v", a)
			}
			tc.tamper(path)
			if _, err := Verify(path); err != nil {
				t.Fatalf("without an anchor the tampering is expected to pass unseen (documented), got %v", err)
			}
			_, err := VerifyAnchored(path, a)
			var ve *VerifyError
			if !errors.As(err, &ve) || !strings.Contains(ve.Reason, tc.reason) {
				t.Fatalf("VerifyAnchored = %v, want a VerifyError saying %q", err, tc.reason)
			}
		})
	}
	t.Run("lines appended after the anchor", func(t *testing.T) {
		path := newLog(t, 3)
		a := anchorOf(path)
		l, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Append(entry(4)); err != nil {
			t.Fatal(err)
		}
		l.Close()
		if n, err := VerifyAnchored(path, a); n != 4 || err != nil {
			t.Fatalf("VerifyAnchored = %d %v, want 4 lines intact", n, err)
		}
	})
	t.Run("empty log anchored", func(t *testing.T) {
		path := newLog(t, 0)
		a := anchorOf(path)
		if a.String() != ZeroHash+":0" {
			t.Fatalf("anchor of an empty log %q", a)
		}
		if n, err := VerifyAnchored(path, a); n != 0 || err != nil {
			t.Fatalf("VerifyAnchored = %d %v", n, err)
		}
	})
}

func TestParseAnchor(t *testing.T) {
	h := strings.Repeat("ab", 32)
	if a, err := ParseAnchor(" " + h + ":12\n"); err != nil || a.Hash != h || a.Lines != 12 || a.String() != h+":12" {
		t.Fatalf("ParseAnchor = %+v %v", a, err)
	}
	for _, bad := range []string{"", h, h + ":", h + ":-1", h + ":x", "abc:3", strings.ToUpper(h) + ":3", "12:" + h, ZeroHash + ":3", h + ":0"} {
		if _, err := ParseAnchor(bad); err == nil {
			t.Errorf("ParseAnchor(%q) accepted", bad)
		}
	}
}
