package ui

import (
	"crypto/sha256"
	"strings"
	"time"

	"github.com/google/uuid"
)

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

// canonicalRequest is the text an idempotency key is derived from.
func canonicalRequest(parts ...string) string { return strings.Join(parts, "\x1f") }
