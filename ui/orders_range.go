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

func rangeKeys() (set, now key.Binding) {
	return key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "set date range")),
		key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "back to now"))
}

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

// rangeKey handles d and t on the list; ok is false for other keys.
func (s *ordersScreen) rangeKey(msg tea.KeyMsg) (cmd tea.Cmd, ok bool) {
	if !s.caps.OrderRange {
		return nil, false
	}
	switch {
	case key.Matches(msg, s.setRange):
		s.ranging = true
		s.rangeIn.SetValue("")
		return s.rangeIn.Focus(), true
	case key.Matches(msg, s.toNow):
		if !s.rangeMoved {
			return Status("The range already is the last 30 days."), true
		}
		s.to = s.c.Now()
		s.from = s.to.Add(-rangeStep)
		s.rangeMoved = false
		s.stepHelp()
		return s.reload(false), true
	}
	return nil, false
}

// rangeTyping handles keys while the range prompt is open.
func (s *ordersScreen) rangeTyping(msg tea.KeyMsg) tea.Cmd {
	switch msg.Type {
	case tea.KeyEsc:
		s.ranging = false
		s.rangeIn.Blur()
		return nil
	case tea.KeyEnter:
		from, to, err := parseRange(s.rangeIn.Value(), s.c.Now())
		if err != nil {
			return StatusErr(err) // the prompt stays open with what was typed
		}
		s.ranging = false
		s.rangeIn.Blur()
		s.from, s.to = from, to
		s.rangeMoved = true
		s.stepHelp()
		return tea.Batch(Status(""), s.reload(false))
	}
	var cmd tea.Cmd
	s.rangeIn, cmd = s.rangeIn.Update(msg)
	return cmd
}

// span is the range's length: [ and ] move by it.
func (s *ordersScreen) span() time.Duration {
	if d := s.to.Sub(s.from); d > 0 {
		return d
	}
	return rangeStep
}

// stepHelp says how far [ and ] move now: the range's own length.
func (s *ordersScreen) stepHelp() {
	days := int((s.span() + 12*time.Hour) / (24 * time.Hour))
	unit := strconv.Itoa(days) + " days"
	if days <= 1 {
		unit = "a day"
	}
	s.older.SetHelp("[", unit+" earlier")
	s.newer.SetHelp("]", unit+" later")
}
