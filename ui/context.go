package ui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"paydesk/api"
	"paydesk/api/index"
)

// Context is what every screen shares: size, styles, keys, the providers,
// the clock and the agent's role. The root owns it; screens keep the pointer.
type Context struct {
	Width, Height int // the whole terminal
	Styles        *Styles
	Keys          *KeyMap
	Providers     []api.Provider
	Active        int // index of the provider on screen
	Sandbox       bool
	ReadOnly      bool
	Actor         string
	// Refresh is the live-refresh interval (--refresh, default 2s).
	Refresh time.Duration
	// Timeout is the deadline of one API call made from a screen.
	Timeout time.Duration
	// Now is the clock; tests fix it so "updated 3s ago" is stable.
	Now func() time.Time
	// Copy puts text on the agent's clipboard (OSC 52 in a terminal).
	Copy func(text string) tea.Cmd
	// NewKey mints an idempotency key, once per logical money action.
	NewKey func() string
	// Role is the agent's role over SSH (0 at a local console).
	Role api.Role
	// Approvals is the process's approval requests (nil: approvals off);
	// read for the header's badge, changed only through api.ApprovalDesk.
	Approvals api.ApprovalStore

	// events delivers the process's money and approval events;
	// unsubscribe ends that (Session.Close).
	events      <-chan api.Event
	unsubscribe func()
	// pendingApprovals is the badge's count, updated on approval events.
	pendingApprovals int
	// dueGen tags the badge's expiry timer (App.recount).
	dueGen int
	// Index is the order index the providers feed (search, the filter's
	// extra fields, list rows kept true); nil = none.
	Index *index.Index
	// Indexer fills the index in the background (coverage, a wider range);
	// nil = none runs.
	Indexer *index.Indexer
	// IndexShared says how sharing the index through the team store goes:
	// when it last worked and the last error (nil when it worked). Nil:
	// the index is kept on this host only.
	IndexShared func() (lastOK time.Time, err error)

	nextID int
	// nav holds the pushes and pops a screen asked for during its Update.
	// The root carries them out right after that Update returns, before the
	// next key: navigation then follows the keys in the order they were
	// typed, however fast (a burst over SSH), instead of racing them as
	// messages would.
	nav []navOp
}

// navOp is one queued push (screen set) or pop.
type navOp struct {
	push   Screen
	result any
	from   int // the screen that asked
}

// Provider is the provider on screen.
func (c *Context) Provider() api.Provider { return c.Providers[c.Active] }

// NewID gives each screen its own id for routed messages.
func (c *Context) NewID() int {
	c.nextID++
	return c.nextID
}

// BodyHeight is the height left for a screen between the chrome lines.
func (c *Context) BodyHeight() int { return max(c.Height-chromeLines, 1) }

// MinWidth and MinHeight are the smallest terminal the console draws in; below
// it says so instead of drawing a broken layout. The layouts are made for
// 80x23 (an 80x24 terminal with tmux's status line) and degrade, with fewer
// columns and a compact header, down to this.
const (
	MinWidth  = 60
	MinHeight = 16
)
