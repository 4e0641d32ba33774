package index

import (
	"fmt"
	"testing"

	"paydesk/model"
)

type summary = model.OrderSummary

// TestKeysFindEveryOrder: the open-addressed table finds every order after
// it grew many times and after a reload, and keeps two accounts' orders of
// the same id apart.
func TestKeysFindEveryOrder(t *testing.T) {
	const n = 5000
	dir := t.TempDir()
	ix := mustOpen(t, dir)
	for i := range n {
		for _, acct := range []string{"live", "sandbox"} {
			ix.AddSummary(acct, &summary{Provider: "forage", ID: fmt.Sprintf("%010x", i), Reference: acct + fmt.Sprint(i)}, RefExternal)
		}
	}
	check := func(ix *Index, when string) {
		t.Helper()
		if ix.Len() != 2*n {
			t.Fatalf("%s: %d orders, want %d", when, ix.Len(), 2*n)
		}
		for i := range n {
			for _, acct := range []string{"live", "sandbox"} {
				in, ok := ix.Lookup("forage", acct, fmt.Sprintf("%010x", i))
				if !ok || in.External != acct+fmt.Sprint(i) {
					t.Fatalf("%s: order %d of %s: %+v %v", when, i, acct, in, ok)
				}
			}
		}
		if _, ok := ix.Lookup("forage", "live", "nope"); ok {
			t.Fatalf("%s: an order never added was found", when)
		}
	}
	check(ix, "built")
	again := reopen(t, ix)
	check(again, "reloaded")
	// Adding after the reload grows the loaded table.
	for i := n; i < 2*n; i++ {
		again.AddSummary("live", &summary{Provider: "forage", ID: fmt.Sprintf("%010x", i), Reference: "x"}, RefExternal)
	}
	for i := range 2 * n {
		if _, ok := again.Lookup("forage", "live", fmt.Sprintf("%010x", i)); !ok {
			t.Fatalf("order %d lost after growing a reloaded table", i)
		}
	}
}
