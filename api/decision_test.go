package api_test

import (
	"fmt"
	"strings"
	"testing"

	"paydesk/api"
)

// TestDecide is the retry rule as a table, in the manner of stripe-go's
// TestShouldRetry: every answer class against a read, a replayable
// (keyed) change and a change the provider cannot recognise as a repeat,
// each with and without an earlier attempt that may have reached the
// provider. The table is printed with -v.
func TestDecide(t *testing.T) {
	const (
		S = api.Succeeded
		R = api.Retry
		F = api.Refresh
		D = api.Definite
		U = api.Unknown
	)
	type row struct {
		name       string
		happened   api.Happened
		status     int
		canRefresh bool
		// want by column: read, keyed change, unkeyed change; each first
		// with no earlier attempt that may have happened, then with one.
		want [6]api.Decision
	}
	ans := func(name string, status int, want [6]api.Decision) row {
		return row{name: name, happened: api.Answered, status: status, want: want}
	}
	var (
		definite = [6]api.Decision{D, D, D, U, D, U}
		again    = [6]api.Decision{R, R, R, R, U, U}
		redirect = [6]api.Decision{D, D, U, U, U, U}
		success  = [6]api.Decision{S, S, S, S, S, S}
	)
	rows := []row{
		{name: "not sent (refused, DNS)", happened: api.NotSent, want: [6]api.Decision{R, R, R, R, R, U}},
		{name: "lost (reset, timeout, half body)", happened: api.Lost, want: again},
		ans("200", 200, success), ans("201", 201, success), ans("204", 204, success),
		ans("301", 301, redirect), ans("302", 302, redirect), ans("303", 303, redirect),
		ans("307", 307, redirect), ans("308", 308, redirect),
		ans("400", 400, definite),
		ans("401 static key", 401, [6]api.Decision{D, D, U, U, U, U}),
		{name: "401 token, refresh unused", happened: api.Answered, status: 401, canRefresh: true,
			want: [6]api.Decision{F, F, F, F, U, U}},
		ans("403", 403, definite), ans("404", 404, definite), ans("422", 422, definite),
		ans("409", 409, again), ans("429", 429, again),
		ans("500", 500, again), ans("502", 502, again), ans("503", 503, again), ans("504", 504, again),
	}
	kinds := []struct {
		name                 string
		mutating, replayable bool
	}{{"read", false, false}, {"keyed change", true, true}, {"unkeyed change", true, false}}

	var table strings.Builder
	fmt.Fprintf(&table, "%-34s %-19s %-19s %-19s\n", "attempt \\ request (earlier: no/yes)", "read", "keyed change", "unkeyed change")
	for _, r := range rows {
		fmt.Fprintf(&table, "%-34s", r.name)
		for k, kind := range kinds {
			var cell []string
			for e, earlier := range []bool{false, true} {
				got := api.Decide(api.Attempt{
					Happened: r.happened, Status: r.status,
					Mutating: kind.mutating, Replayable: kind.replayable,
					EarlierMayHaveHappened: earlier, CanRefresh: r.canRefresh,
				})
				if want := r.want[2*k+e]; got != want {
					t.Errorf("%s, %s, earlier=%v: got %v, want %v", r.name, kind.name, earlier, got, want)
				}
				cell = append(cell, got.String())
			}
			fmt.Fprintf(&table, " %-19s", strings.Join(cell, "/"))
		}
		table.WriteString("\n")
	}
	t.Log("\n" + table.String())
}

// TestDecideNeverResendsUnkeyedChange checks the money rule over every
// status: once an attempt of a change the provider cannot recognise may
// have reached it, the answer is never Retry or Refresh.
func TestDecideNeverResendsUnkeyedChange(t *testing.T) {
	for status := 100; status < 700; status++ {
		for _, h := range []api.Happened{api.NotSent, api.Lost, api.Answered} {
			for _, earlier := range []bool{false, true} {
				for _, refresh := range []bool{false, true} {
					a := api.Attempt{Happened: h, Status: status, Mutating: true, Replayable: false,
						EarlierMayHaveHappened: earlier, CanRefresh: refresh}
					d := api.Decide(a)
					mayHave := earlier || h != api.NotSent
					if mayHave && (d == api.Retry || d == api.Refresh) {
						t.Fatalf("%+v: %v re-sends a change that may have happened", a, d)
					}
					if h == api.Answered && status >= 300 && status < 400 && d != api.Unknown {
						t.Fatalf("%+v: %v, want unknown for a redirect of a change", a, d)
					}
				}
			}
		}
	}
}
