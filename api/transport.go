package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Authenticator puts credentials on a request. Invalidate is called once when
// the provider answers 401, so the next Authorize fetches a fresh token.
type Authenticator interface {
	Authorize(ctx context.Context, req *http.Request) error
	Invalidate()
}

// Request is one logical API call. Body holds the exact bytes sent on every
// attempt: a retry must be byte-identical, or an idempotent provider answers
// "same key, different request".
type Request struct {
	Op          string // for error messages: "refund order 1a2b3c4d5e"
	Method      string
	Path        string // joined to the transport's base URL
	Query       url.Values
	Body        []byte
	ContentType string      // default application/json when Body is set
	Header      http.Header // per-request headers, e.g. Idempotency-Key
	// Mutating marks a request that changes something at the provider: an
	// answer lost after sending makes its outcome unknown.
	Mutating bool
	// Replayable says the provider de-duplicates this request (idempotency key
	// or client-chosen id), so it may be sent again after an ambiguous
	// failure. A mutating request that is not replayable is never re-sent once
	// it may have reached the provider.
	Replayable bool
}

// Response is a successful (2xx) answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// RetryPolicy bounds retries. Transport errors, 409, 429 and 5xx are retried
// with jittered exponential backoff; Retry-After is honoured up to
// MaxRetryAfter; everything stops at the caller's context deadline.
type RetryPolicy struct {
	MaxAttempts    int           // including the first; default 4
	Base           time.Duration // first backoff step; default 250ms
	Cap            time.Duration // largest backoff step; default 4s
	MaxRetryAfter  time.Duration // longest Retry-After honoured; default 30s
	AttemptTimeout time.Duration // one attempt's deadline; default 15s
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 4
	}
	if p.Base <= 0 {
		p.Base = 250 * time.Millisecond
	}
	if p.Cap <= 0 {
		p.Cap = 4 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 30 * time.Second
	}
	if p.AttemptTimeout <= 0 {
		p.AttemptTimeout = 15 * time.Second
	}
	return p
}

// Backoff is the wait before retry n (0-based): "equal jitter", half fixed and
// half random, so retries from many agents spread out but never collapse to 0.
func (p RetryPolicy) Backoff(n int) time.Duration {
	p = p.withDefaults()
	d := p.Base << min(n, 20)
	if d > p.Cap || d <= 0 {
		d = p.Cap
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// ErrorDecoder turns a provider's non-2xx body into an *Error (code, message,
// fields). The transport fills in provider, op, status and retry flags.
type ErrorDecoder func(status int, header http.Header, body []byte) *Error

// Transport is the one way paydesk talks HTTP to a provider.
type Transport struct {
	Provider    string
	BaseURL     string
	Client      *http.Client
	Auth        Authenticator
	Limiter     *rate.Limiter
	Retry       RetryPolicy
	DecodeError ErrorDecoder
	Header      http.Header // sent on every request (Merchant-Account, API-Version)
	// Sleep waits between attempts; tests replace it. nil = a timer that
	// stops when the context ends.
	Sleep func(ctx context.Context, d time.Duration) error
}

// maxBody bounds what is read from a provider, so a hostile or broken server
// cannot fill memory.
const maxBody = 16 << 20

// Do sends r, retrying what is safe to retry, and returns the 2xx answer or an
// *Error. Cancelling ctx stops at once.
func (t *Transport) Do(ctx context.Context, r Request) (*Response, error) {
	pol := t.Retry.withDefaults()
	var (
		mayHaveHappened bool // some attempt reached the provider and got no clear answer
		reauthed        bool
		lastErr         *Error
	)
attempts:
	for attempt := 0; attempt < pol.MaxAttempts; attempt++ {
		if attempt > 0 {
			wait := pol.Backoff(attempt - 1)
			if lastErr != nil && lastErr.RetryAfter != "" {
				// Never sooner than our own backoff: "Retry-After: 0" or a
				// date in the past must not become a burst of re-sends.
				if ra, ok := parseRetryAfter(lastErr.RetryAfter, time.Now()); ok {
					wait = max(min(ra, pol.MaxRetryAfter), wait)
				}
			}
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
				break // no time left for another try: report what we have
			}
			if err := t.sleep(ctx, wait); err != nil {
				return nil, t.stopped(r, err, mayHaveHappened)
			}
		}
		if t.Limiter != nil {
			if err := t.Limiter.Wait(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, t.stopped(r, ctx.Err(), mayHaveHappened)
				}
				break // the wait would outlast the deadline
			}
		}
		resp, sent, err := t.attempt(ctx, r, pol.AttemptTimeout)
		if ae, ok := err.(authError); ok {
			// Credentials could not be had (a refused secret): a definite
			// answer, unless the token endpoint itself said to retry.
			if e, ok := AsError(ae.err); ok && !e.Retryable {
				return nil, t.finish(r, e, mayHaveHappened)
			}
			err = ae.err
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, t.stopped(r, ctx.Err(), mayHaveHappened || sent)
			}
			mayHaveHappened = mayHaveHappened || sent
			lastErr = &Error{Err: err, Retryable: true}
			if sent && r.Mutating && !r.Replayable {
				break // it may have happened and the provider can't spot a repeat
			}
			continue
		}
		mayHaveHappened = mayHaveHappened || resp.resent
		if resp.StatusCode == http.StatusUnauthorized && t.Auth != nil && !reauthed {
			reauthed = true
			t.Auth.Invalidate()
			attempt-- // a token refresh is not a retry
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return &Response{Status: resp.StatusCode, Header: resp.Header, Body: resp.body}, nil
		}
		e := t.decode(resp)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			// Throttled before it was handled: safe to send again.
			e.Retryable = true
		case resp.StatusCode == http.StatusConflict || resp.StatusCode >= 500:
			e.Retryable = true
			mayHaveHappened = true
			if r.Mutating && !r.Replayable {
				lastErr = e
				break attempts // only reading the provider can tell now
			}
		default:
			// A definite answer (400, 401, 403, 404, 422): never retried.
			// It settles nothing if an earlier attempt may have happened.
			return nil, t.finish(r, e, mayHaveHappened)
		}
		lastErr = e
	}
	if lastErr == nil {
		lastErr = &Error{Err: context.DeadlineExceeded, Retryable: true}
	}
	return nil, t.finish(r, lastErr, mayHaveHappened)
}

func (t *Transport) finish(r Request, e *Error, mayHaveHappened bool) *Error {
	e.Provider = t.Provider
	e.Op = r.Op
	e.Unknown = r.Mutating && mayHaveHappened
	return e
}

func (t *Transport) stopped(r Request, err error, sent bool) *Error {
	return t.finish(r, &Error{Err: err}, sent)
}

// authError marks a failure to get credentials, before anything was sent.
type authError struct{ err error }

func (a authError) Error() string { return a.err.Error() }
func (a authError) Unwrap() error { return a.err }

type rawResponse struct {
	*http.Response
	body []byte
	// resent: net/http wrote the request more than once (its own retry on
	// a dead keep-alive connection), so an earlier write may have taken
	// effect whatever this answer says.
	resent bool
}

// attempt sends once. sent reports whether the request was written to the
// connection: an error before that point cannot have taken effect.
func (t *Transport) attempt(ctx context.Context, r Request, timeout time.Duration) (*rawResponse, bool, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var mu sync.Mutex
	writes := 0
	wasSent := func() bool { mu.Lock(); defer mu.Unlock(); return writes > 0 }
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteHeaders: func() { mu.Lock(); writes++; mu.Unlock() },
	})
	u := strings.TrimRight(t.BaseURL, "/") + r.Path
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(actx, r.Method, u, body)
	if err != nil {
		return nil, false, err
	}
	if r.Mutating && !r.Replayable {
		// Without GetBody net/http never re-sends the request by itself (it
		// does on a dead keep-alive connection when an Idempotency-Key
		// header is present): only this loop decides about re-sending.
		req.GetBody = nil
	}
	for k, vs := range t.Header {
		req.Header[k] = vs
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if r.Body != nil {
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "paydesk/1")
	if t.Auth != nil {
		if err := t.Auth.Authorize(ctx, req); err != nil {
			return nil, false, authError{err}
		}
	}
	client := t.Client
	if client == nil {
		client = noRedirects
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, wasSent(), err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		// The provider answered but the body was cut: the request got there.
		return nil, true, fmt.Errorf("reading %d response: %w", resp.StatusCode, err)
	}
	mu.Lock()
	resent := writes > 1
	mu.Unlock()
	return &rawResponse{Response: resp, body: b, resent: resent}, true, nil
}

// Redactor is implemented by authenticators that can scrub the credential
// they send from text a provider echoed back (an error message quoting the
// Authorization header, say), so it never reaches the screen, a log or the
// journal on disk.
type Redactor interface{ Redact(s string) string }

func (t *Transport) decode(resp *rawResponse) *Error {
	var e *Error
	if t.DecodeError != nil {
		e = t.DecodeError(resp.StatusCode, resp.Header, resp.body)
	}
	if e == nil {
		e = &Error{Message: strings.TrimSpace(string(truncate(resp.body, 200)))}
	}
	if r, ok := t.Auth.(Redactor); ok {
		e.Message, e.Code = r.Redact(e.Message), r.Redact(e.Code)
		for i := range e.Fields {
			e.Fields[i].Message = r.Redact(e.Fields[i].Message)
		}
	}
	e.HTTPStatus = resp.StatusCode
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		e.RetryAfter = ra
	}
	return e
}

func (t *Transport) sleep(ctx context.Context, d time.Duration) error {
	if t.Sleep != nil {
		return t.Sleep(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// parseRetryAfter reads delta-seconds or an HTTP-date (RFC 9110).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, 86400)) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0), true
	}
	return 0, false
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// noRedirects is the default client: a redirect would turn a POST into a GET
// (301/302/303) or send a request somewhere the agent did not configure, so
// a 3xx is returned to the caller as an error instead of followed.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

var (
	limitersMu sync.Mutex
	limiters   = map[string]*rate.Limiter{}
)

// SharedLimiter returns the process-wide limiter for key, creating it with
// the given budget: every client of one provider account in this process (and
// every SSH session it serves) draws from one budget.
func SharedLimiter(key string, every time.Duration, burst int) *rate.Limiter {
	limitersMu.Lock()
	defer limitersMu.Unlock()
	if l, ok := limiters[key]; ok {
		return l
	}
	l := rate.NewLimiter(rate.Every(every), burst)
	limiters[key] = l
	return l
}

// IsTransient reports whether err is a retryable failure (the action may be
// tried again later with the same idempotency key).
func IsTransient(err error) bool {
	e, ok := AsError(err)
	return ok && e.Retryable
}

// Canceled reports whether err came from the caller giving up.
func Canceled(err error) bool {
	return errors.Is(err, context.Canceled)
}
