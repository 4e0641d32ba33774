package ui

import (
	"io"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"
	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/index"
	"paydesk/api/journal"
)

// Deps are the services every console session of one process shares: the
// provider clients (with their rate limiters), the journal (and through it
// the audit log), and the process-wide settings. They are built once; a
// session never changes them.
type Deps struct {
	// Providers are the bare clients. Each session wraps them in its own
	// journal actor and guards; the clients and their limiters are shared.
	Providers []api.Provider
	// Accounts names the account each provider id acts on (base URL, plus
	// the merchant for Forage): approval requests belong to one account.
	Accounts map[string]string
	// Journal writes every money action down before it is sent. Nil means
	// no journal (tests of screens that move no money).
	Journal  *journal.Journal
	Sandbox  bool
	ReadOnly bool
	Refresh  time.Duration
	Timeout  time.Duration
	Now      func() time.Time
	NewKey   func() string
	// RefundLimits bound what an agent or approver refunds in one action.
	RefundLimits api.RefundLimits
	// MoneyLimiter gives the allowance of money actions of one key
	// (by fingerprint), shared by all its sessions; nil means no limit.
	MoneyLimiter func(fingerprint string) *rate.Limiter
	// Approvals keeps four-eyes approval requests for every session; with
	// it, a refund above a role's limit becomes a request instead of a
	// refusal. Nil: no approvals (over the limit is refused).
	Approvals api.ApprovalStore
	// ApprovalAudit writes approval transitions to the audit log (the same
	// log the journal writes to). Required with Approvals.
	ApprovalAudit journal.Auditor
	// ApprovalTTL is how long a request waits (0: 30 minutes).
	ApprovalTTL time.Duration
	// Bus fans money actions and approval transitions out to every
	// session, so each one showing the order reads it again. Nil: none.
	Bus *api.Bus
	// Index is the order index every session searches (the providers feed
	// it); Indexer fills it in the background. Nil: none.
	Index   *index.Index
	Indexer *index.Indexer
	// IndexShared: see Context.IndexShared.
	IndexShared func() (lastOK time.Time, err error)
}

// Identity is who is at the terminal: the OS user at a local console, the
// key that authenticated over SSH. It is passed in, never looked up by the
// session, so a session cannot act under another's name.
type Identity struct {
	Name string
	// Role is enforced by api.Guard around every provider. Zero means a
	// local console run by its owner, which has no role guard.
	Role api.Role
	// Fingerprint is the SSH key's SHA256 fingerprint; empty at a local console.
	Fingerprint string
}

// Actor is how the journal and the audit log name this identity: the
// name, and over SSH the role and the key's fingerprint, so every audit
// line says who, as what, with which key.
func (id Identity) Actor() string {
	name := id.Name
	if name == "" {
		name = "unknown"
	}
	if id.Role == 0 && id.Fingerprint == "" {
		return name
	}
	return name + " role=" + id.Role.String() + " key=" + id.Fingerprint
}

// Session is one terminal's console: its own styles from its own renderer,
// its own guarded providers, its own root model.
type Session struct {
	Context *Context
	App     *App
}

// NewSession builds everything one terminal needs from that terminal's
// renderer and identity: the styles (for paydesk, huh and bubbles alike),
// the key map, the providers wrapped for this actor, and the root model.
// out is where the terminal's bytes go (OSC 52 copies are written there).
// Nothing here touches lipgloss's default renderer, the standard logger or
// the OS user, so any number of sessions can live in one process.
func NewSession(d Deps, r *lipgloss.Renderer, id Identity, out io.Writer) *Session {
	// A viewer's console is a read-only one: the guard refuses, and the
	// keys and the READ-ONLY badge say so before anything is tried.
	readOnly := d.ReadOnly || id.Role == api.RoleViewer
	providers := make([]api.Provider, len(d.Providers))
	for i, p := range d.Providers {
		if d.Journal != nil {
			// The journal records the money action under this session's
			// actor; the guards sit outside it, so a refused action never
			// even reaches the journal.
			p = journal.Wrap(p, d.Journal, id.Actor())
		}
		if id.Role != 0 {
			var money *rate.Limiter
			if d.MoneyLimiter != nil {
				money = d.MoneyLimiter(id.Fingerprint)
			}
			p = api.GuardWith(p, api.GuardOptions{
				Account: d.Accounts[p.ID()],
				Role:    id.Role, Limits: d.RefundLimits, Money: money,
				Who:       api.Person{Name: id.Name, Role: id.Role, Fingerprint: id.Fingerprint},
				Approvals: d.Approvals, Audit: approvalAuditor(d.ApprovalAudit),
				Bus: d.Bus, Now: d.Now, TTL: d.ApprovalTTL, NewID: d.NewKey,
			})
		}
		if readOnly {
			p = api.ReadOnly(p)
		}
		providers[i] = p
	}
	c := &Context{
		Styles: NewStyles(r), Keys: DefaultKeys(readOnly),
		Providers: providers, Sandbox: d.Sandbox, ReadOnly: readOnly,
		Actor: id.Actor(), Refresh: d.Refresh, Timeout: d.Timeout, Now: d.Now,
		Copy: OSC52Copier(out), NewKey: d.NewKey,
		Role: id.Role, Approvals: d.Approvals,
		Index: d.Index, Indexer: d.Indexer, IndexShared: d.IndexShared,
	}
	if d.Bus != nil {
		c.events, c.unsubscribe = d.Bus.Subscribe()
	}
	c.Keys.Approvals.SetEnabled(c.seesApprovals())
	return &Session{Context: c, App: NewApp(c, NewOrdersScreen)}
}

// Close ends the session's subscription to the process's events; the
// command waiting on it returns. Call it once the program has ended.
func (s *Session) Close() {
	if s.Context.unsubscribe != nil {
		s.Context.unsubscribe()
	}
}

// formTheme is huh's base theme drawn with the session's renderer: plain
// enough to read on any terminal, and its focus markers are glyphs, so it
// survives NO_COLOR. huh builds its themes from lipgloss's default
// renderer, which knows nothing of an SSH client's terminal: every style is
// rebound here.
func formTheme(r *lipgloss.Renderer) *huh.Theme {
	t := huh.ThemeBase()
	t.Form.Base = t.Form.Base.Renderer(r)
	t.Group.Base = t.Group.Base.Renderer(r)
	t.Group.Title = t.Group.Title.Renderer(r)
	t.Group.Description = t.Group.Description.Renderer(r)
	t.FieldSeparator = t.FieldSeparator.Renderer(r)
	rebindFieldStyles(&t.Focused, r)
	rebindFieldStyles(&t.Blurred, r)
	rebindHelp(&t.Help, r)
	return t
}

func rebindFieldStyles(f *huh.FieldStyles, r *lipgloss.Renderer) {
	for _, s := range []*lipgloss.Style{
		&f.Base, &f.Title, &f.Description, &f.ErrorIndicator, &f.ErrorMessage,
		&f.SelectSelector, &f.Option, &f.NextIndicator, &f.PrevIndicator,
		&f.Directory, &f.File,
		&f.MultiSelectSelector, &f.SelectedOption, &f.SelectedPrefix, &f.UnselectedOption, &f.UnselectedPrefix,
		&f.TextInput.Cursor, &f.TextInput.CursorText, &f.TextInput.Placeholder, &f.TextInput.Prompt, &f.TextInput.Text,
		&f.FocusedButton, &f.BlurredButton,
		&f.Card, &f.NoteTitle, &f.Next,
	} {
		*s = s.Renderer(r)
	}
}

func rebindHelp(h *help.Styles, r *lipgloss.Renderer) {
	for _, s := range []*lipgloss.Style{
		&h.Ellipsis, &h.ShortKey, &h.ShortDesc, &h.ShortSeparator,
		&h.FullKey, &h.FullDesc, &h.FullSeparator,
	} {
		*s = s.Renderer(r)
	}
}

// newTextInput is bubbles' text input with its default looks drawn by the
// session's renderer instead of lipgloss's default one.
func newTextInput(r *lipgloss.Renderer) textinput.Model {
	in := textinput.New()
	for _, s := range []*lipgloss.Style{
		&in.PromptStyle, &in.TextStyle, &in.PlaceholderStyle, &in.CompletionStyle,
		&in.Cursor.Style, &in.Cursor.TextStyle,
	} {
		*s = s.Renderer(r)
	}
	return in
}

// newHelp is bubbles' help drawn by the session's renderer.
func newHelp(r *lipgloss.Renderer) help.Model {
	h := help.New()
	rebindHelp(&h.Styles, r)
	return h
}
