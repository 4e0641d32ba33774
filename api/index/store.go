package index

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// FileName is the index file inside its directory.
const FileName = "orders.idx"

// formatVersion changes when the file layout does; an older file is
// dropped (the index refills itself) rather than misread.
const formatVersion = 1

type snapshot struct {
	Version int
	Arena   []byte
	Offs    []uint32
	Sources []source
	Entries []entry
	Refs    []uint32
	Days    map[uint16][]int32
	Seq     uint32
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
	var snap snapshot
	if err := gob.NewDecoder(f).Decode(&snap); err != nil || !ix.load(&snap) {
		f.Close()
		_ = os.Rename(path, path+".bad")
		return ix, nil
	}
	return ix, nil
}

// load checks a snapshot's internal consistency before using it: a
// truncated or edited file must not index out of range later.
func (ix *Index) load(s *snapshot) bool {
	if s.Version != formatVersion || len(s.Offs) < 2 || s.Offs[0] != 0 {
		return false
	}
	for i := 1; i < len(s.Offs); i++ {
		if s.Offs[i] < s.Offs[i-1] || int(s.Offs[i]) > len(s.Arena) {
			return false
		}
	}
	n := uint32(len(s.Offs) - 1)
	okID := func(id uint32) bool { return id < n }
	for _, src := range s.Sources {
		if !okID(src.Prov) || !okID(src.Acct) {
			return false
		}
	}
	for _, r := range s.Refs {
		if !okID(r) {
			return false
		}
	}
	for _, e := range s.Entries {
		if int(e.Src) >= len(s.Sources) || uint64(e.RefOff)+uint64(e.NPay)+uint64(e.NRef) > uint64(len(s.Refs)) {
			return false
		}
		for _, id := range []uint32{e.ID, e.Ref, e.Ext, e.Cust, e.Status, e.Cur, e.Last4} {
			if !okID(id) {
				return false
			}
		}
	}
	// Two entries of one order would leave the second unreachable.
	keys := &Index{entries: s.Entries, slots: make([]uint32, slotsFor(len(s.Entries)))}
	for k, e := range s.Entries {
		if _, dup := keys.entryOf(e.Src, e.ID); dup {
			return false
		}
		keys.place(uint32(k))
	}
	ix.s.arena, ix.s.offs = s.Arena, s.Offs
	ix.s.rehash(64)
	ix.sources, ix.entries, ix.slots, ix.refs, ix.seq = s.Sources, s.Entries, keys.slots, s.Refs, s.Seq
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

// Save writes the index when it changed since the last save: to a
// temporary file, then renamed over the old one, so a crash leaves one or
// the other whole.
func (ix *Index) Save() error {
	ix.mu.Lock()
	if ix.dir == "" || !ix.dirty {
		ix.mu.Unlock()
		return nil
	}
	snap := snapshot{Version: formatVersion, Sources: ix.sources, Seq: ix.seq, Days: map[uint16][]int32{}}
	snap.Arena = append([]byte(nil), ix.s.arena...)
	snap.Offs = append([]uint32(nil), ix.s.offs...)
	snap.Sources = append([]source(nil), ix.sources...)
	snap.Entries = append([]entry(nil), ix.entries...)
	snap.Refs = ix.compactRefs(snap.Entries)
	for s, ds := range ix.days {
		for d := range ds {
			snap.Days[s] = append(snap.Days[s], d)
		}
	}
	ix.dirty = false
	dir := ix.dir
	ix.mu.Unlock()

	err := writeFile(filepath.Join(dir, FileName), &snap)
	if err != nil {
		ix.mu.Lock()
		ix.dirty = true
		ix.mu.Unlock()
	}
	return err
}

// compactRefs copies only the refs entries still point at (an order read
// again with new refunds leaves its old run behind) and rebases entries.
func (ix *Index) compactRefs(entries []entry) []uint32 {
	out := make([]uint32, 0, len(ix.refs))
	for i := range entries {
		e := &entries[i]
		n := uint32(e.NPay) + uint32(e.NRef)
		off := uint32(len(out))
		out = append(out, ix.refs[e.RefOff:e.RefOff+n]...)
		e.RefOff = off
	}
	return out
}

func writeFile(path string, snap *snapshot) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), FileName+".tmp-*")
	if err != nil {
		return fmt.Errorf("order index: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename: nothing there
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("order index: %w", err)
	}
	if err := gob.NewEncoder(tmp).Encode(snap); err != nil {
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
