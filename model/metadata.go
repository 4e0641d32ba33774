package model

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Metadata is a provider object's free-form key/value set. Values that the
// provider sent as JSON numbers, booleans or objects are held as their JSON
// text; when the agent edits such a value it is written back as a string.
type Metadata map[string]string

// Keys returns the keys in a stable (sorted) order for display.
func (m Metadata) Keys() []string { return slices.Sorted(maps.Keys(m)) }

// Clone copies the set so an editor can change it without touching the original.
func (m Metadata) Clone() Metadata {
	if m == nil {
		return Metadata{}
	}
	return maps.Clone(m)
}

// MetadataChange is one line of the summary shown before metadata is saved.
type MetadataChange struct {
	Key      string
	Old, New string
	Kind     ChangeKind
}

// ChangeKind says what happened to a key.
type ChangeKind int

const (
	Added ChangeKind = iota
	Changed
	Removed
)

func (k ChangeKind) String() string {
	return [...]string{"added", "changed", "removed"}[k]
}

// Diff lists what turns m into next, sorted by key.
func (m Metadata) Diff(next Metadata) []MetadataChange {
	var out []MetadataChange
	for _, k := range slices.Sorted(maps.Keys(next)) {
		old, had := m[k]
		switch {
		case !had:
			out = append(out, MetadataChange{Key: k, New: next[k], Kind: Added})
		case old != next[k]:
			out = append(out, MetadataChange{Key: k, Old: old, New: next[k], Kind: Changed})
		}
	}
	for _, k := range m.Keys() {
		if _, ok := next[k]; !ok {
			out = append(out, MetadataChange{Key: k, Old: m[k], Kind: Removed})
		}
	}
	slices.SortStableFunc(out, func(a, b MetadataChange) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// Limits on metadata the agent writes. Forage publishes none; these follow the
// common Stripe-style limits so nothing the console writes is likely to be
// refused by any of the three providers.
const (
	MaxMetadataKeys     = 50
	MaxMetadataKeyLen   = 40
	MaxMetadataValueLen = 500
	MaxExternalIDLen    = 64
)

// Limits on metadata the console reads. A provider may hold more keys than
// the console writes (other systems write metadata too), but a hostile
// answer can pack a million keys into the 16 MB body cap; per-key costs
// (map entries, screen rows, editor inputs) then take hundreds of MB.
const (
	// MaxReadMetadataKeys is how many keys of one object's metadata the
	// clients keep; the rest are dropped at decode and the object's
	// MetadataTotal says how many there were (see MetadataNote). Twenty
	// times what paydesk writes, so honest data is never cut.
	MaxReadMetadataKeys = 1000
	// MaxEditableMetadataKeys is the largest set the metadata editor opens
	// (one row of two inputs per key). A set the provider holds beyond it,
	// or one cut at decode, is refused with a message: saving writes the
	// whole set back, so editing a part of one would delete the rest.
	MaxEditableMetadataKeys = 2 * MaxMetadataKeys
)

// MetadataNote is the visible marker of metadata cut at decode ("" when
// nothing was cut): total is the object's MetadataTotal, kept how many keys
// are held.
func MetadataNote(kept, total int) string {
	if total <= kept {
		return ""
	}
	return fmt.Sprintf("truncated: the provider sent %d keys; paydesk reads the first %d", total, kept)
}
