package index

import (
	"testing"

	"paydesk/model"
)

// TestReadAgainAddsNoStrings: an order's own strings are added, not
// interned, so reading or listing it again must find them through the
// order: nothing new in the arena, and a refund more adds only its ref.
func TestReadAgainAddsNoStrings(t *testing.T) {
	dir := t.TempDir()
	ix := mustOpen(t, dir)
	ix.Register("forage", "acct")
	row := &model.OrderSummary{Provider: "forage", ID: "a1b2c3d4e5", Ref: "a1b2c3d4e5", Status: model.StatusSucceeded,
		Total: usd("47.44"), Reference: "GRC-2026-889360"}
	ix.AddReportRow("acct", row, RefExternal)
	ix.AddOrder("acct", sampleOrder())
	n := ix.s.len()
	for range 3 {
		ix.AddReportRow("acct", row, RefExternal)
		ix.AddOrder("acct", sampleOrder())
	}
	if ix.s.len() != n {
		t.Fatalf("reading the same order again added %d strings", ix.s.len()-n)
	}
	o := sampleOrder()
	o.Refunds = append(o.Refunds, model.Refund{ID: "ref0002"})
	ix.AddOrder("acct", o)
	if ix.s.len() != n+1 {
		t.Fatalf("a refund more added %d strings, want 1", ix.s.len()-n)
	}
	// After a reload the shared strings (customer, status, currency,
	// source) are found again by their text.
	again := reopen(t, ix)
	again.Register("forage", "acct")
	n = again.s.len()
	o2 := sampleOrder()
	o2.ID, o2.Ref, o2.ExternalOrderID = "ffff000011", "ffff000011", ""
	o2.Payments[0].ID, o2.Payments[0].Receipt, o2.Refunds = "", nil, nil
	again.AddOrder("acct", o2) // same customer, status, currency: only its id is new
	if again.s.len() != n+1 {
		t.Fatalf("after reload, an order sharing every other string added %d strings, want 1", again.s.len()-n)
	}
	if h := again.Search("cust-77"); len(h) != 2 {
		t.Fatalf("customer search after reload: %+v", h)
	}
	if h := again.Search("ref0002"); len(h) != 1 || h[0].Field != FieldRefund {
		t.Fatalf("refund search after reload: %+v", h)
	}
}

// TestSearchUnsharedStrings: a search finds strings that were never
// interned by their text: every order with the same external id, and a
// non-ASCII id matched exactly.
func TestSearchUnsharedStrings(t *testing.T) {
	ix := New()
	ix.Register("forage", "f")
	ix.Register("digitalriver", "d")
	ix.AddReportRow("f", &model.OrderSummary{Provider: "forage", ID: "a1b2c3d4e5", Reference: "GRC-2026-889360"}, RefExternal)
	ix.AddSummary("d", &model.OrderSummary{Provider: "digitalriver", ID: "240000000001", Reference: "GRC-2026-889360"}, RefExternal)
	ix.AddSummary("d", &model.OrderSummary{Provider: "digitalriver", ID: "240000000002", Reference: "طلب-٨٨٩٣٦٠"}, RefExternal)
	if h := ix.Search("grc-2026-889360"); len(h) != 2 || h[0].Field != FieldExternal || h[1].Field != FieldExternal {
		t.Fatalf("one external id on two providers' orders: %+v", h)
	}
	if h := ix.Search("طلب-٨٨٩٣٦٠"); len(h) != 1 || h[0].ID != "240000000002" {
		t.Fatalf("non-ASCII external id: %+v", h)
	}
	if h := ix.Search("240000000001"); len(h) != 1 || h[0].Field != FieldRef {
		t.Fatalf("by id: %+v", h)
	}
}
