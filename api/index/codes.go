package index

import (
	"math"
	"time"

	"paydesk/model"
)

// Small encodings that keep an entry at 48 bytes.

// few is a field with few distinct values (status, currency): an entry
// keeps a one-byte code, code c naming the pool id few[c-1] and 0 the empty
// string. A status is one of model's and a currency one model has an
// exponent for, so 255 codes are never used up; past them a value is
// recorded as not known rather than as another's.
type few []uint32

func (f *few) code(id uint32) uint8 {
	if id == 0 {
		return 0
	}
	for i, x := range *f {
		if x == id {
			return uint8(i + 1)
		}
	}
	if len(*f) == math.MaxUint8 {
		return 0
	}
	*f = append(*f, id)
	return uint8(len(*f))
}

func (f few) id(c uint8) uint32 {
	if c == 0 || int(c) > len(f) {
		return 0
	}
	return f[c-1]
}

func (ix *Index) status(e *entry) model.Status {
	return model.Status(ix.s.str(ix.statuses.id(e.Status)))
}

func (ix *Index) setStatus(e *entry, st model.Status) {
	e.Status = ix.statuses.code(ix.s.intern(string(st)))
}

// A card's last four is a uint16 code: 0 none, 1 to 10000 the four digits
// "0000" to "9999" (plus one), so the usual value needs no string at all;
// above that, a value that is not four digits (a provider's own masking),
// kept in oddLast4. Past its 55,535 codes an odd value is dropped: no
// search can ask for it (ParseCardAmount takes four digits), only the
// list's filter would have shown it.
const (
	digitCodes = 10000
	maxOdd4    = math.MaxUint16 - digitCodes
)

// oddLast4 holds the last-four values that are not four digits: pool ids,
// and a map back made on first use.
type oddLast4 struct {
	ids []uint32
	of  map[uint32]uint16
}

func fourDigits(s string) (uint16, bool) {
	if len(s) != 4 {
		return 0, false
	}
	v := uint16(0)
	for i := range 4 {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint16(c-'0')
	}
	return v, true
}

// last4Code is the code of s, adding an odd value.
func (ix *Index) last4Code(s string) uint16 {
	if v, ok := fourDigits(s); ok {
		return v + 1
	}
	if s == "" {
		return 0
	}
	id := ix.s.intern(s)
	if c, ok := ix.odd4.of[id]; ok {
		return c
	}
	if len(ix.odd4.ids) >= maxOdd4 {
		return 0
	}
	if ix.odd4.of == nil {
		ix.odd4.of = map[uint32]uint16{}
	}
	ix.odd4.ids = append(ix.odd4.ids, id)
	c := uint16(digitCodes + len(ix.odd4.ids))
	ix.odd4.of[id] = c
	return c
}

// findLast4 is the code of s, 0 when no order has it.
func (ix *Index) findLast4(s string) uint16 {
	if v, ok := fourDigits(s); ok {
		return v + 1
	}
	return ix.odd4.of[ix.s.find(s)]
}

func (ix *Index) last4(c uint16) string {
	switch {
	case c == 0:
		return ""
	case c <= digitCodes:
		v := c - 1
		return string([]byte{'0' + byte(v/1000), '0' + byte(v/100%10), '0' + byte(v/10%10), '0' + byte(v%10)})
	case int(c-digitCodes) <= len(ix.odd4.ids):
		return ix.s.str(ix.odd4.ids[c-digitCodes-1])
	}
	return ""
}

// stamp is t in Unix seconds for entry.Created, never 0 (not known).
func stamp(t time.Time) uint32 {
	return uint32(min(max(t.Unix(), 1), math.MaxUint32))
}

func created(e *entry) time.Time {
	if e.Created == 0 {
		return time.Time{}
	}
	return time.Unix(int64(e.Created), 0).UTC()
}

// readDay is the day of a full read for entry.Detailed, never 0 (never read).
func readDay(t time.Time) uint16 {
	return uint16(min(max(Day(t), 1), math.MaxUint16))
}
