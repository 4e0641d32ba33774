package sshserve

import (
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
