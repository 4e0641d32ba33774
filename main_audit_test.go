package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"paydesk/api/audit"
)

// captureStdout runs fn and returns what it printed.
func captureStdout(t *testing.T, fn func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	ferr := fn()
	os.Stdout = old
	w.Close()
	b, _ := io.ReadAll(r)
	return string(b), ferr
}

// `paydesk audit head` prints HASH:N alone; `verify --head HASH:N` passes on
// the same log and catches the last line removed, which plain verify cannot.
func TestAuditHeadAndAnchoredVerify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := l.Append(audit.Entry{Actor: "alice", Provider: "forage", Action: "refund_payment", Amount: "1.00", Currency: "USD", Outcome: audit.Succeeded}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	head, err := captureStdout(t, func() error { return runAudit([]string{"head", "--audit-log", path}) })
	if err != nil {
		t.Fatal(err)
	}
	a, err := audit.ParseAnchor(head)
	if err != nil || a.Lines != 3 || !strings.HasSuffix(head, ":3\n") {
		t.Fatalf("audit head printed %q (%v), want HASH:3", head, err)
	}
	if out, err := captureStdout(t, func() error {
		return runAudit([]string{"verify", "--audit-log", path, "--head", strings.TrimSpace(head)})
	}); err != nil || !strings.Contains(out, "matches the anchored head") {
		t.Fatalf("verify --head on the same log: %q %v", out, err)
	}
	b, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(b), "\n")
	os.WriteFile(path, []byte(strings.Join(lines[:2], "")), 0o600)
	if _, err := captureStdout(t, func() error { return runAudit([]string{"verify", "--audit-log", path}) }); err != nil {
		t.Fatalf("plain verify of a cut log: %v (the chain alone cannot see it)", err)
	}
	_, err = captureStdout(t, func() error {
		return runAudit([]string{"verify", "--audit-log", path, "--head", strings.TrimSpace(head)})
	})
	if err == nil || !strings.Contains(err.Error(), "removed from its end") {
		t.Fatalf("verify --head after the last line was removed: %v", err)
	}
}
