package index

import (
	"slices"
	"time"

	"paydesk/model"
)

// Sharing the index between hosts (the team store): the index exports the
// orders changed since a change stamp as Records and merges Records read
// elsewhere. Search stays in memory on every host; the shared table is
// persistence and sharing only, so what a record holds is exactly what an
// entry holds (no metadata values, nothing more).
//
// Which of two records of one order wins (Better, and the same rule in the
// database's upsert, api/store/pg/migrations/004_order_index.sql):
//   - one read in full (Detailed != 0) wins over a list row;
//   - of two full reads, the later read day wins;
//   - otherwise (same read day, or both list rows) the later write wins:
//     the database keeps the last push, a host takes what it pulls unless
//     it holds a change of its own not yet pushed (which the database then
//     takes from it).
//
// The winner replaces the whole order, payment and refund refs included:
// a full read lists every payment and refund the order had at that moment,
// and refunds are never taken away, so the newer read's set is the union
// of the two; taking it whole keeps refs, status and amount of one read
// together.

// Record is one order as exported to and merged from outside.
type Record struct {
	Provider, Account, ID string
	Ref, External         string
	Customer              string
	Status                string
	Currency              string // "" when the total is not known
	Amount                int64  // total in minor units of Currency
	Last4                 string
	Created               time.Time // zero when not known
	Detailed              int32     // day (Day) of the last full read, 0 = never read in full
	Payments, Refunds     []string
}

// Better reports whether r should replace old (see the rule above): a
// higher read day, or the same read day and different content.
func (r *Record) Better(old *Record) bool {
	if r.Detailed != old.Detailed {
		return r.Detailed > old.Detailed
	}
	return !r.Same(old)
}

// Same reports whether two records hold the same content.
func (r *Record) Same(o *Record) bool {
	return r.Provider == o.Provider && r.Account == o.Account && r.ID == o.ID && r.Ref == o.Ref &&
		r.External == o.External && r.Customer == o.Customer && r.Status == o.Status &&
		r.Currency == o.Currency && r.Amount == o.Amount && r.Last4 == o.Last4 &&
		r.Created.Equal(o.Created) && r.Detailed == o.Detailed &&
		slices.Equal(r.Payments, o.Payments) && slices.Equal(r.Refunds, o.Refunds)
}

// DayMark is one day marked fully indexed for a provider/account.
type DayMark struct {
	Provider, Account string
	Day               int32
}

func (ix *Index) record(e *entry) Record {
	src := ix.sources[e.Src]
	r := Record{
		Provider: ix.s.str(src.Prov), Account: ix.s.str(src.Acct), ID: ix.s.str(e.ID), Ref: ix.s.str(e.Ref),
		External: ix.s.str(e.Ext), Customer: ix.s.str(e.Cust), Status: string(ix.status(e)),
		Last4: ix.last4(e.Last4), Created: created(e), Detailed: int32(e.Detailed),
	}
	if e.Cur != 0 {
		r.Currency, r.Amount = ix.s.str(ix.currencies.id(e.Cur)), e.Amount
	}
	refs := ix.refs[e.RefOff : e.RefOff+uint32(e.NPay)+uint32(e.NRef)]
	for k, id := range refs {
		if k < int(e.NPay) {
			r.Payments = append(r.Payments, ix.s.str(id))
		} else {
			r.Refunds = append(r.Refunds, ix.s.str(id))
		}
	}
	return r
}

// Changes lists the orders changed after stamp since (Seq) whose stamp
// skip does not reject (a syncer skips what it merged itself), and the
// stamp they go up to: pass it as since next time.
func (ix *Index) Changes(since uint32, skip func(seq uint32) bool) ([]Record, uint32) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if since >= ix.seq {
		return nil, ix.seq
	}
	var out []Record
	for _, c := range ix.rows.chunks {
		for i := range c {
			if e := &c[i]; e.Seq > since && (skip == nil || !skip(e.Seq)) {
				out = append(out, ix.record(e))
			}
		}
	}
	return out, ix.seq
}

// Merge takes records read elsewhere: each one replaces this index's order
// when it is better (Record.Better), except that an order holding a change
// of this host's own that keep says is not yet pushed keeps it on a tie
// (the push makes it the shared one). Orders merged get stamps from..to,
// all of them, with no change of this host's in between (one lock), so a
// syncer can tell them apart from its own changes; to < from when nothing
// changed.
func (ix *Index) Merge(recs []Record, keep func(seq uint32) bool) (from, to uint32) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	from = ix.seq + 1
	for i := range recs {
		r := &recs[i]
		if r.ID == "" || r.Provider == "" || !r.plausible() {
			continue
		}
		src, ok := ix.src(r.Provider, r.Account, mergedSources)
		if !ok {
			continue // no room: kept in the team store, not here
		}
		var e *entry
		if k, ok := ix.entryOf(src, r.ID); ok {
			e = ix.rows.at(k)
			old := ix.record(e)
			if !r.Better(&old) || (r.Detailed == old.Detailed && keep != nil && keep(e.Seq)) {
				continue
			}
		} else {
			e = ix.at(src, r.ID) // new here: made now, not looked up again
		}
		ix.apply(e, r)
	}
	return from, ix.seq
}

// Bounds on a record from outside (the team store's table takes any text):
// no provider's id, ref or customer id comes near them, and an index fed
// megabyte ids by a hostile row would grow without end.
const (
	maxMergedText = 512  // bytes of one id, ref, external or customer id
	maxMergedRefs = 1000 // payment plus refund refs of one order (a provider's list bound)
)

// plausible reports whether r is within the bounds above.
func (r *Record) plausible() bool {
	for _, s := range []string{r.Provider, r.Account, r.ID, r.Ref, r.External, r.Customer, r.Status, r.Currency, r.Last4} {
		if len(s) > maxMergedText {
			return false
		}
	}
	if len(r.Payments)+len(r.Refunds) > maxMergedRefs {
		return false
	}
	for _, refs := range [][]string{r.Payments, r.Refunds} {
		for _, s := range refs {
			if len(s) > maxMergedText {
				return false
			}
		}
	}
	return true
}

// apply writes r's content into e and stamps it.
func (ix *Index) apply(e *entry, r *Record) {
	e.Ref = ix.own(e, e.Ref, cmpOr(r.Ref, r.ID))
	e.Ext = ix.own(e, e.Ext, r.External)
	e.Cust = ix.s.intern(r.Customer)
	// Statuses and currencies are one-byte codes (codes.go), 255 of each:
	// a record's are taken only when they are model's, so junk in the
	// shared table cannot use the codes up for the real ones read later.
	if st := model.Status(r.Status); knownStatus(st) {
		ix.setStatus(e, st)
	} else {
		ix.setStatus(e, model.StatusUnknown)
	}
	e.Cur, e.Amount = 0, 0
	if _, err := model.Exponent(r.Currency); err == nil {
		if c := ix.currencies.code(ix.s.intern(r.Currency)); c != 0 {
			e.Cur, e.Amount = c, r.Amount
		}
	}
	e.Last4 = ix.last4Code(r.Last4)
	e.Created = 0
	if !r.Created.IsZero() {
		e.Created = stamp(r.Created)
	}
	e.Detailed = uint16(min(max(r.Detailed, 0), 0xffff))
	ix.setRefs(e, r.Payments, r.Refunds)
	ix.touch(e)
}

// knownStatus reports whether st is one of model's statuses (or none).
func knownStatus(st model.Status) bool {
	return st == "" || st == model.StatusUnknown || st.Glyph() != "?"
}

// setRefs replaces e's payment and refund refs, reusing the strings it had.
func (ix *Index) setRefs(e *entry, pays, refunds []string) {
	pays, refunds = pays[:min(len(pays), 0xffff)], refunds[:min(len(refunds), 0xffff)]
	old := ix.refs[e.RefOff : e.RefOff+uint32(e.NPay)+uint32(e.NRef)]
	// A ref the order had keeps its string: a refund more adds one string.
	ids := make([]uint32, 0, len(pays)+len(refunds))
	for _, list := range [][]string{pays, refunds} {
		for _, r := range list {
			id := uint32(0)
			for _, x := range old {
				if ix.s.is(x, r) {
					id = x
					break
				}
			}
			if id == 0 {
				id = ix.s.add(r)
			}
			ids = append(ids, id)
		}
	}
	if !slices.Equal(old, ids) || int(e.NPay) != len(pays) { // else unchanged: no garbage in refs
		e.RefOff = uint32(len(ix.refs))
		ix.refs = append(ix.refs, ids...)
	}
	e.NPay, e.NRef = uint16(len(pays)), uint16(len(refunds))
}

// DaysMarked lists the days MarkDay recorded from position pos of its log
// on, and the position to pass next time. Days merged (MergeDays) are not
// in it: they came from outside.
func (ix *Index) DaysMarked(pos int) ([]DayMark, int) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	pos = min(max(pos, 0), len(ix.dayLog))
	out := make([]DayMark, 0, len(ix.dayLog)-pos)
	for _, m := range ix.dayLog[pos:] {
		src := ix.sources[m.src]
		out = append(out, DayMark{Provider: ix.s.str(src.Prov), Account: ix.s.str(src.Acct), Day: m.day})
	}
	return out, len(ix.dayLog)
}

// MergeDays records days marked fully indexed elsewhere: the background
// indexer skips them as if it had done them.
func (ix *Index) MergeDays(marks []DayMark) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, m := range marks {
		s, ok := ix.src(m.Provider, m.Account, mergedSources)
		if !ok {
			continue
		}
		if ix.days[s] == nil {
			ix.days[s] = map[int32]bool{}
		}
		if !ix.days[s][m.Day] {
			ix.days[s][m.Day] = true
			ix.dirty = true
		}
	}
}

// dayMark is an entry of Index.dayLog: a day MarkDay recorded for the first
// time, for a syncer to push.
type dayMark struct {
	src uint16
	day int32
}
