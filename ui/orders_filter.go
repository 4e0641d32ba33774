package ui

import (
	"strings"

	"paydesk/model"
)

// The orders list's / filter (README, "Finding an order"): a row matches
// when the typed text, ignoring case, is part of anything the row shows
// (ref, status in words and the provider's own status word, date, every
// amount column, total with its currency, the reference column) or of the
// order id, the total's plain amount and currency code, and, where the
// order index knows them, the customer id, the card's last four digits and
// the external order id.

// filterHay is the text a row is matched against: what it shows, and the
// fields behind it.
func filterHay(o *model.OrderSummary, cells []string) string {
	var b strings.Builder
	for _, c := range cells {
		b.WriteString(c)
		b.WriteByte(0)
	}
	b.WriteString(string(o.Status))
	b.WriteByte(0)
	b.WriteString(o.ProviderStatus)
	b.WriteByte(0)
	b.WriteString(o.ID)
	b.WriteByte(0)
	if o.Total.Currency != "" {
		b.WriteString(o.Total.Amount.String()) // "47.4" matches 47.40 too
		b.WriteByte(0)
		b.WriteString(o.Total.Currency)
	}
	return strings.ToLower(b.String())
}

// enrichFilter gathers, once per / (not per keystroke), what the order
// index has learnt about the loaded rows since they were listed: customer
// id, last four, external id. Only rows with something to add take room.
func (s *ordersScreen) enrichFilter() {
	s.extra = nil
	ix := s.c.Index
	if ix == nil {
		return
	}
	p := s.prov()
	acct, ok := ix.Account(p.ID())
	if !ok {
		return
	}
	for i := range s.all {
		in, ok := ix.Lookup(p.ID(), acct, s.all[i].ID)
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
func (s *ordersScreen) matches(i int, q string) bool {
	if strings.Contains(s.hay[i], q) {
		return true
	}
	x, ok := s.extra[i]
	return ok && strings.Contains(x, q)
}
