package index

import (
	"hash/maphash"
	"math/bits"
)

// The index finds an order's entry by (source, order id) in slots, an
// open-addressed table of uint32: entry index + 1, 0 = empty. A slot is 4
// bytes and the table is kept between 5/8 and 3/4 full, so an order costs
// 5.3 to 6.4 bytes here, where a Go map cost 30 to 40. The table holds no
// key: a probe compares the entry's own Src and ID's text (the id is not
// interned: pool).
//
// The size is not a power of two: a hash picks its slot by multiplying
// into the size (spot), so the table can grow by a fifth instead of
// doubling and never sits barely a third full after growing. Growing more
// often costs about six rebuilds' worth of hashing in all, once.

// keyHash mixes an order's source into the hash of its id's text.
func keyHash(src uint16, h uint64) uint64 {
	return h + uint64(src)*0x9e3779b97f4a7c15
}

// spot maps a hash onto [0, n) by its high bits.
func spot(h uint64, n int) int {
	hi, _ := bits.Mul64(h, uint64(n))
	return int(hi)
}

// minSlots is the smallest table, and the size it starts at.
const minSlots = 64

// slotsFor is the table size for n keys after growing: 5/8 full.
func slotsFor(n int) int { return max(minSlots, n*8/5) }

// entryOf returns the index of the entry of order id of src.
func (ix *Index) entryOf(src uint16, id string) (uint32, bool) {
	return probe(ix, src, id)
}

// probe is entryOf for an id as a string or as bytes (loading a file).
func probe[T string | []byte](ix *Index, src uint16, id T) (uint32, bool) {
	n := len(ix.slots)
	if n == 0 || len(id) == 0 {
		return 0, false
	}
	var h uint64
	switch v := any(id).(type) {
	case string:
		h = maphash.String(ix.s.seed, v)
	case []byte:
		h = maphash.Bytes(ix.s.seed, v)
	}
	for i := spot(keyHash(src, h), n); ; {
		v := ix.slots[i]
		if v == 0 {
			return 0, false
		}
		if e := ix.rows.at(v - 1); e.Src == src && string(ix.s.bytes(e.ID)) == string(id) {
			return v - 1, true
		}
		if i++; i == n {
			i = 0
		}
	}
}

// addKey makes entry k findable, growing the table to keep it under 3/4
// full.
func (ix *Index) addKey(k uint32) {
	if ix.rows.len()*4 > len(ix.slots)*3 {
		ix.rekey()
		return
	}
	ix.place(k)
}

func (ix *Index) place(k uint32) {
	e := ix.rows.at(k)
	n := len(ix.slots)
	for i := spot(keyHash(e.Src, maphash.Bytes(ix.s.seed, ix.s.bytes(e.ID))), n); ; {
		if ix.slots[i] == 0 {
			ix.slots[i] = k + 1
			return
		}
		if i++; i == n {
			i = 0
		}
	}
}

// rekey rebuilds the table for every entry (after growing or loading).
func (ix *Index) rekey() {
	ix.slots = make([]uint32, slotsFor(ix.rows.len()))
	for k := range ix.rows.len() {
		ix.place(uint32(k))
	}
}
