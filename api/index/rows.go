package index

// rows holds the entries in chunks of chunkLen. Growing never copies them
// (appending to one 5 MB slice holds it twice until the next collection)
// and the spare room is at most one chunk, where a slice's is up to a
// quarter of it. An *entry stays valid for the index's life.
type rows struct {
	chunks [][]entry // each of capacity chunkLen
	n      int
}

const (
	chunkBits = 10
	chunkLen  = 1 << chunkBits // 48 KB of entries
)

func (r *rows) len() int { return r.n }

func (r *rows) at(k uint32) *entry { return &r.chunks[k>>chunkBits][k&(chunkLen-1)] }

// add appends e and returns its index.
func (r *rows) add(e entry) uint32 {
	if r.n&(chunkLen-1) == 0 {
		r.chunks = append(r.chunks, make([]entry, 0, chunkLen))
	}
	c := &r.chunks[len(r.chunks)-1]
	*c = append(*c, e)
	r.n++
	return uint32(r.n - 1)
}

// rowsOf takes over a slice read from the file: its full chunks are views
// of it, the last, partly filled, is copied into a chunk of its own so that
// adding to it never writes past it.
func rowsOf(es []entry) rows {
	r := rows{n: len(es)}
	for lo := 0; lo < len(es); lo += chunkLen {
		if hi := lo + chunkLen; hi <= len(es) {
			r.chunks = append(r.chunks, es[lo:hi:hi])
		} else {
			r.chunks = append(r.chunks, append(make([]entry, 0, chunkLen), es[lo:]...))
		}
	}
	return r
}
