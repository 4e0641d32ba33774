package sshserve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// One over-long line (a pasted blob, a key with a huge comment) is one
// malformed line: it must not lock out the keys listed after it, as the
// users-file contract promises. Checked over real SSH.
func TestReviewLongUsersLineLocksOutNoOne(t *testing.T) {
	first, after := newKey(t), newKey(t)
	users := usersLine("desk-1", "agent", first) +
		"desk-9 agent ssh-ed25519 " + strings.Repeat("A", 70*1024) + "\n" +
		usersLine("desk-3", "agent", after)
	ts := startServer(t, users, nil)
	for name, k := range map[string]key{"line 1": first, "line 3": after} {
		c, err := ts.dial(k, "x")
		if err != nil {
			t.Errorf("the key on %s was locked out by a long line 2: %v\nlog:\n%s", name, err, ts.log)
			continue
		}
		c.Close()
	}
	if !strings.Contains(ts.log.String(), `"line":2`) {
		t.Errorf("the long line is not reported with its number:\n%s", ts.log)
	}
}

// The users file decides who is admin. Like OpenSSH's StrictModes for
// authorized_keys, a users file that others may write is not trusted: any
// local account could add its own key as admin. Here the file is made
// world-writable after start and a stranger appends an admin line.
func TestReviewWritableUsersFileIsNotTrusted(t *testing.T) {
	owner, stranger := newKey(t), newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", owner), nil)
	if err := os.Chmod(ts.users, 0o666); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(ts.users, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(usersLine("mallory", "admin", stranger))
	f.Close()
	ts.srv.Reload()
	if c, err := ts.dial(stranger, "x"); err == nil {
		c.Close()
		t.Fatalf("a key added to a world-writable users file was let in\nlog:\n%s", ts.log)
	}
	// And at start: serve refuses to run on such a file, saying how to fix it.
	dir := t.TempDir()
	p := filepath.Join(dir, "users")
	if err := os.WriteFile(p, []byte(usersLine("desk-1", "agent", owner)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o620); err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(filepath.Join(filepath.Dir(ts.users), "host_key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{HostKeyPEM: pemBytes, UsersPath: p}); err == nil || !strings.Contains(err.Error(), "chmod") {
		t.Errorf("serve started on a group-writable users file (err %v)", err)
	}
}
