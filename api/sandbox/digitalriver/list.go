package digitalriver

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// listQuery is the parsed paging part of a list request.
type listQuery struct {
	limit  int
	after  string // startingAfter
	before string // endingBefore
}

func parseListQuery(q url.Values) (listQuery, *errStatus) {
	lq := listQuery{limit: 10, after: q.Get("startingAfter"), before: q.Get("endingBefore")}
	if v := q.Get("limit"); v != "" || q.Has("limit") {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return lq, badParam("limit", "limit must be an integer from 1 to 100")
		}
		lq.limit = n
	}
	if lq.after != "" && lq.before != "" {
		return lq, badParam("startingAfter", "startingAfter and endingBefore cannot be used together")
	}
	return lq, nil
}

// cursorKey locates an object in a newest-first list.
type cursorKey struct {
	t  time.Time
	id string
}

// page slices the newest-first list all (already filtered) around the cursor.
func page[T any](all []T, key func(T) cursorKey, lq listQuery, cur *cursorKey) ([]T, bool) {
	switch {
	case cur != nil && lq.after != "":
		start := len(all)
		for i, x := range all {
			k := key(x)
			if before(cur.t, cur.id, k.t, k.id) {
				start = i
				break
			}
		}
		rest := all[start:]
		if len(rest) > lq.limit {
			return rest[:lq.limit], true
		}
		return rest, false
	case cur != nil && lq.before != "":
		end := 0
		for i, x := range all {
			k := key(x)
			if !before(k.t, k.id, cur.t, cur.id) {
				break
			}
			end = i + 1
		}
		newer := all[:end]
		if len(newer) > lq.limit {
			return newer[len(newer)-lq.limit:], true
		}
		return newer, false
	}
	if len(all) > lq.limit {
		return all[:lq.limit], true
	}
	return all, false
}

// idsFilter collects ids, ids[], repeated or comma separated.
func idsFilter(q url.Values) map[string]bool { return setFilter(q, "ids") }

// setFilter collects an array filter (name, name[]), repeated or comma
// separated; nil when absent.
func setFilter(q url.Values, name string) map[string]bool {
	var set map[string]bool
	for _, k := range []string{name, name + "[]"} {
		for _, v := range q[k] {
			for _, id := range strings.Split(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					if set == nil {
						set = map[string]bool{}
					}
					set[id] = true
				}
			}
		}
	}
	return set
}

// timeFilter is a createdTime range.
type timeFilter struct {
	checks []func(time.Time) bool
}

func (f timeFilter) ok(t time.Time) bool {
	for _, c := range f.checks {
		if !c(t) {
			return false
		}
	}
	return true
}

func parseTime(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func parseTimeFilter(q url.Values, field string) (timeFilter, *errStatus) {
	var f timeFilter
	ops := map[string]func(t, ref time.Time) bool{
		"":      func(t, ref time.Time) bool { return t.Equal(ref) },
		"[eq]":  func(t, ref time.Time) bool { return t.Equal(ref) },
		"[gt]":  func(t, ref time.Time) bool { return t.After(ref) },
		"[gte]": func(t, ref time.Time) bool { return !t.Before(ref) },
		"[lt]":  func(t, ref time.Time) bool { return t.Before(ref) },
		"[lte]": func(t, ref time.Time) bool { return !t.After(ref) },
	}
	for suffix, op := range ops {
		name := field + suffix
		if !q.Has(name) {
			continue
		}
		ref, ok := parseTime(q.Get(name))
		if !ok {
			return f, badParam(name, name+" must be an ISO-8601 date-time such as 2025-01-31T12:00:00Z")
		}
		op := op
		f.checks = append(f.checks, func(t time.Time) bool { return op(t, ref) })
	}
	return f, nil
}
