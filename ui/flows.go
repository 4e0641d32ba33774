package ui

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"paydesk/api"
	"paydesk/model"
	"paydesk/model/safetext"
)

// ActionDone is what a finished action flow (edit, refund, cancel) pops back
// with: the order afterwards when known, the refunds it created (shown at once
// and then polled), and a line for the status bar.
type ActionDone struct {
	Order   *model.Order
	Refunds []model.Refund
	Payment *model.Payment
	Refund  *model.Refund
	Message string
}

// refused is what a confirmation pops back to its form with when the
// provider refused named fields; the form shows each beside its field.
type refused struct{ fields []api.FieldError }

// formFields are the refund form's fields, by the names providers use.
var formFields = []string{"amount", "reason", "metadata", "external_order_id"}

// namesFormField reports whether a provider refused one of the form's own
// fields (a refusal of the order as a whole stays on the confirmation).
func namesFormField(fs []api.FieldError) bool {
	for _, f := range fs {
		for _, name := range formFields {
			if fieldIs(f.Field, name) {
				return true
			}
		}
	}
	return false
}

// fieldIs reports whether a provider's field name ("metadata.ticket") is
// about the form field name ("metadata").
func fieldIs(providerField, name string) bool {
	return providerField == name || strings.HasPrefix(providerField, name+".")
}

// confirmed is what a confirmation pops back to its form with on success.
type confirmed struct{ done ActionDone }

// moneyTimeout bounds one money request, retries included. It is longer than
// a read's deadline: the transport retries transient failures inside it, and
// giving up early only turns a success into an "unknown".
const moneyTimeout = 45 * time.Second

// actionKeys mints idempotency keys for one form session. A key is a UUIDv7
// (Moyasar requires v7 for transaction_id) whose time is the session's start
// and whose random bits are a hash of the session and the exact request. The
// same form submitting the same request again gets the same key, so a retry
// is recognised by the provider; any change (a new amount, another reason)
// is a new logical action with a new key.
type actionKeys struct {
	start time.Time
	salt  string
}

func newActionKeys(c *Context) actionKeys {
	salt := ""
	if c.NewKey != nil {
		salt = c.NewKey()
	}
	return actionKeys{start: c.Now(), salt: salt}
}

func (k actionKeys) For(canonical string) string {
	var u uuid.UUID
	ms := uint64(k.start.UnixMilli())
	for i := 0; i < 6; i++ {
		u[i] = byte(ms >> (40 - 8*i))
	}
	h := sha256.Sum256([]byte(k.salt + "\x00" + canonical))
	copy(u[6:], h[:10])
	u[6] = (u[6] & 0x0f) | 0x70 // version 7
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 4122 variant
	return u.String()
}

// confirmWord is what the agent must type to move money: the order ref, or the
// last 6 characters of a long id (a UUID is not something to type at 3 a.m.).
func confirmWord(ref string) string {
	if len(ref) > 12 {
		return ref[len(ref)-6:]
	}
	return ref
}

// parseMetadataLine reads "key=value; key2=value2" from a one-line input.
func parseMetadataLine(s string) (model.Metadata, error) {
	md := model.Metadata{}
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		switch {
		case !ok:
			return nil, fmt.Errorf("metadata: %q is not key=value (separate entries with ';')", part)
		case k == "":
			return nil, fmt.Errorf("metadata: %q has no key before '='", part)
		}
		if _, dup := md[k]; dup {
			return nil, fmt.Errorf("metadata: key %q appears twice", k)
		}
		md[k] = strings.TrimSpace(v)
	}
	if errs := model.ValidateMetadata(md); len(errs) > 0 {
		return nil, errs
	}
	return md, nil
}

// canonicalRequest is the text an idempotency key is derived from.
func canonicalRequest(parts ...string) string { return strings.Join(parts, "\x1f") }

// metadataText shows metadata as "k=v; k=v" for one-line cells, terminal-safe.
func metadataText(md model.Metadata) string {
	if len(md) == 0 {
		return "—"
	}
	parts := make([]string, 0, len(md))
	for _, k := range md.Keys() {
		parts = append(parts, safetext.Line(k)+"="+safetext.Line(md[k]))
	}
	return strings.Join(parts, "; ")
}
