// Package sshserve serves the paydesk console over SSH: one process holds the
// provider credentials and the shared services (clients and their rate
// limiters, the journal, the audit log), and every agent connects with their
// own key to a console built for them by ui.NewSession.
package sshserve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/charmbracelet/wish/bubbletea"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/time/rate"

	"paydesk/model/safetext"
	"paydesk/ui"
)

// Config is how serve was started.
type Config struct {
	// Addr is the listen address, e.g. 127.0.0.1:2222.
	Addr string
	// HostKeyPEM is the host key, as LoadHostKey read it.
	HostKeyPEM []byte
	// UsersPath is the users file; it is re-read when it changes and on Reload.
	UsersPath string
	// Deps are the services every session shares.
	Deps ui.Deps
	// Log receives the server's structured log. Nil discards it.
	Log *slog.Logger

	// HandshakeTimeout bounds a connection from accept to authentication.
	HandshakeTimeout time.Duration // default 10s
	// IdleTimeout closes a session when its agent has typed nothing for
	// this long; screen updates do not count.
	IdleTimeout time.Duration // default 15m
	// MaxSession closes a session this long after it started, however busy.
	MaxSession time.Duration // default 12h
	// MaxSessionsPerKey is how many consoles one key may hold open at once.
	MaxSessionsPerKey int // default 3
	// UsersPoll is how often the users file is checked for changes.
	UsersPoll time.Duration // default 1s
	// MoneyActionsPerMinute is how many refunds and cancels one key may make
	// per minute, across all its sessions.
	MoneyActionsPerMinute int // default 10
	// MaxHandshakes is how many connections may be between accept and
	// authentication at once; more are closed on accept, so a flood of
	// silent connections cannot hold every file descriptor.
	MaxHandshakes int // default 64
}

func (c *Config) defaults() {
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 10 * time.Second
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 15 * time.Minute
	}
	if c.MaxSession <= 0 {
		c.MaxSession = 12 * time.Hour
	}
	if c.MaxSessionsPerKey <= 0 {
		c.MaxSessionsPerKey = 3
	}
	if c.UsersPoll <= 0 {
		c.UsersPoll = time.Second
	}
	if c.MoneyActionsPerMinute <= 0 {
		c.MoneyActionsPerMinute = 10
	}
	if c.MaxHandshakes <= 0 {
		c.MaxHandshakes = 64
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Server is the SSH front end.
type Server struct {
	cfg Config
	srv *ssh.Server
	log *slog.Logger

	mu        sync.Mutex
	users     Users
	usersRaw  []byte
	live      map[ssh.Session]*liveSession
	perKey    map[string]int
	money     map[string]*rate.Limiter
	listener  net.Listener
	closed    bool
	watching  bool         // the users watcher runs (Serve started it)
	pending   atomic.Int64 // connections not yet authenticated
	stop      chan struct{}
	stopOnce  sync.Once
	watchDone chan struct{}
}

// liveSession is one console being served.
type liveSession struct {
	user    User
	sess    ssh.Session
	started time.Time
	lastKey atomic.Int64 // unix nanoseconds of the agent's last keypress
	prog    atomic.Pointer[tea.Program]
	console atomic.Pointer[ui.Session]
	closing sync.Once
}

type ctxKey struct{ name string }

var guardConnKey = &ctxKey{"guard-conn"}

// New reads the users file and builds the server. A users file that cannot
// be read is an error; malformed lines in it are logged and skipped.
func New(cfg Config) (*Server, error) {
	cfg.defaults()
	if len(cfg.HostKeyPEM) == 0 {
		// wish would otherwise write a new key into the working directory.
		return nil, errors.New("no host key: create one with `paydesk hostkey PATH`")
	}
	s := &Server{cfg: cfg, log: cfg.Log, live: map[ssh.Session]*liveSession{}, perKey: map[string]int{},
		money: map[string]*rate.Limiter{}, stop: make(chan struct{}), watchDone: make(chan struct{})}
	if err := s.loadUsers(true); err != nil {
		return nil, err
	}
	if s.cfg.Deps.MoneyLimiter == nil {
		s.cfg.Deps.MoneyLimiter = s.moneyLimiter
	}
	srv, err := wish.NewServer(
		wish.WithAddress(cfg.Addr),
		wish.WithHostKeyPEM(cfg.HostKeyPEM),
		// Keys only: with no password or keyboard-interactive handler the
		// server offers no other method.
		wish.WithPublicKeyAuth(s.authKey),
		ssh.WrapConn(s.wrapConn),
		func(srv *ssh.Server) error {
			srv.SessionRequestCallback = s.sessionRequest
			srv.ConnectionFailedCallback = s.connFailed
			return nil
		},
		// Outermost last: gate runs first, then the Bubble Tea program.
		wish.WithMiddleware(
			bubbletea.MiddlewareWithProgramHandler(s.program, termenv.Ascii),
			s.gate,
		),
	)
	if err != nil {
		return nil, err
	}
	s.srv = srv
	return s, nil
}

// Serve accepts connections on l until Close.
func (s *Server) Serve(l net.Listener) error {
	// The ssh library's Serve does not notice a Close that came first: it
	// would wait forever. Close closes the listener this records.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listener = l
	s.watching = true
	s.mu.Unlock()
	go s.watch()
	s.log.Info("serving", "addr", l.Addr().String(), "users", len(s.currentUsers()))
	err := s.srv.Serve(l)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// ListenAndServe listens on the configured address.
func (s *Server) ListenAndServe() error {
	l, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Close stops accepting, closes every session and stops the users watcher.
func (s *Server) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	s.mu.Lock()
	s.closed = true
	l, watching := s.listener, s.watching
	s.mu.Unlock()
	err := s.srv.Close()
	if l != nil {
		_ = l.Close()
	}
	if watching {
		<-s.watchDone // no goroutine outlives the server
	}
	return err
}

// Reload re-reads the users file now (SIGHUP) and closes the sessions of
// keys no longer in it.
func (s *Server) Reload() {
	if err := s.loadUsers(false); err != nil {
		s.log.Error("users file", "path", s.cfg.UsersPath, "err", err.Error())
	}
	s.sweep(time.Now())
}

func (s *Server) currentUsers() Users {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users
}

// loadUsers reads the users file if it changed. On a read error after
// start the last good list stays: an editor's half-written save must not
// lock the team out, and removing a key is done by editing the file.
func (s *Server) loadUsers(first bool) error {
	if err := CheckUsersFileMode(s.cfg.UsersPath); err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	b, err := os.ReadFile(s.cfg.UsersPath)
	if err != nil {
		return fmt.Errorf("users file: %w", err)
	}
	s.mu.Lock()
	same := !first && bytes.Equal(b, s.usersRaw)
	s.mu.Unlock()
	if same {
		return nil
	}
	users, errs := ParseUsers(bytes.NewReader(b))
	for _, e := range errs {
		s.log.Warn("users file line skipped", "path", s.cfg.UsersPath, "line", e.Line, "err", e.Err)
	}
	s.mu.Lock()
	s.users, s.usersRaw = users, b
	s.mu.Unlock()
	s.log.Info("users file loaded", "path", s.cfg.UsersPath, "keys", len(users), "skipped", len(errs))
	return nil
}

// watch re-reads the users file when it changes and enforces revocation,
// idle and absolute timeouts, once per UsersPoll.
func (s *Server) watch() {
	defer close(s.watchDone)
	t := time.NewTicker(s.cfg.UsersPoll)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			func() {
				defer s.contain("watcher")
				if err := s.loadUsers(false); err != nil {
					s.log.Error("users file", "path", s.cfg.UsersPath, "err", err.Error())
				}
				s.sweep(now)
			}()
		}
	}
}

// sweep closes every session whose key was removed (or whose name or role
// changed: the session's guard holds the old role), and every session past
// its idle or absolute limit.
func (s *Server) sweep(now time.Time) {
	users := s.currentUsers()
	s.mu.Lock()
	var todo []*liveSession
	var why []string
	for _, l := range s.live {
		u, ok := users.Lookup(l.user.Key)
		switch {
		case !ok:
			todo, why = append(todo, l), append(why, "your key was removed from the users file")
		case u.Name != l.user.Name || u.Role != l.user.Role:
			todo, why = append(todo, l), append(why, "your name or role changed in the users file: connect again")
		case now.Sub(time.Unix(0, l.lastKey.Load())) > s.cfg.IdleTimeout:
			todo, why = append(todo, l), append(why, fmt.Sprintf("no key pressed for %s", s.cfg.IdleTimeout))
		case now.Sub(l.started) > s.cfg.MaxSession:
			todo, why = append(todo, l), append(why, fmt.Sprintf("sessions last at most %s", s.cfg.MaxSession))
		}
	}
	s.mu.Unlock()
	for i, l := range todo {
		s.end(l, why[i])
	}
}

// end closes one session's whole connection, telling the agent why.
func (s *Server) end(l *liveSession, why string) {
	l.closing.Do(func() {
		s.log.Info("session closed", "name", l.user.Name, "key", l.user.Fingerprint, "reason", why)
		if p := l.prog.Load(); p != nil {
			p.Kill() // restores the client's screen
		}
		fmt.Fprintf(l.sess.Stderr(), "\r\npaydesk: session closed: %s.\r\n", why)
		_ = l.sess.Exit(1)
		if c, ok := l.sess.Context().Value(ssh.ContextKeyConn).(*gossh.ServerConn); ok {
			_ = c.Close()
		}
	})
}

// contain stops a panic in one connection or session from taking the
// server (and every other agent's console) down.
func (s *Server) contain(where string) {
	if r := recover(); r != nil {
		s.log.Error("panic contained", "where", where, "panic", clean(fmt.Sprint(r)), "stack", clean(string(debug.Stack())))
	}
}

// clean makes client-controlled text (user names, TERM) safe for a log
// line: no control sequences, card-number-like runs masked, bounded.
func clean(s string) string { return safetext.Truncate(s, 200) }

// wrapConn bounds the handshake: the pinned ssh library has no handshake
// timeout, so a read deadline on the raw connection holds until the first
// session starts after authentication.
func (s *Server) wrapConn(ctx ssh.Context, c net.Conn) net.Conn {
	if s.pending.Add(1) > int64(s.cfg.MaxHandshakes) {
		s.pending.Add(-1)
		s.log.Warn("connection refused: too many handshakes in progress", "remote", c.RemoteAddr().String())
		return nil // the ssh library closes it
	}
	g := &guardConn{Conn: c, until: time.Now().Add(s.cfg.HandshakeTimeout), pending: &s.pending}
	_ = c.SetDeadline(g.until)
	ctx.SetValue(guardConnKey, g)
	return g
}

// authKey accepts a key in the users file. It may be called for keys the
// client never proves; identity is decided later from sess.PublicKey().
func (s *Server) authKey(ctx ssh.Context, key ssh.PublicKey) (ok bool) {
	defer s.contain("auth")
	_, ok = s.currentUsers().Lookup(key)
	if !ok {
		s.log.Info("key refused", "remote", ctx.RemoteAddr().String(), "key", gossh.FingerprintSHA256(key), "user", clean(ctx.User()))
	}
	return ok
}

// sessionRequest allows an interactive shell only: exec commands and
// subsystems (sftp among them) are refused.
func (s *Server) sessionRequest(sess ssh.Session, requestType string) bool {
	if requestType == "shell" {
		return true
	}
	s.log.Info("request refused", "remote", sess.RemoteAddr().String(), "type", clean(requestType), "key", fingerprint(sess.PublicKey()))
	return false
}

func (s *Server) connFailed(c net.Conn, err error) {
	s.log.Info("connection failed", "remote", c.RemoteAddr().String(), "err", clean(err.Error()))
}

func fingerprint(k ssh.PublicKey) string {
	if k == nil {
		return ""
	}
	return gossh.FingerprintSHA256(k)
}

// gate decides who the session is (from the key that authenticated, never
// the user name), and refuses what paydesk does not serve.
func (s *Server) gate(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		defer s.contain("session")
		if g, ok := sess.Context().Value(guardConnKey).(*guardConn); ok {
			g.authenticated()
		}
		refuse := func(msg string, args ...any) {
			s.log.Info("session refused", append([]any{"remote", sess.RemoteAddr().String(), "key", fingerprint(sess.PublicKey()), "reason", msg}, args...)...)
			fmt.Fprintf(sess.Stderr(), "paydesk: %s\r\n", msg)
			_ = sess.Exit(1)
		}
		u, ok := s.currentUsers().Lookup(sess.PublicKey())
		if !ok {
			refuse("this key is not in the users file")
			return
		}
		pty, _, ok := sess.Pty()
		if !ok {
			refuse("paydesk needs a terminal: connect with ssh -t")
			return
		}
		if ssh.AgentRequested(sess) {
			refuse("agent forwarding is refused: connect without -A")
			return
		}
		l := &liveSession{user: u, sess: sess, started: time.Now()}
		l.lastKey.Store(l.started.UnixNano())
		if !s.register(l) {
			refuse(fmt.Sprintf("this key already has %d sessions open", s.cfg.MaxSessionsPerKey))
			return
		}
		defer s.unregister(l)
		s.log.Info("session started", "remote", sess.RemoteAddr().String(), "name", u.Name, "role", u.Role.String(),
			"key", u.Fingerprint, "user", clean(sess.User()), "term", clean(pty.Term))
		next(sess)
		// The program has ended: its wait for the process's events ends too.
		if c := l.console.Load(); c != nil {
			c.Close()
		}
		s.log.Info("session ended", "name", u.Name, "key", u.Fingerprint, "seconds", int(time.Since(l.started).Seconds()))
	}
}

func (s *Server) register(l *liveSession) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perKey[l.user.Fingerprint] >= s.cfg.MaxSessionsPerKey {
		return false
	}
	s.perKey[l.user.Fingerprint]++
	s.live[l.sess] = l
	return true
}

func (s *Server) unregister(l *liveSession) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.live[l.sess]; !ok {
		return
	}
	delete(s.live, l.sess)
	if s.perKey[l.user.Fingerprint]--; s.perKey[l.user.Fingerprint] <= 0 {
		delete(s.perKey, l.user.Fingerprint)
	}
}

// moneyLimiter is one key's allowance of money actions, shared by all its
// sessions and kept across reconnects, so logging in again does not refill it.
func (s *Server) moneyLimiter(fingerprint string) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.money[fingerprint]
	if !ok {
		n := s.cfg.MoneyActionsPerMinute
		l = rate.NewLimiter(rate.Every(time.Minute/time.Duration(n)), n)
		s.money[fingerprint] = l
	}
	return l
}

// Sessions is how many consoles are being served.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// program builds one console from the session's own renderer and the
// identity of the key that authenticated.
func (s *Server) program(sess ssh.Session) *tea.Program {
	s.mu.Lock()
	l := s.live[sess]
	s.mu.Unlock()
	if l == nil {
		return nil
	}
	r := bubbletea.MakeRenderer(sess)
	id := ui.Identity{Name: l.user.Name, Role: l.user.Role, Fingerprint: l.user.Fingerprint}
	c := ui.NewSession(s.cfg.Deps, r, id, sess)
	// Bubble Tea v1 flushes frames on a ticker: at its default 60 fps a key
	// waits up to 16.7 ms for its frame (p99 16.8 ms with 50 sessions in
	// BenchmarkFiftySessions); 120, its maximum, halves that. A tick with
	// nothing new to draw writes nothing.
	p := tea.NewProgram(c.App, tea.WithInput(&keyReader{r: sess, l: l}), tea.WithOutput(sess), tea.WithAltScreen(), tea.WithFPS(120))
	l.prog.Store(p)
	l.console.Store(c)
	return p
}

// keyReader notes when the agent last typed: the idle timeout follows the
// agent's keys, not the screen, so a ticking spinner cannot keep a
// forgotten session open.
//
// It also hands a run of printable characters over one character per Read.
// Keys typed faster than the link carries them arrive in one packet, and
// Bubble Tea v1 reads a run of printable characters as one message ("jjq")
// that no key binding matches: the keys were lost. Anything holding an
// escape or control byte (arrows, enter, a bracketed paste) passes as it
// came, so sequences are never split.
type keyReader struct {
	r       io.Reader
	l       *liveSession
	pending []byte
}

func (k *keyReader) Read(p []byte) (int, error) {
	if len(k.pending) == 0 {
		n, err := k.r.Read(p)
		if n > 0 {
			k.l.lastKey.Store(time.Now().UnixNano())
		}
		if n <= 1 || !printable(p[:n]) {
			return n, err
		}
		k.pending = append(k.pending[:0], p[:n]...)
		if err != nil && n > 0 {
			// Hand out what came first; the error comes back on the next
			// read from the underlying reader.
			err = nil
		}
	}
	_, size := utf8.DecodeRune(k.pending)
	n := copy(p, k.pending[:size])
	k.pending = k.pending[n:]
	return n, nil
}

// printable reports whether b holds only printable characters: no escape,
// no control byte, valid UTF-8.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// guardConn holds the handshake deadline: until authenticated, no later
// (or cleared) deadline set by the ssh library can lift it.
type guardConn struct {
	net.Conn
	mu      sync.Mutex
	until   time.Time
	authed  bool
	left    bool          // no longer counted in pending
	pending *atomic.Int64 // the server's count of connections in handshake
}

// leave stops counting this connection as in handshake, once.
func (g *guardConn) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.left {
		g.left = true
		g.pending.Add(-1)
	}
}

func (g *guardConn) Close() error {
	g.leave()
	return g.Conn.Close()
}

func (g *guardConn) clamp(t time.Time) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.authed && (t.IsZero() || t.After(g.until)) {
		return g.until
	}
	return t
}

func (g *guardConn) SetDeadline(t time.Time) error     { return g.Conn.SetDeadline(g.clamp(t)) }
func (g *guardConn) SetReadDeadline(t time.Time) error { return g.Conn.SetReadDeadline(g.clamp(t)) }
func (g *guardConn) SetWriteDeadline(t time.Time) error {
	return g.Conn.SetWriteDeadline(g.clamp(t))
}

func (g *guardConn) authenticated() {
	g.mu.Lock()
	first := !g.authed
	g.authed = true
	g.mu.Unlock()
	if first {
		_ = g.Conn.SetDeadline(time.Time{})
		g.leave()
	}
}
