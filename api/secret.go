package api

import (
	"fmt"
	"log/slog"
)

// Secret holds a credential. Every way Go has of printing it (%v, %+v, %#v,
// %s, JSON, slog) prints [REDACTED]; only Reveal gives the value, and only the
// code that puts it on the wire calls Reveal.
type Secret struct{ v string }

// NewSecret wraps a credential.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the credential for the one place that sends it.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether no credential was given.
func (s Secret) IsZero() bool { return s.v == "" }

const redacted = "[REDACTED]"

func (s Secret) String() string                { return redacted }
func (s Secret) GoString() string              { return redacted }
func (s Secret) MarshalJSON() ([]byte, error)  { return []byte(`"` + redacted + `"`), nil }
func (s Secret) MarshalText() ([]byte, error)  { return []byte(redacted), nil }
func (s Secret) LogValue() slog.Value          { return slog.StringValue(redacted) }
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }
