package ui

import (
	"context"
	"strings"
	"testing"

	"paydesk/api"
	"paydesk/model"
)

// A payment whose metadata already holds hostile text: the editor shows it
// terminal-safe, and saving a change to another key sends the hostile value
// back byte for byte instead of silently rewriting it (or refusing to save
// because of a value the agent never typed).
func TestEditorKeepsUntouchedHostileValues(t *testing.T) {
	t.Parallel()
	h, _ := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(laneStore)
	before := readOrder(t, h.prov, ref)
	pay := before.Payments[0]
	hostile := "refund \u202e0001 DRS\u202c\u200b\x1b]52;c;ZWNobyBwd25lZA==\x07after"
	md := pay.Metadata.Clone()
	md["note"] = hostile
	if _, err := h.prov.UpdatePayment(context.Background(), before.ID, pay.ID, api.PaymentUpdate{Metadata: md, IdempotencyKey: "seed-hostile"}); err != nil {
		t.Fatal(err)
	}

	s := h.run(80, 24, harnessOpts{})
	s.openOrder(ref)
	s.keys("e")
	v := s.waitText("Edit payment " + pay.ID)
	assertSafe(t, "metadata editor", v)
	if !strings.Contains(v, "after") {
		t.Fatalf("the hostile value's harmless text is not shown:\n%s", v)
	}
	// Rows in key order: lane, note, store_id. Change lane's value only.
	s.keys("tab")
	s.ctrl("ctrl+u")
	s.typeText("7")
	s.keys("enter")
	v = s.waitText("Changes to save")
	if strings.Contains(v, "note") {
		t.Fatalf("the untouched hostile value is listed as a change:\n%s", v)
	}
	s.keys("enter")
	s.waitText("Saved 1 metadata change")

	got := readOrder(t, h.prov, ref).Payment(pay.ID).Metadata
	if got["note"] != hostile {
		t.Fatalf("the hostile value was rewritten on save: %q", got["note"])
	}
	if got["lane"] != "7" {
		t.Fatalf("lane = %q, want 7", got["lane"])
	}
	want := model.Metadata{"lane": "7", "note": hostile, "store_id": pay.Metadata["store_id"]}
	if len(got) != len(want) {
		t.Fatalf("metadata after save = %v", got)
	}
}
