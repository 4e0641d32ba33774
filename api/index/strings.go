package index

import (
	"bytes"
	"hash/maphash"
)

// pool interns strings into one byte arena. Each distinct string costs its
// bytes, a 4-byte offset and 5 to 6.4 bytes of hash table, instead of a Go
// string header, a map entry and its own allocation: at 100k orders with
// half a dozen ids each, that is the difference between a few MB and tens.
// Id 0 is the empty string.
type pool struct {
	arena []byte
	offs  []uint32 // string i is arena[offs[i]:offs[i+1]]
	table []uint32 // open addressing: slot holds id+1, 0 = empty; sized like Index.slots (keys.go)
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

func (p *pool) slot(b []byte) int {
	return spot(maphash.Bytes(p.seed, b), len(p.table))
}

// find returns the id of s, or 0 when it was never interned.
func (p *pool) find(s string) uint32 {
	if s == "" {
		return 0
	}
	b := []byte(s)
	n := len(p.table)
	for i := p.slot(b); ; {
		v := p.table[i]
		if v == 0 {
			return 0
		}
		if bytes.Equal(p.bytes(v-1), b) {
			return v - 1
		}
		if i++; i == n {
			i = 0
		}
	}
}

// intern returns the id of s, adding it when new.
func (p *pool) intern(s string) uint32 {
	if s == "" {
		return 0
	}
	if id := p.find(s); id != 0 {
		return id
	}
	id := uint32(p.len())
	p.arena = append(p.arena, s...)
	p.offs = append(p.offs, uint32(len(p.arena)))
	if p.len()*4 > len(p.table)*3 { // keep the table under 3/4 full
		p.rehash()
	} else {
		p.put(id)
	}
	return id
}

func (p *pool) put(id uint32) {
	n := len(p.table)
	for i := p.slot(p.bytes(id)); ; {
		if p.table[i] == 0 {
			p.table[i] = id + 1
			return
		}
		if i++; i == n {
			i = 0
		}
	}
}

// rehash rebuilds the table for every string (after growing or loading).
func (p *pool) rehash() {
	p.table = make([]uint32, slotsFor(p.len()))
	for id := 1; id < p.len(); id++ {
		p.put(uint32(id))
	}
}

// fold lists the ids of every string equal to s ignoring case: an agent
// types "grc-2026-889360" for "GRC-2026-889360". ASCII text scans the
// arena comparing lengths first (no allocation, a few ms at a million
// strings); other text is matched exactly.
func (p *pool) fold(s string) []uint32 {
	if s == "" {
		return nil
	}
	var out []uint32
	add := func(id uint32) {
		for _, x := range out {
			if x == id {
				return
			}
		}
		out = append(out, id)
	}
	b := []byte(s)
	mixed := false
	for _, c := range b {
		if c >= 0x80 {
			mixed = true
			break
		}
	}
	if !mixed {
		for id := 1; id < p.len(); id++ {
			if w := p.bytes(uint32(id)); len(w) == len(b) && bytes.EqualFold(w, b) {
				add(uint32(id))
			}
		}
		return out
	}
	if id := p.find(s); id != 0 {
		add(id)
	}
	return out
}
