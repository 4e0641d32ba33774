package ui

import (
	"bytes"
	"strings"
	"time"

	"paydesk/api/index"
	"paydesk/model"
)

// The orders list's / filter (README, "Finding an order"): a row matches
// when the typed text, ignoring case, is part of anything the row shows
// (ref, status, date, every amount column, the total with its currency,
// the reference column), of the provider's own status word or the order
// id, and, where the order index knows them, of the customer id, the
// card's last four digits and the external order id.

// enrichFilter gathers, once per / (not per keystroke), what the order
// index has learnt about the loaded rows since they were listed: customer
// id, last four, external id, lower-cased, in one arena (a map of strings
// would cost about 100 bytes a row once the indexer has read every order).
// A filter cleared drops it.
func (s *ordersScreen) enrichFilter() {
	s.extra = filterExtra{}
	ix, pid, acct, ok := s.indexed()
	if !ok {
		return
	}
	text, off := ix.FilterText(pid, acct, s.rows.Len(), s.rows.idAt)
	if len(text) > 0 {
		s.extra = filterExtra{off: off, text: text}
	}
	s.viewOK = false // what rows match may have grown
}

// filterExtra is what the order index adds to each loaded row for the
// filter: row i's text is text[off[i]:off[i+1]].
type filterExtra struct {
	off  []uint32
	text []byte
}

func (x *filterExtra) at(i int) []byte {
	if i+1 >= len(x.off) {
		return nil // a row loaded after the filter opened
	}
	return x.text[x.off[i]:x.off[i+1]]
}

// rowMatcher matches loaded rows against one lower-cased filter. It reads
// each row's shown text off the compact row (orders_mem.go), one cell at a
// time into a reused buffer, so a keystroke over 100k rows formats no
// strings: keeping the formatted or lower-cased text of every row for the
// filter would cost 100 to 200 bytes a row.
type rowMatcher struct {
	s      *ordersScreen
	q      string
	buf    []byte
	dates  bool            // q could be part of a date cell
	refund bool            // q could be part of a Refunds cell
	status map[uint32]bool // the status cell and words of a pair of statuses match
}

func (s *ordersScreen) matcher(q string) *rowMatcher {
	m := &rowMatcher{s: s, q: q, buf: make([]byte, 0, 64), status: map[uint32]bool{}}
	m.dates = strings.Contains("—", q) || strings.Trim(q, "0123456789-: ") == ""
	if s.colRefunds >= 0 {
		for _, w := range []string{refundsNone, refundsPart, refundsAll, refundsUnknown} {
			m.refund = m.refund || strings.Contains(w, q)
		}
	}
	return m
}

// matches reports whether loaded row i matches: the cells the table draws
// for it (orders.go formatRow), its status words, its id, and what the
// order index adds.
func (m *rowMatcher) matches(i int) bool {
	s, q := m.s, m.q
	st := &s.rows
	r := &st.rows[i]
	if x := s.extra.at(i); len(x) > 0 && containsFold(x, q) {
		return true
	}
	if r.flags&rowSpilled != 0 {
		o := st.spill[i]
		if containsFold(o.ID, q) {
			return true
		}
		for _, c := range s.formatSummary(o) {
			if containsFold(c, q) {
				return true
			}
		}
		return containsFold(string(o.Status), q) || containsFold(o.ProviderStatus, q)
	}
	// Packed text is clean (safetext.IsClean): orDash would return it as is.
	if containsFold(st.idBytes(r), q) || containsFold(dashBytes(st.refBytes(r)), q) ||
		containsFold(m.reference(st.referenceBytes(r)), q) {
		return true
	}
	k := uint32(r.status)<<16 | uint32(r.provStatus)
	hit, ok := m.status[k]
	if !ok {
		hit = containsFold(st.statusCell(i), q) || containsFold(st.strs[r.status], q) || containsFold(st.strs[r.provStatus], q)
		m.status[k] = hit
	}
	if hit {
		return true
	}
	if m.dates && containsFold(m.date(r), q) {
		return true
	}
	if m.refund && containsFold(s.refundCellAt(i), q) {
		return true
	}
	for k := range s.caps.AmountColumns {
		b := m.buf[:0]
		if k < int(r.nAmts) {
			b = m.amount(b, st.amts[int(r.amts)+k], false)
		} else {
			b = append(b, "—"...)
		}
		if containsFold(b, q) {
			return true
		}
	}
	return containsFold(m.amount(m.buf[:0], r.total, true), q)
}

// date writes row r's Date cell (dateCell) into the buffer.
func (m *rowMatcher) date(r *listRow) []byte {
	b := m.buf[:0]
	switch {
	case r.flags&rowZeroTime != 0:
		b = append(b, "—"...)
	case r.flags&rowDateOnly != 0:
		b = time.Unix(0, r.created).In(m.s.rows.locs[r.loc]).AppendFormat(b, "2006-01-02")
	default:
		b = time.Unix(0, r.created).In(m.s.rows.locs[r.loc]).AppendFormat(b, dateLayout)
	}
	m.buf = b
	return b
}

// amount writes a as fmtAmount (or, withCurrency, fmtMoney) draws it.
func (m *rowMatcher) amount(b []byte, a storedAmount, withCurrency bool) []byte {
	cur := m.s.rows.strs[a.cur()]
	if cur == "" { // packed only when empty (orders_mem.go storeAmount)
		b = append(b, "—"...)
	} else {
		places, _ := model.Exponent(cur)
		b = appendFixed(b, a, places)
		if withCurrency {
			b = append(append(b, ' '), cur...)
		}
	}
	m.buf = b
	return b
}

// reference writes the Reference cell (orDash(shortBrands(ref))) of a
// clean reference into the buffer when shortBrands would change it, and
// otherwise returns it as is: no allocation either way.
func (m *rowMatcher) reference(ref []byte) []byte {
	b := m.buf[:0]
	i := bytes.LastIndexByte(ref, ' ')
	tail := ref[i+1:]
	if !isASCII(tail) { // Unicode case folding: as shortBrands does it
		b = append(b, dash(shortBrands(string(ref)))...)
		m.buf = b
		return b
	}
	var low [len("american_express")]byte
	code, ok := "", false
	if len(tail) <= len(low) {
		for k := 0; k < len(tail); k++ {
			c := tail[k]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			low[k] = c
		}
		code, ok = brandCodes[string(low[:len(tail)])]
	}
	if !ok {
		b = append(b, dashBytes(ref)...)
	} else {
		head := ref[:i+1]
		if j := bytes.Index(head, []byte("•••• ")); j >= 0 {
			b = append(append(append(b, head[:j]...), "••"...), head[j+len("•••• "):]...)
		} else {
			b = append(b, head...)
		}
		b = append(b, code...)
	}
	m.buf = b
	return b
}

func dash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

var dashText = []byte("—")

func dashBytes(b []byte) []byte {
	if len(b) == 0 {
		return dashText
	}
	return b
}

// containsFold reports whether lower-case q occurs in s, ignoring ASCII
// case, without allocating (a keystroke runs it over every loaded row).
// Non-ASCII bytes compare exactly.
func containsFold[T string | []byte](s T, q string) bool {
	n := len(q)
	if n == 0 {
		return true
	}
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != q[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}

// indexed is the order index and the provider and account this list's
// orders are kept under in it; ok is false when no index is kept.
func (s *ordersScreen) indexed() (ix *index.Index, provider, account string, ok bool) {
	if ix = s.c.Index; ix == nil {
		return nil, "", "", false
	}
	provider = s.prov().ID()
	account, ok = ix.Account(provider)
	return ix, provider, account, ok
}
