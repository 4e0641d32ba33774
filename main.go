// Command paydesk is a terminal back-office console for payment support
// agents. main.go is wiring only: flags, subcommands, start the program.
//
//	paydesk                the console (embedded sandbox when no provider is configured)
//	paydesk sandbox        serve the fake providers until SIGINT/SIGTERM
//	paydesk audit verify   check the audit log's hash chain (--head HASH:N: against an anchor)
//	paydesk audit head     print the audit log's head as HASH:N, to anchor it elsewhere
//	paydesk serve          serve the console over SSH, one session per connection
//	paydesk hostkey PATH   create the ed25519 host key serve needs
//	paydesk version        version and build info
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/signal"
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
	"paydesk/api/journal"
	"paydesk/api/providers"
	"paydesk/api/sandbox"
	"paydesk/api/state"
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

// parseSub parses a subcommand's flags. done says the caller returns err at
// once: nil after -h (the flag set printed its flags: exit 0), or a
// usageError for a flag it cannot read (exit 2, as for the console's).
func parseSub(fs *flag.FlagSet, args []string) (done bool, err error) {
	switch err := fs.Parse(args); {
	case err == nil:
		return false, nil
	case errors.Is(err, flag.ErrHelp):
		return true, nil
	default:
		return true, usageError{err.Error()}
	}
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
                [--idle-timeout 15m]                  serve the console over SSH
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
	if done, err := parseSub(fs, args); done {
		return err
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
		return usageError{auditUsage}
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
	if done, err := parseSub(fs, args[1:]); done {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{auditUsage}
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "audit-log" })
	return state.CheckAudit(os.Stdout, args[0], *path, explicit, head)
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
	ui.BoundHeap(os.Getenv) // RSS near what the console holds (ui/memory.go)

	clients, sb, err := providers.Configure()
	if err != nil {
		return err
	}
	if sb != nil {
		defer sb.Close()
	}
	st, err := state.Open(sb != nil)
	if err != nil {
		return err
	}
	defer st.Close()
	recoverVia := state.RecoveryProviders(clients, f.readOnly)
	stopIndex, err := st.StartIndex(clients)
	if err != nil {
		return err
	}
	defer stopIndex()

	r := lipgloss.NewRenderer(os.Stdout)
	r.SetHasDarkBackground(ui.DarkBackground(os.Getenv))
	if f.noColor {
		r.SetColorProfile(termenv.Ascii)
	}
	s := ui.NewSession(ui.Deps{
		Providers: clients, Journal: st.Journal, Sandbox: sb != nil, ReadOnly: f.readOnly,
		Refresh: f.refresh, Timeout: 10 * time.Second, Now: time.Now,
		NewKey: func() string { return uuid.NewString() },
		Index:  st.Index, Indexer: st.Indexer, IndexShared: st.IndexShared(),
	}, r, ui.LocalIdentity(), os.Stdout)
	p := tea.NewProgram(s.App, tea.WithAltScreen())
	// Earlier sessions' unresolved money actions are checked while the
	// console is up; their orders refuse money actions until checked.
	stopRecovery := st.StartRecovery(recoverVia,
		func(pr journal.RecoveryProgress) { s.App.Update(ui.NewRecoveryMsg(pr)) },
		func(pr journal.RecoveryProgress) { p.Send(ui.NewRecoveryMsg(pr)) })
	defer stopRecovery()
	_, err = p.Run()
	return err
}

// runHostkey creates the SSH host key serve needs; it never overwrites one.
func runHostkey(args []string) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return usageError{"usage: paydesk hostkey PATH"}
	}
	fp, err := sshserve.WriteHostKey(args[0])
	if err != nil {
		return err
	}
	fmt.Printf("%s: new ed25519 host key, mode 0600\n%s\n", args[0], fp)
	return nil
}

// serveFlags are serve's command line.
type serveFlags struct {
	listen, hostKey, users string
	readOnly               bool
	refresh, idle          time.Duration
}

// parseServeFlags reads serve's command line, with the environment read
// through getenv as the console's is, so both honour PAYDESK_READ_ONLY the
// same way. done says the caller returns err at once (see parseSub).
func parseServeFlags(args []string, getenv func(string) string) (f serveFlags, done bool, err error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:2222", "address to listen on")
	fs.StringVar(&f.hostKey, "host-key", "", "host key file (create it with paydesk hostkey PATH)")
	fs.StringVar(&f.users, "users", "", "users file: NAME ROLE KEYTYPE BASE64 [comment] per line")
	fs.BoolVar(&f.readOnly, "read-only", getenv("PAYDESK_READ_ONLY") == "1", "every session browses only (env PAYDESK_READ_ONLY=1)")
	fs.DurationVar(&f.refresh, "refresh", 2*time.Second, "live refresh interval for refunds still settling")
	fs.DurationVar(&f.idle, "idle-timeout", 15*time.Minute, "close a session after this long with no key pressed")
	if done, err := parseSub(fs, args); done {
		return f, true, err
	}
	if f.hostKey == "" || f.users == "" || fs.NArg() > 0 {
		return f, true, usageError{"usage: paydesk serve [--listen 127.0.0.1:2222] --host-key PATH --users PATH [--read-only] [--refresh D] [--idle-timeout 15m]"}
	}
	if f.refresh < 250*time.Millisecond {
		return f, true, usageError{fmt.Sprintf("--refresh %s is too fast: at least 250ms (the providers rate-limit)", f.refresh)}
	}
	return f, false, nil
}

// runServe serves the console over SSH to every key in the users file.
func runServe(args []string) error {
	f, done, err := parseServeFlags(args, os.Getenv)
	if done {
		return err
	}
	// Agents and approvers refund up to these in one action; above them a
	// refund waits for an approver's second pair of eyes.
	limits, err := api.ParseRefundLimits(os.Getenv(api.EnvRefundLimits))
	if err != nil {
		return err
	}
	pem, fp, err := sshserve.LoadHostKey(f.hostKey)
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

	clients, sb, err := providers.Configure()
	if err != nil {
		return err
	}
	if sb != nil {
		defer sb.Close()
		logger.Info("no provider configured: serving the embedded sandbox")
	}
	st, err := state.Open(sb != nil)
	if err != nil {
		return err
	}
	defer st.Close()
	stopIndex, err := st.StartIndex(clients)
	if err != nil {
		return err
	}
	defer stopIndex()
	// One read of an order serves every session watching it for one
	// refresh interval; changes forget it at once.
	for i, p := range clients {
		clients[i] = api.Shared(p, f.refresh, time.Now)
	}
	// Earlier runs' unresolved money actions are checked in the background,
	// as the console does; the journal refuses money actions on their orders
	// until checked. Progress goes to the server log.
	logRecovery := func(pr journal.RecoveryProgress) {
		if m := ui.NewRecoveryMsg(pr); m.Text != "" {
			logger.Info("recovery", "status", m.Text, "done", m.Done)
		}
	}
	stopRecovery := st.StartRecovery(state.RecoveryProviders(clients, f.readOnly), logRecovery, logRecovery)
	defer stopRecovery()
	approvals, err := st.Approvals(logger)
	if err != nil {
		return err
	}
	logger.Info("refund limits", "refund_limits", limits.String())
	bus := api.NewBus()
	stopBridge, err := st.Bridge(bus, clients, logger)
	if err != nil {
		return err
	}
	defer stopBridge()
	srv, err := sshserve.New(sshserve.Config{
		Addr: f.listen, HostKeyPEM: pem, UsersPath: f.users, Log: logger, IdleTimeout: f.idle,
		Deps: ui.Deps{
			Providers: clients, Accounts: state.Accounts(), Journal: st.Journal, Sandbox: sb != nil, ReadOnly: f.readOnly,
			Refresh: f.refresh, Timeout: 10 * time.Second, Now: time.Now,
			NewKey:       func() string { return uuid.NewString() },
			RefundLimits: limits,
			Approvals:    approvals, ApprovalAudit: st.Auditor(),
			Bus:   bus,
			Index: st.Index, Indexer: st.Indexer, IndexShared: st.IndexShared(),
		},
	})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", f.listen)
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
