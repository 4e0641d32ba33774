// Package index is the order index paydesk keeps so an agent can find an
// order from whatever the customer has (an external order id, a payment or
// refund ref from an email, a customer id, a card's last four and an
// amount) across every provider, including the ones that cannot search for
// it themselves (Forage has no search by anything but the order ref).
//
// Every list page and every order read feeds it (Wrap); a background
// Indexer reads the orders it lacks details for within a share of the
// provider's request budget. It holds only what search needs: ids, refs,
// status, amount and currency, customer id, card last four, dates. No
// metadata values, no names, no addresses. It persists in one file with
// owner-only permissions, or, with the team store, in PostgreSQL, shared by
// every host (Changes and Merge, sync.go; the syncer is in api/store/pg).
//
// Memory: strings are kept in one arena, and each order is a 48-byte
// record of string ids and small codes, kept in chunks and found through
// an open-addressed table of uint32; only strings orders share (status,
// currency, customer id) are interned. An order costs about 99 bytes of
// heap with list-row ids of three providers (Forage's ten hex digits and
// external id, Moyasar's UUID, Digital River's) and one in ten read in
// full, of which about 35 are the ids' own text and 9 their offsets; it
// was 151. `go test -bench IndexBytes ./api/index` reports it and
// TestIndexBytesBound keeps it from growing.
package index

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"paydesk/model"
)

// Field names what a search matched.
type Field uint8

const (
	FieldRef Field = iota + 1
	FieldID
	FieldExternal
	FieldCustomer
	FieldPayment
	FieldRefund
	FieldCardAmount
)

func (f Field) String() string {
	switch f {
	case FieldRef:
		return "order ref"
	case FieldID:
		return "order id"
	case FieldExternal:
		return "external order id"
	case FieldCustomer:
		return "customer id"
	case FieldPayment:
		return "payment ref"
	case FieldRefund:
		return "refund ref"
	case FieldCardAmount:
		return "last four + amount"
	}
	return "field"
}

// entry is one order, 48 bytes with no padding (widest field first).
// Strings are ids in the pool; fields with few distinct values are codes
// into small tables (codes.go).
type entry struct {
	Amount  int64 // total in minor units of Cur
	ID, Ref uint32
	Ext     uint32
	Cust    uint32
	RefOff  uint32 // payment refs at refs[RefOff:], then refund refs
	Seq     uint32 // change stamp: ChangedSince
	// Created is Unix seconds, 0 = not known: a uint32 counts seconds to
	// 2106, and only the second is shown or sorted on.
	Created uint32
	Src     uint16 // index into sources
	NPay    uint16
	NRef    uint16
	Last4   uint16 // card's last four: last4Code
	// Detailed is the day (since the epoch, UTC) of the last full read,
	// 0 = never read: only whether it was read is used, and a uint16 of
	// days lasts to 2149.
	Detailed uint16
	Status   uint8 // code in Index.statuses
	Cur      uint8 // code in Index.currencies; 0 = total not known
}

type source struct{ Prov, Acct uint32 }

// Index is safe for concurrent use.
type Index struct {
	mu      sync.RWMutex
	s       *pool
	sources []source
	active  []bool   // sources registered in this process: only they are searched
	rows    rows     // the entries: rows.go
	slots   []uint32 // (src, id) -> entry index + 1: keys.go
	refs    []uint32
	// Codes of the entries' few-valued fields (codes.go).
	statuses, currencies few
	odd4                 oddLast4
	days                 map[uint16]map[int32]bool // days (since the epoch, UTC) fully indexed, per source
	dayLog               []dayMark                 // days MarkDay recorded, in order, for a syncer (sync.go)
	seq                  uint32
	dirty                bool
	dir                  string
	now                  func() time.Time
}

// New is an index kept in memory only (tests, and a console without a state
// directory).
func New() *Index {
	return &Index{s: newPool(), slots: make([]uint32, minSlots), days: map[uint16]map[int32]bool{}, now: time.Now}
}

// Info is what the index knows of one order, for the list's filter.
type Info struct {
	Status     model.Status
	Total      model.Money // zero Currency when not known
	CustomerID string
	Last4      string
	External   string
	Created    time.Time
	Detailed   bool
}

// Hit is one order a search found.
type Hit struct {
	Provider string // provider ID
	ID, Ref  string
	Field    Field
	Matched  string // the value that matched, as stored
	Status   model.Status
	Total    model.Money
	Created  time.Time // zero when not known
}

// An entry names its source in a uint16: past maxSources a new source
// would wrap onto source 0 and file its orders under another account. The
// sources other hosts' records bring (Merge, MergeDays: a table anyone
// with the team store can write) stop ownSources short of it, so this
// host's own accounts always find room.
const (
	maxSources    = math.MaxUint16 + 1
	ownSources    = 256
	mergedSources = maxSources - ownSources
)

// src is the source of provider and account, added unless the index
// already holds limit sources; ok is false when it is not there and there
// is no room.
func (ix *Index) src(provider, account string, limit int) (src uint16, ok bool) {
	p, a := ix.s.find(provider), ix.s.find(account)
	for i, s := range ix.sources {
		if s.Prov == p && s.Acct == a && (p != 0 || provider == "") && (a != 0 || account == "") {
			return uint16(i), true
		}
	}
	if len(ix.sources) >= min(limit, maxSources) {
		return 0, false
	}
	ix.sources = append(ix.sources, source{ix.s.intern(provider), ix.s.intern(account)})
	ix.active = append(ix.active, false)
	return uint16(len(ix.sources) - 1), true
}

// Register says this process reads provider under account: searches look
// only at sources registered here, so an index shared across sandbox and
// live accounts never answers with the other's orders.
func (ix *Index) Register(provider, account string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if src, ok := ix.src(provider, account, maxSources); ok {
		ix.active[src] = true
	}
}

// Account is the account registered for provider in this process ("" and
// false when none is).
func (ix *Index) Account(provider string) (string, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	p := ix.s.find(provider)
	for i, s := range ix.sources {
		if ix.active[i] && s.Prov == p && p != 0 {
			return ix.s.str(s.Acct), true
		}
	}
	return "", false
}

// at returns the entry of an order, creating it.
func (ix *Index) at(src uint16, id string) *entry {
	if k, ok := ix.entryOf(src, id); ok {
		return ix.rows.at(k)
	}
	sid := ix.s.add(id)
	k := ix.rows.add(entry{Src: src, ID: sid, Ref: sid})
	ix.addKey(k)
	return ix.rows.at(k)
}

// own is the string id for a field of e that holds e's own text (a ref,
// an external id): the id it has, or e's ID or Ref, when the text is the
// same, so reading an order again adds nothing to the arena; else s added.
func (ix *Index) own(e *entry, cur uint32, s string) uint32 {
	switch {
	case s == "":
		return 0
	case ix.s.is(cur, s):
		return cur
	case ix.s.is(e.ID, s):
		return e.ID
	case ix.s.is(e.Ref, s):
		return e.Ref
	}
	return ix.s.add(s)
}

func (ix *Index) touch(e *entry) {
	ix.seq++
	e.Seq = ix.seq
	ix.dirty = true
}

func (ix *Index) setMoney(e *entry, m model.Money) {
	if m.Currency == "" {
		return
	}
	minor, err := m.Minor()
	if err != nil {
		return
	}
	if c := ix.currencies.code(ix.s.intern(m.Currency)); c != 0 {
		e.Cur, e.Amount = c, minor
	}
}

// RefKind says what a summary's Reference column holds.
type RefKind uint8

const (
	RefExternal RefKind = iota // an external / upstream order id
	RefCard                    // masked card text: "•••• 0001 mada"
	RefOther                   // something else (not indexed)
)

// AddSummary records one list row.
func (ix *Index) AddSummary(account string, s *model.OrderSummary, kind RefKind) {
	ix.addSummary(account, s, kind, false)
}

// AddReportRow records a list row of a provider whose rows say nothing of
// refunds (Forage's Order Report says "succeeded" for a refunded order): a
// refund state a full read recorded stays, where AddSummary would replace it.
func (ix *Index) AddReportRow(account string, s *model.OrderSummary, kind RefKind) {
	ix.addSummary(account, s, kind, true)
}

func (ix *Index) addSummary(account string, s *model.OrderSummary, kind RefKind, keepRefunds bool) {
	if s.ID == "" {
		return
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	e, ok := ix.readEntry(s.Provider, account, s.ID, s.Ref)
	if !ok {
		return
	}
	was := ix.status(e)
	if !(keepRefunds && e.Detailed != 0 && s.Status == model.StatusSucceeded &&
		(was == model.StatusPartlyRefunded || was == model.StatusRefunded)) {
		ix.setStatus(e, s.Status)
	}
	ix.setMoney(e, s.Total)
	if !s.Created.IsZero() && e.Created == 0 {
		e.Created = stamp(s.Created)
	}
	switch kind {
	case RefExternal:
		if s.Reference != "" {
			e.Ext = ix.own(e, e.Ext, s.Reference)
		}
	case RefCard:
		if l4 := lastFour(s.Reference); l4 != "" {
			e.Last4 = ix.last4Code(l4)
		}
	}
	ix.touch(e)
}

// readEntry is the entry a read of order id at provider and account updates,
// made when new, with ref (when the read has one) as its reference; false
// when the index holds maxSources sources and this is not one of them.
// The caller holds mu.
func (ix *Index) readEntry(provider, account, id, ref string) (*entry, bool) {
	src, ok := ix.src(provider, account, maxSources)
	if !ok {
		return nil, false
	}
	e := ix.at(src, id)
	if ref != "" {
		e.Ref = ix.own(e, e.Ref, ref)
	}
	return e, true
}

// lastFour finds the first run of exactly four digits in masked card text.
func lastFour(s string) string {
	run := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= '0' && s[i] <= '9' {
			run++
			continue
		}
		if run == 4 {
			return s[i-4 : i]
		}
		run = 0
	}
	return ""
}

// AddOrder records an order read in full: its refs, payments and refunds.
func (ix *Index) AddOrder(account string, o *model.Order) {
	if o == nil || o.ID == "" {
		return
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	e, ok := ix.readEntry(o.Provider, account, o.ID, o.Ref)
	if !ok {
		return
	}
	ix.setStatus(e, o.Status)
	ix.setMoney(e, o.Total)
	created := o.Created
	for _, p := range o.Payments { // Forage orders carry no date; their payments do
		if created.IsZero() || (!p.Created.IsZero() && p.Created.Before(created)) {
			created = p.Created
		}
	}
	if !created.IsZero() {
		e.Created = stamp(created)
	}
	ext, cust, last4 := o.ExternalOrderID, o.CustomerID, ""
	var pays, refunds []string
	for i := range o.Payments {
		p := &o.Payments[i]
		ext, cust = cmpOr(ext, p.ExternalOrderID), cmpOr(cust, p.CustomerID)
		if p.Card != nil {
			last4 = cmpOr(last4, p.Card.Last4)
		}
		if p.ID != "" {
			pays = append(pays, p.ID)
		}
		if p.Receipt != nil {
			last4 = cmpOr(last4, p.Receipt.Last4)
			if p.Receipt.RefNumber != "" { // the network's reference (RRN) printed on receipts
				pays = append(pays, p.Receipt.RefNumber)
			}
		}
	}
	for i := range o.Refunds {
		if o.Refunds[i].ID != "" {
			refunds = append(refunds, o.Refunds[i].ID)
		}
	}
	e.Ext, e.Cust = ix.own(e, e.Ext, ext), ix.s.intern(cust)
	if last4 != "" {
		e.Last4 = ix.last4Code(last4)
	}
	ix.setRefs(e, pays, refunds)
	e.Detailed = readDay(ix.now())
	ix.touch(e)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (ix *Index) money(e *entry) model.Money {
	if e.Cur == 0 {
		return model.Money{}
	}
	m, err := model.FromMinor(e.Amount, ix.s.str(ix.currencies.id(e.Cur)))
	if err != nil {
		return model.Money{}
	}
	return m
}

func (ix *Index) hit(e *entry, f Field, matched string) Hit {
	h := Hit{
		Provider: ix.s.str(ix.sources[e.Src].Prov), ID: ix.s.str(e.ID), Ref: ix.s.str(e.Ref),
		Field: f, Matched: matched, Status: ix.status(e), Total: ix.money(e), Created: created(e),
	}
	return h
}

// MaxHits bounds one search's answer (a customer id can match many orders).
const MaxHits = 50

// Search finds orders of the registered sources by an exact value (ignoring
// case) in any field, or by "LAST4 AMOUNT" (either order): a card's last
// four digits and the order's total. Newest first.
func (ix *Index) Search(q string) []Hit {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if l4, amt, ok := ParseCardAmount(q); ok {
		return ix.searchCardAmount(l4, amt)
	}
	ids := ix.s.fold(q)
	if len(ids) == 0 {
		return nil
	}
	// One id is the usual answer: compare with it before any list.
	one, rest := ids[0], ids[1:]
	is := func(x uint32) bool { return x != 0 && (x == one || len(rest) > 0 && slices.Contains(rest, x)) }
	var hits []Hit
	for _, c := range ix.rows.chunks {
		for i := range c {
			e := &c[i]
			if !ix.active[e.Src] {
				continue
			}
			var f Field
			var m uint32
			switch {
			case is(e.Ref):
				f, m = FieldRef, e.Ref
			case is(e.ID):
				f, m = FieldID, e.ID
			case is(e.Ext):
				f, m = FieldExternal, e.Ext
			case is(e.Cust):
				f, m = FieldCustomer, e.Cust
			default:
				r := ix.refs[e.RefOff : e.RefOff+uint32(e.NPay)+uint32(e.NRef)]
				for k, x := range r {
					if is(x) {
						f, m = FieldPayment, x
						if k >= int(e.NPay) {
							f = FieldRefund
						}
						break
					}
				}
			}
			if f != 0 {
				hits = append(hits, ix.hit(e, f, ix.s.str(m)))
			}
		}
	}
	return newest(hits)
}

func newest(hits []Hit) []Hit {
	slices.SortStableFunc(hits, func(a, b Hit) int { return b.Created.Compare(a.Created) })
	return hits[:min(len(hits), MaxHits)]
}

// ParseCardAmount reads "4242 47.44" or "47.44 4242": four digits and an
// amount with a decimal point (or, the other way round, digits that are
// not four long).
func ParseCardAmount(q string) (last4 string, amount decimal.Decimal, ok bool) {
	parts := strings.Fields(q)
	if len(parts) != 2 {
		return "", decimal.Decimal{}, false
	}
	four := func(s string) bool {
		return len(s) == 4 && strings.Trim(s, "0123456789") == ""
	}
	a, b := parts[0], parts[1]
	if !four(a) || (four(b) && !strings.Contains(a, ".")) {
		if !four(b) {
			return "", decimal.Decimal{}, false
		}
		a, b = b, a
	}
	if !four(a) {
		return "", decimal.Decimal{}, false
	}
	if strings.Trim(b, "0123456789.") != "" || strings.Count(b, ".") > 1 || len(b) > 20 {
		return "", decimal.Decimal{}, false
	}
	d, err := decimal.NewFromString(b)
	if err != nil || d.IsNegative() {
		return "", decimal.Decimal{}, false
	}
	return a, d, true
}

// maxMinor is the largest amount in minor units an int64 holds.
var maxMinor = decimal.NewFromInt(math.MaxInt64)

func (ix *Index) searchCardAmount(l4 string, amt decimal.Decimal) []Hit {
	code := ix.findLast4(l4)
	if code == 0 {
		return nil
	}
	// The amount in minor units of each currency that can express it.
	minor := map[uint8]int64{}
	var hits []Hit
	for _, c := range ix.rows.chunks {
		for i := range c {
			if e := &c[i]; e.Last4 == code && e.Cur != 0 && ix.active[e.Src] {
				hits = ix.cardAmountHit(hits, e, amt, minor)
			}
		}
	}
	return newest(hits)
}

// cardAmountHit adds e to hits when its total is amt. minor caches amt in
// minor units per currency code (-1: not expressible).
func (ix *Index) cardAmountHit(hits []Hit, e *entry, amt decimal.Decimal, minor map[uint8]int64) []Hit {
	want, ok := minor[e.Cur]
	if !ok {
		want = -1
		if exp, err := model.Exponent(ix.s.str(ix.currencies.id(e.Cur))); err == nil {
			// IntPart wraps past int64: 2^64+47440 yen would match a
			// 47,440 yen order.
			if sh := amt.Shift(exp); sh.IsInteger() && sh.Cmp(maxMinor) <= 0 {
				want = sh.IntPart()
			}
		}
		minor[e.Cur] = want
	}
	if e.Amount == want {
		hits = append(hits, ix.hit(e, FieldCardAmount, ix.last4(e.Last4)))
	}
	return hits
}

// Lookup returns what the index knows of one order.
func (ix *Index) Lookup(provider, account, id string) (Info, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	e, ok := ix.lookup(provider, account, id)
	if !ok {
		return Info{}, false
	}
	return Info{
		Status: ix.status(e), Total: ix.money(e), CustomerID: ix.s.str(e.Cust),
		Last4: ix.last4(e.Last4), External: ix.s.str(e.Ext), Detailed: e.Detailed != 0, Created: created(e),
	}, true
}

func (ix *Index) lookup(provider, account, id string) (*entry, bool) {
	p, a := ix.s.find(provider), ix.s.find(account)
	if p == 0 || id == "" {
		return nil, false
	}
	for i, s := range ix.sources {
		if s.Prov == p && s.Acct == a {
			if k, ok := ix.entryOf(uint16(i), id); ok {
				return ix.rows.at(k), true
			}
		}
	}
	return nil, false
}

// Seq is the index's change stamp; ChangedSince lists what changed after it.
func (ix *Index) Seq() uint32 {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.seq
}

// ChangedSince lists the orders of provider/account recorded after seq (an
// order read after a refund, say), with their current status.
func (ix *Index) ChangedSince(provider, account string, seq uint32) map[string]model.Status {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if seq >= ix.seq {
		return nil
	}
	p, a := ix.s.find(provider), ix.s.find(account)
	out := map[string]model.Status{}
	for _, c := range ix.rows.chunks {
		for i := range c {
			if e := &c[i]; e.Seq > seq && ix.sources[e.Src] == (source{p, a}) {
				out[ix.s.str(e.ID)] = ix.status(e)
			}
		}
	}
	return out
}

// NeedsDetail reports whether an order has never been read in full.
func (ix *Index) NeedsDetail(provider, account, id string) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	e, ok := ix.lookup(provider, account, id)
	return !ok || e.Detailed == 0
}

// Len is the number of orders indexed (every source).
func (ix *Index) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return ix.rows.len()
}

// Day numbers a UTC calendar day.
func Day(t time.Time) int32 { return int32(t.UTC().Unix() / 86400) }

// DayStart is the first instant of a day.
func DayStart(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// MarkDay records that every order created on day d (UTC) was listed and
// read in full.
func (ix *Index) MarkDay(provider, account string, d int32) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	s, ok := ix.src(provider, account, maxSources)
	if !ok {
		return
	}
	if ix.days[s] == nil {
		ix.days[s] = map[int32]bool{}
	}
	if !ix.days[s][d] {
		ix.dayLog = append(ix.dayLog, dayMark{s, d})
	}
	ix.days[s][d] = true
	ix.dirty = true
}

// DayDone reports whether MarkDay recorded day d.
func (ix *Index) DayDone(provider, account string, d int32) bool {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	p, a := ix.s.find(provider), ix.s.find(account)
	for i, s := range ix.sources {
		if s == (source{p, a}) {
			return ix.days[uint16(i)][d]
		}
	}
	return false
}

// Coverage is the share (0..1) of the days days before now, today
// included, that are fully indexed for provider/account.
func (ix *Index) Coverage(provider, account string, now time.Time, days int) float64 {
	if days <= 0 {
		return 0
	}
	// One lock and one look-up of the source for the whole range: the
	// search screen asks on every render, over up to 730 days.
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	p, a := ix.s.find(provider), ix.s.find(account)
	for i, s := range ix.sources {
		if s != (source{p, a}) {
			continue
		}
		done, today, n := ix.days[uint16(i)], Day(now), 0
		for d := today - int32(days) + 1; d <= today; d++ {
			if done[d] {
				n++
			}
		}
		return float64(n) / float64(days)
	}
	return 0
}

// ActiveCoverage is Coverage over every registered source: the least
// covered one, since a search is only as complete as its weakest provider.
func (ix *Index) ActiveCoverage(now time.Time, days int) float64 {
	ix.mu.RLock()
	var srcs []source
	for i, s := range ix.sources {
		if ix.active[i] {
			srcs = append(srcs, s)
		}
	}
	ix.mu.RUnlock()
	if len(srcs) == 0 {
		return 0
	}
	least := 1.0
	for _, s := range srcs {
		ix.mu.RLock()
		p, a := ix.s.str(s.Prov), ix.s.str(s.Acct)
		ix.mu.RUnlock()
		least = min(least, ix.Coverage(p, a, now, days))
	}
	return least
}

// String is a one-line description for logs and tests.
func (ix *Index) String() string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return fmt.Sprintf("index: %d orders, %d strings (%d bytes), %d refs", ix.rows.len(), ix.s.len()-1, len(ix.s.arena), len(ix.refs))
}
