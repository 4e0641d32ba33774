package index

import (
	"encoding/binary"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"math"
)

// Version 3 of the file is written by streaming from the live index, so a
// save costs a fixed buffer instead of a copy of the index plus gob's
// encoding of it (45 MB at 100k orders, once a minute while the index
// changes: the largest spike left in the console's heap).
//
// Layout, every number little-endian, every count a uint64 of elements:
//
//	magic       "paydesk-index 3\n"
//	arena       count, bytes
//	offsets     count, uint32 each
//	sources     count, (provider, account uint32) each
//	orders      count, 48 bytes each (entry's fields in declaration order;
//	            RefOff is the order's run in the refs that follow)
//	refs        count, uint32 each, in the orders' order
//	statuses    count, uint32 each
//	currencies  count, uint32 each
//	odd fours   count, uint32 each
//	days        count, then per source: source uint32, count, int32 days
//	seq         uint32
//	checksum    uint32, CRC-32 (IEEE) of every byte before it
//
// A reader trusts no count: each must fit in what is left of the file, so
// a damaged or hostile file costs at most its own size to reject.
const magic = "paydesk-index 3\n"

// entrySize is an entry's size in the file.
const entrySize = 48

// bufSize is the write buffer, the one allocation a save grows with.
const bufSize = 64 << 10

var errFormat = errors.New("order index: damaged file")

// encoder appends to one reused buffer and hands it to w when full.
type encoder struct {
	w   io.Writer
	buf []byte
	sum hash.Hash32
	err error
}

func newEncoder(w io.Writer) *encoder {
	return &encoder{w: w, buf: make([]byte, 0, bufSize), sum: crc32.NewIEEE()}
}

// room makes room for n more bytes (n <= bufSize).
func (e *encoder) room(n int) {
	if len(e.buf)+n > cap(e.buf) {
		e.flush()
	}
}

func (e *encoder) flush() {
	if e.err == nil && len(e.buf) > 0 {
		e.sum.Write(e.buf)
		_, e.err = e.w.Write(e.buf)
	}
	e.buf = e.buf[:0]
}

func (e *encoder) u32(v uint32) {
	e.room(4)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, v)
}

func (e *encoder) count(n int) {
	e.room(8)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(n))
}

// bytes writes b as it is, through the buffer a piece at a time.
func (e *encoder) bytes(b []byte) {
	for len(b) > 0 {
		e.room(1)
		n := min(len(b), cap(e.buf)-len(e.buf))
		e.buf = append(e.buf, b[:n]...)
		b = b[n:]
	}
}

func (e *encoder) u32s(vs []uint32) {
	e.count(len(vs))
	for _, v := range vs {
		e.u32(v)
	}
}

// entry writes x with RefOff replaced by off.
func (e *encoder) entry(x *entry, off uint32) {
	e.room(entrySize)
	b := e.buf
	b = binary.LittleEndian.AppendUint64(b, uint64(x.Amount))
	for _, v := range [...]uint32{x.ID, x.Ref, x.Ext, x.Cust, off, x.Seq, x.Created} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	for _, v := range [...]uint16{x.Src, x.NPay, x.NRef, x.Last4, x.Detailed} {
		b = binary.LittleEndian.AppendUint16(b, v)
	}
	e.buf = append(b, x.Status, x.Cur)
}

// encode writes ix in version 3; the caller holds ix.mu (read is enough).
// Entries are written from their chunks with their refs' runs rebased as
// if compacted (an order read again with new refunds leaves its old run
// behind), then the runs themselves in the same order.
func (ix *Index) encode(w io.Writer) error {
	e := newEncoder(w)
	e.bytes([]byte(magic))
	e.count(len(ix.s.arena))
	e.bytes(ix.s.arena)
	e.u32s(ix.s.offs)
	e.count(len(ix.sources))
	for _, s := range ix.sources {
		e.u32(s.Prov)
		e.u32(s.Acct)
	}
	e.count(ix.rows.len())
	var off uint32
	for _, c := range ix.rows.chunks {
		for i := range c {
			e.entry(&c[i], off)
			off += uint32(c[i].NPay) + uint32(c[i].NRef)
		}
	}
	e.count(int(off))
	for _, c := range ix.rows.chunks {
		for i := range c {
			x := &c[i]
			for _, r := range ix.refs[x.RefOff : x.RefOff+uint32(x.NPay)+uint32(x.NRef)] {
				e.u32(r)
			}
		}
	}
	e.u32s(ix.statuses)
	e.u32s(ix.currencies)
	e.u32s(ix.odd4.ids)
	e.count(len(ix.days))
	for s, ds := range ix.days {
		e.u32(uint32(s))
		e.count(len(ds))
		for d := range ds {
			e.u32(uint32(d))
		}
	}
	e.u32(ix.seq)
	e.flush()
	if e.err != nil {
		return e.err
	}
	e.u32(e.sum.Sum32()) // after the flush: not part of its own sum
	e.flush()
	return e.err
}

// decoder reads a version 3 file of known size, keeping the count of bytes
// left to bound every count it reads, and the checksum of what it read.
type decoder struct {
	r    io.Reader
	left int64
	buf  [bufSize]byte
	sum  hash.Hash32
	err  error
}

// read returns the next n bytes (n <= bufSize), nil once anything failed.
func (d *decoder) read(n int) []byte {
	if d.err != nil {
		return nil
	}
	if int64(n) > d.left {
		d.err = errFormat
		return nil
	}
	b := d.buf[:n]
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.err = errFormat
		return nil
	}
	d.left -= int64(n)
	d.sum.Write(b)
	return b
}

func (d *decoder) u32() uint32 {
	if b := d.read(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

// count reads a count of elements of size bytes each, failing unless they
// fit in what is left of the file.
func (d *decoder) count(size int) int {
	b := d.read(8)
	if b == nil {
		return 0
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(d.left)/uint64(size) || n > math.MaxInt32 {
		d.err = errFormat
		return 0
	}
	return int(n)
}

// each calls f for n elements of size bytes, read a buffer at a time.
func (d *decoder) each(n, size int, f func(b []byte)) {
	per := bufSize / size
	for n > 0 && d.err == nil {
		k := min(n, per)
		b := d.read(k * size)
		for i := 0; b != nil && i < k; i++ {
			f(b[i*size : (i+1)*size])
		}
		n -= k
	}
}

func (d *decoder) u32s() []uint32 {
	n := d.count(4)
	out := make([]uint32, 0, n)
	d.each(n, 4, func(b []byte) { out = append(out, binary.LittleEndian.Uint32(b)) })
	return out
}

func decodeEntry(b []byte) entry {
	le := binary.LittleEndian
	return entry{
		Amount: int64(le.Uint64(b)),
		ID:     le.Uint32(b[8:]), Ref: le.Uint32(b[12:]), Ext: le.Uint32(b[16:]), Cust: le.Uint32(b[20:]),
		RefOff: le.Uint32(b[24:]), Seq: le.Uint32(b[28:]), Created: le.Uint32(b[32:]),
		Src: le.Uint16(b[36:]), NPay: le.Uint16(b[38:]), NRef: le.Uint16(b[40:]), Last4: le.Uint16(b[42:]),
		Detailed: le.Uint16(b[44:]),
		Status:   b[46], Cur: b[47],
	}
}

// decode reads a version 3 file of size bytes from r into a snapshot for
// load to check; the magic is read too. Anything short, long, or not
// matching its checksum is errFormat.
func decode(r io.Reader, size int64) (*snapshot, error) {
	d := &decoder{r: r, left: size, sum: crc32.NewIEEE()}
	if string(d.read(len(magic))) != magic {
		return nil, errFormat
	}
	s := &snapshot{Version: 3, Days: map[uint16][]int32{}}
	n := d.count(1)
	s.Arena = make([]byte, 0, n)
	d.each(n, 1, func(b []byte) { s.Arena = append(s.Arena, b...) })
	s.Offs = d.u32s()
	n = d.count(8)
	s.Sources = make([]source, 0, n)
	d.each(n, 8, func(b []byte) {
		s.Sources = append(s.Sources, source{binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])})
	})
	n = d.count(entrySize)
	s.Orders = make([]entry, 0, n)
	d.each(n, entrySize, func(b []byte) { s.Orders = append(s.Orders, decodeEntry(b)) })
	s.Refs = d.u32s()
	s.Statuses = d.u32s()
	s.Currencies = d.u32s()
	s.Odd4 = d.u32s()
	for n = d.count(12); n > 0 && d.err == nil; n-- {
		src := d.u32()
		ds := d.count(4)
		if src > math.MaxUint16 {
			d.err = errFormat
		}
		days := make([]int32, 0, ds)
		d.each(ds, 4, func(b []byte) { days = append(days, int32(binary.LittleEndian.Uint32(b))) })
		s.Days[uint16(src)] = append(s.Days[uint16(src)], days...)
	}
	s.Seq = d.u32()
	want := d.sum.Sum32()
	if got := d.u32(); d.err != nil || got != want || d.left != 0 {
		return nil, errFormat
	}
	return s, nil
}
