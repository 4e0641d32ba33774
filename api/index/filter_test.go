package index

import (
	"strings"
	"testing"

	"paydesk/model"
)

// FilterText gives, per order, the lower-cased customer id, last four and
// external id Lookup knows, NUL-separated, and nothing for orders the index
// knows nothing of (or does not hold, or holds under another account).
func TestFilterTextIsWhatLookupKnows(t *testing.T) {
	ix := New()
	ix.AddOrder("acct", &model.Order{Provider: "forage", ID: "o1", Ref: "o1", ExternalOrderID: "GRC-Ä-1",
		CustomerID: "CUS_9", Payments: []model.Payment{{ID: "p1", Card: &model.Card{Last4: "4242"}}}})
	ix.AddSummary("acct", &model.OrderSummary{Provider: "forage", ID: "o2", Ref: "o2"}, RefExternal)
	ix.AddOrder("other", &model.Order{Provider: "forage", ID: "o3", Ref: "o3", CustomerID: "CUS_3"})
	ids := []string{"o1", "o2", "o3", "missing", ""}
	text, off := ix.FilterText("forage", "acct", len(ids), func(i int) []byte { return []byte(ids[i]) })
	if len(off) != len(ids)+1 {
		t.Fatalf("%d offsets for %d orders", len(off), len(ids))
	}
	for i, id := range ids {
		got := string(text[off[i]:off[i+1]])
		want := ""
		if in, ok := ix.Lookup("forage", "acct", id); ok && (in.CustomerID != "" || in.Last4 != "" || in.External != "") {
			want = strings.ToLower("\x00" + in.CustomerID + "\x00" + in.Last4 + "\x00" + in.External)
		}
		if got != want {
			t.Errorf("order %q: %q, want %q", id, got, want)
		}
	}
	if string(text[off[0]:off[1]]) != "\x00cus_9\x004242\x00grc-ä-1" {
		t.Fatalf("o1: %q", text[off[0]:off[1]])
	}
}
