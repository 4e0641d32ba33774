package ui

import (
	"bytes"
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"paydesk/api"
	"paydesk/model"
	"paydesk/model/safetext"
)

// maxRefWidth bounds the Ref column: a UUID fits.
const maxRefWidth = 36

// rangeStep is how far [ and ] move the date range of the orders list.
const rangeStep = 30 * 24 * time.Hour

// ordersScreen is the home screen of a provider: its orders, newest first,
// from the last 30 days (where the provider takes a range), a page at a time
// as the cursor nears the end. / filters the loaded rows, s/S sort, g opens
// any order by ref, enter opens the selected one.
type ordersScreen struct {
	base
	provider int
	caps     api.Capabilities
	from, to time.Time
	// rangeMoved: the agent moved the range with [ or ]; otherwise it ends
	// now, and r brings it up to date.
	rangeMoved bool

	rows  rowStore    // the loaded orders, compact (orders_mem.go)
	extra filterExtra // what the order index adds for the filter (orders_filter.go)
	order []int       // indices of rows, sorted
	view  []int       // order, filtered: what the table shows
	table *Table
	// What the table asks of the view's column values, found by refilter.
	widestStatus int
	dayOnly      bool
	viewQ        string    // the filter the view was built for
	viewOK       bool      // view is order filtered by viewQ
	released     int       // rows loaded when memory was last returned (orders_mem.go)
	releasedAt   time.Time // and when
	refundKeys   []string  // Refunds cells by row, while resort sorts by them

	gen       int            // bumps on reload or range change: late pages are dropped
	next      string         // cursor of the next page; "" = no more
	loading   bool           // a page request is in flight
	loaded    bool           // the first page arrived
	reloading bool           // r: old rows stay until the new first page arrives
	keptNext  string         // r: the cursor loading had got to (orders_true.go)
	seen      map[string]int // r: ids of the fresh first page, left out of later pages
	seenSeq   uint32         // the order index's change stamp the rows are as new as
	err       error
	errShown  bool
	// throttled: the last page request found the shared budget spent; the
	// same request goes again by itself (pageRetryMsg).
	throttled bool
	loadedAt  time.Time
	sortCol   int
	sortDesc  bool
	ncols     int
	colTotal  int
	// colRefunds is the Refunds column of a provider whose list rows say
	// nothing of refunds (Forage), or -1 (orders_refunds.go).
	colRefunds int
	filter     textinput.Model
	filtering  bool
	rangeIn    textinput.Model // d: set the range (orders_range.go)
	ranging    bool
	rangeErr   bool // the status line shows an error about what the prompt holds
	spin       spinner.Model
	ago        agoClock
}

type pageMsg struct {
	gen    int
	cursor string
	page   api.OrderPage
	err    error
}

// pageRetryMsg asks again for a page the shared budget could not serve.
type pageRetryMsg struct {
	gen    int
	cursor string
}

// Column positions in the orders table; amount columns sit between Date and
// Total, so Total and Reference are counted from the end.
const (
	colRef = iota
	colStatus
	colDate
	colAmounts
)

func newOrdersScreen(c *Context, provider int) Screen {
	p := c.Providers[provider]
	s := &ordersScreen{base: newBase(c), provider: provider, caps: p.Capabilities(), sortCol: colDate, sortDesc: true}
	if s.caps.OrderRange {
		s.to = c.Now()
		s.from = s.to.Add(-rangeStep)
	}
	s.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot), spinner.WithStyle(c.Styles.Faint))
	s.filter = newPrompt(c, "/ ", "anything a row shows, amount, currency, customer id, last four")
	s.rangeIn = newPrompt(c, "Range: ", "7, 30 or 90 (last N days), 2026-10-03, or two dates")

	cols := []Column{
		{Title: "Ref", Width: 10, Min: 10, TrimMiddle: true, ShrinkFirst: true},
		{Title: "Status", Width: 17, Min: 11, Abbrev: true},
		{Title: "Date", Width: 16, Min: 11, Date: true},
	}
	// Below 80 columns the amount columns go (Total stays): the ref, the
	// state, the date and the reference are what tell orders apart.
	for _, name := range s.caps.AmountColumns {
		cols = append(cols, Column{Title: name, Width: max(len(name), 9), Min: max(len(name), 8), Right: true, Optional: true})
	}
	s.colTotal, s.colRefunds = len(cols), -1
	cols = append(cols, Column{Title: "Total", Width: 14, Min: 12, Right: true})
	if s.caps.RefundsNotListed {
		s.colRefunds = len(cols)
		cols = append(cols, Column{Title: "Refunds", Width: 7})
	}
	cols = append(cols,
		Column{Title: cmp.Or(s.caps.ReferenceColumn, "Reference"), Width: 16, Min: 8, Flex: true, TrimHead: true})
	s.ncols = len(cols)
	s.table = NewTable(c, cols)
	s.table.SetCellStyle(func(row, col int) (lipgloss.Style, bool) {
		if col != colStatus || row >= len(s.view) {
			return lipgloss.Style{}, false
		}
		return c.Styles.ForStatus(s.rows.status(s.view[row])), true
	})
	s.markSort()
	s.layout()
	return s
}

// newPrompt is a one-line text input styled from the session's renderer,
// with a steady cursor (no blink ticks, stable goldens).
func newPrompt(c *Context, prompt, placeholder string) textinput.Model {
	in := newTextInput(c.Styles.R)
	in.Prompt = prompt
	in.Placeholder = placeholder
	in.CharLimit = 128
	in.PromptStyle = c.Styles.Bold
	in.TextStyle = c.Styles.Value
	in.PlaceholderStyle = c.Styles.Faint
	in.Cursor.Style = c.Styles.Bold
	in.Cursor.TextStyle = c.Styles.Value
	in.Cursor.SetMode(cursor.CursorStatic)
	return in
}

func (s *ordersScreen) prov() api.Provider { return s.c.Providers[s.provider] }
func (s *ordersScreen) Title() string      { return "Orders" }
func (s *ordersScreen) Typing() bool       { return s.filtering || s.ranging }
func (s *ordersScreen) SetSize(w, h int)   { s.base.SetSize(w, h); s.layout() }

func (s *ordersScreen) layout() {
	// title line, prompt line, table header
	s.table.SetSize(s.width, max(s.height-3, 1))
}

func (s *ordersScreen) Init() tea.Cmd { return tea.Batch(s.reload(false), s.ago.start(&s.base)) }

// Suspend cancels a page in flight; Resume asks for it again.
func (s *ordersScreen) Suspend() {
	s.gen++
	s.loading, s.throttled = false, false // Resume asks again
	s.ago.stop()
	s.suspend()
}

func (s *ordersScreen) Resume() tea.Cmd {
	s.resume()
	s.syncFromIndex() // an order changed on its screen shows its new state here
	ago := s.ago.start(&s.base)
	if !s.loaded || s.reloading {
		return tea.Batch(ago, s.reload(s.loaded))
	}
	return tea.Batch(ago, s.maybeMore())
}

// reload starts over from the first page; keep leaves the old rows on
// screen until the new ones arrive (r), otherwise they are cleared (a new
// range).
func (s *ordersScreen) reload(keep bool) tea.Cmd {
	s.gen++
	if keep && s.loaded && !s.reloading {
		s.keptNext = s.next
	}
	s.next = ""
	s.err = nil
	s.reloading = keep && s.loaded
	if !keep {
		s.loaded = false
		s.setData(nil, false)
	}
	return tea.Batch(s.fetch(""), Routed(s.id, s.spin.Tick))
}

func (s *ordersScreen) fetch(cursor string) tea.Cmd {
	s.loading = true
	gen := s.gen
	p := s.prov()
	q := api.OrderQuery{From: s.from, To: s.to, Cursor: cursor}
	return call(&s.base, func(ctx context.Context) (api.OrderPage, error) { return p.ListOrders(ctx, q) },
		func(pg api.OrderPage, err error) tea.Msg {
			return pageMsg{gen: gen, cursor: cursor, page: pg, err: err}
		})
}

// maybeMore asks for the next page when the cursor is within two screens of
// the end; one page request at a time.
func (s *ordersScreen) maybeMore() tea.Cmd {
	if s.loading || s.next == "" || !s.loaded || s.err != nil {
		return nil
	}
	if s.table.Cursor() < s.table.Rows()-2*s.table.Height() {
		return nil
	}
	return s.fetch(s.next)
}

func (s *ordersScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case pageMsg:
		return s, s.page(msg)
	case pageRetryMsg:
		if msg.gen != s.gen || !s.throttled {
			return s, nil
		}
		s.throttled = false
		return s, s.fetch(msg.cursor)
	case agoTickMsg:
		return s, s.ago.on(&s.base, msg)
	case spinner.TickMsg:
		if !s.loading || (s.loaded && !s.reloading) {
			return s, nil
		}
		var cmd tea.Cmd
		s.spin, cmd = s.spin.Update(msg)
		return s, Routed(s.id, cmd)
	case tea.KeyMsg:
		return s, s.key(msg)
	}
	return s, nil
}

func (s *ordersScreen) page(msg pageMsg) tea.Cmd {
	if msg.gen != s.gen {
		return nil
	}
	s.loading = false
	if te, ok := api.AsThrottled(msg.err); ok {
		return s.pageThrottled(te, msg.cursor)
	}
	s.throttled = false
	if msg.err != nil {
		s.err, s.errShown = msg.err, true
		s.reloading = false
		return StatusErr(msg.err)
	}
	var clear tea.Cmd
	if s.errShown {
		clear, s.errShown = Status(""), false
	}
	s.err = nil
	s.loadedAt = s.c.Now()
	switch {
	case s.reloading && s.loaded: // r: keep what is loaded (orders_true.go)
		s.reloading = false
		s.next = s.mergeFresh(msg.page)
	case !s.loaded:
		s.reloading = false
		s.loaded = true
		s.setData(msg.page.Orders, false)
		s.next = msg.page.Next
	default:
		s.setData(s.dropSeen(msg.page.Orders), true)
		s.next = msg.page.Next
	}
	s.markSeen()
	if n := s.rows.Len(); s.next == "" && n >= releaseMin && s.released != n {
		s.released = n // the range is whole: what loading it left is garbage
		releaseMemory()
	}
	// Fill the first screens without a keypress (not while filtering: a
	// filter matching nothing would otherwise walk every page).
	if s.filter.Value() == "" && s.table.Rows() < 2*s.table.Height() {
		return tea.Batch(clear, s.maybeMore())
	}
	return clear
}

// pageThrottled is a page the budget every session shares could not serve:
// not a failure. The status line says so as information, as the live
// screens do, and the same request goes again once the budget allows.
func (s *ordersScreen) pageThrottled(te *api.ThrottledError, cursor string) tea.Cmd {
	s.throttled = true
	s.loading = true // no other page request meanwhile
	wait := max(te.Wait, time.Second)
	msg := "Throttled: provider budget shared by every session is low; next try in " + (&api.ThrottledError{Wait: wait}).Seconds() + "."
	return tea.Batch(Status(msg), s.tick(wait, pageRetryMsg{gen: s.gen, cursor: cursor}))
}

// setData appends orders to the loaded rows (more) or starts over with
// them. Rows are kept compact and formatted only when drawn.
func (s *ordersScreen) setData(orders []model.OrderSummary, more bool) {
	if !more {
		dropped := s.rows.Len() >= releaseMin
		s.rows, s.extra, s.seen = rowStore{}, filterExtra{}, nil
		s.order, s.view = nil, nil
		s.released = 0
		if dropped {
			releaseMemory() // orders_mem.go
		}
	}
	refW := 10
	if more {
		refW = s.table.cols[colRef].Width
	}
	for k := range orders {
		refW = max(refW, min(len(orders[k].Ref), maxRefWidth))
	}
	from := s.rows.Len()
	s.rows.add(orders)
	if n, now := s.rows.Len(), s.c.Now(); releaseDue(s.released, n, now.Sub(s.releasedAt)) {
		s.released, s.releasedAt = n, now
		defer releaseMemory() // after the indices are rebuilt
	}
	s.table.SetColumnWidth(colRef, refW)
	if more {
		s.appended(from)
		return
	}
	s.resort()
}

// appended brings the sorted and filtered indices up to the rows added
// from row from on. In the provider's order (newest first, the default) a
// page only extends them; in another order the page is sorted alone and
// merged in (O(page log page + N)). Resorting all N for each page would
// cost O(N log N) a page (tens of ms at 100k rows, with keys waiting)
// and O(N² log N) to load a range.
func (s *ordersScreen) appended(from int) {
	switch {
	case !s.viewOK || s.sortCol == s.colRefunds:
		// The Refunds column sorts by text gathered for every row at once.
		s.resort()
		return
	case !(s.sortCol == colDate && s.sortDesc):
		s.mergeAppended(from)
		return
	}
	n := s.rows.Len()
	shared := s.viewQ == "" // the view is the order itself
	for i := from; i < n; i++ {
		s.order = append(s.order, i)
	}
	added := s.order[len(s.order)-(n-from):]
	if shared {
		s.view = s.order
	} else {
		k := len(s.view)
		s.view = append(s.view, s.filterRows(added, s.viewQ)...)
		added = s.view[k:]
	}
	s.measureRows(added)
	cur := s.table.Cursor()
	s.table.SetSource(ordersView{s})
	if cur >= 0 {
		s.table.SetCursor(cur)
	}
}

// mergeAppended is appended for a list sorted other than newest first.
func (s *ordersScreen) mergeAppended(from int) {
	sel := s.selectedIndex()
	added := make([]int, 0, s.rows.Len()-from)
	for i := from; i < s.rows.Len(); i++ {
		added = append(added, i)
	}
	slices.SortFunc(added, s.rowOrder)
	shared := s.viewQ == ""
	s.order = mergeSorted(s.order, added, s.rowOrder)
	if shared {
		s.view = s.order
	} else {
		added = s.filterRows(added, s.viewQ)
		s.view = mergeSorted(s.view, added, s.rowOrder)
	}
	s.measureRows(added)
	s.table.SetSource(ordersView{s})
	if cur := slices.Index(s.view, sel); sel >= 0 && cur >= 0 {
		s.table.SetCursor(cur)
	}
}

// rowOrder is the list's order as a total order: the sort column (flipped
// by S), then newest first, then as loaded. It is what resort's stable
// sort gives, so merged pages land where a full resort would put them.
func (s *ordersScreen) rowOrder(a, b int) int {
	c := s.compare(a, b, s.sortCol)
	if s.sortDesc {
		c = -c
	}
	if c == 0 {
		c = s.compare(b, a, colDate)
	}
	if c == 0 {
		c = cmp.Compare(a, b)
	}
	return c
}

// mergeSorted merges add (sorted by cmp) into dst (sorted by cmp) in place,
// from the back: no second N-sized index is made.
func mergeSorted(dst, add []int, cmp func(a, b int) int) []int {
	n, k := len(dst), len(add)
	dst = slices.Grow(dst, k)[:n+k]
	i, j := n-1, k-1
	for w := n + k - 1; j >= 0; w-- {
		if i >= 0 && cmp(dst[i], add[j]) > 0 {
			dst[w] = dst[i]
			i--
		} else {
			dst[w] = add[j]
			j--
		}
	}
	return dst
}

// formatRow is the cells of row i as the table draws them.
func (s *ordersScreen) formatRow(i int) []string {
	if o, ok := s.rows.spill[i]; ok {
		return s.formatSummary(o)
	}
	o := s.rows.summary(i)
	row := s.formatSummary(&o)
	row[colStatus] = s.rows.statusCell(i) // one string per pair of statuses
	return row
}

// refundCellAt is row i's Refunds cell (orders_refunds.go).
func (s *ordersScreen) refundCellAt(i int) string {
	o := model.OrderSummary{ID: s.rows.id(i), Status: s.rows.status(i)}
	return s.refundCell(&o)
}

func (s *ordersScreen) formatSummary(o *model.OrderSummary) []string {
	row := make([]string, 0, s.ncols)
	row = append(row, orDash(o.Ref), providerStatusCell(o.Status, o.ProviderStatus), dateCell(o))
	for i := range s.caps.AmountColumns {
		if i < len(o.Amounts) {
			row = append(row, fmtAmount(o.Amounts[i]))
		} else {
			row = append(row, "—")
		}
	}
	row = append(row, fmtMoney(o.Total))
	if s.colRefunds >= 0 {
		row = append(row, s.refundCell(o))
	}
	return append(row, orDash(shortBrands(o.Reference)))
}

// resort rebuilds the sorted index and then the filtered view.
func (s *ordersScreen) resort() {
	sel := s.selectedIndex()
	s.viewOK = false // the view is rebuilt from the new order
	s.order = make([]int, s.rows.Len())
	for i := range s.order {
		s.order[i] = i
	}
	col, desc := s.sortCol, s.sortDesc
	if col == s.colRefunds { // one index lookup a row, not one a comparison
		s.refundKeys = make([]string, s.rows.Len())
		for i := range s.refundKeys {
			s.refundKeys[i] = s.refundCellAt(i)
		}
		defer func() { s.refundKeys = nil }()
	}
	if !(col == colDate && desc) { // the provider's order is already newest first
		slices.SortFunc(s.order, s.rowOrder) // a total order: stable as it is
	}
	s.refilter(sel)
}

// compare orders rows a and b by column col, reading the compact rows
// (sorting 100k rows builds no decimals); a row kept whole is compared
// from its summary.
func (s *ordersScreen) compare(a, b, col int) int {
	if col == s.colRefunds { // drawn from the order index: resort gathers them
		return strings.Compare(s.refundKeys[a], s.refundKeys[b])
	}
	st := &s.rows
	x, y := &st.rows[a], &st.rows[b]
	if (x.flags|y.flags)&rowSpilled != 0 {
		xs, ys := st.summary(a), st.summary(b)
		return s.compareSummaries(&xs, &ys, col)
	}
	total, ref := s.colTotal, s.ncols-1
	switch {
	case col == colRef:
		return bytes.Compare(st.refBytes(x), st.refBytes(y))
	case col == colStatus:
		return strings.Compare(model.Status(st.strs[x.status]).Label(), model.Status(st.strs[y.status]).Label())
	case col == colDate:
		return cmp.Compare(x.created, y.created)
	case col == total:
		return st.compareAmounts(x.total, y.total)
	case col == ref:
		return bytes.Compare(st.referenceBytes(x), st.referenceBytes(y))
	}
	return st.compareAmounts(st.amountAt(a, col-colAmounts), st.amountAt(b, col-colAmounts))
}

func (s *ordersScreen) compareSummaries(x, y *model.OrderSummary, col int) int {
	total, ref := s.colTotal, s.ncols-1
	switch {
	case col == colRef:
		return strings.Compare(x.Ref, y.Ref)
	case col == colStatus:
		return strings.Compare(x.Status.Label(), y.Status.Label())
	case col == colDate:
		return x.Created.Compare(y.Created)
	case col == total:
		return x.Total.Amount.Cmp(y.Total.Amount)
	case col == ref:
		return strings.Compare(x.Reference, y.Reference)
	}
	i := col - colAmounts
	var ax, ay model.Money
	if i < len(x.Amounts) {
		ax = x.Amounts[i]
	}
	if i < len(y.Amounts) {
		ay = y.Amounts[i]
	}
	return ax.Amount.Cmp(ay.Amount)
}

// refilter applies the filter to the sorted index and keeps the selected
// order selected when it is still shown. A query that contains the one the
// view was built for only narrows the view (typing on): each row matching
// it matches the shorter one too.
func (s *ordersScreen) refilter(sel int) {
	q := strings.ToLower(strings.TrimSpace(s.filter.Value()))
	switch {
	case q == "":
		s.view = s.order
	case s.viewOK && s.viewQ != "" && strings.Contains(q, s.viewQ):
		s.view = s.filterRows(s.view, q)
	default:
		s.view = s.filterRows(s.order, q)
	}
	s.viewQ, s.viewOK = q, true
	cur := -1
	if sel >= 0 {
		cur = slices.Index(s.view, sel)
	}
	s.measureView()
	s.table.SetSource(ordersView{s})
	if cur >= 0 {
		s.table.SetCursor(cur)
	}
}

// filterRows is the rows of from that match the lower-cased filter q.
func (s *ordersScreen) filterRows(from []int, q string) []int {
	out := make([]int, 0, len(from)/4)
	m := s.matcher(q)
	for _, i := range from {
		if m.matches(i) {
			out = append(out, i)
		}
	}
	return out
}

// measureView finds what the table sizes its columns by: the widest status
// cell shown, and whether every date shown is a day without a time.
func (s *ordersScreen) measureView() {
	s.widestStatus, s.dayOnly = 0, true
	s.measureRows(s.view)
}

// measureRows takes rows into the view's measures.
func (s *ordersScreen) measureRows(rows []int) {
	seen := map[string]bool{}
	for _, i := range rows {
		r := &s.rows.rows[i]
		s.dayOnly = s.dayOnly && r.flags&rowDayCell != 0
		c := s.rows.statusCell(i)
		if !seen[c] {
			seen[c] = true
			s.widestStatus = max(s.widestStatus, ansi.StringWidth(c))
		}
	}
}

// ordersView is the table's RowSource: the filtered, sorted rows, each
// formatted when the table draws it.
type ordersView struct{ s *ordersScreen }

func (v ordersView) Len() int             { return len(v.s.view) }
func (v ordersView) Cells(i int) []string { return v.s.formatRow(v.s.view[i]) }
func (v ordersView) DayOnly(int) bool     { return v.s.dayOnly }

func (v ordersView) Widest(col int) int {
	if col == colStatus {
		return v.s.widestStatus
	}
	return 0
}

// selectedIndex is the index in all of the selected row, or -1.
func (s *ordersScreen) selectedIndex() int {
	c := s.table.Cursor()
	if c < 0 || c >= len(s.view) {
		return -1
	}
	return s.view[c]
}

func (s *ordersScreen) selected() *model.OrderSummary {
	if i := s.selectedIndex(); i >= 0 {
		o := s.rows.summary(i)
		return &o
	}
	return nil
}

func (s *ordersScreen) markSort() {
	arrow := " ▲"
	if s.sortDesc {
		arrow = " ▼"
	}
	s.table.SetMark(s.sortCol, arrow)
}

func (s *ordersScreen) key(msg tea.KeyMsg) tea.Cmd {
	switch {
	case s.filtering:
		return s.filterKey(msg)
	case s.ranging:
		cmd, _ := typeInto(&s.rangeIn, s.actions(), msg)
		return cmd
	case s.table.Update(msg):
		return s.maybeMore()
	}
	cmd, _ := runAction(s.actions(), msg)
	return cmd
}

// actions are the list's keys, in the order help lists them; while the
// filter or the range prompt is open, enter and esc close it and every
// other key is typed.
func (s *ordersScreen) actions() []action {
	k := s.c.Keys
	switch {
	case s.filtering:
		return []action{
			{key: relabel(k.Enter, "keep filter"), run: do(s.keepFilter)},
			{key: relabel(k.Back, "clear"), run: do(s.clearFilter)},
		}
	case s.ranging:
		return []action{
			{key: relabel(k.Enter, "set range"), run: do(s.applyRange)},
			{key: relabel(k.Back, "cancel"), run: do(s.cancelRange)},
		}
	}
	ranged := func() bool { return s.caps.OrderRange }
	older, newer := s.stepKeys()
	return []action{
		{key: k.Enter, run: do(s.open)},
		{key: k.Filter, run: do(s.startFilter)},
		{key: k.Back, shown: never, enabled: func() bool { return s.filter.Value() != "" }, run: do(s.clearFilter)},
		{key: k.Sort, run: do(s.nextSort)},
		{key: k.SortFlip, run: do(s.flipSort)},
		{key: k.Goto, run: do(func() tea.Cmd { return s.push(newSearchScreen(s.c, s.provider)) })}, // search.go
		{key: older, enabled: ranged, run: do(s.earlier)},
		{key: newer, enabled: ranged, run: do(s.later)},
		{key: k.Refresh, run: do(s.refresh)},
		{key: k.Copy, run: do(s.copySelected)},
		// After the older keys: the footer keeps its order.
		{key: k.SetRange, enabled: ranged, run: do(s.openRange)},
		{key: k.RangeToNow, enabled: ranged, run: do(s.rangeToNow)},
	}
}

func (s *ordersScreen) Help() []key.Binding { return actionHelp(s.actions()) }

// open is enter: the selected order.
func (s *ordersScreen) open() tea.Cmd {
	if o := s.selected(); o != nil {
		return s.push(newOrderScreen(s.c, s.provider, o.ID))
	}
	return nil
}

func (s *ordersScreen) copySelected() tea.Cmd {
	if o := s.selected(); o != nil {
		return copyRef(s.c, o.Ref)
	}
	return nil
}

func (s *ordersScreen) nextSort() tea.Cmd {
	// Only columns on screen: a sort by a column the width left out would
	// reorder the rows with no arrow anywhere to say by what.
	for range s.ncols {
		if s.sortCol = (s.sortCol + 1) % s.ncols; s.table.Shown(s.sortCol) {
			break
		}
	}
	// Dates and amounts read best largest first, text A to Z.
	s.sortDesc = s.sortCol == colDate || (s.sortCol >= colAmounts && s.sortCol <= s.colTotal)
	s.markSort()
	s.resort()
	return nil
}

func (s *ordersScreen) flipSort() tea.Cmd {
	s.sortDesc = !s.sortDesc
	s.markSort()
	s.resort()
	return nil
}

// refresh is r: the default range is brought up to now, and the loaded
// rows stay until the new first page arrives.
func (s *ordersScreen) refresh() tea.Cmd {
	if s.caps.OrderRange && !s.rangeMoved {
		s.to = s.c.Now()
		s.from = s.to.Add(-rangeStep)
	}
	return s.reload(true)
}

func (s *ordersScreen) startFilter() tea.Cmd {
	s.filtering = true
	s.enrichFilter()
	return s.filter.Focus()
}

// keepFilter is enter in the filter: the rows stay filtered.
func (s *ordersScreen) keepFilter() tea.Cmd {
	s.filtering = false
	s.filter.Blur()
	return nil
}

// clearFilter is esc in the filter, or on a filtered list.
func (s *ordersScreen) clearFilter() tea.Cmd {
	s.keepFilter()
	s.filter.SetValue("")
	s.extra = filterExtra{} // gathered again at the next /
	s.refilter(s.selectedIndex())
	return nil
}

func (s *ordersScreen) filterKey(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyUp, tea.KeyDown, tea.KeyPgUp, tea.KeyPgDown: // not k and j: they are typed
		s.table.Update(msg)
		return s.maybeMore()
	}
	cmd, changed := typeInto(&s.filter, s.actions(), msg)
	if changed {
		s.refilter(s.selectedIndex())
	}
	return cmd
}

// typeInto runs the prompt's actions (enter, esc) or types msg into in;
// changed reports whether the text changed.
func typeInto(in *textinput.Model, actions []action, msg tea.KeyMsg) (cmd tea.Cmd, changed bool) {
	if cmd, ok := runAction(actions, msg); ok {
		return cmd, false
	}
	before := in.Value()
	*in, cmd = in.Update(msg)
	return cmd, in.Value() != before
}

func (s *ordersScreen) View() string {
	st := s.c.Styles
	var b strings.Builder
	b.WriteString(s.titleLine())
	b.WriteByte('\n')
	b.WriteString(s.promptLine())
	b.WriteByte('\n')
	switch {
	case !s.loaded && s.err != nil:
		b.WriteString(st.StatusErr.Render("✗ Could not load orders.") + "\n\n" + wrapText(DescribeError(s.err), s.width) +
			"\n\n" + st.Faint.Render("r tries again; g opens an order by its ref."))
	case !s.loaded && s.throttled:
		b.WriteString(st.Faint.Render("Waiting for the request budget to load orders…"))
	case !s.loaded:
		b.WriteString(s.spin.View() + " Loading orders…")
	case s.rows.Len() == 0:
		b.WriteString(st.Faint.Render(s.emptyText()))
	case len(s.view) == 0:
		b.WriteString(st.Faint.Render("No loaded order matches “" + safetext.Line(s.filter.Value()) + "”. esc clears the filter."))
		if s.next != "" {
			b.WriteString("\n" + st.Faint.Render("More orders are not loaded yet: clear the filter and scroll, or g opens any order by ref."))
		}
	default:
		b.WriteString(s.table.View())
	}
	return b.String()
}

func (s *ordersScreen) emptyText() string {
	if s.caps.OrderRange {
		return "No orders between " + s.from.Format("2006-01-02") + " and " + s.to.Format("2006-01-02") +
			". [ looks 30 days earlier; g opens an order by its ref."
	}
	return "No orders. g opens an order by its ref."
}

// titleLine: "Orders  2026-10-23 → 2026-11-22 · 200 loaded, more · Date ▼" and,
// on the right, what is loading.
func (s *ordersScreen) titleLine() string {
	st := s.c.Styles
	// The breadcrumb above already says "Orders": this line says which.
	var parts []string
	if s.caps.OrderRange {
		parts = append(parts, st.Title.Render(s.from.Format("2006-01-02")+" → "+s.to.Format("2006-01-02")))
	}
	if s.loaded {
		n := strconv.Itoa(s.rows.Len()) + " loaded"
		if s.next != "" {
			n += ", more"
		}
		parts = append(parts, st.Faint.Render(n))
	}
	left := strings.Join(parts, st.Faint.Render(" · "))
	right := ""
	switch {
	case s.throttled && s.loaded:
		right = st.Faint.Render("throttled: waiting for budget")
	case s.reloading:
		right = st.Faint.Render(s.spin.View() + " reloading…")
	case s.loading && s.loaded:
		right = st.Faint.Render("loading more…")
	case s.loaded && s.err != nil:
		right = st.StatusErr.Render("✗ page failed (r)")
	case s.loaded:
		right = st.Faint.Render("updated " + fmtAgo(s.c.Now(), s.loadedAt))
	}
	return spread(left, right, s.width)
}

func (s *ordersScreen) promptLine() string {
	st := s.c.Styles
	switch {
	case s.ranging:
		return s.rangeIn.View()
	case s.filtering:
		return s.filter.View() + st.Faint.Render("  "+s.matchCount())
	case s.filter.Value() != "":
		return st.Bold.Render("/ ") + safetext.Truncate(s.filter.Value(), 40) + st.Faint.Render("  "+s.matchCount()+" · esc clears")
	}
	return ""
}

func (s *ordersScreen) matchCount() string {
	return strconv.Itoa(len(s.view)) + " of " + strconv.Itoa(s.rows.Len())
}
