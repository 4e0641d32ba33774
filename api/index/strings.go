package index

import (
	"bytes"
	"hash/maphash"
)

// pool keeps strings in one byte arena. Each string costs its bytes and a
// 4-byte offset, instead of a Go string header and its own allocation: at
// 100k orders with half a dozen ids each, that is the difference between a
// few MB and tens. Id 0 is the empty string.
//
// Strings many orders share (statuses, currencies, customer ids, sources)
// are interned: the table finds them by text, for 5 to 6.4 bytes more
// each. A string of one order (its id, refs, external id, payment and
// refund refs) is only added: the order's entry is found by its id through
// Index.slots, and the rest only through the order or by a search, which
// scans the arena. That keeps about two strings an order out of the table.
type pool struct {
	arena []byte
	offs  []uint32 // string i is arena[offs[i]:offs[i+1]]
	table []uint32 // interned strings, open addressing: slot holds id+1, 0 = empty; sized like Index.slots (keys.go)
	n     int      // strings in the table
	seed  maphash.Seed
}

func newPool() *pool {
	p := &pool{offs: []uint32{0, 0}, seed: maphash.MakeSeed()}
	p.table = make([]uint32, minSlots)
	return p
}

func (p *pool) len() int { return len(p.offs) - 1 }

func (p *pool) bytes(id uint32) []byte { return p.arena[p.offs[id]:p.offs[id+1]] }

func (p *pool) str(id uint32) string {
	if id == 0 || int(id) >= p.len() {
		return ""
	}
	return string(p.bytes(id))
}

// is reports whether string id is s (without making a string).
func (p *pool) is(id uint32, s string) bool {
	return id != 0 && int(id) < p.len() && string(p.bytes(id)) == s
}

// find returns the id of s, or 0 when it was never interned.
func (p *pool) find(s string) uint32 {
	if s == "" {
		return 0
	}
	n := len(p.table)
	for i := spot(maphash.String(p.seed, s), n); ; {
		v := p.table[i]
		if v == 0 {
			return 0
		}
		if string(p.bytes(v-1)) == s {
			return v - 1
		}
		if i++; i == n {
			i = 0
		}
	}
}

// add appends s without a place in the table (a string of one order).
func (p *pool) add(s string) uint32 {
	if s == "" {
		return 0
	}
	p.arena = append(p.arena, s...)
	p.offs = append(p.offs, uint32(len(p.arena)))
	return uint32(p.len() - 1)
}

// intern returns the id of s, adding it when new.
func (p *pool) intern(s string) uint32 {
	if s == "" {
		return 0
	}
	if id := p.find(s); id != 0 {
		return id
	}
	id := p.add(s)
	p.n++
	if p.n*4 > len(p.table)*3 { // keep the table under 3/4 full
		p.rehash(nil)
	} else {
		p.put(id)
	}
	return id
}

func (p *pool) put(id uint32) {
	n := len(p.table)
	for i := spot(maphash.Bytes(p.seed, p.bytes(id)), n); ; {
		if p.table[i] == 0 {
			p.table[i] = id + 1
			return
		}
		if i++; i == n {
			i = 0
		}
	}
}

// rehash rebuilds the table: for the strings it holds (growing), or for
// ids (loading a file, which does not say which strings were interned).
// Of ids with the same text, the first is kept.
func (p *pool) rehash(ids []uint32) {
	if ids == nil {
		ids = make([]uint32, 0, p.n)
		for _, v := range p.table {
			if v != 0 {
				ids = append(ids, v-1)
			}
		}
	}
	p.table = make([]uint32, slotsFor(len(ids)))
	p.n = 0
	for _, id := range ids {
		if id != 0 && p.find(string(p.bytes(id))) == 0 {
			p.put(id)
			p.n++
		}
	}
}

// fold lists the ids of every string equal to s ignoring case: an agent
// types "grc-2026-889360" for "GRC-2026-889360". It scans the arena
// comparing lengths first (no allocation, a few ms at a million strings);
// text that is not ASCII is matched exactly (Unicode case can change a
// string's length).
func (p *pool) fold(s string) []uint32 {
	if s == "" {
		return nil
	}
	b := []byte(s)
	mixed := false
	for _, c := range b {
		if c >= 0x80 {
			mixed = true
			break
		}
	}
	var out []uint32
	for id := 1; id < p.len(); id++ {
		if w := p.bytes(uint32(id)); len(w) == len(b) && (!mixed && bytes.EqualFold(w, b) || mixed && bytes.Equal(w, b)) {
			out = append(out, uint32(id))
		}
	}
	return out
}
