package index

import (
	"strings"
	"testing"
	"time"

	"paydesk/model"
)

// Two indexes (two hosts) exchanging records: what one read in full is found
// by every field on the other, and an export holds nothing but the record's
// fields (no metadata value).
func TestChangesMergeRoundTrip(t *testing.T) {
	a, b := New(), New()
	a.Register("forage", "acct")
	b.Register("forage", "acct")
	a.AddOrder("acct", sampleOrder())
	recs, upTo := a.Changes(0, nil)
	if len(recs) != 1 || upTo != a.Seq() {
		t.Fatalf("Changes = %d records up to %d (seq %d)", len(recs), upTo, a.Seq())
	}
	r := recs[0]
	if r.Detailed == 0 || r.External != "GRC-2026-889360" || r.Currency != "USD" || r.Amount != 4744 || r.Last4 != "4242" ||
		strings.Join(r.Payments, ",") != "pay0001,RRN123456" || strings.Join(r.Refunds, ",") != "ref0001" {
		t.Fatalf("record %+v", r)
	}
	if strings.Contains(strings.ToLower(fmtRecord(r)), "secret value") {
		t.Fatalf("a metadata value is in the record: %+v", r)
	}
	from, to := b.Merge(recs, nil)
	if to != from || b.Seq() != to {
		t.Fatalf("Merge stamped %d..%d, seq %d", from, to, b.Seq())
	}
	for _, q := range []string{"grc-2026-889360", "cust-77", "pay0001", "ref0001", "4242 47.44"} {
		if hits := b.Search(q); len(hits) != 1 || hits[0].ID != "a1b2c3d4e5" {
			t.Errorf("B Search(%q) = %+v", q, hits)
		}
	}
	if b.NeedsDetail("forage", "acct", "a1b2c3d4e5") {
		t.Error("B would read again an order A read in full")
	}
	// The same record again changes nothing.
	if from, to := b.Merge(recs, nil); to >= from {
		t.Errorf("merging the same record again stamped %d..%d", from, to)
	}
	if got, _ := b.Changes(0, nil); !got[0].Same(&r) {
		t.Errorf("B exports %+v, want %+v", got[0], r)
	}
}

func fmtRecord(r Record) string {
	return strings.Join(append(append([]string{r.Provider, r.Account, r.ID, r.Ref, r.External, r.Customer, r.Status, r.Currency, r.Last4}, r.Payments...), r.Refunds...), " ")
}

// A full read wins over a list row, a later full read over an earlier one;
// a list row never undoes a full read; and on a tie a change not yet pushed
// stays.
func TestMergeKeepsTheBetterRecord(t *testing.T) {
	b := New()
	b.Register("forage", "acct")
	b.AddSummary("acct", &model.OrderSummary{Provider: "forage", ID: "a1b2c3d4e5", Status: model.StatusSucceeded, Total: usd("47.44")}, RefOther)
	full := Record{Provider: "forage", Account: "acct", ID: "a1b2c3d4e5", Ref: "a1b2c3d4e5", Status: "partly_refunded",
		Currency: "USD", Amount: 4744, Detailed: 20000, Payments: []string{"pay1"}, Refunds: []string{"ref1"}}
	b.Merge([]Record{full}, nil)
	if info, _ := b.Lookup("forage", "acct", "a1b2c3d4e5"); !info.Detailed || info.Status != model.StatusPartlyRefunded {
		t.Fatalf("list-only entry not upgraded: %+v", info)
	}
	listRow := Record{Provider: "forage", Account: "acct", ID: "a1b2c3d4e5", Status: "succeeded", Currency: "USD", Amount: 4744}
	b.Merge([]Record{listRow}, nil)
	if len(b.Search("ref1")) != 1 {
		t.Fatal("a list row undid a full read")
	}
	later := full
	later.Detailed, later.Status, later.Refunds = 20001, "refunded", []string{"ref1", "ref2"}
	earlier := full
	earlier.Detailed, earlier.Refunds = 19999, nil
	b.Merge([]Record{later, earlier}, nil)
	if info, _ := b.Lookup("forage", "acct", "a1b2c3d4e5"); info.Status != model.StatusRefunded || len(b.Search("ref2")) != 1 || len(b.Search("ref1")) != 1 {
		t.Fatalf("the later full read did not win: %+v", info)
	}
	// Same read day, different content: taken, unless the local one is
	// unpushed.
	tie := later
	tie.Customer = "cust-9"
	b.Merge([]Record{tie}, func(uint32) bool { return true })
	if len(b.Search("cust-9")) != 0 {
		t.Error("an unpushed local change was overwritten on a tie")
	}
	b.Merge([]Record{tie}, func(uint32) bool { return false })
	if len(b.Search("cust-9")) != 1 {
		t.Error("a pushed entry did not take the shared one on a tie")
	}
}

// Days marked on one host are logged for a syncer once; days merged count
// as done for the indexer and in the coverage.
func TestDaysMarkedAndMerged(t *testing.T) {
	a, b := New(), New()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	today := Day(now)
	a.MarkDay("forage", "acct", today)
	a.MarkDay("forage", "acct", today) // again: logged once
	a.MarkDay("forage", "acct", today-1)
	marks, pos := a.DaysMarked(0)
	if len(marks) != 2 || pos != 2 {
		t.Fatalf("DaysMarked = %+v, %d", marks, pos)
	}
	if more, _ := a.DaysMarked(pos); len(more) != 0 {
		t.Fatalf("nothing new, got %+v", more)
	}
	b.MergeDays(marks)
	if !b.DayDone("forage", "acct", today-1) || b.Coverage("forage", "acct", now, 2) != 1 {
		t.Fatal("days done elsewhere are not done here")
	}
	if again, _ := b.DaysMarked(0); len(again) != 0 {
		t.Fatalf("merged days would be pushed back: %+v", again)
	}
}
