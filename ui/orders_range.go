package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Date jumps on the orders list (README, keys): d sets the range directly,
// t brings it back to the default (the last 30 days, ending now); [ and ]
// move it by its own length.

// maxRangeDays bounds a range typed with d: one list over years of orders
// is a job for the order index, not for one list.
const maxRangeDays = 366

// parseRange reads what the agent typed after d, at now:
//
//	7, 30d, 90        the last N days, ending now
//	2026-10-03        that one day
//	2026-10-01 2026-10-15   from the first day to the end of the second
func parseRange(in string, now time.Time) (from, to time.Time, err error) {
	f := strings.Fields(strings.TrimSpace(in))
	day := func(s string) (time.Time, error) {
		t, err := time.ParseInLocation("2006-01-02", s, now.Location())
		if err != nil {
			return time.Time{}, fmt.Errorf("range: %q is not a date like 2026-10-03 or a number of days like 30", s)
		}
		return t, nil
	}
	switch len(f) {
	case 1:
		if n, err := strconv.Atoi(strings.TrimSuffix(f[0], "d")); err == nil {
			if n < 1 || n > maxRangeDays {
				return from, to, fmt.Errorf("range: a number of days from 1 to %d", maxRangeDays)
			}
			return now.AddDate(0, 0, -n), now, nil
		}
		d, err := day(f[0])
		if err != nil {
			return from, to, err
		}
		from, to = d, d.AddDate(0, 0, 1).Add(-time.Second)
	case 2:
		a, err := day(f[0])
		if err != nil {
			return from, to, err
		}
		b, err := day(f[1])
		if err != nil {
			return from, to, err
		}
		if b.Before(a) {
			a, b = b, a
		}
		if b.Sub(a) > maxRangeDays*24*time.Hour {
			return from, to, fmt.Errorf("range: at most %d days", maxRangeDays)
		}
		from, to = a, b.AddDate(0, 0, 1).Add(-time.Second)
	default:
		return from, to, fmt.Errorf("range: a number of days (7, 30, 90), a date (2026-10-03) or two dates")
	}
	if from.After(now) {
		return from, to, fmt.Errorf("range: %s is in the future", from.Format("2006-01-02"))
	}
	if to.After(now) {
		to = now
	}
	return from, to, nil
}

// openRange is d: the range prompt opens empty.
func (s *ordersScreen) openRange() tea.Cmd {
	s.ranging = true
	s.rangeIn.SetValue("")
	return s.rangeIn.Focus()
}

// rangeToNow is t: back to the default range, the last 30 days.
func (s *ordersScreen) rangeToNow() tea.Cmd {
	if !s.rangeMoved {
		return Status("The range already is the last 30 days.")
	}
	s.to = s.c.Now()
	s.from = s.to.Add(-rangeStep)
	s.rangeMoved = false
	return s.reload(false)
}

// earlier is [: the range moves back by its own length.
func (s *ordersScreen) earlier() tea.Cmd {
	s.to, s.from = s.from, s.from.Add(-s.span())
	s.rangeMoved = true
	return s.reload(false)
}

// later is ]: the range moves forward by its own length, and becomes the
// default range again when it would pass now.
func (s *ordersScreen) later() tea.Cmd {
	now := s.c.Now()
	if !s.to.Before(now.Add(-time.Minute)) {
		return Status("The range already ends now.")
	}
	s.from, s.to = s.to, s.to.Add(s.span())
	if s.to.After(now) {
		s.to, s.from = now, now.Add(-rangeStep)
		s.rangeMoved = false
	}
	return s.reload(false)
}

func (s *ordersScreen) closeRange() {
	s.ranging = false
	s.rangeErr = false
	s.rangeIn.Blur()
}

// cancelRange is esc in the range prompt: the range stays as it was, and an
// error about what was typed goes with the prompt (left on the status line,
// it read as if about whatever the agent did next).
func (s *ordersScreen) cancelRange() tea.Cmd {
	erred := s.rangeErr
	s.closeRange()
	if erred {
		return Status("")
	}
	return nil
}

// applyRange is enter in the range prompt; a range that does not parse
// keeps the prompt open with what was typed.
func (s *ordersScreen) applyRange() tea.Cmd {
	from, to, err := parseRange(s.rangeIn.Value(), s.c.Now())
	if err != nil {
		s.rangeErr = true
		return StatusErr(err)
	}
	s.closeRange()
	s.from, s.to = from, to
	s.rangeMoved = true
	return tea.Batch(Status(""), s.reload(false))
}

// span is the range's length: [ and ] move by it.
func (s *ordersScreen) span() time.Duration {
	if d := s.to.Sub(s.from); d > 0 {
		return d
	}
	return rangeStep
}

// stepKeys are [ and ] saying how far they move now: the range's own length.
func (s *ordersScreen) stepKeys() (older, newer key.Binding) {
	days := int((s.span() + 12*time.Hour) / (24 * time.Hour))
	unit := strconv.Itoa(days) + " days"
	if days <= 1 {
		unit = "a day"
	}
	k := s.c.Keys
	return relabel(k.Older, unit+" earlier"), relabel(k.Newer, unit+" later")
}
