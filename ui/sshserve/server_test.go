package sshserve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/time/rate"

	"paydesk/api"
	forageclient "paydesk/api/forage"
	foragesandbox "paydesk/api/sandbox/forage"
	"paydesk/ui"

	"paydesk/api/sandbox/sandboxtest"
)

// key is one agent's SSH key.
type key struct {
	signer gossh.Signer
	line   string // "ssh-ed25519 AAAA…"
}

func newKey(t testing.TB) key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return key{signer: s, line: strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey())))}
}

// testServer is paydesk serve on loopback in front of the real Forage
// sandbox and client, with a host key and users file on disk.
type testServer struct {
	t       testing.TB
	srv     *Server
	addr    string
	hostKey gossh.PublicKey
	users   string
	log     *sandboxtest.LogBuffer
	// requests counts what reached the provider sandbox.
	requests *atomic.Int64
	// refunds counts the refund requests (POSTs) among them.
	refunds *atomic.Int64
	// client is the bare provider client, for reading the sandbox.
	client api.Provider
}

func startServer(t testing.TB, users string, tweak func(*Config)) *testServer {
	t.Helper()
	// The sandbox's per-IP budget is Forage's (900 per 5 minutes); fifty
	// consoles opening their first list at once spend it, which is not what
	// these tests are about.
	sb := foragesandbox.New(foragesandbox.Options{Orders: 30, Seed: 7, RateLimit: 1 << 20})
	requests, refunds := &atomic.Int64{}, &atomic.Int64{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "refund") {
			refunds.Add(1)
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	cl, err := forageclient.New(forageclient.Config{
		BaseURL: hs.URL, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", Limiter: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	hk := filepath.Join(dir, "host_key")
	if _, err := WriteHostKey(hk); err != nil {
		t.Fatal(err)
	}
	pemBytes, _, err := LoadHostKey(hk)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	usersPath := filepath.Join(dir, "users")
	if err := os.WriteFile(usersPath, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	logBuf := &sandboxtest.LogBuffer{}
	cfg := Config{
		HostKeyPEM: pemBytes, UsersPath: usersPath,
		Log:       slog.New(slog.NewJSONHandler(logBuf, nil)),
		UsersPoll: 100 * time.Millisecond,
		Deps: ui.Deps{
			// As serve builds them: one shared-read layer over the client.
			Providers: []api.Provider{api.Shared(cl, time.Hour, nil)}, Sandbox: true, Refresh: time.Hour, Timeout: 5 * time.Second,
			Now: time.Now, NewKey: func() string { return "test-key" }, RefundLimits: api.DefaultRefundLimits(),
		},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return &testServer{t: t, srv: srv, addr: l.Addr().String(), hostKey: signer.PublicKey(), users: usersPath, log: logBuf, requests: requests, refunds: refunds, client: cl}
}

func (ts *testServer) writeUsers(s string) {
	ts.t.Helper()
	// Write beside and rename, as editors do, so the watcher never reads a
	// half-written file.
	tmp := ts.users + ".tmp"
	if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
		ts.t.Fatal(err)
	}
	if err := os.Rename(tmp, ts.users); err != nil {
		ts.t.Fatal(err)
	}
}

func (ts *testServer) dial(k key, user string) (*gossh.Client, error) {
	return gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
		User: user, Auth: []gossh.AuthMethod{gossh.PublicKeys(k.signer)},
		HostKeyCallback: gossh.FixedHostKey(ts.hostKey), Timeout: 5 * time.Second,
	})
}

// term is one SSH session with a PTY, read through a terminal emulator.
type term struct {
	t      testing.TB
	client *gossh.Client
	sess   *gossh.Session
	emu    *vt.SafeEmulator
	stdin  io.WriteCloser
	done   chan error
}

// open connects with k as user and starts a shell on an 80x24 PTY.
func (ts *testServer) open(k key, user string) *term {
	ts.t.Helper()
	c, err := ts.dial(k, user)
	if err != nil {
		ts.t.Fatal(err)
	}
	return ts.shell(c, nil)
}

func (ts *testServer) shell(c *gossh.Client, before func(*gossh.Session)) *term {
	ts.t.Helper()
	s, err := c.NewSession()
	if err != nil {
		ts.t.Fatal(err)
	}
	if before != nil {
		before(s)
	}
	if err := s.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		ts.t.Fatal(err)
	}
	stdin, err := s.StdinPipe()
	if err != nil {
		ts.t.Fatal(err)
	}
	stdout, err := s.StdoutPipe()
	if err != nil {
		ts.t.Fatal(err)
	}
	stderr, err := s.StderrPipe()
	if err != nil {
		ts.t.Fatal(err)
	}
	emu := vt.NewSafeEmulator(80, 24)
	tm := &term{t: ts.t, client: c, sess: s, emu: emu, stdin: stdin, done: make(chan error, 1)}
	go func() { _, _ = io.Copy(emu, io.MultiReader(stdout)) }()
	go func() { _, _ = io.Copy(emu, stderr) }()
	// The emulator answers the terminal queries (background colour, device
	// attributes) by writing into its reader: send those answers back, or
	// its Write blocks and everything stalls.
	go func() { _, _ = io.Copy(stdin, emu) }()
	if err := s.Shell(); err != nil {
		ts.t.Fatal(err)
	}
	go func() { tm.done <- s.Wait() }()
	ts.t.Cleanup(func() {
		s.Close()
		c.Close()
		closeEmulator(emu)
	})
	return tm
}

// closeEmulator ends the goroutine copying the emulator's replies. vt's own
// Close writes a flag its Read reads unlocked (a data race in x/vt v0.1.0),
// so the input pipe is closed instead.
func closeEmulator(emu *vt.SafeEmulator) {
	if c, ok := emu.InputPipe().(io.Closer); ok {
		_ = c.Close()
	}
}

func (tm *term) screen() string { return ansi.Strip(tm.emu.Render()) }

func (tm *term) waitText(text string) string {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		v := tm.screen()
		if strings.Contains(v, text) {
			return v
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %q; screen:\n%s", text, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (tm *term) send(s string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.stdin, s); err != nil {
		tm.t.Fatal(err)
	}
}

// waitClosed waits for the server to end the session.
func (tm *term) waitClosed(within time.Duration) error {
	tm.t.Helper()
	select {
	case err := <-tm.done:
		return err
	case <-time.After(within):
		tm.t.Fatalf("session still open after %s; screen:\n%s", within, tm.screen())
	}
	return nil
}

func usersLine(name, role string, k key) string {
	return fmt.Sprintf("%s %s %s laptop\n", name, role, k.line)
}

func TestUnknownKeyIsRefused(t *testing.T) {
	known, stranger := newKey(t), newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", known), nil)
	if c, err := ts.dial(stranger, "desk-1"); err == nil {
		c.Close()
		t.Fatal("a key not in the users file was let in")
	}
	if !strings.Contains(ts.log.String(), `"msg":"key refused"`) {
		t.Errorf("the refusal is not in the server log:\n%s", ts.log)
	}
}

// Identity comes from the key: a viewer's key logging in under an admin's
// name gets a viewer's read-only console.
func TestUserNameIsIgnored(t *testing.T) {
	viewer, admin := newKey(t), newKey(t)
	ts := startServer(t, usersLine("boss", "admin", admin)+usersLine("watcher", "viewer", viewer), nil)
	tm := ts.open(viewer, "boss")
	v := tm.waitText("READ-ONLY")
	if !strings.Contains(v, "SANDBOX") {
		t.Errorf("the embedded sandbox is not marked SANDBOX:\n%s", v)
	}
	log := ts.log.String()
	if !strings.Contains(log, `"name":"watcher","role":"viewer"`) || !strings.Contains(log, `"user":"boss"`) {
		t.Errorf("the session was not named after its key:\n%s", log)
	}
}

func TestMalformedUsersLineSkipsOnlyItself(t *testing.T) {
	first, last := newKey(t), newKey(t)
	users := usersLine("desk-1", "agent", first) +
		"desk-2 superuser ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBad\n" +
		"# a comment\n" +
		usersLine("desk-3", "agent", last)
	ts := startServer(t, users, nil)
	for _, k := range []key{first, last} {
		c, err := ts.dial(k, "x")
		if err != nil {
			t.Fatalf("a valid line was locked out: %v", err)
		}
		c.Close()
	}
	if !strings.Contains(ts.log.String(), `"line":2`) {
		t.Errorf("the malformed line is not reported with its number:\n%s", ts.log)
	}
}

func TestRevokedKeyHasItsSessionClosed(t *testing.T) {
	a, b := newKey(t), newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", a)+usersLine("desk-2", "agent", b), nil)
	ta := ts.open(a, "x")
	tb := ts.open(b, "x")
	ta.waitText("Orders")
	tb.waitText("Orders")
	start := time.Now()
	ts.writeUsers(usersLine("desk-2", "agent", b))
	_ = ta.waitClosed(5 * time.Second)
	t.Logf("revoked session closed after %s", time.Since(start).Round(time.Millisecond))
	select {
	case err := <-tb.done:
		t.Fatalf("the session of a key still listed was closed: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := ts.dial(a, "x"); err == nil {
		t.Error("a removed key can still log in")
	}
}

// Reload (SIGHUP) applies a change at once, without waiting for the poll.
func TestReloadRevokesAtOnce(t *testing.T) {
	a := newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", a), func(c *Config) { c.UsersPoll = time.Hour })
	ta := ts.open(a, "x")
	ta.waitText("Orders")
	ts.writeUsers("# nobody\n")
	ts.srv.Reload()
	_ = ta.waitClosed(2 * time.Second)
}

func TestExecSubsystemsAndForwardingAreRefused(t *testing.T) {
	ts, c := dialAgent(t)

	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if out, err := s.CombinedOutput("cat /etc/passwd"); err == nil {
		t.Errorf("exec ran: %q", out)
	}
	s2, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.RequestSubsystem("sftp"); err == nil {
		t.Error("the sftp subsystem was accepted")
	}
	if conn, err := c.Dial("tcp", ts.addr); err == nil {
		conn.Close()
		t.Error("local port forwarding was accepted")
	}
	if l, err := c.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
		t.Error("remote port forwarding was accepted")
	}

	// Agent forwarding: the shell is refused with a message.
	tm := ts.shell(c, func(s *gossh.Session) {
		if err := agent.RequestAgentForwarding(s); err != nil {
			t.Logf("agent request: %v", err)
		}
	})
	var exit *gossh.ExitError
	if err := tm.waitClosed(5 * time.Second); err == nil || !asExit(err, &exit) || exit.ExitStatus() == 0 {
		t.Errorf("a session with agent forwarding ran: %v", err)
	}
	tm.waitText("agent forwarding is refused")
}

// agentKeys makes n agent keys, desk-0 to desk-<n-1>, and the users file
// listing them: the many-session tests and the benchmark start a room of
// agents this way.
func agentKeys(t testing.TB, n int) ([]key, string) {
	t.Helper()
	keys := make([]key, n)
	var users strings.Builder
	for i := range keys {
		keys[i] = newKey(t)
		users.WriteString(usersLine(fmt.Sprintf("desk-%d", i), "agent", keys[i]))
	}
	return keys, users.String()
}

// dialAgent starts a server whose users file lists one agent key and returns
// it with a client logged in with that key, closed when the test ends. The
// tests of what a logged-in client is refused (exec, subsystems, forwarding,
// a shell with no PTY) all start from this connection.
func dialAgent(t *testing.T) (*testServer, *gossh.Client) {
	t.Helper()
	a := newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", a), nil)
	c, err := ts.dial(a, "x")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return ts, c
}

func asExit(err error, target **gossh.ExitError) bool {
	e, ok := err.(*gossh.ExitError)
	if ok {
		*target = e
	}
	return ok
}

func TestPTYIsRequired(t *testing.T) {
	_, c := dialAgent(t)
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s.Stderr = &out
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(); err == nil {
		t.Error("a session with no PTY ran")
	}
	if !strings.Contains(out.String(), "needs a terminal") {
		t.Errorf("stderr = %q", out.String())
	}
}

// A connection that never finishes the handshake is closed.
func TestHandshakeIsBounded(t *testing.T) {
	a := newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", a), func(c *Config) { c.HandshakeTimeout = 300 * time.Millisecond })
	conn, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Say hello like a client, then nothing more.
	if _, err := conn.Write([]byte("SSH-2.0-slowloris\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server kept a connection that never authenticated for 5s")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("closed after %s", d)
	}
}

// The idle timeout follows keys, not the screen: a live console with
// nothing typed is closed.
func TestIdleSessionIsClosed(t *testing.T) {
	a := newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", a), func(c *Config) { c.IdleTimeout = 700 * time.Millisecond })
	tm := ts.open(a, "x")
	tm.waitText("Orders")
	_ = tm.waitClosed(5 * time.Second)
	if !strings.Contains(ts.log.String(), "no key pressed") {
		t.Errorf("no idle reason logged:\n%s", ts.log)
	}
}

func TestSessionsPerKeyAreCapped(t *testing.T) {
	a := newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", a), func(c *Config) { c.MaxSessionsPerKey = 1 })
	first := ts.open(a, "x")
	first.waitText("Orders")
	second := ts.open(a, "x")
	_ = second.waitClosed(5 * time.Second)
	second.waitText("already has 1 sessions open")
}

// A viewer is offered no change, and e does nothing for them, while an
// agent on the same server gets the metadata form: the role guard's
// capabilities decide what the screens offer (the guard's refusal below the
// screens is tested in api and ui).
func TestViewerIsOfferedNoChange(t *testing.T) {
	v, ag := newKey(t), newKey(t)
	ts := startServer(t, usersLine("watcher", "viewer", v)+usersLine("desk-1", "agent", ag), nil)
	for _, c := range []struct {
		k      key
		viewer bool
	}{{ag, false}, {v, true}} {
		tm := ts.open(c.k, "x")
		tm.waitText("loaded")
		tm.send("\r") // open the first order
		screen := tm.waitText("Payments")
		if got := strings.Contains(screen, "edit metadata"); got == c.viewer {
			t.Errorf("viewer=%v: edit offered=%v:\n%s", c.viewer, got, screen)
		}
		tm.send("e")
		if !c.viewer {
			tm.waitText("Edit payment")
			continue
		}
		time.Sleep(500 * time.Millisecond)
		if s := tm.screen(); strings.Contains(s, "Edit payment") {
			t.Errorf("e opened the metadata form for a viewer:\n%s", s)
		}
	}
}

// Twenty agents at once, each on their own key: every console comes up,
// takes keys and quits cleanly. Run under -race.
func TestTwentyConcurrentSessions(t *testing.T) {
	const n = 20
	keys, users := agentKeys(t, n)
	// With serve's shared services, so every console subscribes to the
	// event bus as well.
	var store *api.FileApprovals
	ts := startServer(t, users, withApprovals(t, &auditLines{}, &store))
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range keys {
		wg.Add(1)
		go func(k key) {
			defer wg.Done()
			c, err := ts.dial(k, "x")
			if err != nil {
				errs <- err.Error()
				return
			}
			defer c.Close()
			s, err := c.NewSession()
			if err != nil {
				errs <- err.Error()
				return
			}
			if err := s.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
				errs <- err.Error()
				return
			}
			stdin, _ := s.StdinPipe()
			stdout, _ := s.StdoutPipe()
			emu := vt.NewSafeEmulator(80, 24)
			defer closeEmulator(emu)
			go func() { _, _ = io.Copy(emu, stdout) }()
			go func() { _, _ = io.Copy(stdin, emu) }()
			if err := s.Shell(); err != nil {
				errs <- err.Error()
				return
			}
			deadline := time.Now().Add(20 * time.Second)
			for !strings.Contains(ansi.Strip(emu.Render()), "loaded") {
				if time.Now().After(deadline) {
					errs <- "console never loaded:\n" + ansi.Strip(emu.Render())
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			done := make(chan error, 1)
			go func() { done <- s.Wait() }()
			// q is repeated until the console quits: a session that is
			// still loading its first page under -race may not yet take it.
			for _, k := range []string{"j", "j"} {
				_, _ = io.WriteString(stdin, k)
				time.Sleep(30 * time.Millisecond)
			}
			deadline = time.Now().Add(15 * time.Second)
			for {
				_, _ = io.WriteString(stdin, "q")
				select {
				case <-done:
					return
				case <-time.After(300 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					errs <- "q did not quit:\n" + ansi.Strip(emu.Render())
					return
				}
			}
		}(keys[i])
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	deadline := time.Now().Add(5 * time.Second)
	for ts.srv.Sessions() != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := ts.srv.Sessions(); n != 0 {
		t.Errorf("%d sessions still registered after every client quit", n)
	}
	if n := ts.srv.cfg.Deps.Bus.Subscribers(); n != 0 {
		t.Errorf("%d event subscriptions left after every client quit", n)
	}
}

func TestServerLogIsSanitised(t *testing.T) {
	a, stranger := newKey(t), newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", a), nil)
	if c, err := ts.dial(stranger, "evil\x1b]0;pwned\x07\nname"); err == nil {
		c.Close()
	}
	log := ts.log.String()
	if strings.Contains(log, "\\u001b") || strings.Contains(log, "\\u0007") || strings.Contains(log, "\\n") {
		t.Errorf("client-controlled text reached the log unsanitised:\n%s", log)
	}
	if !strings.Contains(log, "key refused") {
		t.Errorf("refusal not logged:\n%s", log)
	}
}

// Every session of one key draws on one allowance of money actions, which
// a reconnect does not refill; another key has its own.
func TestMoneyAllowanceIsPerKey(t *testing.T) {
	a, b := newKey(t), newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", a)+usersLine("desk-2", "agent", b), func(c *Config) { c.MoneyActionsPerMinute = 2 })
	fa, fb := gossh.FingerprintSHA256(a.signer.PublicKey()), gossh.FingerprintSHA256(b.signer.PublicKey())
	la := ts.srv.cfg.Deps.MoneyLimiter(fa)
	if la != ts.srv.cfg.Deps.MoneyLimiter(fa) {
		t.Error("two sessions of one key got separate allowances")
	}
	if la == ts.srv.cfg.Deps.MoneyLimiter(fb) {
		t.Error("two keys share one allowance")
	}
	if !la.Allow() || !la.Allow() || la.Allow() {
		t.Error("the allowance is not 2 per minute")
	}
}

// panicky is a provider whose first list panics, as a bug in a client would.
type panicky struct {
	api.Provider
	once *sync.Once
}

func (p panicky) ListOrders(ctx context.Context, q api.OrderQuery) (api.OrderPage, error) {
	p.once.Do(func() { panic("bug in a provider client") })
	return p.Provider.ListOrders(ctx, q)
}

// A panic in one session (here in a command goroutine the console started)
// ends that session only: the server keeps serving everyone else.
func TestPanicInOneSessionSparesTheServer(t *testing.T) {
	a, b := newKey(t), newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", a)+usersLine("desk-2", "agent", b), func(c *Config) {
		c.Deps.Providers = []api.Provider{panicky{Provider: c.Deps.Providers[0], once: &sync.Once{}}}
	})
	tm := ts.open(a, "x")
	_ = tm.waitClosed(10 * time.Second)
	// The server is still up, and a second session is served.
	tb := ts.open(b, "x")
	tb.waitText("loaded")
	deadline := time.Now().Add(5 * time.Second)
	for ts.srv.Sessions() != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := ts.srv.Sessions(); n != 1 {
		t.Errorf("%d sessions registered, want the second one only", n)
	}
}

// Connections still in handshake are capped; authenticated ones do not
// count, and a closed one frees its place.
func TestHandshakesInProgressAreCapped(t *testing.T) {
	a := newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", a), func(c *Config) {
		c.MaxHandshakes = 1
		c.HandshakeTimeout = 5 * time.Second
	})
	// An authenticated session holds no handshake place.
	tm := ts.open(a, "x")
	tm.waitText("loaded")

	silent, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	// Read the server's version line: the connection is now in handshake.
	_ = silent.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := silent.Read(make([]byte, 64)); err != nil {
		t.Fatalf("first silent connection: %v", err)
	}
	extra, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	_ = extra.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.Copy(io.Discard, extra); err != nil {
		t.Fatalf("a connection over the cap was kept open: %v", err)
	}
	silent.Close()
	deadline := time.Now().Add(2 * time.Second)
	for ts.srv.pending.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	c, err := ts.dial(a, "x")
	if err != nil {
		t.Fatalf("a closed handshake did not free its place: %v", err)
	}
	c.Close()
}

// Keys typed faster than the link carries them arrive in one packet. Bubble
// Tea v1 reads a run of printable characters as one message ("jjq") that no
// binding matches, so the keys were lost; serve hands them over one by one.
func TestBurstOfKeysIsNotLost(t *testing.T) {
	a := newKey(t)
	ts := startServer(t, usersLine("desk-1", "agent", a), nil)
	tm := ts.open(a, "x")
	tm.waitText("loaded")
	tm.send("jjq")
	_ = tm.waitClosed(5 * time.Second)
}

func TestKeyReaderSplitsOnlyPrintableRuns(t *testing.T) {
	l := &liveSession{}
	read := func(in string) []string {
		k := &keyReader{r: strings.NewReader(in), l: l}
		var out []string
		buf := make([]byte, 64)
		for {
			n, err := k.Read(buf)
			if n > 0 {
				out = append(out, string(buf[:n]))
			}
			if err != nil {
				return out
			}
		}
	}
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"jjq", []string{"j", "j", "q"}},
		{"éa", []string{"é", "a"}},
		{"j\x1b[A", []string{"j\x1b[A"}}, // holds an escape: passed whole
		{"\x1b[200~abc\x1b[201~", []string{"\x1b[200~abc\x1b[201~"}},
		{"x", []string{"x"}},
	} {
		got := read(c.in)
		if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
			t.Errorf("%q: reads %q, want %q", c.in, got, c.want)
		}
	}
	if l.lastKey.Load() == 0 {
		t.Error("keys did not count as activity")
	}
}

// Consoles opening the same list share the pages one console already read:
// a room of agents starting at once costs the provider budget of one.
func TestConsolesOpeningShareTheirLists(t *testing.T) {
	const n = 10
	keys, users := agentKeys(t, n)
	ts := startServer(t, users, nil)
	first := ts.open(keys[0], "x")
	first.waitText("loaded")
	time.Sleep(300 * time.Millisecond) // pages still loading in the background
	one := ts.requests.Load()
	for _, k := range keys[1:] {
		ts.open(k, "x").waitText("loaded")
	}
	time.Sleep(300 * time.Millisecond)
	more := ts.requests.Load() - one
	t.Logf("first console: %d provider requests; %d more consoles: %d more requests", one, n-1, more)
	// At most one more console's worth: the range buckets may roll over
	// once while the consoles open. Unshared, this was 9 × 31.
	if more > one {
		t.Errorf("%d more consoles cost %d requests; the first alone cost %d", n-1, more, one)
	}
}
