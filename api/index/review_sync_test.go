package index

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"paydesk/model"
)

// TestReviewMergeManySourcesDoNotAlias: a team store holding orders under
// more provider/account pairs than an entry's source field can name (a
// hostile or corrupt table) must not file one of them under another
// source: an order of account "x65536" would then be searched, found and
// shown as one of this host's own provider account.
func TestReviewMergeManySourcesDoNotAlias(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ix.Register("forage", "live")
	recs := make([]Record, 0, 1<<16+1)
	for k := range 1<<16 + 1 {
		recs = append(recs, Record{Provider: "evil", Account: "x" + strconv.Itoa(k), ID: "spoof-" + strconv.Itoa(k)})
	}
	ix.Merge(recs, nil)
	for _, h := range ix.Search("spoof-65535") {
		if h.Provider == "forage" {
			t.Errorf("an order merged for evil/x65535 is found as forage's: %+v", h)
		}
	}
	if _, ok := ix.Lookup("forage", "live", "spoof-65535"); ok {
		t.Error("an order merged for evil/x65535 is looked up as forage/live's")
	}
	// And what it keeps it can save and read back.
	ix.AddSummary("live", &model.OrderSummary{Provider: "forage", ID: "own-1", Ref: "own-1"}, 0)
	if err := ix.Save(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := again.Lookup("forage", "live", "own-1"); !ok {
		t.Errorf("the saved index read back without its own order (%d orders)", again.Len())
	}
}

// TestReviewMergeJunkCodesLeaveRoomForRealOnes: records from the team
// store with statuses no provider maps to and currencies nobody has (a
// hostile or corrupt table) must not use up the 255 status and currency
// codes: a host that pulls them first would then record every real order
// read after as of no status and no total, and find none by last four
// plus amount.
func TestReviewMergeJunkCodesLeaveRoomForRealOnes(t *testing.T) {
	ix := New()
	ix.Register("forage", "acct")
	var recs []Record
	for k := range 300 {
		recs = append(recs, Record{Provider: "forage", Account: "acct", ID: "junk-" + strconv.Itoa(k),
			Status: "st\x1b]52;c;" + strconv.Itoa(k), Currency: "Q" + strconv.Itoa(k), Amount: 100})
	}
	ix.Merge(recs, nil)
	ix.AddOrder("acct", sampleOrder())
	in, ok := ix.Lookup("forage", "acct", "a1b2c3d4e5")
	if !ok || in.Status != model.StatusPartlyRefunded || in.Total.Currency != "USD" {
		t.Errorf("a real order read after junk records: %+v", in)
	}
	if hits := ix.Search("4242 47.44"); len(hits) != 1 {
		t.Errorf("Search by last four and amount after junk records: %+v", hits)
	}
}

// A record from the team store past any provider's sizes (a megabyte id,
// a million refs) is left out, so a hostile row cannot grow every host's
// index without end; plausible ones next to it still merge.
func TestMergeLeavesOutImplausibleRecords(t *testing.T) {
	ix := New()
	ix.Register("forage", "acct")
	huge := strings.Repeat("x", maxMergedText+1)
	many := make([]string, maxMergedRefs+1)
	for i := range many {
		many[i] = fmt.Sprintf("p%d", i)
	}
	ix.Merge([]Record{
		{Provider: "forage", Account: "acct", ID: huge, Status: "succeeded", Detailed: 1},
		{Provider: "forage", Account: "acct", ID: "o-refs", Payments: many, Status: "succeeded", Detailed: 1},
		{Provider: "forage", Account: "acct", ID: "o-ext", External: huge, Status: "succeeded", Detailed: 1},
		{Provider: "forage", Account: "acct", ID: "o-fine", External: "GRC-1", Status: "succeeded", Detailed: 1},
	}, nil)
	if n := ix.Len(); n != 1 {
		t.Fatalf("%d orders merged, want only the plausible one", n)
	}
	if hits := ix.Search("GRC-1"); len(hits) != 1 || hits[0].ID != "o-fine" {
		t.Fatalf("the plausible record: %+v", hits)
	}
}
