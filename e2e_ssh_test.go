package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"paydesk/api/sandbox/sandboxtest"
)

// TestServeEndToEndWithOpenSSH runs the real binary as `paydesk serve` on
// the embedded sandbox and connects to it with the OpenSSH client inside
// tmux, as an agent on a jump host would: the console comes up marked
// SANDBOX under the key's identity, and removing the key from the users file
// (then SIGHUP) closes the session with a reason.
func TestServeEndToEndWithOpenSSH(t *testing.T) {
	x := newTmuxTest(t, "the SSH end-to-end test")
	dir, bin := x.dir, x.bin
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("the OpenSSH client is not installed; install it with: apt-get install -y openssh-client")
	}
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen is not installed; install it with: apt-get install -y openssh-client")
	}
	hostKey := filepath.Join(dir, "host_key")
	if out, err := exec.Command(bin, "hostkey", hostKey).CombinedOutput(); err != nil || !strings.Contains(string(out), "SHA256:") {
		t.Fatalf("paydesk hostkey: %v\n%s", err, out)
	}
	agentKey := filepath.Join(dir, "desk1")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-f", agentKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(agentKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(pub))
	users := filepath.Join(dir, "users")
	if err := os.WriteFile(users, []byte("# team\nbroken line\ndesk-1 agent "+f[0]+" "+f[1]+" laptop\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// A free loopback port for serve.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)

	serve := exec.Command(bin, "serve", "--listen", addr, "--host-key", hostKey, "--users", users)
	serve.Env = append(os.Environ(), "FORAGE_BASE_URL=", "MOYASAR_BASE_URL=", "DIGITALRIVER_BASE_URL=",
		"XDG_STATE_HOME="+dir, "XDG_CONFIG_HOME="+dir, "PAYDESK_AUDIT_LOG="+filepath.Join(dir, "audit.jsonl"))
	var log sandboxtest.LogBuffer
	serve.Stderr = &log
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = serve.Process.Signal(syscall.SIGTERM)
		_ = serve.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(log.String(), `"msg":"serving"`) {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(log.String(), `"line":2`) {
		t.Errorf("the malformed users line is not reported:\n%s", log.String())
	}

	x.also = func() string { return "serve log:\n" + log.String() }
	sshCmd := strings.Join([]string{sshBin, "-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=" + filepath.Join(dir, "known_hosts"), "-o", "IdentitiesOnly=yes",
		"-o", "BatchMode=yes", "-i", agentKey, "-p", port, "someone-else@127.0.0.1",
		"; echo SSH-EXITED; sleep 30"}, " ")
	x.start(80, 24, "env TERM=xterm-256color sh -c '"+sshCmd+"'")

	waitFor := func(text string) string {
		t.Helper()
		return x.waitFor(fmt.Sprintf("%q", text), func(s string) bool { return strings.Contains(s, text) })
	}
	s := waitFor("✓ succeeded")
	if !strings.Contains(s, "SANDBOX") {
		t.Errorf("the embedded sandbox is not marked SANDBOX:\n%s", s)
	}
	if lg := log.String(); !strings.Contains(lg, `"name":"desk-1","role":"agent"`) || !strings.Contains(lg, `"user":"someone-else"`) {
		t.Errorf("the session is not named after its key:\n%s", lg)
	}

	// Remove the key and tell serve: the session ends, saying why.
	if err := os.WriteFile(users, []byte("# nobody\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := serve.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	s = waitFor("SSH-EXITED")
	if !strings.Contains(s, "key was removed") {
		t.Errorf("no reason shown when the session closed:\n%s", s)
	}
}
