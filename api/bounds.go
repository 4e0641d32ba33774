package api

import (
	"bytes"
	"encoding/json"
	"fmt"

	"paydesk/model"
)

// Bounds on what one provider answer may hold. The transport caps a body at
// 16 MB, but inside that cap a hostile or broken provider can pack a million
// tiny entries: a 13 MB answer with a million metadata keys once took the
// console to 644 MB on the order screen and got the metadata editor killed
// for want of memory. Per-entry costs (map buckets, strings, rows, inputs)
// are what grows, so the entries are counted, not the bytes.
//
// Lists (payments, refunds, transactions, charges, items, pages of orders)
// and objects other than metadata that hold more entries than these are
// refused with a BoundsError naming the field: a list cut short would make
// sums of money wrong (a refund missing from the list overstates what is
// refundable), so no partial reading of one is ever shown or acted on.
// Metadata, free-form and without money meaning, is read up to
// model.MaxReadMetadataKeys keys and the rest dropped, with the object's
// MetadataTotal saying so (see ObjectMembers).
const (
	// MaxListLen: the providers' own pages hold at most 100 entries and an
	// order holds a handful of payments and refunds; 1000 leaves ten times
	// the largest page while keeping a hostile list's cost to kilobytes.
	MaxListLen = 1000
	// MaxObjectMembers bounds every other JSON object (statuses, amounts,
	// stateTransitions): none documented has more than a few dozen members.
	MaxObjectMembers = 1000
	// MaxAnswerMetadataKeys bounds the metadata keys kept across one answer:
	// a thousand objects of a thousand keys each also fit in 16 MB, and each
	// object's own cut would keep them all. Each metadata object counts the
	// keys it keeps (at most model.MaxReadMetadataKeys), so one object cut
	// at decode still passes while a list of such objects is refused.
	MaxAnswerMetadataKeys = 10 * model.MaxReadMetadataKeys
)

// BoundsError says which field of an answer held more entries than paydesk
// reads.
type BoundsError struct {
	Field string // JSON path, e.g. "charges" or "data[].items"
	List  bool   // a list rather than an object
	Max   int
	// Metadata: the answer's metadata objects hold more keys in all than
	// MaxAnswerMetadataKeys (Field is the last of them).
	Metadata bool
}

func (e *BoundsError) Error() string {
	what := "entries"
	switch {
	case e.Metadata:
		return fmt.Sprintf("the metadata in this answer (up to %s) holds more than %d keys in all, more than paydesk reads; the answer was not used", e.Field, e.Max)
	case !e.List:
		what = "members"
	}
	return fmt.Sprintf("%s holds more than %d %s, more than paydesk reads; the answer was not used", e.Field, e.Max, what)
}

// CheckBounds scans a JSON answer once, without decoding or allocating, and
// returns a *BoundsError for the first list longer than MaxListLen, object
// (other than one named "metadata") with more than MaxObjectMembers
// members, or metadata objects keeping more than MaxAnswerMetadataKeys keys
// in all. It does not validate JSON: a malformed answer is left for the
// decoder to refuse.
func CheckBounds(b []byte) error {
	type frame struct {
		list       bool
		n          int  // entries so far
		seen       bool // anything inside yet
		name       string
		key0, key1 int // last string seen at this level (an object's key)
	}
	var stack []frame
	last0, last1 := -1, -1 // span of the last string scanned
	metaKeys := 0          // metadata keys kept across the answer
	for i := 0; i < len(b); i++ {
		c := b[i]
		if len(stack) > 0 && !stack[len(stack)-1].seen && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ']' && c != '}' {
			top := &stack[len(stack)-1]
			top.seen, top.n = true, 1
		}
		switch c {
		case '"':
			start := i + 1
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			last0, last1 = start, min(i, len(b))
		case ':':
			if len(stack) > 0 {
				stack[len(stack)-1].key0, stack[len(stack)-1].key1 = last0, last1
			}
		case '{', '[':
			name := ""
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				if p.list {
					name = p.name + "[]"
				} else if p.key0 >= 0 && p.key1 >= p.key0 {
					name = string(b[p.key0:p.key1])
					if p.name != "" {
						name = p.name + "." + name
					}
				}
			}
			stack = append(stack, frame{list: c == '[', name: name, key0: -1, key1: -1})
		case ']', '}':
			if len(stack) == 0 {
				continue
			}
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !top.list && isMetadata(top.name) {
				if metaKeys += min(top.n, model.MaxReadMetadataKeys); metaKeys > MaxAnswerMetadataKeys {
					return &BoundsError{Field: top.name, Max: MaxAnswerMetadataKeys, Metadata: true}
				}
			}
		case ',':
			if len(stack) == 0 {
				continue
			}
			top := &stack[len(stack)-1]
			top.n++
			switch {
			case top.list && top.n > MaxListLen:
				return &BoundsError{Field: orTop(top.name), List: true, Max: MaxListLen}
			case !top.list && top.n > MaxObjectMembers && !isMetadata(top.name):
				return &BoundsError{Field: orTop(top.name), Max: MaxObjectMembers}
			}
		}
	}
	return nil
}

func orTop(name string) string {
	if name == "" {
		return "the answer"
	}
	return name
}

// isMetadata reports whether a JSON path names a metadata object, the one
// kind of object read in part (see ObjectMembers).
func isMetadata(path string) bool {
	return path == "metadata" || len(path) > 9 && path[len(path)-9:] == ".metadata"
}

// Member is one member of a JSON object, in wire order.
type Member struct {
	Key   string
	Value json.RawMessage
}

// ObjectMembers reads a metadata object's members in wire order, at most
// model.MaxReadMetadataKeys of them, and says how many it holds in all (a
// later duplicate key replaces an earlier one, as encoding/json does). The
// members past the cap are counted, never decoded, so a million-key object
// costs one pass over its bytes. The values kept are copies: they may be
// cached, and must not pin a 16 MB answer. ok is false when b is not an
// object.
func ObjectMembers(b []byte) (kept []Member, total int, ok bool) {
	kept, total, ok = Members(b, model.MaxReadMetadataKeys)
	for i := range kept {
		kept[i].Value = bytes.Clone(kept[i].Value)
	}
	return kept, total, ok
}

// Members reads up to max distinct members of the JSON object b in wire
// order without a json.Decoder (whose buffer would grow to hold the whole
// object) and counts the rest. Values are slices of b, not copies. b must
// already be valid JSON (callers pass what json.Unmarshal accepted); ok is
// false when it is not an object.
func Members(b []byte, max int) (kept []Member, total int, ok bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, 0, false
	}
	seen := map[string]int{}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] == '"' && len(kept) < max {
		kend := skipValue(b, i)
		var k string
		if json.Unmarshal(b[i:kend], &k) != nil {
			return kept, len(kept), true
		}
		i = skipSpace(b, kend)
		if i >= len(b) || b[i] != ':' {
			return kept, len(kept), true
		}
		v0 := skipSpace(b, i+1)
		v1 := skipValue(b, v0)
		if j, dup := seen[k]; dup {
			kept[j].Value = b[v0:v1]
		} else {
			seen[k] = len(kept)
			kept = append(kept, Member{k, b[v0:v1]})
		}
		i = skipSpace(b, v1)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	if i >= len(b) || b[i] != '"' {
		return kept, len(kept), true // read to the end
	}
	return kept, countMembers(b[skipSpace(b, 0):]), true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		for i++; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return len(b)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipValue(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// countMembers counts the top-level members of the JSON object b (which
// starts with '{'), without decoding it.
func countMembers(b []byte) int {
	depth, n, seen := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			if depth == 1 && !seen {
				seen, n = true, 1
			}
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return n
			}
		case ',':
			if depth == 1 {
				n++
			}
		}
	}
	return n
}
