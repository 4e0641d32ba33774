package index

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"paydesk/model"
)

// TestReadsFormatV1: an index file written by the first format (a 72-byte
// entry per order, testdata/orders-v1.idx: one Forage order read in full
// and one Moyasar list row) still loads, with everything search and the
// list use, and is written back in the current format. Rebuilding it
// instead would cost a Forage merchant's 90 days three requests an order
// inside 900 per 5 minutes.
func TestReadsFormatV1(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "orders-v1.idx"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	const moyasarID = "6c4b0d54-1e1a-4b2f-9d0e-1f2a3b4c5d6e"
	check := func(ix *Index, when string) {
		t.Helper()
		ix.Register("forage", "acct")
		ix.Register("moyasar", "m")
		if ix.Len() != 2 {
			t.Fatalf("%s: %d orders, want 2", when, ix.Len())
		}
		h := ix.Search("pay0001")
		if len(h) != 1 || h[0].ID != "a1b2c3d4e5" || h[0].Field != FieldPayment || h[0].Status != model.StatusPartlyRefunded ||
			!h[0].Total.Amount.Equal(usd("47.44").Amount) || h[0].Total.Currency != "USD" ||
			!h[0].Created.Equal(time.Date(2026, 10, 9, 15, 0, 0, 0, time.UTC)) {
			t.Fatalf("%s: search by payment ref: %+v", when, h)
		}
		if h := ix.Search("ref0001"); len(h) != 1 || h[0].Field != FieldRefund {
			t.Fatalf("%s: search by refund ref: %+v", when, h)
		}
		in, ok := ix.Lookup("forage", "acct", "a1b2c3d4e5")
		if !ok || !in.Detailed || in.Last4 != "4242" || in.External != "GRC-2026-889360" || in.CustomerID != "cust-77" {
			t.Fatalf("%s: forage order: %+v %v", when, in, ok)
		}
		in, ok = ix.Lookup("moyasar", "m", moyasarID)
		if !ok || in.Detailed || in.Last4 != "0007" || in.Status != model.StatusPartlyRefunded ||
			in.Total.Currency != "SAR" || !in.Total.Amount.Equal(usd("12.50").Amount) ||
			!in.Created.Equal(time.Date(2026, 10, 30, 8, 15, 0, 0, time.UTC)) {
			t.Fatalf("%s: moyasar order: %+v %v", when, in, ok)
		}
		if h := ix.Search("0007 12.50"); len(h) != 1 || h[0].ID != moyasarID {
			t.Fatalf("%s: search by card and amount: %+v", when, h)
		}
		if ix.NeedsDetail("forage", "acct", "a1b2c3d4e5") || !ix.NeedsDetail("moyasar", "m", moyasarID) {
			t.Fatalf("%s: which orders were read in full is lost", when)
		}
		if !ix.DayDone("forage", "acct", Day(time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC))) {
			t.Fatalf("%s: covered day lost", when)
		}
	}
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	check(ix, "read from v1")
	// A change makes it save, in the current format.
	ix.MarkDay("forage", "acct", Day(time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)))
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".bad")); err == nil {
		t.Fatal("the v1 file was set aside as unreadable")
	}
	again, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	check(again, "saved again and reread")
}
