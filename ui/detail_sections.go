package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"

	"paydesk/model"
	"paydesk/model/safetext"
)

// refundColumns are the columns of a refunds table; withPayment adds the
// payment column (the order screen), a payment's own list leaves it out.
func refundColumns(withPayment bool) []Column {
	cols := []Column{{Title: "Ref", Width: 12, Min: 10, TrimMiddle: true, ShrinkFirst: true}}
	if withPayment {
		cols = append(cols, Column{Title: "Payment", Width: 12, Min: 10, TrimMiddle: true, ShrinkFirst: true, Optional: true})
	}
	return append(cols,
		Column{Title: "Amount", Width: 10, Min: 9, Right: true},
		Column{Title: "Status", Width: 17, Min: 11, Abbrev: true},
		Column{Title: "Reason", Width: 14, Min: 6, Flex: true},
		Column{Title: "Updated", Width: 16, Min: 11, Date: true})
}

// errorLines shows a last processing error, or that there is none.
func errorLines(st *Styles, e *model.ProcessingError, w int) []string {
	if e == nil {
		return []string{st.Faint.Render("  none")}
	}
	line := safetext.Line(e.Code)
	switch {
	case line == "":
		line = safetext.Line(e.Message)
	case e.Message != "":
		line += ": " + safetext.Line(e.Message)
	}
	// Wrapped, not cut: the end of the message says what to do next.
	wrapped := strings.Split(wrapText(line, max(w-4, 20)), "\n")
	out := make([]string, len(wrapped))
	for i, l := range wrapped {
		lead := "    "
		if i == 0 {
			lead = "  " + st.Bad.Render("✗ ")
		}
		out[i] = lead + strings.TrimRight(l, " ")
	}
	return out
}

// metadataLines shows metadata as key/value rows, keys sorted.
func metadataLines(st *Styles, md model.Metadata, total, w int) []string {
	out := []string{st.Bold.Render("Metadata (" + strconv.Itoa(len(md)) + ")")}
	if note := model.MetadataNote(len(md), total); note != "" {
		out = append(out, st.StatusWarn.Render(safetext.Truncate("  ⚠ "+note, max(w, 20))))
	}
	if len(md) == 0 {
		return append(out, st.Faint.Render("  none"))
	}
	kw := 8
	for _, k := range md.Keys() {
		kw = max(kw, lipgloss.Width(safetext.Line(k)))
	}
	kw = min(kw, 24)
	for _, k := range md.Keys() {
		out = append(out, kvRowLine(st, k, md[k], kw, w))
	}
	return out
}

// kvRowLine is "  key   value" with both sides made terminal-safe and cut.
func kvRowLine(st *Styles, k, v string, kw, w int) string {
	ks := safetext.Truncate(k, kw)
	vs := safetext.Truncate(v, max(w-kw-4, 8))
	if v == "" {
		vs = st.Faint.Render("—")
	}
	return "  " + st.Label.Render(padRight(ks, lipgloss.Width(ks), kw)) + "  " + vs
}

// fieldLines lists provider fields in their documented order.
func fieldLines(st *Styles, fields []model.Field, w int) []string {
	if len(fields) == 0 {
		return []string{st.Faint.Render("  none")}
	}
	kw := 8
	for _, f := range fields {
		kw = max(kw, lipgloss.Width(safetext.Line(f.Name)))
	}
	kw = min(kw, 28)
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		out = append(out, kvRowLine(st, f.Name, f.Value, kw, w))
	}
	return out
}

// receiptLines shows what the payment network said; the card is masked to
// its last four digits. What the lines above it already say (the card's
// last 4, the time it was created: last4 and created) is not said again,
// and the EBT amounts show only on a receipt that has them (Forage).
func receiptLines(st *Styles, r *model.Receipt, w int, last4 string, created time.Time) []string {
	out := []string{st.Bold.Render("Receipt")}
	if r == nil {
		return append(out, st.Faint.Render("  none"))
	}
	col := halfCol(w) - 1
	// Pairs as the network groups them; a cell the lines above already
	// show is left out, and a pair with neither cell goes.
	type kv struct{ k, v string }
	var card, when kv
	if r.Last4 != "" && r.Last4 != last4 {
		card = kv{"Card", "•••• " + safetext.Line(r.Last4)}
	}
	if !r.Created.IsZero() && fmtDate(r.Created) != fmtDate(created) {
		when = kv{"Created", fmtDate(r.Created)}
	}
	pairs := [][2]kv{{{"Ref number", orDash(r.RefNumber)}, {"Type", orDash(r.TransactionType)}}, {card, when}}
	ebt := false
	for _, m := range []model.Money{r.SnapAmount, r.CashAmount, r.OtherAmount, r.SalesTax} {
		ebt = ebt || m.Currency != ""
	}
	if ebt {
		pairs = append(pairs, [2]kv{{"SNAP", fmtMoney(r.SnapAmount)}, {"EBT Cash", fmtMoney(r.CashAmount)}},
			[2]kv{{"Other", fmtMoney(r.OtherAmount)}, {"Sales tax", fmtMoney(r.SalesTax)}})
	}
	pairs = append(pairs, [2]kv{{"Voided", yesNo(r.IsVoided)}, {"Message", orDash(r.Message)}})
	for _, p := range pairs {
		switch a, b := p[0], p[1]; {
		case a.k != "" && b.k != "":
			out = append(out, "  "+pair(st, a.k, a.v, b.k, b.v, col))
		case a.k != "":
			out = append(out, "  "+kvCell(st, a.k, a.v, col))
		case b.k != "":
			out = append(out, "  "+kvCell(st, b.k, b.v, col))
		}
	}
	if b := r.Balance; b != nil {
		out = append(out,
			"  "+kvCell(st, "Balance", "SNAP "+fmtMoneyPtr(b.Snap)+" · EBT Cash "+fmtMoneyPtr(b.Cash), w-2),
			"  "+kvCell(st, "Balance at", fmtDate(b.Updated), w-2))
	}
	return out
}

// statusStyle colours a table's status column (col) by the status of the
// item on each row; item is nil past the last row.
func statusStyle[T model.Payment | model.Refund](c *Context, col int, item func(row int) *T) func(row, col int) (lipgloss.Style, bool) {
	return func(row, at int) (lipgloss.Style, bool) {
		it := item(row)
		if at != col || it == nil {
			return lipgloss.Style{}, false
		}
		var st model.Status
		switch v := any(it).(type) {
		case *model.Payment:
			st = v.Status
		case *model.Refund:
			st = v.Status
		}
		return c.Styles.ForStatus(st), true
	}
}
