package ui

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/shopspring/decimal"

	"paydesk/api"
	"paydesk/api/index"
	"paydesk/model"
	"paydesk/model/pii"
	"paydesk/model/safetext"
)

// maxCardPages bounds the list pages one card search reads from a provider.
const maxCardPages = 5

// coverageDays is the window the index promises to cover by default, and
// the one its coverage is stated over.
const coverageDays = 90

// searchScreen is what g opens: one prompt that finds an order from
// whatever the customer has, across every configured provider. Each
// provider is asked what it can answer itself (an order ref or id opens
// directly; a provider that filters by card is asked for the last four);
// everything else is answered from the order index, which says how much
// it covers when it has no answer.
type searchScreen struct {
	base
	from    int // the tab g was pressed on: its exact ref opens at once
	in      textinput.Model
	typing  bool
	query   string
	gen     int
	pending int
	hits    []searchHit
	asked   []string // "Forage: order ref", for the answer's last line
	errs    []string
	// notes are providers not asked for want of budget: information, not
	// errors (the live screens say "Throttled" the same way).
	notes   []string
	refused string // the PII guard's refusal, shown instead of searching
	table   *Table
}

// searchHit is one order found, by the index or by a provider directly.
type searchHit struct {
	provider int
	id, ref  string
	field    string
	matched  string
	status   model.Status
	total    model.Money
	created  time.Time
	live     bool // the provider answered just now (not the index)
}

// coverageTickMsg redraws the index's progress while the search is open.
type coverageTickMsg struct{ gen int }

type lookupMsg struct {
	gen, provider int
	what          string
	hits          []searchHit
	err           error
}

// openOnMsg asks the root to switch to a provider's tab and open an order
// there, closing the search that asked.
type openOnMsg struct {
	from, provider int
	id             string
}

func newSearchScreen(c *Context, from int) Screen {
	s := &searchScreen{base: newBase(c), from: from, typing: true}
	s.in = newPrompt(c, "Find: ", "order ref or id, payment/refund ref, external or customer id, 4242 47.44")
	s.table = NewTable(c, []Column{
		{Title: "Provider", Width: 13}, // "Digital River" whole
		{Title: "Ref", Width: 12, Min: 10, TrimMiddle: true},
		// The value's tail and the field stay when the cell is cut: ids
		// share their start (GRC-2026-…).
		{Title: "Matched", Width: 30, Min: 24, Flex: true, TrimHead: true},
		{Title: "Status", Width: 17, Min: 11, Abbrev: true},
		{Title: "Total", Width: 13, Min: 10, Right: true},
		// What matched matters more than the date: at 80 columns the
		// date goes and an external id keeps its field beside it.
		{Title: "Date", Width: 10, Optional: true},
	})
	s.layout()
	return s
}

func (s *searchScreen) Title() string    { return "Find order" }
func (s *searchScreen) Typing() bool     { return s.typing }
func (s *searchScreen) SetSize(w, h int) { s.base.SetSize(w, h); s.layout() }
func (s *searchScreen) layout()          { s.table.SetSize(s.width, max(s.height-6, 1)) }
func (s *searchScreen) Init() tea.Cmd    { return tea.Batch(s.in.Focus(), s.coverageTick()) }
func (s *searchScreen) Suspend()         { s.gen++; s.pending = 0; s.suspend() }
func (s *searchScreen) Resume() tea.Cmd  { s.resume(); return s.coverageTick() }

// coverageTick redraws once a second while the screen is open and an
// indexer runs, so its progress bars and the coverage figure move; leaving
// the screen (a new generation) ends the chain.
func (s *searchScreen) coverageTick() tea.Cmd {
	if s.c.Indexer == nil {
		return nil
	}
	return s.tick(time.Second, coverageTickMsg{gen: s.gen})
}

// widerDays is the next window w asks the indexer for: 90, 180, 365, 730.
func widerDays(now int) int {
	for _, d := range []int{180, 365, 730} {
		if d > now {
			return d
		}
	}
	return now
}

func (s *searchScreen) Help() []key.Binding { return actionHelp(s.actions()) }

// actions are the search's keys, in the order help lists them; while the
// prompt is open every other key is typed.
func (s *searchScreen) actions() []action {
	k := s.c.Keys
	if s.typing {
		return []action{
			{key: relabel(k.Enter, "search"), run: do(s.submit)},
			{key: relabel(k.Back, "cancel"), run: do(s.cancelTyping)},
		}
	}
	return []action{
		{key: relabel(k.Enter, "open (switches tab)"), run: do(s.openSelected)},
		{key: relabel(k.Goto, "search again"), run: do(s.again)},
		{key: k.Filter, shown: never, run: do(s.again)}, // / searches on the list too
		{key: k.Widen, enabled: func() bool { return s.c.Indexer != nil }, run: do(s.widen)},
		{key: k.Back, run: do(s.back)},
	}
}

func (s *searchScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case lookupMsg:
		return s, s.lookup(msg)
	case coverageTickMsg:
		if msg.gen != s.gen {
			return s, nil
		}
		return s, s.coverageTick()
	case tea.KeyMsg:
		if s.typing {
			cmd, _ := typeInto(&s.in, s.actions(), msg)
			return s, cmd
		}
		if cmd, ok := runAction(s.actions(), msg); ok {
			return s, cmd
		}
		s.table.Update(msg)
	}
	return s, nil
}

func (s *searchScreen) openSelected() tea.Cmd {
	if i := s.table.Cursor(); i >= 0 && i < len(s.hits) {
		return s.open(s.hits[i])
	}
	return nil
}

// again reopens the prompt with the last query in it.
func (s *searchScreen) again() tea.Cmd {
	s.typing = true
	return s.in.Focus()
}

// widen is w: the indexer covers the next wider window.
func (s *searchScreen) widen() tea.Cmd {
	d := widerDays(s.c.Indexer.Window())
	s.c.Indexer.Widen(d)
	return Status(fmt.Sprintf("Indexing the last %d days, newest first, within the same request budget.", d))
}

// cancelTyping is esc in the prompt: before any search it closes the
// screen; after one it goes back to the answer.
func (s *searchScreen) cancelTyping() tea.Cmd {
	if s.query == "" {
		return s.pop(nil)
	}
	s.typing = false
	s.in.Blur()
	s.in.SetValue(s.query)
	return nil
}

func (s *searchScreen) submit() tea.Cmd {
	q := strings.TrimSpace(s.in.Value())
	if q == "" {
		return nil
	}
	s.typing = false
	s.in.Blur()
	return s.search(q)
}

// open switches to the hit's provider and opens the order there.
func (s *searchScreen) open(h searchHit) tea.Cmd {
	from, id := s.id, h.id
	return func() tea.Msg { return openOnMsg{from: from, provider: h.provider, id: id} }
}

// search starts every lookup for q: the index at once, and each provider
// for what it can answer itself.
func (s *searchScreen) search(q string) tea.Cmd {
	s.gen++
	s.query, s.hits, s.asked, s.errs, s.notes, s.refused, s.pending = q, nil, nil, nil, nil, "", 0
	// What goes to a provider passes the PII guard; a full card number
	// typed by mistake is refused here, before anything is sent.
	if kind, why := pii.Detect(q); kind != "" {
		s.refused = "the query " + why + "; personal or card data is never sent to a provider"
		s.render()
		return nil
	}
	if ix := s.c.Index; ix != nil {
		for _, h := range ix.Search(q) {
			if p := s.providerIndex(h.Provider); p >= 0 {
				s.add(searchHit{provider: p, id: h.ID, ref: h.Ref, field: h.Field.String(), matched: h.Matched,
					status: h.Status, total: h.Total, created: h.Created})
			}
		}
	}
	// The order ref of the tab g was pressed on, already known: open it.
	for _, h := range s.hits {
		if h.provider == s.from && (h.field == index.FieldRef.String() || h.field == index.FieldID.String()) {
			return s.open(h)
		}
	}
	var cmds []tea.Cmd
	l4, amt, card := index.ParseCardAmount(q)
	oneToken := !strings.ContainsAny(q, " \t")
	for i, p := range s.c.Providers {
		caps := p.Capabilities()
		switch {
		case card && caps.Filters.Card:
			cmds = append(cmds, s.askCard(i, p, l4, amt))
		case oneToken && !s.known(i, q):
			cmds = append(cmds, s.askOrder(i, p, q))
			if caps.Filters.Upstream {
				cmds = append(cmds, s.askUpstream(i, p, q))
			}
		}
	}
	s.render()
	return tea.Batch(cmds...)
}

func (s *searchScreen) providerIndex(id string) int {
	for i, p := range s.c.Providers {
		if p.ID() == id {
			return i
		}
	}
	return -1
}

// known: the index already found q as this provider's order ref or id, so
// asking the provider again would spend a request for nothing.
func (s *searchScreen) known(provider int, q string) bool {
	for _, h := range s.hits {
		if h.provider == provider && strings.EqualFold(h.matched, q) &&
			(h.field == index.FieldRef.String() || h.field == index.FieldID.String()) {
			return true
		}
	}
	return false
}

// askOrder reads q as an order ref or id (GetOrder): the one search every
// provider answers itself.
func (s *searchScreen) askOrder(i int, p api.Provider, q string) tea.Cmd {
	s.pending++
	gen := s.gen
	s.asked = append(s.asked, p.Name()+": order ref")
	return call(&s.base, func(ctx context.Context) (*model.Order, error) { return p.GetOrder(ctx, q) },
		func(o *model.Order, err error) tea.Msg {
			m := lookupMsg{gen: gen, provider: i, what: "order ref", err: err}
			if err == nil && o != nil {
				field := index.FieldRef.String()
				if !strings.EqualFold(o.Ref, q) {
					field = index.FieldID.String()
				}
				m.hits = []searchHit{{provider: i, id: o.ID, ref: o.Ref, field: field, matched: q, status: o.Status,
					total: o.Total, created: o.Created, live: true}}
			}
			return m
		})
}

// askedText says what was asked of whom, one provider at a time:
// "Forage: order ref; Digital River: order ref, upstream id".
func askedText(asked []string) string {
	var parts []string
	last := ""
	for _, a := range asked {
		name, what, _ := strings.Cut(a, ": ")
		if name == last && len(parts) > 0 {
			parts[len(parts)-1] += ", " + what
			continue
		}
		parts, last = append(parts, a), name
	}
	return strings.Join(parts, "; ")
}

// askUpstream lists the provider's orders whose own merchant order id
// (Digital River's upstreamId) is q: the provider answers it at any age,
// where the index knows only what it has read.
func (s *searchScreen) askUpstream(i int, p api.Provider, q string) tea.Cmd {
	s.pending++
	gen := s.gen
	const what = "upstream id"
	s.asked = append(s.asked, p.Name()+": "+what)
	query := api.OrderQuery{UpstreamID: q, Limit: 10}
	return call(&s.base, func(ctx context.Context) (api.OrderPage, error) { return p.ListOrders(ctx, query) },
		func(pg api.OrderPage, err error) tea.Msg {
			m := lookupMsg{gen: gen, provider: i, what: what, err: err}
			for _, o := range pg.Orders {
				// Only orders that carry it: a provider that ignored the
				// filter would otherwise answer with a page of strangers.
				if !strings.EqualFold(o.Reference, q) {
					continue
				}
				m.hits = append(m.hits, searchHit{provider: i, id: o.ID, ref: o.Ref, field: what, matched: q,
					status: o.Status, total: o.Total, created: o.Created, live: true})
			}
			return m
		})
}

// askCard lists the provider's orders paid with a card ending in l4 (last
// 90 days) and keeps those whose total is amt, in any currency.
func (s *searchScreen) askCard(i int, p api.Provider, l4 string, amt decimal.Decimal) tea.Cmd {
	s.pending++
	gen := s.gen
	s.asked = append(s.asked, p.Name()+": card last four")
	now := s.c.Now()
	q := api.OrderQuery{CardLast4: l4, From: now.AddDate(0, 0, -coverageDays), To: now, Limit: 100}
	// A common last four can fill more than a page: follow a few pages
	// (each one request), newest first.
	list := func(ctx context.Context) (api.OrderPage, error) {
		var all api.OrderPage
		for range maxCardPages {
			pg, err := p.ListOrders(ctx, q)
			if err != nil {
				return all, err
			}
			all.Orders = append(all.Orders, pg.Orders...)
			if pg.Next == "" {
				return all, nil
			}
			q.Cursor = pg.Next
		}
		return all, nil
	}
	return call(&s.base, list,
		func(pg api.OrderPage, err error) tea.Msg {
			m := lookupMsg{gen: gen, provider: i, what: "card last four", err: err}
			for _, o := range pg.Orders {
				// The card text must show the last four too: a provider
				// that ignored the filter would otherwise answer with every
				// order of that amount.
				if o.Total.Amount.Equal(amt) && strings.Contains(o.Reference, l4) {
					m.hits = append(m.hits, searchHit{provider: i, id: o.ID, ref: o.Ref, field: index.FieldCardAmount.String(),
						matched: l4 + " " + fmtAmount(o.Total), status: o.Status, total: o.Total, created: o.Created, live: true})
				}
			}
			return m
		})
}

func (s *searchScreen) lookup(m lookupMsg) tea.Cmd {
	if m.gen != s.gen {
		return nil
	}
	s.pending--
	switch {
	case m.err == nil:
	case api.CodeOf(m.err) == "invalid_ref":
		// Not even this provider's ref's shape: the client said no without
		// asking, so it is not listed as asked.
		s.asked = slices.DeleteFunc(s.asked, func(a string) bool { return a == s.c.Providers[m.provider].Name()+": "+m.what })
	case api.StatusOf(m.err) == 404 || api.Canceled(m.err):
		// Not this provider's order: the answer is "no", not an error.
	case errors.Is(m.err, api.ErrThrottled):
		te, _ := api.AsThrottled(m.err)
		s.notes = append(s.notes, "Throttled: "+s.c.Providers[m.provider].Name()+" was not asked ("+m.what+
			"), its request budget is spent for now; g searches again, in "+te.Seconds()+" or later.")
	default:
		s.errs = append(s.errs, s.c.Providers[m.provider].Name()+" could not be asked ("+m.what+"): "+DescribeError(m.err))
	}
	for _, h := range m.hits {
		if h.provider == s.from && m.what == "order ref" {
			return s.open(h) // the ref of the tab g was pressed on: open it, as g always did
		}
		s.add(h)
	}
	s.render()
	return nil
}

// add keeps one row per order: a provider's live answer replaces the
// index's older one.
func (s *searchScreen) add(h searchHit) {
	for k, x := range s.hits {
		if x.provider == h.provider && x.id == h.id {
			if h.live {
				h.field, h.matched = cmp.Or(x.field, h.field), cmp.Or(x.matched, h.matched)
				s.hits[k] = h
			}
			return
		}
	}
	s.hits = append(s.hits, h)
}

func (s *searchScreen) render() {
	rows := make([][]string, len(s.hits))
	for i, h := range s.hits {
		p := s.c.Providers[h.provider]
		rows[i] = []string{
			p.Name(), orDash(h.ref), h.matched + " (" + shortField(h.field, p.Capabilities().ReferenceColumn) + ")",
			statusCell(h.status), fmtMoney(h.total), fmtDay(h.created),
		}
	}
	s.table.SetRows(rows)
}

// shortField is a matched field's name as the Matched column shows it,
// after the value: short, so the value keeps its room at 80 columns. An
// external id is named as the provider's list names it (refColumn, e.g.
// Digital River's "Upstream id"), whether the index or the provider found it.
func shortField(f, refColumn string) string {
	switch f {
	case index.FieldExternal.String():
		return strings.ToLower(externalIDLabel(refColumn))
	case index.FieldCardAmount.String():
		return "last 4 + amount"
	}
	return f
}

func fmtDay(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format("2006-01-02")
}

// coverageText states what the index covers, for "no match" and the
// footer of an answer.
func (s *searchScreen) coverageText() string {
	if s.c.Index == nil {
		return "no order index is kept"
	}
	days := coverageDays
	if s.c.Indexer != nil {
		days = s.c.Indexer.Window()
	}
	pct := s.c.Index.ActiveCoverage(s.c.Now(), days) * 100
	return fmt.Sprintf("covers %.0f%% of the last %d days", pct, days)
}

// progressView is one line per provider: a bar of the indexer's coverage,
// what it has read and spent, and its budget.
func (s *searchScreen) progressView() string {
	if s.c.Indexer == nil {
		return ""
	}
	st := s.c.Styles
	var b strings.Builder
	b.WriteString(st.Bold.Render("Order index") + st.Faint.Render(" (background, newest first)") + "\n")
	for _, p := range s.c.Indexer.Progress() {
		const width = 20
		n := int(p.Covered*width + 0.5)
		bar := strings.Repeat("█", n) + strings.Repeat("░", width-n)
		state := "done"
		switch {
		case p.Err != "":
			state = "waiting to retry"
		case p.Covered < 1:
			state = "indexing"
		}
		line := fmt.Sprintf("%-13s %s %3.0f%% of %d days · %d read · %s",
			safetext.Truncate(p.Name, 13), bar, p.Covered*100, p.Days, p.Reads, state)
		// The budget where it fits whole; never a cut word.
		if budget := fmt.Sprintf(" (at most %.1f requests/s)", p.Budget); ansi.StringWidth(line+budget) <= s.width {
			line += budget
		}
		b.WriteString(safetext.Truncate(line, s.width) + "\n")
	}
	if line := s.sharedLine(); line != "" {
		b.WriteString(line + "\n")
	}
	if !s.typing {
		b.WriteString(st.Faint.Render("w indexes a wider range."))
	}
	return b.String()
}

// sharedLine says whether the index is in step with the team store's. The
// store's error is not drawn: it can name the database's host and user,
// and what the agent needs is whether searches see the other hosts' work.
func (s *searchScreen) sharedLine() string {
	if s.c.IndexShared == nil {
		return ""
	}
	st := s.c.Styles
	lastOK, err := s.c.IndexShared()
	switch {
	case err == nil && !lastOK.IsZero():
		return st.Faint.Render(safetext.Truncate("Shared with the other hosts through the team store · last in step "+fmtAgo(s.c.Now(), lastOK), s.width))
	case err == nil:
		return st.Faint.Render(safetext.Truncate("Shared with the other hosts through the team store · loading it…", s.width))
	}
	since := "yet"
	if !lastOK.IsZero() {
		since = "since " + lastOK.Local().Format("15:04:05")
	}
	return st.StatusErr.Render("✗ ") + wrapText("Team store not reached "+since+": this host indexes on its own and shares what it found once the store is back.", max(s.width-2, 10))
}

func (s *searchScreen) View() string {
	st := s.c.Styles
	var b strings.Builder
	b.WriteString(st.Title.Render("Find an order") + st.Faint.Render("  in every provider") + "\n")
	if s.typing || s.query == "" {
		b.WriteString(s.in.View())
	} else {
		b.WriteString(st.Bold.Render("Find: ") + safetext.Truncate(s.query, 50) + st.Faint.Render("  g searches again"))
	}
	b.WriteString("\n\n")
	switch {
	case s.refused != "":
		b.WriteString(st.StatusErr.Render(wrapText("✗ Not searched: "+safetext.Line(s.refused), s.width)) + "\n" +
			st.Faint.Render("Search for a ref, an id, or the card's last four digits with the amount."))
	case s.query == "":
		b.WriteString(wrapText("Type what the customer has: an order ref or id, a payment, charge or transaction ref, a refund ref, "+
			"an external order id or upstream id, a customer id, or a card's last four digits and the amount (4242 47.44). "+
			"Every provider is searched, not only this tab.", s.width) + "\n\n" +
			st.Faint.Render("The order index "+s.coverageText()+".") + "\n\n" + s.progressView())
	case len(s.hits) == 0 && s.pending > 0:
		b.WriteString(st.Faint.Render("Searching… asking " + askedText(s.asked)))
	case len(s.hits) == 0 && s.c.Index == nil:
		b.WriteString(st.Bold.Render("No order matches “"+safetext.Line(s.query)+"”.") + "\n" +
			st.Faint.Render(wrapText("No order index is kept here: only the providers themselves were asked ("+askedText(s.asked)+").", s.width)) + "\n")
	case len(s.hits) == 0:
		b.WriteString(wrapText("No order matches “"+safetext.Line(s.query)+"”: not in what has been indexed yet ("+
			s.coverageText()+").", s.width) + "\n")
		if len(s.asked) > 0 {
			b.WriteString(st.Faint.Render(wrapText("Asked directly: "+askedText(s.asked)+".", s.width)) + "\n")
		}
		b.WriteString("\n" + s.progressView())
	default:
		n := fmt.Sprintf("%d found", len(s.hits))
		if len(s.hits) >= index.MaxHits {
			n = fmt.Sprintf("the newest %d shown", index.MaxHits)
		}
		if s.pending > 0 {
			n += ", still asking…"
		}
		// One line: the table's height counts on it. What enter does goes
		// first when it does not fit (the footer says it too).
		cov := s.coverageText()
		line := n + " · enter opens it on its provider's tab · index " + cov
		if ansi.StringWidth(line) > s.width {
			line = n + " · index " + cov
		}
		b.WriteString(st.Faint.Render(safetext.Truncate(line, s.width)) + "\n")
		b.WriteString(s.table.View())
	}
	for _, n := range s.notes {
		b.WriteString("\n" + st.Faint.Render(wrapText(safetext.Line(n), s.width)))
	}
	for _, e := range s.errs {
		b.WriteString("\n" + st.StatusErr.Render("✗ "+safetext.Truncate(e, s.width-2)))
	}
	return b.String()
}

// openOn carries out an openOnMsg: close the search, switch to the
// provider's tab, open the order on top of its list.
func (a *App) openOn(m openOnMsg) tea.Cmd {
	if screenID(a.top()) != m.from || m.provider < 0 || m.provider >= len(a.c.Providers) {
		return nil // the search is gone or covered: the agent moved on
	}
	cmds := []tea.Cmd{a.pop(nil)}
	if m.provider != a.c.Active {
		cmds = append(cmds, a.switchTo(m.provider))
	}
	return tea.Batch(append(cmds, a.push(newOrderScreen(a.c, m.provider, m.id)))...)
}

// switchTo shows provider's tab, as tab does.
func (a *App) switchTo(provider int) tea.Cmd {
	if t := a.top(); t != nil {
		t.Suspend()
	}
	a.c.Active = provider
	a.status = StatusMsg{}
	return a.ensureHome()
}
