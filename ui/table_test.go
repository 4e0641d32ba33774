package ui

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"

	"paydesk/model"
)

func testTable(rows int) *Table {
	c := &Context{Styles: testStyles(), Keys: DefaultKeys(false)}
	t := NewTable(c, []Column{
		{Title: "Ref", Width: 10},
		{Title: "Name", Width: 10, Min: 4, Flex: true},
		{Title: "Amount", Width: 8, Min: 6, Right: true},
		{Title: "Date", Width: 16, Min: 11, TrimLeft: true},
	})
	rs := make([][]string, rows)
	for i := range rs {
		rs[i] = []string{"r" + strconv.Itoa(i), "name " + strconv.Itoa(i), strconv.Itoa(i) + ".00", "2026-11-20 14:03"}
	}
	t.SetRows(rs)
	return t
}

func TestTableLayoutAbsorbsSlackAndShrinks(t *testing.T) {
	tb := testTable(3)
	tb.SetSize(80, 5)
	// 80 - marker 2 - 3 separators = 75; fixed 10+8+16 = 34; flex gets 41.
	if got := tb.widths; got[1] != 41 || got[0] != 10 || got[2] != 8 || got[3] != 16 {
		t.Fatalf("widths at 80: %v", got)
	}
	tb.SetSize(40, 5)
	// 40-2-3 = 35: Date 16→11, Amount 8→6, then the flex column 10→8.
	if got := tb.widths; got[3] != 11 || got[2] != 6 || got[1] != 8 {
		t.Fatalf("widths at 40: %v", got)
	}
	for _, l := range strings.Split(tb.View(), "\n") {
		if w := lipgloss.Width(l); w != 40 {
			t.Errorf("line %q is %d wide", l, w)
		}
	}
	if !strings.Contains(tb.View(), "11-20 14:03") || strings.Contains(tb.View(), "2026-11-20") {
		t.Fatalf("the date did not give up its year first:\n%s", tb.View())
	}
}

func TestTableRendersOnlyTheWindow(t *testing.T) {
	tb := testTable(100_000)
	tb.SetSize(80, 10)
	v := tb.View()
	if n := len(strings.Split(v, "\n")); n != 11 {
		t.Fatalf("%d lines for 10 rows + header", n)
	}
	if !strings.HasPrefix(strings.Split(v, "\n")[1], "▸ r0 ") {
		t.Fatalf("the cursor row has no marker:\n%s", v)
	}
	tb.Update(keyMsg("end"))
	v = tb.View()
	lines := strings.Split(v, "\n")
	if !strings.HasPrefix(lines[10], "▸ r99999 ") || !strings.Contains(lines[1], "r99990 ") {
		t.Fatalf("end did not scroll to the last window:\n%s", v)
	}
	if len(tb.cache) > 8*10 || len(tb.plain) > 8*10 {
		t.Fatalf("line caches grew to %d/%d", len(tb.cache), len(tb.plain))
	}
	tb.Update(keyMsg("home"))
	tb.Update(keyMsg("pgdown"))
	if tb.Cursor() != 10 {
		t.Fatalf("pgdown: cursor %d", tb.Cursor())
	}
	tb.Update(keyMsg("jjj"))
	if tb.Cursor() != 13 {
		t.Fatalf("jjj in one message: cursor %d", tb.Cursor())
	}
	tb.Update(keyMsg("k"))
	if tb.Cursor() != 12 {
		t.Fatalf("k: cursor %d", tb.Cursor())
	}
	tb.SetRows(tb.src.(sliceRows)[:5])
	if tb.Cursor() != 4 {
		t.Fatalf("cursor not clamped when rows shrink: %d", tb.Cursor())
	}
}

func TestTableCellsAreSafeAndAligned(t *testing.T) {
	tb := testTable(0)
	tb.SetRows([][]string{{"\x1b]52;c;ZXZpbA==\x07ab", "a\u202eb", "12.50", "x"}})
	tb.SetSize(60, 3)
	v := tb.View()
	if strings.ContainsAny(v, "\x1b\a\u202e") {
		t.Fatalf("control characters reached the view: %q", v)
	}
	if !strings.Contains(v, "   12.50 ") {
		t.Fatalf("money is not right-aligned: %q", v)
	}
}

func TestFitIDKeepsBothEnds(t *testing.T) {
	if got := fitID("01a1fabc-a348-7a7a-828a-c41d85c3ca8b", 13); got != "01a1fa…c3ca8b" {
		t.Fatalf("fitID: %q", got)
	}
	if got := fitID("short", 13); got != "short" {
		t.Fatalf("fitID short: %q", got)
	}
	if got := fitID("has spaces in it all along", 10); !strings.HasSuffix(got, "…") || lipgloss.Width(got) != 10 {
		t.Fatalf("fitID text: %q", got)
	}
}

func TestFormat(t *testing.T) {
	now := time.Date(2026, 11, 20, 14, 3, 30, 0, time.UTC)
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{0, "just now"}, {3 * time.Second, "3s ago"}, {4 * time.Minute, "4m ago"}, {5 * time.Hour, "5h ago"}, {72 * time.Hour, "3d ago"}, {-time.Minute, "just now"}} {
		if got := fmtAgo(now, now.Add(-c.d)); got != c.want {
			t.Errorf("fmtAgo(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	if got := fmtDate(now); got != "2026-11-20 14:03" {
		t.Errorf("fmtDate = %q", got)
	}
	if got := fmtDate(time.Time{}); got != "—" {
		t.Errorf("fmtDate(zero) = %q", got)
	}
}

func TestSortArrowSurvivesANarrowColumn(t *testing.T) {
	tb := testTable(1)
	tb.SetSize(40, 3)
	tb.SetMark(2, " ▼")
	h := strings.Split(tb.View(), "\n")[0]
	// The sorted column's title keeps its words beside the arrow: the
	// flex column gives the room.
	if !strings.Contains(h, "Amount ▼") {
		t.Fatalf("header %q lost its arrow or its title's words", h)
	}
}

// TestTableKeepsWhatTellsRowsApart: external ids keep their tail, statuses
// shorten to forms that still read, ids keep the 6 characters the
// confirmation asks for, dates are whole or short (never a digit lost), and
// a column dropped at narrow widths leaves the rest whole.
func TestTableKeepsWhatTellsRowsApart(t *testing.T) {
	c := &Context{Styles: testStyles(), Keys: DefaultKeys(false)}
	tb := NewTable(c, []Column{
		{Title: "Ref", Width: 36, Min: 10, TrimMiddle: true, ShrinkFirst: true},
		{Title: "Status", Width: 17, Min: 11, Abbrev: true},
		{Title: "Date", Width: 16, Min: 11, Date: true},
		{Title: "Total", Width: 14, Min: 12, Right: true},
		{Title: "External id", Width: 16, Min: 8, Flex: true, TrimHead: true, Optional: true},
	})
	tb.SetRows([][]string{
		{"01a03ca3-e0c0-7d55-ac1d-12b498dbaef5", statusCell(model.StatusPartlyRefunded), "2026-11-20 14:03", "7.805 KWD", "GRC-2026-571676"},
		{"01a03ca3-e0c0-7d55-ac1d-12b498c2eb81", statusCell(model.StatusRequiresAction), "2026-11-19 09:00", "1.000 KWD", "GRC-2026-094171"},
	})
	tb.SetSize(61, 5)
	v := tb.View()
	for _, want := range []string{"dbaef5", "c2eb81", "◑ part refd", "○ needs act", "…026-571676", "…026-094171", "11-20 14:03", "External id"} {
		if !strings.Contains(v, want) {
			t.Errorf("at 61 columns %q is missing:\n%s", want, v)
		}
	}
	if strings.Contains(v, "026-11") || strings.Contains(v, "6-11-20") {
		t.Errorf("a date lost digits:\n%s", v)
	}
	// One column less and "External id" cannot be read whole: the column
	// gives way instead of showing "External …", and the others have its
	// room (full statuses, whole dates).
	tb.SetSize(60, 5)
	v = tb.View()
	if strings.Contains(v, "External") || strings.Contains(v, "…26-") {
		t.Errorf("at 60 columns a column narrower than its title is shown:\n%s", v)
	}
	for _, want := range []string{"dbaef5", "◑ partly refunded", "2026-11-20 14:03", "7.805 KWD"} {
		if !strings.Contains(v, want) {
			t.Errorf("at 60 columns %q is missing:\n%s", want, v)
		}
	}
	tb.SetSize(120, 5)
	v = tb.View()
	for _, want := range []string{"2026-11-20 14:03", "◑ partly refunded", "GRC-2026-571676"} {
		if !strings.Contains(v, want) {
			t.Errorf("at 120 columns %q is missing:\n%s", want, v)
		}
	}
	tb.SetSize(56, 5)
	v = tb.View()
	if strings.Contains(v, "External") || !strings.Contains(v, "7.805 KWD") {
		t.Errorf("at 56 columns the optional column should go, the rest stay:\n%s", v)
	}
	for _, l := range strings.Split(v, "\n") {
		if w := lipgloss.Width(l); w > 56 {
			t.Errorf("%d wide: %q", w, l)
		}
	}
	if w := lipgloss.Width(strings.Split(v, "\n")[0]); w > 56 {
		t.Errorf("%d wide at 56", w)
	}
	// Two tables on one screen share one date format.
	tb.SetShortDates(true)
	tb.SetSize(120, 5)
	if v := tb.View(); !strings.Contains(v, "11-20 14:03") || strings.Contains(v, "2026-11-20") {
		t.Errorf("short dates were asked for:\n%s", v)
	}
}
