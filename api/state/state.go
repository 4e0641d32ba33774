// Package state opens the state paydesk keeps from the environment: the
// refund journal and the audit log (files in PAYDESK_STATE_DIR and
// PAYDESK_AUDIT_LOG, or one PostgreSQL store named by PAYDESK_DATABASE_URL),
// the order index (beside the journal, or in the PostgreSQL store), and
// serve's approval requests. main.go opens it once and hands the pieces to
// ui; it knows nothing of the screen.
package state

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"paydesk/api"
	"paydesk/api/audit"
	"paydesk/api/index"
	"paydesk/api/journal"
	"paydesk/api/providers"
	"paydesk/api/store"
	"paydesk/api/store/pg"
)

// State is what paydesk keeps between runs and shares between sessions:
// the refund journal, the audit log (or the PostgreSQL store holding both),
// the order index and, under serve, approval requests.
type State struct {
	Journal *journal.Journal
	Audit   *audit.Log     // nil with PAYDESK_DATABASE_URL: the chain is in Shared
	Index   *index.Index   // the order index: a file beside the journal, or synced through Shared
	Indexer *index.Indexer // fills it in the background; nil when switched off (or StartIndex not called)
	Shared  *pg.Store      // PAYDESK_DATABASE_URL: journal, locks and audit in PostgreSQL
	// IndexSync shares the order index through Shared (nil without it,
	// or before StartIndex).
	IndexSync *pg.IndexSync
	tmp       string // removed on Close (embedded sandbox only)
	// stateDir holds this host's files beside the journal (the order
	// index, serve's approval requests), wherever the journal itself is.
	stateDir string
}

// Open opens the journal and the audit log. On the embedded sandbox
// they go to a directory that lives as long as the process, unless the agent
// named one: the sandbox's data dies with the process and reuses the same
// refs on every run, so its intents must never meet a real provider's.
func Open(embedded bool) (*State, error) {
	s := &State{}
	accounts := Accounts()
	url := DatabaseURL()
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
		// Journal, locks, audit chain and the order index in PostgreSQL,
		// shared with every paydesk pointed at it.
		if s.Shared, err = OpenShared(url); err != nil {
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
		if s.Journal, err = journal.Open(journal.Options{Backend: s.Shared.Journal(), Dir: owedDir, Auditor: journal.AuditTo(s.Shared.Audit()), Accounts: accounts}); err != nil {
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
		if s.Audit, err = audit.Open(auditPath); err != nil {
			s.Close()
			return nil, fmt.Errorf("audit log: %w", err)
		}
		if s.Journal, err = journal.Open(journal.Options{Dir: dir, Auditor: journal.AuditLog(s.Audit), Accounts: accounts}); err != nil {
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
	if s.Shared != nil {
		// The index lives in the team store (StartIndex syncs it): no
		// file on the host. A file would be a second copy of the
		// merchant's order data on every jump host, going stale against
		// the shared one, and would buy nothing: paydesk does not start
		// without the database, and loading 100k orders from it takes
		// well under a second.
		s.Index = index.New()
		return s, nil
	}
	if s.Index, err = index.Open(filepath.Join(s.stateDir, "index")); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close releases what Open opened and removes the embedded sandbox's
// temporary directory. The journal has nothing to close.
func (s *State) Close() {
	if s.Index != nil {
		s.Index.Close()
	}
	if s.Audit != nil {
		s.Audit.Close()
	}
	if s.Shared != nil {
		s.Shared.Close()
	}
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}

// Auditor is the audit chain the journal writes to, for other writers of
// audit lines (serve's approvals): the file log, or PostgreSQL's chain.
func (s *State) Auditor() journal.Auditor {
	if s.Shared != nil {
		return journal.AuditTo(s.Shared.Audit())
	}
	return journal.AuditLog(s.Audit)
}

// Approvals is where serve keeps approval requests: with
// PAYDESK_DATABASE_URL, in PostgreSQL, one queue for every host; else in a
// file beside the journal. Either way a restart keeps the pending and
// approved ones (an approved one resumes with its key).
func (s *State) Approvals(logger *slog.Logger) (api.ApprovalStore, error) {
	if s.Shared != nil {
		logger.Info("approvals", "store", s.Shared.Describe())
		return store.ForAPI(s.Shared.Approvals()), nil
	}
	path := filepath.Join(s.stateDir, "approvals.json")
	a, err := api.OpenApprovals(path)
	if err != nil {
		return nil, err
	}
	logger.Info("approvals", "file", path)
	return a, nil
}

// Bridge delivers what other paydesk servers on the same PostgreSQL do
// (refund steps, approval transitions) to this server's sessions, and
// forgets this server's cached reads of the orders they touched. Without a
// database there is no other server: it does nothing.
func (s *State) Bridge(bus *api.Bus, clients []api.Provider, logger *slog.Logger) (stop func(), err error) {
	if s.Shared == nil {
		return func() {}, nil
	}
	byID := map[string]api.Provider{}
	for _, p := range clients {
		byID[p.ID()] = p
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, err := store.Bridge(ctx, s.Shared.Events(), bus, func(provider, orderID string) {
		if p := byID[provider]; p != nil {
			api.Forget(p, orderID)
		}
	})
	if err != nil {
		cancel()
		return nil, err
	}
	logger.Info("live updates", "from", s.Shared.Describe())
	return func() { cancel(); <-done }, nil
}

// StartIndex puts the order index around each provider, innermost, so it
// sees every read first-hand, and starts the background indexer within its
// share of each provider's budget (PAYDESK_INDEX_SHARE, PAYDESK_INDEX_DAYS).
// With the team store it also starts the syncer that loads the shared index
// and keeps it in step (pg.IndexSync). stop ends the indexer, waits for it
// and saves the index (or pushes it to the team store).
func (s *State) StartIndex(clients []api.Provider) (stop func(), err error) {
	cfg, err := index.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	for i, p := range clients {
		clients[i] = index.Wrap(p, s.Index, indexAccount(p.ID()))
	}
	var stopSave func()        // saves the file, or pushes to the team store
	var loaded <-chan struct{} // closed once the index holds what is known
	if s.Shared != nil {
		var sources []pg.IndexSource
		for _, p := range clients {
			sources = append(sources, pg.IndexSource{Provider: p.ID(), Account: indexAccount(p.ID())})
		}
		s.IndexSync = s.Shared.SyncIndex(s.Index, pg.IndexSyncOptions{Sources: sources})
		stopSave, loaded = s.IndexSync.Start(), s.IndexSync.Ready()
	} else {
		stopSave = s.Index.AutoSave(time.Minute)
		none := make(chan struct{})
		close(none)
		loaded = none
	}
	if cfg.Share == 0 {
		return stopSave, nil
	}
	s.Indexer = index.NewIndexer(s.Index, clients, indexAccount, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The indexer starts once the shared index is loaded, so it does
		// not read again what another host read; a database that does not
		// answer holds it back a minute at most (the syncer goes on
		// retrying and merges what it gets later).
		t := time.NewTimer(time.Minute)
		defer t.Stop()
		select {
		case <-loaded:
		case <-t.C:
		case <-ctx.Done():
			return
		}
		s.Indexer.Run(ctx)
	}()
	return func() { cancel(); <-done; stopSave() }, nil
}

// IndexShared reports, for the search screen, how sharing the index
// through the team store goes (ui.Context.IndexShared); nil without the
// team store, or before StartIndex.
func (s *State) IndexShared() func() (lastOK time.Time, err error) {
	y := s.IndexSync
	if y == nil {
		return nil
	}
	return func() (time.Time, error) {
		st := y.Status()
		return st.LastOK, st.Err
	}
}

// StartRecovery checks every money action an earlier run left unresolved,
// in the background. first gets the opening progress (Total only) before
// the program runs; send (the program's Send, through ui.NewRecoveryMsg)
// gets progress and the outcome.
// stop cancels what is left and waits for it.
func (s *State) StartRecovery(clients []api.Provider, first, send func(journal.RecoveryProgress)) (stop func()) {
	byID := map[string]api.Provider{}
	for _, p := range clients {
		byID[p.ID()] = p
	}
	ctx, cancel := context.WithCancel(context.Background())
	total, wait := s.Journal.StartRecover(ctx, byID, send)
	if total > 0 {
		first(journal.RecoveryProgress{Total: total})
	}
	return func() { cancel(); wait() }
}

// RecoveryProviders are what recovery resolves earlier money actions
// through: recovery may replay an earlier request within its key window, so
// a read-only console recovers through the guard and can only read.
func RecoveryProviders(clients []api.Provider, readOnly bool) []api.Provider {
	if !readOnly {
		return clients
	}
	out := make([]api.Provider, len(clients))
	for i, p := range clients {
		out[i] = api.ReadOnly(p)
	}
	return out
}

// Accounts names the account each configured provider acts on, so
// intents and locks of two accounts never mix: base URL, plus the merchant
// account for Forage. (Moyasar and Digital River identify the account only
// by its secret key, which never goes into the journal.)
func Accounts() map[string]string {
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

// DatabaseURL is PAYDESK_DATABASE_URL from the environment or the
// credentials file (it may hold a password).
func DatabaseURL() string {
	file, _ := api.LoadCredentials(api.CredentialsPath(os.Getenv))
	return api.Getenv(file)(store.EnvDatabaseURL)
}

// OpenShared opens the PostgreSQL store, applying its migrations.
func OpenShared(url string) (*pg.Store, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return pg.Open(ctx, url, pg.Options{})
}

// indexAccount tells apart accounts of one provider in the order index: the
// base URL (and Forage merchant) it was read from. "" on the embedded
// sandbox, whose index lives in its own temporary directory.
func indexAccount(providerID string) string { return providers.Account(providerID, os.Getenv) }
