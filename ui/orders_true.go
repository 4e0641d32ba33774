package ui

import (
	"paydesk/api"
	"paydesk/model"
)

// Lists stay true (issue: after a refund, void or cancel the list shows the
// order's new state without r; r refreshes without throwing away the pages
// already loaded).

// syncFromIndex brings loaded rows up to what was read since the list last
// looked: an order refunded, voided or canceled on its screen was read
// again there, through the order index, so the list shows its new status
// when the agent comes back, without a request.
func (s *ordersScreen) syncFromIndex() {
	ix, pid, acct, ok := s.indexed()
	if !ok {
		return
	}
	changed := ix.ChangedSince(pid, acct, s.seenSeq)
	s.seenSeq = ix.Seq()
	touched := false
	for i := range s.rows.rows {
		st, ok := byID(&s.rows, changed, i)
		if !ok || st == "" {
			continue
		}
		// A list whose rows carry neither refunds nor the external id
		// (Forage's report) learns both from the read: the Refunds cell
		// is drawn from the index (orders_refunds.go), so its drawn line
		// goes stale, and the external id is kept.
		learnt := s.colRefunds >= 0
		o := s.rows.summary(i)
		if learnt && o.Reference == "" {
			if in, ok := ix.Lookup(pid, acct, o.ID); ok {
				o.Reference = in.External
			}
		}
		if st == o.Status && !learnt {
			continue
		}
		o.Status = st
		s.rows.set(i, &o)
		touched = true
	}
	if touched {
		s.resort()
	}
}

// markSeen records that the loaded rows are as new as the index now.
func (s *ordersScreen) markSeen() {
	if s.c.Index != nil {
		s.seenSeq = s.c.Index.Seq()
	}
}

// mergeFresh is r's answer: the new first page updates the rows it shares
// with what is loaded and puts new orders on top; the pages loaded beyond
// it stay, and scrolling goes on from where it had got to. It returns the
// cursor of the next page to load.
func (s *ordersScreen) mergeFresh(pg api.OrderPage) string {
	pos := make(map[string]int, len(pg.Orders))
	for k := range pg.Orders {
		pos[pg.Orders[k].ID] = k
	}
	updated := make([]bool, len(pg.Orders))
	changed := false
	for i := range s.rows.rows {
		k, ok := byID(&s.rows, pos, i)
		if !ok {
			continue
		}
		updated[k] = true
		// A row whose Refunds cell says "—" may have been read since: its
		// cell is drawn afresh when the table redraws after resort.
		if old := s.rows.summary(i); !sameSummary(&old, &pg.Orders[k]) || s.colRefunds >= 0 {
			s.rows.set(i, &pg.Orders[k])
			changed = true
		}
	}
	var fresh []model.OrderSummary
	for k := range pg.Orders {
		if !updated[k] {
			fresh = append(fresh, pg.Orders[k])
		}
	}
	if n := len(fresh); n > 0 {
		for k := range fresh {
			s.table.SetColumnWidth(colRef, max(s.table.cols[colRef].Width, min(len(fresh[k].Ref), maxRefWidth)))
		}
		s.rows.prepend(fresh)
		s.extra = filterExtra{}
		// The sorted and filtered indices point n rows further now; the
		// view shares the order's array when nothing is filtered.
		shared := len(s.view) > 0 && len(s.order) > 0 && &s.view[0] == &s.order[0]
		for i := range s.order {
			s.order[i] += n
		}
		if !shared {
			for i := range s.view {
				s.view[i] += n
			}
		}
		changed = true
	}
	s.seen = pos
	if changed {
		s.resort()
	}
	if pg.Next == "" {
		return ""
	}
	return s.keptNext
}

// dropSeen leaves out of a later page the orders r's first page already
// brought (new orders shift a page-numbered list down).
func (s *ordersScreen) dropSeen(orders []model.OrderSummary) []model.OrderSummary {
	if len(s.seen) == 0 {
		return orders
	}
	out := orders[:0:0]
	for _, o := range orders {
		if _, ok := s.seen[o.ID]; !ok {
			out = append(out, o)
		}
	}
	return out
}

func sameSummary(a, b *model.OrderSummary) bool {
	if a.Status != b.Status || a.ProviderStatus != b.ProviderStatus || a.Reference != b.Reference ||
		a.Ref != b.Ref || !a.Created.Equal(b.Created) || !a.Total.Amount.Equal(b.Total.Amount) || len(a.Amounts) != len(b.Amounts) {
		return false
	}
	for i := range a.Amounts {
		if !a.Amounts[i].Amount.Equal(b.Amounts[i].Amount) {
			return false
		}
	}
	return true
}
