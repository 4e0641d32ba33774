package audit

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A full disk mid-session: the write stops half way. The torn half-line
// must not stay in the file (every later append would refuse to chain onto
// it, and a restart would find a damaged log), the caller gets the error,
// and appends work again once there is room.
func TestFullDiskLeavesTheLogWhole(t *testing.T) {
	path := newLog(t, 2)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	full := true
	l.write = func(f *os.File, b []byte) (int, error) {
		if full {
			n, _ := f.Write(b[:len(b)/2])
			return n, syscall.ENOSPC
		}
		return f.Write(b)
	}
	err = l.Append(entry(3))
	if err == nil || !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), "free disk space") {
		t.Fatalf("append on a full disk = %v, want the disk error and what to do", err)
	}
	if n, err := Verify(path); n != 2 || err != nil {
		t.Fatalf("after the failed write: Verify = %d %v, want the 2 earlier lines intact", n, err)
	}
	if err := l.Append(entry(3)); err == nil {
		t.Fatal("second append on a still-full disk succeeded")
	}
	full = false
	if err := l.Append(entry(3)); err != nil {
		t.Fatalf("append once there is room: %v", err)
	}
	if n, err := Verify(path); n != 3 || err != nil {
		t.Fatalf("Verify = %d %v, want 3 lines", n, err)
	}
}

// The log deleted (or replaced) while a session has it open: appends must
// be refused, not written into an unlinked inode nobody will read.
func TestDeletedOrReplacedMidSession(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		do         func(path string) error
	}{
		{"deleted", "deleted or moved", os.Remove},
		{"moved", "deleted or moved", func(p string) error { return os.Rename(p, p+".old") }},
		{"replaced", "replaced", func(p string) error {
			if err := os.Rename(p, p+".old"); err != nil {
				return err
			}
			return os.WriteFile(p, nil, 0o600)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := newLog(t, 2)
			l, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if err := tc.do(path); err != nil {
				t.Fatal(err)
			}
			err = l.Append(entry(3))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "paydesk audit verify") {
				t.Fatalf("append after the log was %s = %v, want a refusal saying so and what to do", tc.name, err)
			}
		})
	}
}

// A line torn while the session runs (by another process, or a crash of
// one) makes the next append refuse, saying how to repair, rather than
// chaining onto it or failing without a word.
func TestTornLastLineMidSessionRefused(t *testing.T) {
	path := newLog(t, 2)
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":3,"ts":"2026-`)
	f.Close()
	err = l.Append(entry(3))
	if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "head -n") {
		t.Fatalf("append after a torn line = %v, want a refusal that says how to repair", err)
	}
	if _, err := Open(filepath.Clean(path)); err == nil {
		t.Fatal("Open accepted a log with a torn last line")
	}
}
