package index

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// FileName is the index file inside its directory.
const FileName = "orders.idx"

// formatVersion changes when the file layout does. Versions 1 and 2 (gob)
// are still read (refilling the index would cost Forage three requests an
// order); a file of any other version is dropped (the index refills
// itself) rather than misread. Version 3 is format.go's.
const formatVersion = 3

// magicPrefix starts every file from version 3 on.
const magicPrefix = "paydesk-index "

// snapshot is the file as read: the pool, the sources, and the orders, as
// Entries (version 1) or as Orders with the tables their codes name
// (versions 2 and 3). Versions 1 and 2 are this struct gob-encoded.
type snapshot struct {
	Version    int
	Arena      []byte
	Offs       []uint32
	Sources    []source
	Entries    []entryV1 // version 1 only
	Orders     []entry   // version 2
	Statuses   []uint32
	Currencies []uint32
	Odd4       []uint32
	Refs       []uint32
	Days       map[uint16][]int32
	Seq        uint32
}

// entryV1 is an order in a version 1 file: every string a pool id, dates
// in Unix seconds.
type entryV1 struct {
	Src, NPay, NRef                                     uint16
	ID, Ref, Ext, Cust, Status, Cur, Last4, RefOff, Seq uint32
	Amount, Created, Detailed                           int64
}

// Open loads the index kept in dir (created 0700; the file is 0600: order
// refs and customer ids are the merchant's data). dir "" keeps it in memory.
// A file that cannot be read is set aside as orders.idx.bad and the index
// starts empty: it is a cache of what the providers say, never the record.
func Open(dir string) (*Index, error) {
	ix := New()
	ix.dir = dir
	if dir == "" {
		return ix, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("order index: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("order index: %w", err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ix, nil
	}
	if err != nil {
		return nil, fmt.Errorf("order index: %w", err)
	}
	defer f.Close()
	if snap, err := read(f); err != nil || !ix.load(snap) {
		f.Close()
		_ = os.Rename(path, path+".bad")
		return ix, nil
	}
	return ix, nil
}

// read decodes a file of any version this code reads: version 3 by its
// magic, 1 and 2 (gob) otherwise.
func read(f *os.File) (*snapshot, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(f)
	head, _ := r.Peek(len(magic))
	if string(head) == magic {
		return decode(r, fi.Size())
	}
	if strings.HasPrefix(string(head), magicPrefix) {
		return nil, errFormat // a later version: refilled, never misread
	}
	var snap snapshot
	if err := gob.NewDecoder(r).Decode(&snap); err != nil {
		return nil, err
	}
	if snap.Version == formatVersion {
		return nil, errFormat // version 3 is never gob
	}
	return &snap, nil
}

// load checks a snapshot's internal consistency before using it: a
// truncated or edited file must not index out of range later. It builds
// the index aside and takes it only whole.
func (ix *Index) load(s *snapshot) bool {
	if s.Version < 1 || s.Version > formatVersion || len(s.Offs) < 2 || s.Offs[0] != 0 ||
		len(s.Sources) > math.MaxUint16+1 {
		return false
	}
	for i := 1; i < len(s.Offs); i++ {
		if s.Offs[i] < s.Offs[i-1] || int(s.Offs[i]) > len(s.Arena) {
			return false
		}
	}
	n := uint32(len(s.Offs) - 1)
	okID := func(id uint32) bool { return id < n }
	okIDs := func(ids []uint32) bool {
		for _, id := range ids {
			if !okID(id) {
				return false
			}
		}
		return true
	}
	if !okIDs(s.Refs) {
		return false
	}
	for _, src := range s.Sources {
		if !okID(src.Prov) || !okID(src.Acct) {
			return false
		}
	}
	t := New()
	t.s.arena, t.s.offs = s.Arena, s.Offs
	// The file does not say which strings were interned: the shared ones
	// (sources, statuses, currencies, customers, odd last fours) are again.
	shared := make([]uint32, 0, 2*len(s.Sources)+len(s.Entries)*4+len(s.Orders))
	for _, src := range s.Sources {
		shared = append(shared, src.Prov, src.Acct)
	}
	if s.Version == 1 {
		for _, o := range s.Entries {
			if !okID(o.Status) || !okID(o.Cur) || !okID(o.Cust) || !okID(o.Last4) {
				return false
			}
			shared = append(shared, o.Status, o.Cur, o.Cust)
			if _, digits := fourDigits(t.s.str(o.Last4)); !digits {
				shared = append(shared, o.Last4)
			}
		}
	} else {
		if len(s.Statuses) > math.MaxUint8 || len(s.Currencies) > math.MaxUint8 || len(s.Odd4) > maxOdd4 ||
			!okIDs(s.Statuses) || !okIDs(s.Currencies) || !okIDs(s.Odd4) {
			return false
		}
		shared = append(append(append(shared, s.Statuses...), s.Currencies...), s.Odd4...)
		for _, e := range s.Orders {
			if !okID(e.Cust) {
				return false
			}
			shared = append(shared, e.Cust)
		}
	}
	slices.Sort(shared)
	t.s.rehash(slices.Compact(shared))
	entries := s.Orders
	if s.Version == 1 {
		if entries = t.fromV1(s.Entries, okID); entries == nil && len(s.Entries) > 0 {
			return false
		}
	} else {
		t.statuses, t.currencies, t.odd4.ids = s.Statuses, s.Currencies, s.Odd4
		if len(s.Odd4) > 0 {
			t.odd4.of = make(map[uint32]uint16, len(s.Odd4))
			for i, id := range s.Odd4 {
				t.odd4.of[id] = uint16(digitCodes + i + 1)
			}
		}
		for _, e := range entries {
			if int(e.Status) > len(s.Statuses) || int(e.Cur) > len(s.Currencies) || int(e.Last4) > digitCodes+len(s.Odd4) {
				return false
			}
		}
	}
	for _, e := range entries {
		if int(e.Src) >= len(s.Sources) || uint64(e.RefOff)+uint64(e.NPay)+uint64(e.NRef) > uint64(len(s.Refs)) {
			return false
		}
		for _, id := range []uint32{e.ID, e.Ref, e.Ext, e.Cust} {
			if !okID(id) {
				return false
			}
		}
	}
	// Two entries of one order would leave the second unreachable.
	t.rows = rowsOf(entries)
	t.slots = make([]uint32, slotsFor(len(entries)))
	for k, e := range entries {
		if _, dup := probe(t, e.Src, t.s.bytes(e.ID)); dup {
			return false
		}
		t.place(uint32(k))
	}
	ix.s, ix.rows, ix.slots = t.s, t.rows, t.slots
	ix.statuses, ix.currencies, ix.odd4 = t.statuses, t.currencies, t.odd4
	ix.sources, ix.refs, ix.seq = s.Sources, s.Refs, s.Seq
	ix.active = make([]bool, len(s.Sources))
	for src, ds := range s.Days {
		if int(src) >= len(s.Sources) {
			continue
		}
		ix.days[src] = map[int32]bool{}
		for _, d := range ds {
			ix.days[src][d] = true
		}
	}
	return true
}

// fromV1 converts version 1 entries (ix holds their pool); nil when one
// names a string the pool lacks.
func (ix *Index) fromV1(old []entryV1, okID func(uint32) bool) []entry {
	out := make([]entry, 0, len(old))
	for _, o := range old {
		for _, id := range []uint32{o.Status, o.Cur, o.Last4} {
			if !okID(id) {
				return nil
			}
		}
		e := entry{
			Amount: o.Amount, ID: o.ID, Ref: o.Ref, Ext: o.Ext, Cust: o.Cust, RefOff: o.RefOff, Seq: o.Seq,
			Src: o.Src, NPay: o.NPay, NRef: o.NRef,
			Status: ix.statuses.code(o.Status), Cur: ix.currencies.code(o.Cur), Last4: ix.last4Code(ix.s.str(o.Last4)),
		}
		if o.Created != 0 {
			e.Created = stamp(time.Unix(o.Created, 0))
		}
		if o.Detailed != 0 {
			e.Detailed = readDay(time.Unix(o.Detailed, 0))
		}
		out = append(out, e)
	}
	return out
}

// Save writes the index when it changed since the last save: to a
// temporary file, then renamed over the old one, so a crash leaves one or
// the other whole. It streams the index from its live structures under the
// read lock (format.go): searches go on meanwhile, and a change waits for
// the write to finish (about as long as the copy Save used to take under
// the write lock) but is never lost: it marks the index dirty again.
func (ix *Index) Save() error {
	ix.mu.Lock()
	if ix.dir == "" || !ix.dirty {
		ix.mu.Unlock()
		return nil
	}
	// Cleared before the write: a change between here and the read lock
	// is in the file and marks the index dirty again (one save too many,
	// never one too few).
	ix.dirty = false
	dir := ix.dir
	ix.mu.Unlock()

	err := writeFile(filepath.Join(dir, FileName), func(w io.Writer) error {
		ix.mu.RLock()
		defer ix.mu.RUnlock()
		return ix.encode(w)
	})
	if err != nil {
		ix.mu.Lock()
		ix.dirty = true
		ix.mu.Unlock()
	}
	return err
}

// writeFile writes path through a 0600 temporary file renamed over it,
// synced first (outside whatever lock write takes).
func writeFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), FileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("order index: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing there
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("order index: %w", err)
	}
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("order index: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("order index: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("order index: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("order index: %w", err)
	}
	return nil
}

// Close saves the index.
func (ix *Index) Close() error { return ix.Save() }

// AutoSave saves every interval until stop is called (then once more).
func (ix *Index) AutoSave(every time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = ix.Save()
			case <-done:
				_ = ix.Save()
				return
			}
		}
	}()
	return func() { close(done); <-finished }
}
