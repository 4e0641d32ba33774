package api

import "net/http"

// Happened is what one attempt came back with, as far as the retry decision
// cares.
type Happened int

const (
	// NotSent: the attempt failed before any byte of the request was written
	// (refused connection, DNS, no credentials). It cannot have taken effect.
	NotSent Happened = iota
	// Lost: the request was written and no complete answer came back (reset,
	// timeout, a body cut short, whatever the status said). It may have
	// taken effect.
	Lost
	// Answered: a complete HTTP answer with Attempt.Status.
	Answered
)

// Attempt is everything the retry decision looks at: one attempt's result
// and the request's nature. It holds no I/O, so the decision is a pure
// function and is table-tested on its own.
type Attempt struct {
	Happened Happened
	Status   int // the HTTP status when Happened is Answered
	// Mutating: the request changes something at the provider.
	Mutating bool
	// Replayable: the provider recognises a repeat of this request (Forage's
	// Idempotency-Key, Moyasar's transaction_id) when it is sent again with
	// the same key and byte-identical body.
	Replayable bool
	// EarlierMayHaveHappened: an earlier attempt of this request may have
	// reached the provider (lost answer, 5xx, 409, net/http's own re-send).
	EarlierMayHaveHappened bool
	// CanRefresh: the credentials can be refreshed (an OAuth token) and the
	// one refresh this request is allowed has not been used. A static key
	// cannot be refreshed, so a 401 to it is never "refresh and retry".
	CanRefresh bool
}

// Decision is what to do after an attempt.
type Decision int

const (
	// Succeeded: a 2xx answer; return it.
	Succeeded Decision = iota
	// Retry: send the same bytes (and key) again after backoff, if attempts
	// and time remain. If they do not, the error is transient: a later try
	// with the same key may succeed.
	Retry
	// Refresh: drop the cached token and send again at once (a 401 to a
	// refreshable credential). It does not count as a retry.
	Refresh
	// Definite: the provider refused; nothing happened and sending the same
	// request again will not change that.
	Definite
	// Unknown: stop. The request may have taken effect and may not be sent
	// again; only reading the provider can settle it. Never "failed".
	Unknown
)

func (d Decision) String() string {
	switch d {
	case Succeeded:
		return "succeeded"
	case Retry:
		return "retry"
	case Refresh:
		return "refresh"
	case Definite:
		return "definite"
	case Unknown:
		return "unknown"
	}
	return "decision(?)"
}

// Decide is the one rule for re-sending (after stripe-go's shouldRetry):
//
//   - A mutating request the provider cannot recognise as a repeat is never
//     sent again once any attempt may have reached the provider: a lost
//     answer, 3xx, 401, 409, 429 or 5xx is then Unknown. 401 and 429 are
//     included because a proxy or gateway can say them after the backend
//     committed; the provider's word is not enough to risk a second refund.
//   - A replayable mutating request may be re-sent with the same key and
//     bytes (lost answer, 409, 429, 5xx) and refreshed once on a 401; a 401
//     it cannot refresh past is Unknown, like any change's.
//   - A 3xx is never followed. To a mutating request it is Unknown (the
//     POST/redirect/GET pattern answers 303 after committing); to a read it
//     is a definite error.
//   - A definite refusal (a 4xx other than 401, 409 and 429) of a mutating
//     request is Unknown when an earlier attempt may have happened: the
//     refusal answers the last attempt, not the earlier one.
//   - A read is never Unknown: it is retried or it fails.
func Decide(a Attempt) Decision {
	reached := a.Happened != NotSent // this attempt may have reached the provider
	mayHave := a.EarlierMayHaveHappened || reached
	// once is true for a mutating request that must not be sent again.
	once := a.Mutating && !a.Replayable && mayHave
	switch {
	case a.Happened == NotSent:
		if a.Mutating && !a.Replayable && a.EarlierMayHaveHappened {
			return Unknown
		}
		return Retry
	case a.Happened == Lost:
		if once {
			return Unknown
		}
		return Retry
	}
	s := a.Status
	switch {
	case s >= 200 && s < 300:
		return Succeeded
	case s == http.StatusUnauthorized:
		switch {
		case once:
			return Unknown
		case a.CanRefresh:
			return Refresh
		case a.Mutating:
			// A gateway can refuse the credentials after the backend
			// committed; with nothing left to refresh, only a read can
			// tell, and calling it failed invites a second refund.
			return Unknown
		}
		return Definite
	case s == http.StatusConflict, s == http.StatusTooManyRequests, s >= 500:
		if once {
			return Unknown
		}
		return Retry
	case s >= 400:
		if a.Mutating && a.EarlierMayHaveHappened {
			return Unknown
		}
		return Definite
	default:
		// 3xx (redirects are never followed) and the odd 1xx: an answer
		// that is not about the request's outcome.
		if a.Mutating {
			return Unknown
		}
		return Definite
	}
}

// Transient reports whether a status (0 = no complete answer) is one that
// asking again later may change: no answer, 409, 429 or a server error. It is
// the one definition of "transient"; IsTransient applies it to errors.
func transientStatus(status int) bool {
	return status == 0 || status == http.StatusConflict || status == http.StatusTooManyRequests || status >= 500
}
