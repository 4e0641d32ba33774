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
	"log"
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
	"github.com/google/uuid"
	"github.com/muesli/termenv"

	"paydesk/api"
	"paydesk/api/audit"
	"paydesk/api/digitalriver"
	"paydesk/api/forage"
	"paydesk/api/journal"
	"paydesk/api/moyasar"
	"paydesk/api/sandbox"
	"paydesk/ui"
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
	case len(args) > 0 && args[0] == "audit":
		err = runAudit(args[1:])
	case len(args) > 0 && args[0] == "help":
		usage(os.Stdout)
	default:
		err = runConsole(args)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "paydesk:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `paydesk: a terminal console for payment support agents

  paydesk [--read-only] [--no-color] [--refresh 2s]   the console
  paydesk sandbox [flags]                             serve the fake providers
  paydesk audit verify [--audit-log PATH] [--head HASH:N]   check the audit log
  paydesk audit head [--audit-log PATH]               print HASH:N to keep elsewhere
  paydesk version

With no FORAGE_BASE_URL, MOYASAR_BASE_URL or DIGITALRIVER_BASE_URL set, the
console starts the sandbox in-process and is marked SANDBOX.
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
	forageAddr := fs.String("forage-addr", "127.0.0.1:7001", "Forage listen address")
	moyasarAddr := fs.String("moyasar-addr", "127.0.0.1:7002", "Moyasar PG listen address")
	drAddr := fs.String("digitalriver-addr", "127.0.0.1:7003", "Digital River listen address")
	orders := fs.Int("orders", 200, "orders to seed per provider")
	seed := fs.Int64("seed", 1, "random seed: same seed, same data")
	latency := fs.Duration("refund-latency", 3*time.Second, "how long a refund stays processing")
	chaos := fs.String("chaos", "", "fault injection: 'fail5xx=P,reset=P,lost_response=P,throttle=P,latency=D'")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sb, err := sandbox.Start(sandbox.Config{
		ForageAddr: *forageAddr, MoyasarAddr: *moyasarAddr, DigitalRiverAddr: *drAddr,
		Orders: *orders, Seed: *seed, RefundLatency: *latency, Chaos: *chaos,
	})
	if err != nil {
		return err
	}
	fmt.Printf("paydesk sandbox: serving fake providers (seed %d, %d orders each, refund latency %s)\n\n", *seed, *orders, *latency)
	fmt.Print(sb.Summary())
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

func runConsole(args []string) error {
	fs := flag.NewFlagSet("paydesk", flag.ContinueOnError)
	fs.Usage = func() { usage(fs.Output()); fs.PrintDefaults() }
	var f consoleFlags
	fs.BoolVar(&f.readOnly, "read-only", os.Getenv("PAYDESK_READ_ONLY") == "1", "browse only: every action that changes anything is refused (env PAYDESK_READ_ONLY=1)")
	fs.BoolVar(&f.noColor, "no-color", os.Getenv("NO_COLOR") != "", "no colours (also NO_COLOR)")
	fs.DurationVar(&f.refresh, "refresh", 2*time.Second, "live refresh interval for refunds still settling")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if f.refresh < 250*time.Millisecond {
		return fmt.Errorf("--refresh %s is too fast: at least 250ms (the providers rate-limit)", f.refresh)
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
	who := actor()
	safety, err := openSafety(sb != nil)
	if err != nil {
		return err
	}
	defer safety.Close()
	// Recovery may replay an earlier request within its key window: a
	// read-only console recovers through the guard, so it can only read.
	recoverVia := providers
	if f.readOnly {
		recoverVia = make([]api.Provider, len(providers))
		for i, p := range providers {
			recoverVia[i] = api.ReadOnly(p)
		}
	}
	for i, p := range providers {
		// The journal writes every money action down before it is sent;
		// the read-only guard sits outside it so a refused action never
		// even reaches the journal.
		providers[i] = journal.Wrap(p, safety.journal, who)
		if f.readOnly {
			providers[i] = api.ReadOnly(providers[i])
		}
	}

	r := lipgloss.NewRenderer(os.Stdout)
	dark := darkBackground()
	r.SetHasDarkBackground(dark)
	lipgloss.SetHasDarkBackground(dark) // huh and bubbles draw with the default renderer
	if f.noColor {
		r.SetColorProfile(termenv.Ascii)
		lipgloss.SetColorProfile(termenv.Ascii) // huh and bubbles draw with the default renderer
	}
	c := &ui.Context{
		Styles: ui.NewStyles(r), Keys: ui.DefaultKeys(f.readOnly),
		Providers: providers, Sandbox: sb != nil, ReadOnly: f.readOnly,
		Actor: who, Refresh: f.refresh, Timeout: 10 * time.Second, Now: time.Now,
		Copy: ui.OSC52Copier(os.Stdout), NewKey: func() string { return uuid.NewString() },
	}
	app := ui.NewApp(c, ui.NewOrdersScreen)
	p := tea.NewProgram(app, tea.WithAltScreen())
	// Earlier sessions' unresolved money actions are checked while the
	// console is up; their orders refuse money actions until checked.
	stopRecovery := safety.startRecovery(recoverVia, func(m ui.RecoveryMsg) { app.Update(m) }, func(m ui.RecoveryMsg) { p.Send(m) })
	defer stopRecovery()
	_, err = p.Run()
	return err
}

// configureProviders builds a client for every provider whose base URL is
// set; with none set it starts the embedded sandbox and connects to all three.
func configureProviders() ([]api.Provider, *sandbox.Sandbox, error) {
	file, err := api.LoadCredentials(api.CredentialsPath(os.Getenv))
	if err != nil {
		return nil, nil, err
	}
	getenv := api.Getenv(file)
	var providers []api.Provider
	add := func(p api.Provider, err error) error {
		if err != nil {
			return err
		}
		providers = append(providers, p)
		return nil
	}
	if fc, ok, err := forage.ConfigFromEnv(getenv); err != nil {
		return nil, nil, err
	} else if ok {
		if err := add(forage.New(fc)); err != nil {
			return nil, nil, err
		}
	}
	if mc, ok, err := moyasar.ConfigFromEnv(getenv); err != nil {
		return nil, nil, err
	} else if ok {
		if err := add(moyasar.New(mc)); err != nil {
			return nil, nil, err
		}
	}
	if dc, ok, err := digitalriver.ConfigFromEnv(getenv); err != nil {
		return nil, nil, err
	} else if ok {
		if err := add(digitalriver.New(dc)); err != nil {
			return nil, nil, err
		}
	}
	if len(providers) > 0 {
		return providers, nil, nil
	}
	sb, err := sandbox.Start(sandbox.Config{Seed: 1})
	if err != nil {
		return nil, nil, fmt.Errorf("starting the embedded sandbox: %w", err)
	}
	providers, err = sandboxProviders(sb)
	if err != nil {
		sb.Close()
		return nil, nil, err
	}
	return providers, sb, nil
}

// sandboxProviders connects one client to each of the sandbox's providers,
// with the sandbox's fixed credentials.
func sandboxProviders(sb *sandbox.Sandbox) ([]api.Provider, error) {
	fc, err := forage.New(forage.Config{
		BaseURL: sb.ForageURL, ClientID: sandbox.ForageClientID,
		ClientSecret: api.NewSecret(sandbox.ForageClientSecret), MerchantAccount: sandbox.ForageMerchantAccount,
	})
	if err != nil {
		return nil, err
	}
	mc, err := moyasar.New(moyasar.Config{BaseURL: sb.MoyasarURL, APIKey: api.NewSecret(sandbox.MoyasarAPIKey)})
	if err != nil {
		return nil, err
	}
	dc, err := digitalriver.New(digitalriver.Config{BaseURL: sb.DigitalRiverURL, APIKey: api.NewSecret(sandbox.DigitalRiverAPIKey)})
	if err != nil {
		return nil, err
	}
	return []api.Provider{fc, mc, dc}, nil
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
	tmp     string // removed on Close (embedded sandbox only)
}

// openSafety opens the journal and the audit log. On the embedded sandbox
// they go to a directory that lives as long as the process, unless the agent
// named one: the sandbox's data dies with the process and reuses the same
// refs on every run, so its intents must never meet a real provider's.
func openSafety(embedded bool) (*safety, error) {
	s := &safety{}
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
	if auditPath == "" {
		p, err := audit.DefaultPath()
		if err != nil {
			return nil, err
		}
		auditPath = p
	}
	var err error
	if s.audit, err = audit.Open(auditPath); err != nil {
		s.Close()
		return nil, fmt.Errorf("audit log: %w", err)
	}
	dir := ""
	if stateDir != "" {
		dir = filepath.Join(stateDir, "journal")
	}
	if s.journal, err = journal.Open(journal.Options{Dir: dir, Auditor: journal.AuditLog(s.audit)}); err != nil {
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
	if s.audit != nil {
		s.audit.Close()
	}
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}

func actor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}
