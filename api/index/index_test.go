package index

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"paydesk/model"
)

func usd(s string) model.Money {
	return model.Money{Amount: decimal.RequireFromString(s), Currency: "USD"}
}

// mustOpen opens the index kept in dir, failing the test if it cannot.
func mustOpen(t testing.TB, dir string) *Index {
	t.Helper()
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// reopen closes ix, which writes it, and opens its directory again as the
// console's next start would, so a test can check what a reload keeps.
func reopen(t testing.TB, ix *Index) *Index {
	t.Helper()
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	return mustOpen(t, ix.dir)
}

func sampleOrder() *model.Order {
	t0 := time.Date(2026, 10, 9, 15, 0, 0, 0, time.UTC)
	return &model.Order{
		Provider: "forage", ID: "a1b2c3d4e5", Ref: "a1b2c3d4e5", Status: model.StatusPartlyRefunded,
		Currency: "USD", Total: usd("47.44"), CustomerID: "cust-77", ExternalOrderID: "GRC-2026-889360",
		Metadata: model.Metadata{"note": "secret value"},
		Payments: []model.Payment{{ID: "pay0001", Created: t0, Amount: usd("47.44"),
			Receipt: &model.Receipt{RefNumber: "RRN123456", Last4: "4242"}}},
		Refunds: []model.Refund{{ID: "ref0001", PaymentID: "pay0001"}},
	}
}

// TestSearchFindsEveryField: each kind of thing a customer reads out finds
// the order and says which field matched.
func TestSearchFindsEveryField(t *testing.T) {
	ix := New()
	ix.Register("forage", "acct")
	ix.AddOrder("acct", sampleOrder())
	for q, want := range map[string]Field{
		"a1b2c3d4e5":      FieldRef,
		"grc-2026-889360": FieldExternal,
		"CUST-77":         FieldCustomer,
		"pay0001":         FieldPayment,
		"RRN123456":       FieldPayment,
		"ref0001":         FieldRefund,
		"4242 47.44":      FieldCardAmount,
		"47.44 4242":      FieldCardAmount,
	} {
		hits := ix.Search(q)
		if len(hits) != 1 || hits[0].ID != "a1b2c3d4e5" || hits[0].Field != want || hits[0].Provider != "forage" {
			t.Errorf("Search(%q) = %+v, want the order by %s", q, hits, want)
		}
	}
	for _, q := range []string{"4242 47.45", "4243 47.44", "secret value", "note", "nothing"} {
		if hits := ix.Search(q); len(hits) != 0 {
			t.Errorf("Search(%q) = %+v, want nothing", q, hits)
		}
	}
	if got := ix.Search("4242 47.44")[0].Created; !got.Equal(time.Date(2026, 10, 9, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("Created = %v, want the payment's date (Forage orders carry none)", got)
	}
}

// TestSearchOnlyRegisteredAccounts: orders of an account this process does
// not read (the sandbox's, in a shared state dir) never answer.
func TestSearchOnlyRegisteredAccounts(t *testing.T) {
	ix := New()
	ix.Register("forage", "live")
	ix.AddOrder("sandbox", sampleOrder())
	if hits := ix.Search("GRC-2026-889360"); len(hits) != 0 {
		t.Fatalf("found %+v from an account not registered", hits)
	}
}

func TestSummaryReferenceKinds(t *testing.T) {
	ix := New()
	ix.Register("moyasar", "")
	ix.Register("digitalriver", "")
	ix.AddSummary("", &model.OrderSummary{Provider: "moyasar", ID: "0192-a", Total: model.Money{Amount: decimal.New(1999, -2), Currency: "SAR"},
		Reference: "•••• 0001 mada"}, RefCard)
	ix.AddSummary("", &model.OrderSummary{Provider: "digitalriver", ID: "240001", Reference: "UP-42"}, RefExternal)
	if h := ix.Search("0001 19.99"); len(h) != 1 || h[0].Provider != "moyasar" {
		t.Errorf("card+amount from a Moyasar row: %+v", h)
	}
	if h := ix.Search("up-42"); len(h) != 1 || h[0].Field != FieldExternal {
		t.Errorf("upstream id from a Digital River row: %+v", h)
	}
}

// TestPersistOwnerOnly: the index survives a restart in a 0600 file in a
// 0700 directory, and a damaged file is set aside rather than trusted.
func TestPersistOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ix := mustOpen(t, dir)
	ix.Register("forage", "acct")
	ix.AddOrder("acct", sampleOrder())
	ix.MarkDay("forage", "acct", Day(time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC)))
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, FileName): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	if contains(raw, "secret value") {
		t.Error("the index file holds a metadata value")
	}

	again := mustOpen(t, dir)
	again.Register("forage", "acct")
	if h := again.Search("pay0001"); len(h) != 1 || h[0].Ref != "a1b2c3d4e5" {
		t.Fatalf("after reopening: %+v", h)
	}
	if !again.DayDone("forage", "acct", Day(time.Date(2026, 10, 9, 12, 0, 0, 0, time.UTC))) {
		t.Error("covered day forgotten")
	}
	// A new string after reload must not collide with loaded ones.
	again.AddSummary("acct", &model.OrderSummary{Provider: "forage", ID: "zz99", Reference: "EXT-NEW"}, RefExternal)
	if h := again.Search("EXT-NEW"); len(h) != 1 || h[0].ID != "zz99" {
		t.Fatalf("new after reload: %+v", h)
	}

	if err := os.WriteFile(filepath.Join(dir, FileName), raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	broken := mustOpen(t, dir)
	if broken.Len() != 0 {
		t.Errorf("a truncated file loaded %d orders", broken.Len())
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".bad")); err != nil {
		t.Errorf("truncated file not set aside: %v", err)
	}
}

func contains(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

// TestReadAgainReplacesRefs: an order read again after a refund shows the
// new refund and its new status; ChangedSince names it for the list.
func TestReadAgainReplacesRefs(t *testing.T) {
	ix := New()
	ix.Register("forage", "")
	o := sampleOrder()
	ix.AddOrder("", o)
	seq := ix.Seq()
	o.Refunds = append(o.Refunds, model.Refund{ID: "ref0002"})
	o.Status = model.StatusRefunded
	ix.AddOrder("", o)
	if h := ix.Search("ref0002"); len(h) != 1 || h[0].Status != model.StatusRefunded {
		t.Fatalf("second refund: %+v", h)
	}
	if h := ix.Search("ref0001"); len(h) != 1 {
		t.Fatalf("first refund lost: %+v", h)
	}
	ch := ix.ChangedSince("forage", "", seq)
	if ch["a1b2c3d4e5"] != model.StatusRefunded || len(ch) != 1 {
		t.Fatalf("ChangedSince = %v", ch)
	}
}

func TestParseCardAmount(t *testing.T) {
	for q, ok := range map[string]bool{
		"4242 47.44": true, "47.44 4242": true, "4242 47": true, "4242 4700": true,
		"4242": false, "42 47.44": false, "4242 -1": false, "4242 1e3": false, "a242 47.44": false,
	} {
		if _, _, got := ParseCardAmount(q); got != ok {
			t.Errorf("ParseCardAmount(%q) ok = %v, want %v", q, got, ok)
		}
	}
}

// TestReportRowKeepsRefundState: Forage's Order Report says "succeeded" for
// an order that was refunded since, so a report row does not undo the
// refund state a full read recorded; a row of a provider whose list does
// carry refund state (AddSummary) still replaces it.
func TestReportRowKeepsRefundState(t *testing.T) {
	ix := New()
	ix.Register("forage", "")
	ix.AddOrder("", sampleOrder()) // partly refunded
	row := &model.OrderSummary{Provider: "forage", ID: "a1b2c3d4e5", Ref: "a1b2c3d4e5", Status: model.StatusSucceeded, Total: usd("47.44")}
	ix.AddReportRow("", row, RefExternal)
	if in, _ := ix.Lookup("forage", "", "a1b2c3d4e5"); in.Status != model.StatusPartlyRefunded || !in.Detailed {
		t.Fatalf("after a report row: %+v, want the read's partly refunded kept", in)
	}
	row.Status = model.StatusFailed
	ix.AddReportRow("", row, RefExternal)
	if in, _ := ix.Lookup("forage", "", "a1b2c3d4e5"); in.Status != model.StatusFailed {
		t.Fatalf("a report row that is not succeeded: %+v, want failed", in)
	}
	ix.AddOrder("", sampleOrder())
	row.Status = model.StatusSucceeded
	ix.AddSummary("", row, RefExternal)
	if in, _ := ix.Lookup("forage", "", "a1b2c3d4e5"); in.Status != model.StatusSucceeded {
		t.Fatalf("a list row that carries refund state: %+v, want succeeded", in)
	}
}
