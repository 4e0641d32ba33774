package index

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"paydesk/model"
)

// smallIndex holds one of everything the file keeps: three providers'
// orders, payment and refund refs (one order read again with a refund
// more, leaving its old run of refs behind), an odd last four, covered
// days of two sources.
func smallIndex(t *testing.T, dir string) *Index {
	t.Helper()
	ix := mustOpen(t, dir)
	ix.Register("forage", "acct")
	ix.Register("moyasar", "m")
	ix.Register("digitalriver", "d")
	ix.AddOrder("acct", sampleOrder())
	ix.AddSummary("m", &model.OrderSummary{Provider: "moyasar", ID: "6c4b0d54", Ref: "6c4b0d54", Status: model.StatusSucceeded,
		Total: model.Money{Amount: usd("12.50").Amount, Currency: "SAR"}, Reference: "•••• 0007 mada"}, RefCard)
	ix.AddOrder("d", &model.Order{Provider: "digitalriver", ID: "240000000042", Status: model.StatusSucceeded,
		Currency: "USD", Total: usd("9.99"), ExternalOrderID: "up-42",
		Payments: []model.Payment{{ID: "src-dr-1", Card: &model.Card{Last4: "x-12"}}}})
	again := sampleOrder()
	again.Status = model.StatusRefunded
	again.Refunds = append(again.Refunds, model.Refund{ID: "ref0002"})
	ix.AddOrder("acct", again)
	ix.MarkDay("forage", "acct", Day(time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC)))
	ix.MarkDay("moyasar", "m", Day(time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC)))
	return ix
}

// TestFormatV3RoundTrip: everything search, the list and the indexer use
// survives a save and a reopen, and the refs an order no longer points at
// are not written.
func TestFormatV3RoundTrip(t *testing.T) {
	dir := t.TempDir()
	ix := smallIndex(t, dir)
	seq := ix.Seq()
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if head := readHead(t, filepath.Join(dir, FileName)); head != magic {
		t.Fatalf("written as %q", head)
	}
	got := mustOpen(t, dir)
	got.Register("forage", "acct")
	got.Register("moyasar", "m")
	got.Register("digitalriver", "d")
	if got.Len() != 3 || got.Seq() != seq {
		t.Fatalf("%d orders, seq %d; want 3, %d", got.Len(), got.Seq(), seq)
	}
	for q, want := range map[string]Field{"pay0001": FieldPayment, "RRN123456": FieldPayment, "ref0001": FieldRefund,
		"ref0002": FieldRefund, "grc-2026-889360": FieldExternal, "cust-77": FieldCustomer, "0007 12.50": FieldCardAmount,
		"src-dr-1": FieldPayment, "up-42": FieldExternal} {
		if h := got.Search(q); len(h) != 1 || h[0].Field != want {
			t.Errorf("Search(%q) = %+v, want one by %s", q, h, want)
		}
	}
	if in, ok := got.Lookup("forage", "acct", "a1b2c3d4e5"); !ok || in.Status != model.StatusRefunded || in.Last4 != "4242" || !in.Detailed {
		t.Errorf("forage order: %+v %v", in, ok)
	}
	if in, ok := got.Lookup("digitalriver", "d", "240000000042"); !ok || in.Last4 != "x-12" || in.Total.String() != "9.99 USD" {
		t.Errorf("digital river order: %+v %v", in, ok)
	}
	if !got.DayDone("forage", "acct", Day(time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC))) ||
		!got.DayDone("moyasar", "m", Day(time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC))) {
		t.Error("a covered day was lost")
	}
	if want := 2 + 2 + 1; len(got.refs) != want { // forage: 2 payment refs, 2 refunds; digital river: 1
		t.Errorf("%d refs written, want %d (the replaced run left out)", len(got.refs), want)
	}
	if len(ix.refs) <= len(got.refs) {
		t.Fatalf("the test meant to leave a stale run of refs: %d in memory", len(ix.refs))
	}
	// Saved again unchanged, it reads the same: the rebased offsets hold.
	got.MarkDay("forage", "acct", Day(time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)))
	third := reopen(t, got)
	third.Register("forage", "acct")
	if h := third.Search("ref0002"); len(h) != 1 || h[0].ID != "a1b2c3d4e5" {
		t.Errorf("after a second save: %+v", h)
	}
}

// sectionCounts lists where each count sits in a version 3 file, walking
// it as format.go's comment lays it out (written here independently of
// the reader, so that a reader and writer agreeing on a wrong layout
// fail).
func sectionCounts(t *testing.T, raw []byte) []int {
	t.Helper()
	pos := len(magic)
	var at []int
	count := func() uint64 {
		at = append(at, pos)
		n := binary.LittleEndian.Uint64(raw[pos:])
		pos += 8
		return n
	}
	for _, size := range []int{1, 4, 8, entrySize, 4, 4, 4, 4} { // arena, offsets, sources, orders, refs, three tables
		pos += int(count()) * size
	}
	for n := count(); n > 0; n-- {
		pos += 4 // source
		pos += int(count()) * 4
	}
	if pos += 4 + 4; pos != len(raw) { // seq, checksum
		t.Fatalf("the layout walked to %d of %d bytes", pos, len(raw))
	}
	return at
}

// reseal puts a right checksum on a damaged file, so that it is the
// reader's checks of counts and ids that must reject it.
func reseal(raw []byte) []byte {
	out := append([]byte(nil), raw...)
	binary.LittleEndian.PutUint32(out[len(out)-4:], crc32.ChecksumIEEE(out[:len(out)-4]))
	return out
}

// openDamaged writes raw as the index file of a fresh directory and opens
// it: it reports whether it loaded (else it must be set aside, empty), and
// the heap Open allocated.
func openDamaged(t *testing.T, raw []byte) (loaded bool, alloc uint64) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ix, err := Open(dir)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	_, badErr := os.Stat(filepath.Join(dir, FileName+".bad"))
	if ix.Len() == 0 && badErr == nil {
		return false, after.TotalAlloc - before.TotalAlloc
	}
	if badErr == nil {
		t.Fatalf("a file set aside, yet %d orders loaded", ix.Len())
	}
	// Whatever loaded must be usable: search it and save it.
	ix.Search("ref0001")
	ix.Search("0007 12.50")
	if err := ix.encode(io.Discard); err != nil {
		t.Fatal(err)
	}
	return true, after.TotalAlloc - before.TotalAlloc
}

// TestFormatV3RejectsDamage: a truncated, extended, or edited file, or one
// whose counts are huge, is set aside, never trusted, never a panic, and
// costs no more memory than its size to reject.
func TestFormatV3RejectsDamage(t *testing.T) {
	dir := t.TempDir()
	if err := smallIndex(t, dir).Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if loaded, _ := openDamaged(t, raw); !loaded {
		t.Fatal("the undamaged file was set aside")
	}
	// Cut anywhere: every section boundary and every byte inside one.
	for n := range len(raw) {
		if loaded, _ := openDamaged(t, raw[:n]); loaded {
			t.Errorf("cut to %d of %d bytes: loaded", n, len(raw))
		}
	}
	if loaded, _ := openDamaged(t, append(append([]byte(nil), raw...), 0)); loaded {
		t.Error("a byte past the checksum: loaded")
	}
	later := append([]byte("paydesk-index 4\n"), raw[len(magic):]...)
	if loaded, _ := openDamaged(t, reseal(later)); loaded {
		t.Error("a later version: loaded")
	}
	// Every count made huge, or one more than there is: with the checksum
	// left wrong and made right.
	counts := sectionCounts(t, raw)
	if len(counts) != 8+1+2 {
		t.Fatalf("%d counts, want 11 (two sources with days)", len(counts))
	}
	for _, at := range counts {
		n := binary.LittleEndian.Uint64(raw[at:])
		for _, v := range []uint64{1<<64 - 1, 1 << 63, 1 << 32, 1<<31 - 1, uint64(len(raw)), n + 1} {
			bad := append([]byte(nil), raw...)
			binary.LittleEndian.PutUint64(bad[at:], v)
			for _, b := range [][]byte{bad, reseal(bad)} {
				loaded, alloc := openDamaged(t, b)
				if loaded {
					t.Errorf("count at %d set to %d: loaded", at, v)
				}
				if alloc > 1<<20 && !raceEnabled {
					t.Errorf("count at %d set to %d: rejecting a %d-byte file allocated %d bytes", at, v, len(raw), alloc)
				}
			}
		}
	}
	// Any one byte changed: the checksum rejects it; made right, the
	// reader's checks reject it or it loads a consistent index.
	for i := range len(raw) - 4 {
		bad := append([]byte(nil), raw...)
		bad[i] ^= 0x80
		if loaded, _ := openDamaged(t, bad); loaded {
			t.Errorf("byte %d changed: loaded despite the checksum", i)
		}
		openDamaged(t, reseal(bad))
	}
}

// FuzzDecodeV3: no input makes reading a file panic, and whatever loads
// can be searched and saved. `go test -fuzz DecodeV3 ./api/index` explores;
// plain `go test` runs the seeds.
func FuzzDecodeV3(f *testing.F) {
	ix := New()
	ix.Register("forage", "acct")
	ix.AddOrder("acct", sampleOrder())
	ix.MarkDay("forage", "acct", 20000)
	var buf bytes.Buffer
	if err := ix.encode(&buf); err != nil {
		f.Fatal(err)
	}
	raw := buf.Bytes()
	f.Add(raw)
	f.Add(raw[:len(raw)/2])
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := decode(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		got := New()
		if got.load(s) {
			got.Register("forage", "acct")
			got.Search("pay0001")
			if err := got.encode(io.Discard); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestSaveKeepsChangesMadeDuringIt: orders added while saves run are all
// in the file after the last save: a save never clears the mark of a
// change it did not write.
func TestSaveKeepsChangesMadeDuringIt(t *testing.T) {
	dir := t.TempDir()
	ix := mustOpen(t, dir)
	const n = 2000
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			id := string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
			ix.AddSummary("acct", &model.OrderSummary{Provider: "forage", ID: id, Status: model.StatusSucceeded}, RefExternal)
		}
	})
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for saving := true; saving; {
		select {
		case <-done:
			saving = false
		default:
		}
		if err := ix.Save(); err != nil {
			t.Fatal(err)
		}
	}
	if err := ix.Save(); err != nil {
		t.Fatal(err)
	}
	again := mustOpen(t, dir)
	if again.Len() != n {
		t.Fatalf("%d orders in the file, want %d", again.Len(), n)
	}
}

// TestSaveFailureKeepsDirty: a save that cannot write leaves the index
// marked changed, so the next one writes it.
func TestSaveFailureKeepsDirty(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "index")
	ix := mustOpen(t, dir)
	ix.Register("forage", "acct")
	ix.AddOrder("acct", sampleOrder())
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := ix.Save(); err == nil {
		t.Fatal("saving into a removed directory succeeded")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := ix.Save(); err != nil {
		t.Fatal(err)
	}
	again := mustOpen(t, dir)
	if again.Len() != 1 {
		t.Fatalf("%d orders after the retried save, want 1", again.Len())
	}
}
