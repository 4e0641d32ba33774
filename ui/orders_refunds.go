package ui

import "paydesk/model"

// The Refunds column of a list whose rows say nothing of refunds: Forage's
// Order Report says "succeeded" for an order refunded since, while the
// order's own screen says "partly refunded" (issue: one screen, one truth).
// The column says what a full read of the order found, through the
// provider's own memory of orders opened (the row's status) or the order
// index (orders read by the agent or the indexer), and "—" for an order
// no one has read: never a guess from the report.

// Refund states as the column shows them; a dozen bytes for every row.
const (
	refundsNone    = "none"
	refundsPart    = "part"
	refundsAll     = "all"
	refundsUnknown = "—"
)

// refundCell is the Refunds cell of o.
func (s *ordersScreen) refundCell(o *model.OrderSummary) string {
	if w := refundWord(o.Status); w != "" {
		return w // the provider filled the row from the order it read
	}
	ix, pid, acct, ok := s.indexed()
	if !ok {
		return refundsUnknown
	}
	in, ok := ix.Lookup(pid, acct, o.ID)
	if !ok || !in.Detailed {
		return refundsUnknown
	}
	if w := refundWord(in.Status); w != "" {
		return w
	}
	return refundsNone
}

// refundWord is the refund state a status states outright, or "".
func refundWord(st model.Status) string {
	switch st {
	case model.StatusPartlyRefunded:
		return refundsPart
	case model.StatusRefunded:
		return refundsAll
	}
	return ""
}
