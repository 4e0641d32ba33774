package ui

import (
	"strings"
	"sync"

	"paydesk/api/index"
)

// The orders list's / filter (README, "Finding an order"): a row matches
// when the typed text, ignoring case, is part of anything the row shows
// (ref, status, date, every amount column, the total with its currency,
// the reference column), of the provider's own status word or the order
// id, and, where the order index knows them, of the customer id, the
// card's last four digits and the external order id.

// enrichFilter gathers, once per / (not per keystroke), what the order
// index has learnt about the loaded rows since they were listed: customer
// id, last four, external id. Only rows with something to add take room.
func (s *ordersScreen) enrichFilter() {
	s.extra = nil
	ix, pid, acct, ok := s.indexed()
	if !ok {
		return
	}
	for i := range s.all {
		in, ok := ix.Lookup(pid, acct, s.all[i].ID)
		if !ok || (in.CustomerID == "" && in.Last4 == "" && in.External == "") {
			continue
		}
		if s.extra == nil {
			s.extra = map[int]string{}
		}
		s.extra[i] = strings.ToLower(in.CustomerID + "\x00" + in.Last4 + "\x00" + in.External)
	}
}

// matches reports whether loaded row i matches the lower-cased filter q.
// It reads the row's own cells and fields in place: keeping a lower-cased
// copy of every row for the filter would cost about 100 bytes a row.
func (s *ordersScreen) matches(i int, q string) bool {
	for _, c := range s.cells[i] {
		if containsFold(c, q) {
			return true
		}
	}
	o := &s.all[i]
	if containsFold(string(o.Status), q) || containsFold(o.ProviderStatus, q) || containsFold(o.ID, q) {
		return true
	}
	x, ok := s.extra[i]
	return ok && strings.Contains(x, q)
}

// containsFold reports whether lower-case q occurs in s, ignoring ASCII
// case, without allocating (a keystroke runs it over every loaded row).
// Non-ASCII bytes compare exactly.
func containsFold(s, q string) bool {
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

// statusCells holds one copy of each status cell text: loaded rows share
// it instead of each holding its own (16 bytes a row at 100k rows). It is
// bounded: status text comes from providers, and a hostile one must not
// grow it without end.
var statusCells = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

func internStatusCell(c string) string {
	statusCells.Lock()
	defer statusCells.Unlock()
	if v, ok := statusCells.m[c]; ok {
		return v
	}
	if len(statusCells.m) < 256 {
		statusCells.m[c] = c
	}
	return c
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
