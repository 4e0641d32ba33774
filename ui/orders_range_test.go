package ui

import (
	"strings"
	"testing"
	"time"
)

func TestParseRange(t *testing.T) {
	now := time.Date(2026, 11, 20, 14, 3, 0, 0, time.UTC)
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	for in, want := range map[string][2]time.Time{
		"7":                     {now.AddDate(0, 0, -7), now},
		"90d":                   {now.AddDate(0, 0, -90), now},
		"2026-10-03":            {day("2026-10-03"), day("2026-10-04").Add(-time.Second)},
		"2026-10-15 2026-10-01": {day("2026-10-01"), day("2026-10-16").Add(-time.Second)},
		"2026-11-20":            {day("2026-11-20"), now},
	} {
		from, to, err := parseRange(in, now)
		if err != nil || !from.Equal(want[0]) || !to.Equal(want[1]) {
			t.Errorf("parseRange(%q) = %v, %v, %v; want %v, %v", in, from, to, err, want[0], want[1])
		}
	}
	for _, in := range []string{"", "0", "400", "yesterday", "2026-13-01", "2027-01-01", "2025-01-01 2026-11-01", "1 2 3"} {
		if _, _, err := parseRange(in, now); err == nil || !strings.HasPrefix(err.Error(), "range: ") {
			t.Errorf("parseRange(%q) err = %v, want one naming the range and its rule", in, err)
		}
	}
}

// TestDateJumps: d sets the range directly, a bad one keeps the prompt and
// what was typed, t goes back to the last 30 days in one key.
func TestDateJumps(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	s := h.run(100, 30, harnessOpts{})
	s.waitText("2026-10-21 → 2026-11-20")
	s.keys("d")
	s.waitText("Range:")
	s.typeText("yesterday")
	s.keys("enter")
	v := s.waitText("is not a date like 2026-10-03")
	if !strings.Contains(v, "Range: yesterday") {
		t.Fatalf("the prompt lost what was typed:\n%s", v)
	}
	for range len("yesterday") {
		s.keys("backspace")
	}
	s.typeText("2026-09-14")
	s.keys("enter")
	v = s.waitText("2026-09-14 → 2026-09-14")
	if !strings.Contains(v, "[ a day earlier") {
		t.Fatalf("the help does not say [ moves by the range's length:\n%s", v)
	}
	s.keys("[")
	s.waitText("2026-09-13 → 2026-09-14") // [ moves by the range's own length (one day)
	s.keys("t")
	s.waitText("2026-10-21 → 2026-11-20")
	s.keys("d")
	s.typeText("90")
	s.keys("enter")
	s.waitText("2026-08-22 → 2026-11-20")
}

// TestRangeEscDropsItsError: esc in the range prompt puts the range back
// as it was, so the error about what was typed in it goes too: left on the
// status line it stayed through sorting and refreshing, as if about them.
func TestRangeEscDropsItsError(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	s := h.run(100, 30, harnessOpts{})
	s.waitText("2026-10-21 → 2026-11-20")
	s.keys("d")
	s.waitText("Range:")
	s.typeText("abc")
	s.keys("enter")
	s.waitText(`range: "abc" is not a date`)
	s.keys("esc")
	s.waitFor("the range error to go with the prompt", func(v string) bool {
		return !strings.Contains(v, "Range:") && !strings.Contains(v, "is not a date")
	})
}
