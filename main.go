// Command paydesk is a terminal back-office console for payment support
// agents. main.go is wiring only: flags, subcommands, start the program.
//
//	paydesk                the console (embedded sandbox when no provider is configured)
//	paydesk sandbox        serve the fake providers until SIGINT/SIGTERM
//	paydesk audit verify   check the audit log's hash chain (--head HASH:N: against an anchor)
//	paydesk audit head     print the audit log's head as HASH:N, to anchor it elsewhere
//	paydesk version        version and build info
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	charmlog "github.com/charmbracelet/log"
	"github.com/google/uuid"
	"github.com/muesli/termenv"

	"paydesk/api"
	"paydesk/api/audit"
	"paydesk/api/index"
	"paydesk/api/journal"
	"paydesk/api/providers"
	"paydesk/api/sandbox"
	"paydesk/api/store"
	"paydesk/api/store/pg"
	"paydesk/ui"
	"paydesk/ui/sshserve"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	args := os.Args[1:]
	var err error
	switch {
	case len(args) > 0 && args[0] == "sandbox":
		err = runSandbox(args[1:])
	case len(args) > 0 && args[0] == "version":
		printVersion(os.Stdout)
	case len(args) > 0 && args[0] == "serve":
		err = runServe(args[1:])
	case len(args) > 0 && args[0] == "hostkey":
		err = runHostkey(args[1:])
	case len(args) > 0 && args[0] == "audit":
		err = runAudit(args[1:])
	case len(args) > 0 && args[0] == "help":
		err = errHelp
	default:
		err = runConsole(args)
	}
	os.Exit(exitCode(err, os.Stdout, os.Stderr))
}

// errHelp is --help or -h: the usage goes to stdout and paydesk exits 0.
var errHelp = errors.New("help requested")

// usageError is a command line paydesk cannot read: it says what, prints
// the usage and exits 2 (an unknown subcommand must never start the console).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitCode reports err the way the shell expects: 0 for success and help,
// 2 for a bad command line, 1 for everything else.
func exitCode(err error, stdout, stderr io.Writer) int {
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		usage(stdout)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "paydesk:", ue.msg)
		fmt.Fprintln(stderr)
		usage(stderr)
		return 2
	}
	fmt.Fprintln(stderr, "paydesk:", err)
	return 1
}

func usage(w io.Writer) {
	fmt.Fprint(w, `paydesk: a terminal console for payment support agents

Usage:
  paydesk [--read-only] [--no-color] [--refresh 2s]   the console
  paydesk sandbox [--seed N] [--orders N] [flags]     serve the fake providers
  paydesk audit verify [--audit-log PATH] [--head HASH:N]   check the audit log
  paydesk audit head [--audit-log PATH]               print HASH:N to keep elsewhere
  paydesk serve [--listen 127.0.0.1:2222] --host-key PATH --users PATH [--read-only] [--refresh D]
                                                      serve the console over SSH
  paydesk hostkey PATH                                create an ed25519 host key for serve
  paydesk version                                     version and build info
  paydesk help                                        this text

Console flags:
  --read-only    browse only: every action that changes anything is refused
                 (also PAYDESK_READ_ONLY=1)
  --no-color     no colours (also NO_COLOR)
  --refresh D    live refresh interval for refunds still settling (default 2s)

With no FORAGE_BASE_URL, MOYASAR_BASE_URL or DIGITALRIVER_BASE_URL set (in the
environment or the PAYDESK_CREDENTIALS file), the console starts the sandbox
in-process and is marked SANDBOX. "paydesk sandbox" prints the export lines
that point a console at it.
`)
}

func printVersion(w io.Writer) {
	fmt.Fprintf(w, "paydesk %s\n", version)
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(w, "go %s\n", bi.GoVersion)
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision", "vcs.time", "vcs.modified", "GOOS", "GOARCH":
				fmt.Fprintf(w, "%s %s\n", s.Key, s.Value)
			}
		}
	}
}

func runSandbox(args []string) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	addrs := map[string]*string{}
	for _, p := range sandbox.Providers() {
		addrs[p.ID] = fs.String(p.ID+"-addr", p.DefaultAddr, p.Name+" listen address")
	}
	orders := fs.Int("orders", 200, "orders to seed per provider")
	seed := fs.Int64("seed", 1, "random seed: same seed, same data")
	latency := fs.Duration("refund-latency", 3*time.Second, "how long a refund stays processing")
	chaos := fs.String("chaos", "", "fault injection: 'fail5xx=P,reset=P,lost_response=P,throttle=P,latency=D'")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // the flag set has printed its flags
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("paydesk sandbox takes no argument %q", fs.Arg(0))}
	}
	listen := map[string]string{}
	for id, a := range addrs {
		listen[id] = *a
	}
	sb, err := sandbox.Start(sandbox.Config{
		Addrs: listen, Orders: *orders, Seed: *seed, RefundLatency: *latency, Chaos: *chaos,
	})
	if err != nil {
		return err
	}
	fmt.Printf("paydesk sandbox: serving fake providers (seed %d, %d orders each, refund latency %s)\n\n", *seed, *orders, *latency)
	fmt.Print(sb.Summary())
	fmt.Println("\nTo point a console at it (in another shell), paste:")
	fmt.Print(sb.Exports())
	if *chaos != "" {
		fmt.Printf("\nchaos: %s (send X-Sandbox-No-Chaos: 1 to read undisturbed)\n", *chaos)
	}
	fmt.Println("\nCtrl+C stops.")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	fmt.Println("\nstopping…")
	return sb.Close()
}

// auditUsage is the audit subcommands' synopsis.
const auditUsage = "usage: paydesk audit verify [--audit-log PATH] [--head HASH:N] | paydesk audit head [--audit-log PATH]"

// runAudit checks the audit log (verify, optionally against a head kept
// elsewhere) or prints its head as HASH:N to be kept elsewhere (head).
func runAudit(args []string) error {
	if len(args) == 0 || (args[0] != "verify" && args[0] != "head") {
		return errors.New(auditUsage)
	}
	def, err := audit.DefaultPath()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	path := fs.String("audit-log", def, "audit log (env PAYDESK_AUDIT_LOG)")
	head := ""
	if args[0] == "verify" {
		fs.StringVar(&head, "head", "", "HASH:N printed earlier by `paydesk audit head`: also catch lines removed from the end and rewrites up to line N")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return errors.New(auditUsage)
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "audit-log" })
	if url := databaseURL(); url != "" && !explicit {
		return auditShared(url, args[0], head)
	}
	if args[0] == "head" {
		a, err := audit.HeadAnchor(*path)
		if err != nil {
			return auditErr(*path, err)
		}
		// Only HASH:N on stdout, so it can be piped off the machine as is.
		fmt.Println(a)
		return nil
	}
	if head == "" {
		n, err := audit.Verify(*path)
		if err != nil {
			return auditErr(*path, err)
		}
		fmt.Printf("audit log %s: %d lines, chain intact (without --head, lines removed from the end or a re-hashed tail cannot be seen)\n", *path, n)
		return nil
	}
	a, err := audit.ParseAnchor(head)
	if err != nil {
		return err
	}
	n, err := audit.VerifyAnchored(*path, a)
	if err != nil {
		return auditErr(*path, err)
	}
	fmt.Printf("audit log %s: %d lines, chain intact, and line %d matches the anchored head\n", *path, n, a.Lines)
	return nil
}

// auditShared is verify or head against the PostgreSQL audit table.
func auditShared(url, cmd, head string) error {
	var a audit.Anchor
	if head != "" {
		var err error
		if a, err = audit.ParseAnchor(head); err != nil {
			return err
		}
	}
	st, err := openShared(url)
	if err != nil {
		return err
	}
	defer st.Close()
	n, h, err := st.Audit().Verify(context.Background(), a)
	if err != nil {
		return err
	}
	switch {
	case cmd == "head":
		fmt.Println(h)
	case head == "":
		fmt.Printf("audit log %s: %d rows, chain intact (without --head, rows removed from the end or a re-hashed tail cannot be seen)\n", st.Describe(), n)
	default:
		fmt.Printf("audit log %s: %d rows, chain intact, and row %d matches the anchored head\n", st.Describe(), n, a.Lines)
	}
	return nil
}

// auditErr names the log in err unless err (a *audit.VerifyError) does.
func auditErr(path string, err error) error {
	var ve *audit.VerifyError
	if errors.As(err, &ve) {
		return err
	}
	return fmt.Errorf("audit log %s: %w", path, err)
}

// consoleFlags are the console's command line.
type consoleFlags struct {
	readOnly bool
	noColor  bool
	refresh  time.Duration
}

// parseConsoleFlags reads the console's command line. Anything left over
// is an unknown subcommand (or a stray word): refused, never ignored.
func parseConsoleFlags(args []string, getenv func(string) string) (consoleFlags, error) {
	fs := flag.NewFlagSet("paydesk", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // exitCode prints the usage, to the right stream
	var f consoleFlags
	fs.BoolVar(&f.readOnly, "read-only", getenv("PAYDESK_READ_ONLY") == "1", "browse only: every action that changes anything is refused (env PAYDESK_READ_ONLY=1)")
	fs.BoolVar(&f.noColor, "no-color", getenv("NO_COLOR") != "", "no colours (also NO_COLOR)")
	fs.DurationVar(&f.refresh, "refresh", 2*time.Second, "live refresh interval for refunds still settling")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, errHelp
		}
		return f, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return f, usageError{fmt.Sprintf("unknown command %q", fs.Arg(0))}
	}
	if f.refresh < 250*time.Millisecond {
		return f, usageError{fmt.Sprintf("--refresh %s is too fast: at least 250ms (the providers rate-limit)", f.refresh)}
	}
	return f, nil
}

func runConsole(args []string) error {
	f, err := parseConsoleFlags(args, os.Getenv)
	if err != nil {
		return err
	}
	// The sandbox's HTTP servers and net/http log to the standard logger; on
	// the console's screen that would tear the layout.
	log.SetOutput(io.Discard)

	providers, sb, err := configureProviders()
	if err != nil {
		return err
	}
	if sb != nil {
		defer sb.Close()
	}
	safety, err := openSafety(sb != nil)
	if err != nil {
		return err
	}
	defer safety.Close()
	recoverVia := recoveryProviders(providers, f.readOnly)
	stopIndex, err := safety.startIndex(providers)
	if err != nil {
		return err
	}
	defer stopIndex()

	r := lipgloss.NewRenderer(os.Stdout)
	r.SetHasDarkBackground(darkBackground())
	if f.noColor {
		r.SetColorProfile(termenv.Ascii)
	}
	s := ui.NewSession(ui.Deps{
		Providers: providers, Journal: safety.journal, Sandbox: sb != nil, ReadOnly: f.readOnly,
		Refresh: f.refresh, Timeout: 10 * time.Second, Now: time.Now,
		NewKey: func() string { return uuid.NewString() },
		Index:  safety.index, Indexer: safety.indexer,
	}, r, ui.Identity{Name: actor()}, os.Stdout)
	p := tea.NewProgram(s.App, tea.WithAltScreen())
	// Earlier sessions' unresolved money actions are checked while the
	// console is up; their orders refuse money actions until checked.
	stopRecovery := safety.startRecovery(recoverVia, func(m ui.RecoveryMsg) { s.App.Update(m) }, func(m ui.RecoveryMsg) { p.Send(m) })
	defer stopRecovery()
	_, err = p.Run()
	return err
}

// recoveryProviders are what recovery resolves earlier money actions
// through: recovery may replay an earlier request within its key window, so
// a read-only console recovers through the guard and can only read.
func recoveryProviders(providers []api.Provider, readOnly bool) []api.Provider {
	if !readOnly {
		return providers
	}
	out := make([]api.Provider, len(providers))
	for i, p := range providers {
		out[i] = api.ReadOnly(p)
	}
	return out
}

// runHostkey creates the SSH host key serve needs; it never overwrites one.
func runHostkey(args []string) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return errors.New("usage: paydesk hostkey PATH")
	}
	fp, err := sshserve.WriteHostKey(args[0])
	if err != nil {
		return err
	}
	fmt.Printf("%s: new ed25519 host key, mode 0600\n%s\n", args[0], fp)
	return nil
}

// runServe serves the console over SSH to every key in the users file.
func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:2222", "address to listen on")
	hostKey := fs.String("host-key", "", "host key file (create it with paydesk hostkey PATH)")
	users := fs.String("users", "", "users file: NAME ROLE KEYTYPE BASE64 [comment] per line")
	readOnly := fs.Bool("read-only", os.Getenv("PAYDESK_READ_ONLY") == "1", "every session browses only (env PAYDESK_READ_ONLY=1)")
	refresh := fs.Duration("refresh", 2*time.Second, "live refresh interval for refunds still settling")
	idle := fs.Duration("idle-timeout", 15*time.Minute, "close a session after this long with no key pressed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *hostKey == "" || *users == "" {
		return errors.New("usage: paydesk serve [--listen 127.0.0.1:2222] --host-key PATH --users PATH [--read-only] [--refresh D]")
	}
	if *refresh < 250*time.Millisecond {
		return fmt.Errorf("--refresh %s is too fast: at least 250ms (the providers rate-limit)", *refresh)
	}
	// Agents and approvers refund up to these in one action; above them a
	// refund waits for an approver's second pair of eyes.
	limits, err := api.ParseRefundLimits(os.Getenv(api.EnvRefundLimits))
	if err != nil {
		return err
	}
	pem, fp, err := sshserve.LoadHostKey(*hostKey)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	// wish reports a session's program errors through charmbracelet/log's
	// default logger: make those lines JSON as well.
	charmlog.SetFormatter(charmlog.JSONFormatter)
	// The sandbox's HTTP servers and net/http log to the standard logger,
	// unstructured; the server's log is the structured one above.
	log.SetOutput(io.Discard)

	providers, sb, err := configureProviders()
	if err != nil {
		return err
	}
	if sb != nil {
		defer sb.Close()
		logger.Info("no provider configured: serving the embedded sandbox")
	}
	safety, err := openSafety(sb != nil)
	if err != nil {
		return err
	}
	defer safety.Close()
	stopIndex, err := safety.startIndex(providers)
	if err != nil {
		return err
	}
	defer stopIndex()
	// One read of an order serves every session watching it for one
	// refresh interval; changes forget it at once.
	for i, p := range providers {
		providers[i] = api.Shared(p, *refresh, time.Now)
	}
	// Earlier runs' unresolved money actions are checked in the background,
	// as the console does; the journal refuses money actions on their orders
	// until checked. Progress goes to the server log.
	logRecovery := func(m ui.RecoveryMsg) {
		if m.Text != "" {
			logger.Info("recovery", "status", m.Text, "done", m.Done)
		}
	}
	stopRecovery := safety.startRecovery(recoveryProviders(providers, *readOnly), logRecovery, logRecovery)
	defer stopRecovery()
	// Approval requests live beside the journal, so a restart keeps the
	// pending and approved ones (an approved one resumes with its key).
	approvalsPath := filepath.Join(safety.stateDir, "approvals.json")
	approvals, err := api.OpenApprovals(approvalsPath)
	if err != nil {
		return err
	}
	logger.Info("approvals", "file", approvalsPath, "refund_limits", limits.String())
	srv, err := sshserve.New(sshserve.Config{
		Addr: *listen, HostKeyPEM: pem, UsersPath: *users, Log: logger, IdleTimeout: *idle,
		Deps: ui.Deps{
			Providers: providers, Journal: safety.journal, Sandbox: sb != nil, ReadOnly: *readOnly,
			Refresh: *refresh, Timeout: 10 * time.Second, Now: time.Now,
			NewKey:       func() string { return uuid.NewString() },
			RefundLimits: limits,
			Approvals:    approvals, ApprovalAudit: safety.auditor(),
			Bus:   api.NewBus(),
			Index: safety.index, Indexer: safety.indexer,
		},
	})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	logger.Info("host key", "fingerprint", fp)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		for s := range sig {
			if s == syscall.SIGHUP {
				srv.Reload()
				continue
			}
			logger.Info("stopping", "signal", s.String())
			srv.Close()
			return
		}
	}()
	return srv.Serve(l)
}

// namedCredentials refuses a PAYDESK_CREDENTIALS that names a file paydesk
// cannot read. Without this a typo in the path meant no credentials, hence
// no provider, hence the embedded sandbox: an agent would believe they were
// looking at production. (The default path may be absent; a named one not.)
func namedCredentials(getenv func(string) string) error {
	p := getenv(api.EnvCredentials)
	if p == "" {
		return nil
	}
	st, err := os.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s names %s, which does not exist: fix the path or unset %s (paydesk will not fall back to the sandbox)", api.EnvCredentials, p, api.EnvCredentials)
	case err != nil:
		return fmt.Errorf("%s names %s, which cannot be read: %v", api.EnvCredentials, p, err)
	case st.IsDir():
		return fmt.Errorf("%s names %s, which is a directory, not a credentials file", api.EnvCredentials, p)
	}
	return nil
}

// providerAccounts names the account each configured provider acts on, so
// intents and locks of two accounts never mix: base URL, plus the merchant
// account for Forage. (Moyasar and Digital River identify the account only
// by its secret key, which never goes into the journal.)
func providerAccounts() map[string]string {
	file, _ := api.LoadCredentials(api.CredentialsPath(os.Getenv))
	getenv := api.Getenv(file)
	out := map[string]string{}
	for _, e := range providers.All {
		if getenv(e.Env[0]) != "" {
			out[e.ID] = e.Account(getenv)
		}
	}
	return out
}

// configureProviders builds a client for every provider whose base URL is
// set (api/providers lists them); with none set it starts the embedded
// sandbox and builds the same clients from the sandbox's own settings.
func configureProviders() ([]api.Provider, *sandbox.Sandbox, error) {
	if err := namedCredentials(os.Getenv); err != nil {
		return nil, nil, err
	}
	file, err := api.LoadCredentials(api.CredentialsPath(os.Getenv))
	if err != nil {
		return nil, nil, err
	}
	clients, err := providers.FromEnv(api.Getenv(file))
	if err != nil {
		return nil, nil, err
	}
	if len(clients) > 0 {
		return clients, nil, nil
	}
	sb, err := sandbox.Start(sandbox.Config{Seed: 1})
	if err != nil {
		return nil, nil, fmt.Errorf("starting the embedded sandbox: %w", err)
	}
	clients, err = providers.FromEnv(sb.Getenv)
	if err != nil {
		sb.Close()
		return nil, nil, err
	}
	return clients, sb, nil
}

// darkBackground decides light or dark colours without asking the terminal:
// termenv's OSC 11 query waits up to 5 seconds for terminals (tmux among
// them) that never answer, and it reads stdin under Bubble Tea's feet.
// COLORFGBG ("15;0") is what terminals that care export; dark otherwise.
func darkBackground() bool {
	v := os.Getenv("COLORFGBG")
	if i := strings.LastIndex(v, ";"); i >= 0 {
		switch v[i+1:] {
		case "7", "15":
			return false
		}
	}
	return true
}

// safety is the refund journal and the audit log the console writes to.
type safety struct {
	journal *journal.Journal
	audit   *audit.Log
	index   *index.Index   // the order index, beside the journal
	indexer *index.Indexer // fills it in the background; nil when switched off
	shared  *pg.Store      // PAYDESK_DATABASE_URL: journal, locks and audit in PostgreSQL
	tmp     string         // removed on Close (embedded sandbox only)
	// stateDir holds this host's files beside the journal (the order
	// index, serve's approval requests), wherever the journal itself is.
	stateDir string
}

// auditor is the audit chain the journal writes to, for other writers of
// audit lines (serve's approvals): the file log, or PostgreSQL's chain.
func (s *safety) auditor() journal.Auditor {
	if s.shared != nil {
		return journal.AuditTo(s.shared.Audit())
	}
	return journal.AuditLog(s.audit)
}

// databaseURL is PAYDESK_DATABASE_URL from the environment or the
// credentials file (it may hold a password).
func databaseURL() string {
	file, _ := api.LoadCredentials(api.CredentialsPath(os.Getenv))
	return api.Getenv(file)(store.EnvDatabaseURL)
}

// openShared opens the PostgreSQL store, applying its migrations.
func openShared(url string) (*pg.Store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return pg.Open(ctx, url, pg.Options{})
}

// openSafety opens the journal and the audit log. On the embedded sandbox
// they go to a directory that lives as long as the process, unless the agent
// named one: the sandbox's data dies with the process and reuses the same
// refs on every run, so its intents must never meet a real provider's.
func openSafety(embedded bool) (*safety, error) {
	s := &safety{}
	accounts := providerAccounts()
	url := databaseURL()
	if url != "" && embedded {
		return nil, fmt.Errorf("%s is set but no provider is configured: the embedded sandbox's data dies with this process, "+
			"so it must not share a journal. Run `paydesk sandbox` once and point every paydesk at it (see the README)", store.EnvDatabaseURL)
	}
	stateDir := os.Getenv("PAYDESK_STATE_DIR")
	auditPath := os.Getenv(audit.EnvPath)
	if embedded {
		tmp, err := os.MkdirTemp("", "paydesk-sandbox-")
		if err != nil {
			return nil, err
		}
		s.tmp = tmp
		if stateDir == "" {
			stateDir = tmp
		}
		if auditPath == "" {
			auditPath = filepath.Join(tmp, "audit.jsonl")
		}
	}
	dir := ""
	if stateDir != "" {
		dir = filepath.Join(stateDir, "journal")
	}
	var err error
	if url != "" {
		// Journal, locks and audit chain in PostgreSQL, shared with every
		// paydesk pointed at it; the order index stays on this host.
		if s.shared, err = openShared(url); err != nil {
			s.Close()
			return nil, err
		}
		owedDir := dir // audit lines owed while the database is away stay on this host
		if owedDir == "" {
			if owedDir, err = journal.DefaultDir(); err != nil {
				s.Close()
				return nil, err
			}
		}
		if s.journal, err = journal.Open(journal.Options{Backend: s.shared.Journal(), Dir: owedDir, Auditor: journal.AuditTo(s.shared.Audit()), Accounts: accounts}); err != nil {
			s.Close()
			return nil, err
		}
	} else {
		if auditPath == "" {
			p, err := audit.DefaultPath()
			if err != nil {
				return nil, err
			}
			auditPath = p
		}
		if s.audit, err = audit.Open(auditPath); err != nil {
			s.Close()
			return nil, fmt.Errorf("audit log: %w", err)
		}
		if s.journal, err = journal.Open(journal.Options{Dir: dir, Auditor: journal.AuditLog(s.audit), Accounts: accounts}); err != nil {
			s.Close()
			return nil, err
		}
	}
	if dir == "" {
		if dir, err = journal.DefaultDir(); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.stateDir = filepath.Dir(dir)
	if s.index, err = index.Open(filepath.Join(s.stateDir, "index")); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// startRecovery checks every money action an earlier run left unresolved,
// in the background. first gets the opening "checking N…" message before
// the program runs; send (the program's Send) gets progress and the outcome.
// stop cancels what is left and waits for it.
func (s *safety) startRecovery(providers []api.Provider, first, send func(ui.RecoveryMsg)) (stop func()) {
	byID := map[string]api.Provider{}
	for _, p := range providers {
		byID[p.ID()] = p
	}
	ctx, cancel := context.WithCancel(context.Background())
	total, wait := s.journal.StartRecover(ctx, byID, func(pr journal.RecoveryProgress) { send(recoveryMsg(pr)) })
	if total > 0 {
		first(recoveryMsg(journal.RecoveryProgress{Total: total}))
	}
	return func() { cancel(); wait() }
}

// recoveryMsg says where recovery is, for the status line.
func recoveryMsg(pr journal.RecoveryProgress) ui.RecoveryMsg {
	actions := "actions"
	if pr.Total == 1 {
		actions = "action"
	}
	if !pr.Done {
		return ui.RecoveryMsg{Text: fmt.Sprintf("Checking %d earlier money %s… %d done; their orders accept no money action until checked.",
			pr.Total, actions, pr.Checked)}
	}
	switch {
	case pr.Total == 0 && len(pr.Outcomes) > 0 && pr.Outcomes[0].Err != nil:
		return ui.RecoveryMsg{Done: true, Text: "Could not read the journal to check earlier money actions: " + pr.Outcomes[0].Err.Error()}
	case pr.Total == 0:
		return ui.RecoveryMsg{Done: true}
	case pr.Open == 0:
		return ui.RecoveryMsg{Done: true, Text: fmt.Sprintf("Checked %d earlier money %s: all resolved.", pr.Total, actions)}
	case pr.Open == 1:
		return ui.RecoveryMsg{Done: true, Text: "1 earlier money action still has an unknown outcome: its order accepts no new action until checked."}
	}
	return ui.RecoveryMsg{Done: true, Text: fmt.Sprintf("%d earlier money actions still have an unknown outcome: their orders accept no new action until checked.", pr.Open)}
}

func (s *safety) Close() {
	if s.index != nil {
		s.index.Close()
	}
	if s.audit != nil {
		s.audit.Close()
	}
	if s.shared != nil {
		s.shared.Close()
	}
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}

// startIndex puts the order index around each provider, innermost, so it
// sees every read first-hand, and starts the background indexer within its
// share of each provider's budget (PAYDESK_INDEX_SHARE, PAYDESK_INDEX_DAYS).
// stop ends the indexer, waits for it and saves the index.
func (s *safety) startIndex(providers []api.Provider) (stop func(), err error) {
	cfg, err := index.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	for i, p := range providers {
		providers[i] = index.Wrap(p, s.index, indexAccount(p.ID()))
	}
	stopSave := s.index.AutoSave(time.Minute)
	if cfg.Share == 0 {
		return stopSave, nil
	}
	s.indexer = index.NewIndexer(s.index, providers, indexAccount, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.indexer.Run(ctx); close(done) }()
	return func() { cancel(); <-done; stopSave() }, nil
}

// indexAccount tells apart accounts of one provider in the order index: the
// base URL (and Forage merchant) it was read from. "" on the embedded
// sandbox, whose index lives in its own temporary directory.
func indexAccount(providerID string) string { return providers.Account(providerID, os.Getenv) }

func actor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}
