package index

import (
	"testing"
	"time"

	"paydesk/model"
)

// TestLast4Codes: four digits round-trip through their number (leading
// zeros kept), and a value that is not four digits is kept as it came,
// after a save and reload too.
func TestLast4Codes(t *testing.T) {
	dir := t.TempDir()
	ix := mustOpen(t, dir)
	ix.Register("forage", "acct")
	for id, l4 := range map[string]string{"o1": "0042", "o2": "9999", "o3": "XX12", "o4": "0000", "o5": "١٢٣٤"} {
		o := sampleOrder()
		o.ID, o.Ref, o.ExternalOrderID = id, id, "ext-"+id
		o.Payments[0].ID, o.Payments[0].Receipt = "pay-"+id, &model.Receipt{Last4: l4}
		o.Refunds = nil
		ix.AddOrder("acct", o)
	}
	check := func(ix *Index, when string) {
		t.Helper()
		for id, want := range map[string]string{"o1": "0042", "o2": "9999", "o3": "XX12", "o4": "0000", "o5": "١٢٣٤"} {
			if in, ok := ix.Lookup("forage", "acct", id); !ok || in.Last4 != want {
				t.Errorf("%s: %s last four %q, want %q", when, id, in.Last4, want)
			}
		}
		if h := ix.Search("0042 47.44"); len(h) != 1 || h[0].ID != "o1" || h[0].Matched != "0042" {
			t.Errorf("%s: card and amount: %+v", when, h)
		}
		if h := ix.Search("1234 47.44"); len(h) != 0 {
			t.Errorf("%s: a last four no order has matched: %+v", when, h)
		}
	}
	check(ix, "built")
	again := reopen(t, ix)
	again.Register("forage", "acct")
	check(again, "reloaded")
	// An odd value seen again gets the code it has.
	o := sampleOrder()
	o.ID, o.Ref = "o6", "o6"
	o.Payments[0].Receipt = &model.Receipt{Last4: "XX12"}
	again.AddOrder("acct", o)
	a, _ := again.Lookup("forage", "acct", "o3")
	b, _ := again.Lookup("forage", "acct", "o6")
	if a.Last4 != "XX12" || b.Last4 != "XX12" || len(again.odd4.ids) != 2 {
		t.Errorf("odd values %q %q, table %v", a.Last4, b.Last4, again.odd4.ids)
	}
}

// TestDatesClamp: a date past what uint32 seconds hold is kept as the last
// one it holds, and one before 1970 as its first second, never as "not
// known".
func TestDatesClamp(t *testing.T) {
	ix := New()
	ix.Register("moyasar", "m")
	late := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	early := time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)
	ix.AddSummary("m", &model.OrderSummary{Provider: "moyasar", ID: "late", Created: late}, RefOther)
	ix.AddSummary("m", &model.OrderSummary{Provider: "moyasar", ID: "early", Created: early}, RefOther)
	in, _ := ix.Lookup("moyasar", "m", "late")
	if want := time.Unix(1<<32-1, 0).UTC(); !in.Created.Equal(want) {
		t.Errorf("late order created %v, want %v", in.Created, want)
	}
	in, _ = ix.Lookup("moyasar", "m", "early")
	if want := time.Unix(1, 0).UTC(); !in.Created.Equal(want) {
		t.Errorf("early order created %v, want %v", in.Created, want)
	}
	if got := stamp(time.Date(2106, 2, 7, 6, 28, 15, 0, time.UTC)); got != 1<<32-1 {
		t.Errorf("2106-02-07T06:28:15Z is %d, the last second a uint32 holds", got)
	}
}

// TestLoadRejectsBadCodes: a file whose entry names a status, currency or
// last four its tables lack is set aside, not indexed out of range later.
func TestLoadRejectsBadCodes(t *testing.T) {
	good := func() *snapshot {
		return &snapshot{
			Version: formatVersion, Arena: []byte("forageacctidsucceededUSD"), Offs: []uint32{0, 0, 6, 10, 12, 21, 24},
			Sources: []source{{1, 2}}, Statuses: []uint32{4}, Currencies: []uint32{5},
			Orders: []entry{{ID: 3, Ref: 3, Status: 1, Cur: 1, Last4: 43, Amount: 4744}},
		}
	}
	ix := New()
	if !ix.load(good()) {
		t.Fatal("a good snapshot did not load")
	}
	ix.Register("forage", "acct")
	if in, ok := ix.Lookup("forage", "acct", "id"); !ok || in.Status != model.StatusSucceeded || in.Total.String() != "47.44 USD" || in.Last4 != "0042" {
		t.Fatalf("loaded %+v %v", in, ok)
	}
	for name, spoil := range map[string]func(*snapshot){
		"status":    func(s *snapshot) { s.Orders[0].Status = 2 },
		"currency":  func(s *snapshot) { s.Orders[0].Cur = 2 },
		"last four": func(s *snapshot) { s.Orders[0].Last4 = digitCodes + 1 },
		"status id": func(s *snapshot) { s.Statuses[0] = 99 },
		"odd id":    func(s *snapshot) { s.Odd4 = []uint32{99} },
		"duplicate": func(s *snapshot) { s.Orders = append(s.Orders, s.Orders[0]) },
		"v1 status": func(s *snapshot) { s.Version, s.Orders, s.Entries = 1, nil, []entryV1{{ID: 3, Status: 99}} },
		"version 4": func(s *snapshot) { s.Version = 4 },
		"v1 last4":  func(s *snapshot) { s.Version, s.Orders, s.Entries = 1, nil, []entryV1{{ID: 3, Last4: 7}} },
		"v1 source": func(s *snapshot) { s.Version, s.Entries = 1, []entryV1{{ID: 3, Src: 1}} },
	} {
		s := good()
		spoil(s)
		if New().load(s) {
			t.Errorf("%s: a bad snapshot loaded", name)
		}
	}
}
