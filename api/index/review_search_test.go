package index

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/shopspring/decimal"

	"paydesk/model"
)

// An amount too large for int64 minor units must not wrap around onto a
// real order's amount: "4242 18446744073709599056" is 2^64 + 47,440 yen, and
// finding the 47,440 yen order for it names the wrong order as a card and
// amount match.
func TestReviewCardAmountDoesNotWrap(t *testing.T) {
	ix := New()
	ix.Register("moyasar", "acct")
	o := sampleOrder()
	o.Provider, o.Currency = "moyasar", "JPY"
	o.Total = model.Money{Amount: decimal.NewFromInt(47440), Currency: "JPY"}
	o.Payments[0].Amount = o.Total
	ix.AddOrder("acct", o)
	if hits := ix.Search("4242 47440"); len(hits) != 1 {
		t.Fatalf("the order is not found by its own amount: %+v", hits)
	}
	for _, q := range []string{"4242 18446744073709599056", "18446744073709599056 4242"} {
		if hits := ix.Search(q); len(hits) != 0 {
			t.Errorf("Search(%q) = %+v: an amount of 2^64+47440 matched the 47440 order", q, hits)
		}
	}
}

// Every hostile string from the shared list, as a query, finds nothing and
// does not panic.
func TestReviewHostileQueries(t *testing.T) {
	f, err := os.Open("/work/shared/hostile-strings.jsonl")
	if err != nil {
		t.Skip("no shared hostile strings here:", err)
	}
	defer f.Close()
	ix := New()
	ix.Register("forage", "acct")
	ix.AddOrder("acct", sampleOrder())
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var h struct{ Name, Value string }
		if json.Unmarshal(sc.Bytes(), &h) != nil {
			continue
		}
		if hits := ix.Search(h.Value); len(hits) != 0 {
			t.Errorf("%s: %+v", h.Name, hits)
		}
	}
}
