package index

import (
	"strconv"
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
