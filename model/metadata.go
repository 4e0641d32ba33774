package model

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"paydesk/model/pii"
	"paydesk/model/safetext"
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

// FieldError names a field and the rule its value broke, in words for the agent.
type FieldError struct {
	Field string
	Rule  string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Rule }

// ValidationError is every field error of one form, so all are shown at once.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	parts := make([]string, len(v))
	for i, e := range v {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// For returns the first error about a field, or "".
func (v ValidationError) For(field string) string {
	for _, e := range v {
		if e.Field == field {
			return e.Rule
		}
	}
	return ""
}

// ValidateMetadata checks metadata the agent is about to write.
func ValidateMetadata(m Metadata) ValidationError {
	var errs ValidationError
	if len(m) > MaxMetadataKeys {
		errs = append(errs, FieldError{"metadata", fmt.Sprintf("at most %d keys (has %d)", MaxMetadataKeys, len(m))})
	}
	for _, k := range m.Keys() {
		v := m[k]
		field := "metadata." + k
		switch {
		case strings.TrimSpace(k) == "":
			errs = append(errs, FieldError{"metadata key", "must not be blank"})
		case utf8.RuneCountInString(k) > MaxMetadataKeyLen:
			errs = append(errs, FieldError{field, fmt.Sprintf("key is longer than %d characters", MaxMetadataKeyLen)})
		case !printable(k):
			errs = append(errs, FieldError{field, "key contains control characters"})
		}
		switch {
		case utf8.RuneCountInString(v) > MaxMetadataValueLen:
			errs = append(errs, FieldError{field, fmt.Sprintf("value is longer than %d characters", MaxMetadataValueLen)})
		case !printable(v):
			errs = append(errs, FieldError{field, "value contains control characters"})
		}
		// Forage, Stripe and Square all say: no personal data in metadata.
		var perr *pii.Error
		if errors.As(pii.Check(k, v), &perr) {
			where := "value "
			if perr.InKey {
				field, where = "metadata key", "key "
			}
			errs = append(errs, FieldError{field, where + perr.Reason + " (no personal or card data in metadata)"})
			continue
		}
		// The review shows written metadata verbatim (see sentAsShown).
		if !printable(k) || !printable(v) {
			continue // already refused above
		}
		if rule := notAsShown(k); rule != "" {
			errs = append(errs, FieldError{"metadata key", "key " + rule})
		} else if rule := notAsShown(v); rule != "" {
			errs = append(errs, FieldError{field, "value " + rule})
		}
	}
	return errs
}

// ValidateExternalOrderID applies Forage's 64-character limit and the PII
// guard: the id is sent to the provider as typed.
func ValidateExternalOrderID(s string) *FieldError {
	if utf8.RuneCountInString(s) > MaxExternalIDLen {
		return &FieldError{"external order id", fmt.Sprintf("at most %d characters (has %d)", MaxExternalIDLen, utf8.RuneCountInString(s))}
	}
	if !printable(s) {
		return &FieldError{"external order id", "contains control characters"}
	}
	return sentAsShown("external order id", s)
}

// ValidateReason checks a refund reason: required, printable, within max
// characters (0 = no limit; Digital River allows 64), no personal or card
// data, and shown on screen exactly as it will be sent.
func ValidateReason(s string, max int) *FieldError {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	switch {
	case n == 0:
		return &FieldError{"reason", "is required"}
	case max > 0 && utf8.RuneCountInString(s) > max:
		return &FieldError{"reason", fmt.Sprintf("at most %d characters (has %d)", max, utf8.RuneCountInString(s))}
	case !printable(s):
		return &FieldError{"reason", "contains control characters"}
	}
	return sentAsShown("reason", s)
}

// sentAsShown is the rule for free text the agent types that goes to a
// provider: no personal or card data (the PII guard), and nothing the
// screen would draw differently from the bytes sent. The confirmation shows
// agent-typed text verbatim; display-only masking there would let an agent
// believe a card number was masked when the provider receives it whole
// (which is how a reason once reached a provider unmasked). So text that the
// terminal-safe display would alter (a digit run it masks, a bidi control it
// removes) is refused here, at the form, and the typed value is kept.
func sentAsShown(field, s string) *FieldError {
	if _, reason := pii.Detect(s); reason != "" {
		return &FieldError{field, reason + "; no personal or card data may be sent to the provider"}
	}
	if rule := notAsShown(s); rule != "" {
		return &FieldError{field, rule}
	}
	return nil
}

// notAsShown says why the screen would draw s differently from its bytes,
// or "" when it draws it exactly.
func notAsShown(s string) string {
	switch {
	case pii.MaskPAN(s) != s:
		return "has a long digit run the screen would mask; write it so it shows exactly as it will be sent"
	case !safetext.IsClean(s):
		return "contains characters the screen cannot show as typed (direction or invisible controls)"
	}
	return ""
}

// ValidateRefundAmount checks an amount the agent typed against what is left.
func ValidateRefundAmount(s string, refundable Money) (Money, *FieldError) {
	m, err := ParseAmount(strings.TrimSpace(s), refundable.Currency)
	if err != nil {
		rule := err.Error()
		if ae, ok := err.(*AmountError); ok {
			rule = ae.Rule
		}
		return Money{}, &FieldError{"amount", rule}
	}
	if !m.IsPositive() {
		return Money{}, &FieldError{"amount", "must be more than zero"}
	}
	if c, _ := m.Cmp(refundable); c > 0 {
		return Money{}, &FieldError{"amount", "is more than the " + refundable.String() + " still refundable"}
	}
	return m, nil
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			return false
		}
	}
	return true
}
