package sshserve

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"paydesk/api"
)

func TestParseUsers(t *testing.T) {
	a, b, c := newKey(t), newKey(t), newKey(t)
	rsaLine := strings.Replace(b.line, "ssh-ed25519", "ssh-rsa", 1)
	file := strings.Join([]string{
		"# team",
		"",
		"desk-1 agent " + a.line + " laptop of desk-1",
		"desk-2 agent",                    // 4: too few fields
		"desk 2 agent " + b.line,          // 5: role "2"
		"desk-3 root " + b.line,           // 6: unknown role
		"desk-4 viewer ssh-ed25519 ***",   // 7: not base64
		"desk-5 viewer ssh-ed25519 AAAA",  // 8: not a key
		"desk-6 viewer " + rsaLine,        // 9: type mismatch
		"de\x1bsk viewer " + b.line,       // 10: bad name
		"desk-1-again admin " + a.line,    // 11: duplicate key
		"  approver-1 approver " + c.line, // 12: valid after all of that
	}, "\n")
	users, errs := ParseUsers(strings.NewReader(file))
	if len(users) != 2 {
		t.Fatalf("users = %v", users)
	}
	if u, ok := users.Lookup(a.signer.PublicKey()); !ok || u.Name != "desk-1" || u.Role != api.RoleAgent || u.Line != 3 {
		t.Errorf("desk-1 = %+v, %v", u, ok)
	}
	if u, ok := users.Lookup(c.signer.PublicKey()); !ok || u.Name != "approver-1" || u.Role != api.RoleApprover {
		t.Errorf("approver-1 = %+v, %v", u, ok)
	}
	if _, ok := users.Lookup(b.signer.PublicKey()); ok {
		t.Error("a key only on malformed lines was accepted")
	}
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
		if strings.ContainsRune(e.Error(), '\x1b') {
			t.Errorf("an error message carries a control character: %q", e.Error())
		}
	}
	want := []int{4, 5, 6, 7, 8, 9, 10, 11}
	if len(lines) != len(want) {
		t.Fatalf("reported lines %v, want %v (%v)", lines, want, errs)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("reported lines %v, want %v (%v)", lines, want, errs)
		}
	}
	if u := users[gossh.FingerprintSHA256(a.signer.PublicKey())]; u.Fingerprint == "" || !strings.HasPrefix(u.Fingerprint, "SHA256:") {
		t.Errorf("fingerprint %q", u.Fingerprint)
	}
}

func TestHostKey(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "hk")
	fp, err := WriteHostKey(p)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v", st.Mode(), err)
	}
	before, _ := os.ReadFile(p)
	if _, err := WriteHostKey(p); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("overwrite: %v", err)
	}
	if after, _ := os.ReadFile(p); string(after) != string(before) {
		t.Error("the host key was replaced")
	}
	_, gotFP, err := LoadHostKey(p)
	if err != nil || gotFP != fp {
		t.Errorf("LoadHostKey = %q, %v; want %q", gotFP, err, fp)
	}
	missing := filepath.Join(dir, "none")
	if _, _, err := LoadHostKey(missing); err == nil || !strings.Contains(err.Error(), "paydesk hostkey") {
		t.Errorf("missing key: %v", err)
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("LoadHostKey created a key")
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadHostKey(p); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Errorf("group-readable key: %v", err)
	}
}
