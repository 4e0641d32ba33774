package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is serve's stderr, read while serve writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeEndToEndWithOpenSSH runs the real binary as `paydesk serve` on
// the embedded sandbox and connects to it with the OpenSSH client inside
// tmux, as an agent on a jump host would: the console comes up marked
// SANDBOX under the key's identity, and removing the key from the users file
// (then SIGHUP) closes the session with a reason.
func TestServeEndToEndWithOpenSSH(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed, so the SSH end-to-end test cannot run a real terminal; install it with: apt-get install -y tmux")
	}
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("the OpenSSH client is not installed; install it with: apt-get install -y openssh-client")
	}
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("ssh-keygen is not installed; install it with: apt-get install -y openssh-client")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "paydesk")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
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
	var log lockedBuffer
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

	sock := filepath.Join(dir, "tmux.sock")
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(tmux, append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	sshCmd := strings.Join([]string{sshBin, "-F", "/dev/null", "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=" + filepath.Join(dir, "known_hosts"), "-o", "IdentitiesOnly=yes",
		"-o", "BatchMode=yes", "-i", agentKey, "-p", port, "someone-else@127.0.0.1",
		"; echo SSH-EXITED; sleep 30"}, " ")
	run("-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24", "env TERM=xterm-256color sh -c '"+sshCmd+"'")
	t.Cleanup(func() { _ = exec.Command(tmux, "-S", sock, "kill-server").Run() })

	waitFor := func(what string) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			s := run("capture-pane", "-p")
			if strings.Contains(s, what) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %q; the screen shows:\n%s\nserve log:\n%s", what, s, log.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
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
