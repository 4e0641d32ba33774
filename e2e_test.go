package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEndToEndInTmux runs the real binary in a real terminal (tmux), on the
// embedded sandbox, and does what an agent does at 80x23 (the tmux pane of an
// 80x24 terminal): find a succeeded
// order, open it, refund it entirely after typing its ref, and watch every
// refund turn succeeded. It reads the screen with capture-pane, as a person
// would read it.
func TestEndToEndInTmux(t *testing.T) {
	x := newTmuxTest(t, "the end-to-end test")
	dir, bin := x.dir, x.bin
	auditLog := filepath.Join(dir, "audit.jsonl")
	env := "env -u FORAGE_BASE_URL -u MOYASAR_BASE_URL -u DIGITALRIVER_BASE_URL TERM=xterm-256color XDG_STATE_HOME=" + dir +
		" XDG_CONFIG_HOME=" + dir + " PAYDESK_AUDIT_LOG=" + auditLog + " "
	x.start(80, 23, env+bin+" --refresh 500ms")

	run, waitFor := x.run, x.waitFor
	contains := func(text string) func(string) bool {
		return func(s string) bool { return strings.Contains(s, text) }
	}
	keys := func(ks ...string) {
		t.Helper()
		for _, k := range ks {
			run("send-keys", k)
			time.Sleep(120 * time.Millisecond)
		}
	}
	typ := func(text string) { run("send-keys", "-l", text) }

	s := waitFor("the orders list", contains("✓ succeeded"))
	if !strings.Contains(s, "SANDBOX") {
		t.Errorf("the embedded sandbox is not marked SANDBOX:\n%s", s)
	}
	// Filter to succeeded orders and open the first one.
	keys("/")
	typ("succeeded")
	keys("Enter", "Enter")
	s = waitFor("an order with payments", contains("Payments"))
	ref := orderRef(s)
	if ref == "" {
		t.Fatalf("no order ref on the order screen:\n%s", s)
	}

	keys("R")
	waitFor("the refund form", contains("Reason"))
	typ("end-to-end test")
	keys("Enter", "Enter", "Enter")
	s = waitFor("the confirmation", contains("Type "+ref))
	if !strings.Contains(s, "Total") {
		t.Errorf("the confirmation does not show the total:\n%s", s)
	}
	// One key must not confirm.
	keys("Enter")
	waitFor("a refusal to confirm without the ref", contains("Nothing was sent"))
	typ(ref)
	keys("Enter")
	waitFor("the refunds processing", contains("◔ processing"))
	s = waitFor("every refund succeeded", func(s string) bool {
		return strings.Contains(s, "✓ succeeded") && !strings.Contains(s, "◔ processing") && strings.Contains(s, "Refunds (")
	})
	if !strings.Contains(s, "↺ refunded") {
		t.Errorf("the order is not shown refunded after its refunds settled:\n%s", s)
	}
	waitFor("the live poll to stop once settled", contains("settled"))

	// Smaller: the screen degrades down to 60x16; below, a clear message,
	// then the screen again.
	run("resize-window", "-x", "60", "-y", "16")
	waitFor("the order at 60x16", contains("Order "+ref))
	run("resize-window", "-x", "50", "-y", "14")
	waitFor("the too-small message", contains("at least 60x16"))
	run("resize-window", "-x", "80", "-y", "23")
	waitFor("the order again", contains(ref))
	keys("q")

	// Every money action is on record, and the record is tamper-evident.
	out, err := exec.Command(bin, "audit", "verify", "--audit-log", auditLog).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "chain intact") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	log, err := os.ReadFile(auditLog)
	if err != nil || !strings.Contains(string(log), ref) || !strings.Contains(string(log), "succeeded") {
		t.Fatalf("the audit log does not record the refund of %s: %v\n%s", ref, err, log)
	}
	if strings.Contains(string(log), "end-to-end test") {
		t.Errorf("the audit log holds free text it should not")
	}
	edited := strings.Replace(string(log), "45.24", "4.52", 1)
	if edited == string(log) {
		edited = strings.Replace(string(log), ref, "0000000000", 1)
	}
	if err := os.WriteFile(auditLog, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(bin, "audit", "verify", "--audit-log", auditLog).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "line") {
		t.Fatalf("an edited audit log verified: %v\n%s", err, out)
	}
}

// orderRef reads the ref from the order screen's title line ("Order <ref> ...").
func orderRef(screen string) string {
	for _, line := range strings.Split(screen, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "Order" {
			return f[1]
		}
	}
	return ""
}

// tmuxTest is the real binary, built into a temporary directory, and a
// private tmux server to run it in a real terminal: what every end-to-end
// test starts with, so they read the screen the same way.
type tmuxTest struct {
	t    *testing.T
	dir  string // the temporary directory: the binary, tmux's socket, state files
	bin  string // the built paydesk
	tmux string
	sock string
	// also, when set, says more when a wait times out (serve's log).
	also func() string
}

// newTmuxTest skips in -short mode or without tmux (saying how to install
// it, for the test named what), and otherwise builds the binary.
func newTmuxTest(t *testing.T, what string) *tmuxTest {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	tmux, err := exec.LookPath("tmux")
	if err != nil {
		t.Skip("tmux is not installed, so " + what + " cannot run a real terminal; install it with: apt-get install -y tmux")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "paydesk")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("go build: %v", err)
	}
	return &tmuxTest{t: t, dir: dir, bin: bin, tmux: tmux, sock: filepath.Join(dir, "tmux.sock")}
}

// run runs a tmux command on the test's own server and returns its output.
func (x *tmuxTest) run(args ...string) string {
	x.t.Helper()
	out, err := exec.Command(x.tmux, append([]string{"-S", x.sock}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// start opens a w x h terminal running the shell command cmd; the server
// is killed when the test ends.
func (x *tmuxTest) start(w, h int, cmd string) {
	x.t.Helper()
	x.run("-f", "/dev/null", "new-session", "-d", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h), cmd)
	x.t.Cleanup(func() { _ = exec.Command(x.tmux, "-S", x.sock, "kill-server").Run() })
}

// waitFor reads the screen, as a person would, until ok holds, and returns
// it; after 20 s it fails the test showing what the screen shows instead.
func (x *tmuxTest) waitFor(what string, ok func(string) bool) string {
	x.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s := x.run("capture-pane", "-p")
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			more := ""
			if x.also != nil {
				more = "\n" + x.also()
			}
			x.t.Fatalf("timed out waiting for %s; the screen shows:\n%s%s", what, s, more)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
