package ui

import (
	"fmt"
	"strings"
	"time"

	"paydesk/model"
	"paydesk/model/safetext"
)

// dateLayout is how every date in the console reads: "2026-11-20 14:03", in
// the time's own location (providers send UTC; tests run in UTC).
const dateLayout = "2006-01-02 15:04"

// fmtDate formats a time for tables and headers; the zero time is "—".
func fmtDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.Format(dateLayout)
}

// fmtDatePtr is fmtDate for optional times.
func fmtDatePtr(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return fmtDate(*t)
}

// fmtAmount is the bare amount with the currency's decimals ("12.50"), for
// columns whose currency is the same on every row. An amount with no
// currency and no value (a column the provider left empty) is "—".
func fmtAmount(m model.Money) string {
	if m.Currency == "" && m.Amount.IsZero() {
		return "—"
	}
	return safetext.Line(m.Fixed())
}

// fmtMoney is "12.50 USD".
func fmtMoney(m model.Money) string {
	if m.Currency == "" && m.Amount.IsZero() {
		return "—"
	}
	return safetext.Line(m.String())
}

// fmtMoneyPtr is fmtMoney for optional amounts.
func fmtMoneyPtr(m *model.Money) string {
	if m == nil {
		return "—"
	}
	return fmtMoney(*m)
}

// fmtAgo humanises how long ago t was, seen from now: "just now", "3s ago",
// "4m ago", "2h ago", "3d ago". A time in the future (clock skew) reads
// "just now" rather than a negative age.
func fmtAgo(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

// statusCell is "✓ succeeded": the glyph carries the meaning without colour.
func statusCell(s model.Status) string { return s.Glyph() + " " + s.Label() }

// providerStatusCell is statusCell, except where the provider's word is more
// exact than ours: a Moyasar payment "authorized" (held, not captured) is
// requires_action to the model, but "requires action" misleads an agent.
func providerStatusCell(s model.Status, raw string) string {
	if s == model.StatusRequiresAction && strings.EqualFold(raw, "authorized") {
		return s.Glyph() + " authorized"
	}
	return statusCell(s)
}

// brandCodes are the short card brand codes agents know from receipts.
var brandCodes = map[string]string{
	"visa": "VISA", "mastercard": "MC", "master": "MC", "mada": "MADA",
	"amex": "AMEX", "american_express": "AMEX", "americanexpress": "AMEX",
}

// shortBrands turns a masked card with its scheme ("•••• 9027 mastercard")
// into "••9027 MC": a list's Card column then holds the last four and the
// brand whole at 80 columns, where "•••• 3935 v…" lost the brand.
func shortBrands(s string) string {
	i := strings.LastIndexByte(s, ' ')
	if code, ok := brandCodes[strings.ToLower(s[i+1:])]; ok {
		return strings.Replace(s[:i+1], "•••• ", "••", 1) + code
	}
	return s
}

// abbreviations are the short forms of status cells, for a narrow Status
// column (Column.Abbrev): each still reads as what it is, where a cut
// ("partly r…", "requires…") does not.
var abbreviations = map[string]string{
	statusCell(model.StatusPartlyRefunded): "◑ part refd",
	statusCell(model.StatusRequiresAction): "○ needs act",
	statusCell(model.StatusUnknown):        "? unknown",
	statusCell(model.StatusProcessing):     "◔ pending",
	"○ authorized":                         "○ authorzd",
}

// orDash shows "—" for an empty provider value, and makes it terminal-safe.
func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return safetext.Line(s)
}

// padRight pads plain (unstyled) text with spaces to w cells; the caller
// makes sure it is no wider.
func padRight(s string, sw, w int) string {
	if sw >= w {
		return s
	}
	return s + strings.Repeat(" ", w-sw)
}

// padLeft right-aligns plain text in w cells.
func padLeft(s string, sw, w int) string {
	if sw >= w {
		return s
	}
	return strings.Repeat(" ", w-sw) + s
}

// yesNo renders a boolean for a detail row.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// fitID shortens an id to w cells keeping both ends ("01a2034…7c1d"): ids
// ordered by time differ at the start, random ones at the end. Anything
// that is not a plain ASCII word is cut at the end by safetext.Truncate.
func fitID(s string, w int) string {
	if len(s) <= w || w < 3 || !isASCII(s) || strings.ContainsRune(s, ' ') {
		return safetext.Truncate(s, w)
	}
	// The tail keeps at least the 6 characters a confirmation asks for
	// (confirmWord), so the agent reads on the list what they will type.
	tail := max(w-1-(w-1)/2, min(6, w-2))
	return safetext.Line(s[:w-1-tail] + "…" + s[len(s)-tail:])
}

// halfCol is the width of one of two label/value cells side by side (one
// space between them) in w cells: never wider than the body, down to 60.
func halfCol(w int) int { return max((w-1)/2, 26) }

// plural is "1 payment", "2 payments": counts read as words, never "(s)".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// externalIDLabel names the order's external id the way the provider's list
// column does ("Upstream id" at Digital River), so the list and the order
// screen call one thing by one name. A list column that is not an id (a
// card) leaves the neutral "External id".
func externalIDLabel(refColumn string) string {
	if strings.HasSuffix(strings.ToLower(refColumn), " id") {
		return refColumn
	}
	return "External id"
}

// validateAmountInput reads an amount the way an agent types it: ".5" is
// 0.50 and "5." is 5.00 (the model's grammar wants digits on both sides of
// the point); a minus sign gets its own message instead of "must be digits".
func validateAmountInput(v string, refundable model.Money) (model.Money, *model.FieldError) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "-") || strings.HasPrefix(v, "−") {
		return model.Money{}, &model.FieldError{Field: "amount", Rule: "is the amount to give back: type it without a minus sign"}
	}
	if strings.HasPrefix(v, ".") && len(v) > 1 {
		v = "0" + v
	}
	if strings.HasSuffix(v, ".") && len(v) > 1 {
		v = strings.TrimSuffix(v, ".")
	}
	return model.ValidateRefundAmount(v, refundable)
}
