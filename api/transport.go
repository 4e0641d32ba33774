package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

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

// RetryPolicy bounds retries. What is retried is Decide's alone; retries
// wait with jittered exponential backoff; Retry-After is honoured up to
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
// fields, and a Hint when the provider package knows what to advise). The
// transport fills in provider, op, status and retry flags, and scrubs every
// field of credentials afterwards.
type ErrorDecoder func(status int, header http.Header, body []byte) *Error

// Transport is the one way paydesk talks HTTP to a provider. It owns the one
// http.Client policy: redirects are never followed and credentials go only to
// the base URL's scheme, host and port. A provider package gives it a
// RoundTripper at most, never a client of its own.
type Transport struct {
	Provider string // the id recorded in errors: "forage"
	// Name is the provider as an agent knows it ("Forage"), for hints;
	// "" = Provider.
	Name    string
	BaseURL string
	// BaseURLSetting names where BaseURL came from ("FORAGE_BASE_URL"), so
	// advice about a wrong address can say what to check.
	BaseURLSetting string
	RoundTripper   http.RoundTripper // nil = DefaultRoundTripper
	Auth           Authenticator
	// Secrets lists credentials sent by other means than Auth (the Basic
	// header of Forage's token call). Auth's own are scrubbed too when it
	// implements Credentials.
	Secrets     Credentials
	Limiter     *rate.Limiter
	Retry       RetryPolicy
	DecodeError ErrorDecoder
	Header      http.Header // sent on every request (Merchant-Account, API-Version)
	// Sleep waits between attempts; tests replace it. nil = a timer that
	// stops when the context ends.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultRoundTripper is used when a Transport has none: bounded dial, TLS
// and header waits, so a silent provider fails inside the attempt timeout
// rather than at the kernel's.
var DefaultRoundTripper http.RoundTripper = &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   5 * time.Second,
	ResponseHeaderTimeout: 20 * time.Second,
	MaxIdleConnsPerHost:   4,
	IdleConnTimeout:       90 * time.Second,
	ForceAttemptHTTP2:     true,
}

// maxBody bounds what is read from a provider, so a hostile or broken server
// cannot fill memory.
const maxBody = 16 << 20

// Do sends r, re-sending only what Decide allows, and returns the 2xx answer
// or an *Error. Cancelling ctx stops at once.
func (t *Transport) Do(ctx context.Context, r Request) (*Response, error) {
	pol := t.Retry.withDefaults()
	start := time.Now()
	var (
		mayHave   bool // some attempt may have taken effect at the provider
		refreshed bool // the one credential refresh was used
		last      *Error
	)
	for attempt := 0; attempt < pol.MaxAttempts; {
		if goOn, err := t.pause(ctx, pol, attempt, last); err != nil {
			return nil, t.stopped(r, err, mayHave, start)
		} else if !goOn {
			break // no time left for another try: report what we have
		}
		res := t.attempt(ctx, r, pol.AttemptTimeout)
		if res.authErr != nil {
			// Credentials could not be had: nothing was sent. A refused
			// secret is definite; a token endpoint that failed transiently
			// is retried like any unsent attempt.
			if e, ok := AsError(res.authErr); ok && !e.Retryable && ctx.Err() == nil {
				d := Definite
				if r.Mutating && mayHave {
					d = Unknown // an earlier attempt may have happened
				}
				return nil, t.finish(r, e, d, mayHave)
			}
			res.err = res.authErr
		}
		if res.resp == nil && ctx.Err() != nil {
			// The caller gave up: no retry, and a change that was written
			// may have happened.
			return nil, t.stopped(r, ctx.Err(), mayHave || res.happened != NotSent, start)
		}
		status := 0
		if res.resp != nil {
			status = res.resp.StatusCode
		}
		d := Decide(Attempt{
			Happened: res.happened, Status: status,
			Mutating: r.Mutating, Replayable: r.Replayable,
			EarlierMayHaveHappened: mayHave || res.resent,
			CanRefresh:             t.Auth != nil && !refreshed && t.refreshable(),
		})
		mayHave = mayHave || res.resent || mayHaveTakenEffect(res.happened, status)
		if d == Succeeded {
			body, echoed := t.scrubAnswer(res.body)
			if !echoed {
				return &Response{Status: status, Header: res.resp.Header, Body: body}, nil
			}
			// The answer spells a credential with escapes that decoding
			// would turn back into the key on the screen. Show none of it;
			// a change it answers may have happened and is settled by
			// reading, like any answer that cannot be used.
			d = Definite
			if r.Mutating {
				d = Unknown
			}
			return nil, t.finish(r, &Error{HTTPStatus: status,
				Message: "the answer quoted paydesk's credentials in escaped form and is not shown",
				Hint:    t.name() + " echoes the credentials paydesk sends: rotate them and report it to " + t.name()}, d, true)
		}
		var e *Error
		if res.resp != nil {
			e = t.decode(res)
		} else {
			e = &Error{Err: res.err}
			t.adviseNetwork(e, res.err, start)
		}
		e.Retryable = e.Retryable || transientStatus(status)
		last = e
		switch d {
		case Refresh:
			refreshed = true
			t.Auth.Invalidate()
			continue // a token refresh is not a retry
		case Retry:
			attempt++
			continue
		}
		return nil, t.finish(r, e, d, mayHave)
	}
	if last == nil {
		last = &Error{Err: context.DeadlineExceeded, Retryable: true}
		t.adviseNetwork(last, last.Err, start)
	}
	// Out of attempts or time on something worth retrying: transient, and
	// unknown if any attempt of a change may have taken effect.
	return nil, t.finish(r, last, Retry, mayHave)
}

// pause waits before attempt n: backoff and Retry-After before a retry, then
// the rate limiter. It reports false when the wait would outlast the
// deadline, and an error when the caller gave up.
func (t *Transport) pause(ctx context.Context, pol RetryPolicy, n int, last *Error) (bool, error) {
	if n > 0 {
		wait := pol.Backoff(n - 1)
		if last != nil && last.RetryAfter != "" {
			// Never sooner than our own backoff: "Retry-After: 0" or a
			// date in the past must not become a burst of re-sends.
			if ra, ok := parseRetryAfter(last.RetryAfter, time.Now()); ok {
				wait = max(min(ra, pol.MaxRetryAfter), wait)
			}
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return false, nil
		}
		if err := t.sleep(ctx, wait); err != nil {
			return false, err
		}
	}
	if t.Limiter != nil {
		if err := t.Limiter.Wait(ctx); err != nil {
			if n == 0 && ctx.Err() == nil {
				// Nothing sent yet and the shared budget has no request
				// free before the deadline: say so, and for how long,
				// rather than time out.
				return false, throttled(t.Limiter)
			}
			return false, ctx.Err() // nil: the wait would outlast the deadline
		}
	}
	return true, nil
}

// mayHaveTakenEffect says whether an attempt that came back this way may
// have been carried out. Only a refusal (4xx other than 401, 409 and 429)
// proves it was not: 401 and 429 can come from a gateway after the backend
// committed, 409 and 5xx from a backend that did part of the work.
func mayHaveTakenEffect(h Happened, status int) bool {
	switch h {
	case NotSent:
		return false
	case Lost:
		return true
	}
	if status >= 400 && status < 500 {
		return status == http.StatusUnauthorized || status == http.StatusConflict || status == http.StatusTooManyRequests
	}
	return true
}

// refreshable reports whether the Authenticator's credentials can be
// renewed (an OAuth token). A static key cannot: a 401 to it is an answer.
func (t *Transport) refreshable() bool {
	r, ok := t.Auth.(interface{ Refreshable() bool })
	return ok && r.Refreshable()
}

func (t *Transport) finish(r Request, e *Error, d Decision, mayHave bool) *Error {
	e.Provider = t.Provider
	e.Op = r.Op
	switch d {
	case Unknown:
		e.Unknown = r.Mutating // Decide says Unknown only for changes
	case Definite:
		e.Unknown = false
	default:
		e.Unknown = r.Mutating && mayHave
	}
	t.scrubError(e)
	return e
}

func (t *Transport) stopped(r Request, err error, sent bool, start time.Time) *Error {
	e := &Error{Err: err, Retryable: errors.Is(err, context.DeadlineExceeded)}
	t.adviseNetwork(e, err, start)
	return t.finish(r, e, Retry, sent)
}

type attemptResult struct {
	resp     *http.Response
	body     []byte
	happened Happened
	err      error
	authErr  error
	// resent: net/http wrote the request more than once (its own retry on
	// a dead keep-alive connection), so an earlier write may have taken
	// effect whatever this answer says.
	resent bool
}

// attempt sends once. happened reports how far it got: an error before the
// request was written cannot have taken effect.
func (t *Transport) attempt(ctx context.Context, r Request, timeout time.Duration) attemptResult {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var mu sync.Mutex
	writes := 0
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteHeaders: func() { mu.Lock(); writes++; mu.Unlock() },
	})
	wrote := func() int { mu.Lock(); defer mu.Unlock(); return writes }
	req, err := t.newRequest(actx, r)
	if err != nil {
		return attemptResult{happened: NotSent, err: err}
	}
	if t.Auth != nil {
		if err := t.Auth.Authorize(ctx, req); err != nil {
			return attemptResult{happened: NotSent, authErr: err}
		}
	}
	resp, err := t.client().Do(req)
	if err != nil {
		h := NotSent
		if wrote() > 0 {
			h = Lost
		}
		return attemptResult{happened: h, err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		// The provider answered but the body was cut: the request got there
		// and what it said is not known.
		return attemptResult{happened: Lost, err: fmt.Errorf("reading the %d answer: %w", resp.StatusCode, err)}
	}
	return attemptResult{resp: resp, body: b, happened: Answered, resent: wrote() > 1}
}

// newRequest builds the HTTP request for r, refusing any URL whose scheme,
// host or port is not the base URL's: a path such as "@other:1/x" would
// otherwise move the request, and its credentials, elsewhere.
func (t *Transport) newRequest(ctx context.Context, r Request) (*http.Request, error) {
	base, err := url.Parse(strings.TrimRight(t.BaseURL, "/"))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("base URL %q is not a URL with a host", t.BaseURL)
	}
	u := base.String() + r.Path
	if len(r.Query) > 0 {
		u += "?" + r.Query.Encode()
	}
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, u, body)
	if err != nil {
		return nil, err
	}
	if !sameOrigin(req.URL, base) || req.URL.User != nil {
		return nil, fmt.Errorf("refused to send %s to %s: not the configured base URL %s",
			r.Op, req.URL.Redacted(), base.Scheme+"://"+base.Host)
	}
	if r.Mutating && !r.Replayable {
		// Without GetBody net/http never re-sends the request by itself (it
		// does on a dead keep-alive connection when an Idempotency-Key
		// header is present): only Decide decides about re-sending.
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
	return req, nil
}

// sameOrigin compares scheme, host and port, with default ports made explicit.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// client is the one http.Client policy: never follow a redirect (it would
// turn a POST into a GET, or carry the credentials somewhere the agent did
// not configure), and use the given RoundTripper only for connections.
func (t *Transport) client() *http.Client {
	rt := t.RoundTripper
	if rt == nil {
		rt = DefaultRoundTripper
	}
	return &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// maxExcerpt bounds a raw body excerpt and each decoded text field; maxScan
// bounds how much of one is scrubbed. Scrubbing runs before the cut to
// maxExcerpt, and every credential run inside the kept part lies wholly
// inside the scanned part (maxScan > maxExcerpt+runLen), so no prefix of a
// key survives the cut.
const (
	maxExcerpt = 300
	maxScan    = 4096
	maxFields  = 20 // field errors kept on one *Error
)

func (t *Transport) decode(res attemptResult) *Error {
	resp := res.resp
	var e *Error
	if resp.StatusCode >= 300 && resp.StatusCode < 400 || resp.StatusCode < 200 {
		// Not an answer about the request: say where it pointed, no body.
		e = &Error{Message: "redirected, not followed"}
		if loc := resp.Header.Get("Location"); loc != "" {
			e.Message = "redirected to " + loc + ", not followed"
		}
	} else if t.DecodeError != nil {
		e = t.DecodeError(resp.StatusCode, resp.Header, res.body)
	}
	if e == nil {
		e = &Error{Message: string(res.body[:min(len(res.body), maxScan)])}
	}
	e.HTTPStatus = resp.StatusCode
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		e.RetryAfter = ra
	}
	if e.Hint == "" {
		e.Hint = t.statusHint(resp.StatusCode)
	}
	return e
}

// scrubAnswer removes the credentials from a 2xx body a client decodes into
// what the console shows (an order's description, a refund's reason): the
// raw key, its base64 and URL forms, any 8-byte run. echoed reports a body
// that still spells one with escapes (JSON \u0073 and the like), which no
// byte replacement can take out without breaking the JSON. The token call
// (no Authenticator) is left alone: its answer is the token it asked for.
func (t *Transport) scrubAnswer(body []byte) (_ []byte, echoed bool) {
	if t.Auth == nil {
		return body, false
	}
	s := t.scrubber()
	if !hiddenIn(s, body) && !s.shortIn(body) {
		return body, false // the common case: one pass, no copy
	}
	clean := s.scrubRaw(string(body))
	return []byte(clean), hiddenIn(s, clean)
}

func (t *Transport) scrubber() *Scrubber {
	var creds []string
	if c, ok := t.Auth.(Credentials); ok {
		creds = append(creds, c.Credentials()...)
	}
	if t.Secrets != nil {
		creds = append(creds, t.Secrets.Credentials()...)
	}
	return NewScrubber(creds...)
}

// scrubError removes every form of every credential from every text of e,
// then bounds each text: scrub first, cut after.
func (t *Transport) scrubError(e *Error) {
	s := t.scrubber()
	clean := func(v string, n int) string {
		v = s.Scrub(v[:min(len(v), maxScan)])
		return strings.TrimSpace(truncRunes(v, n))
	}
	e.Code = clean(e.Code, 100)
	e.Message = clean(e.Message, maxExcerpt)
	e.Hint = clean(e.Hint, maxExcerpt)
	e.RetryAfter = clean(e.RetryAfter, 100)
	if len(e.Fields) > maxFields {
		// A hostile answer can list a million fields; the screen shows a
		// handful and the journal keeps one line.
		e.Fields = e.Fields[:maxFields]
	}
	for i := range e.Fields {
		f := &e.Fields[i]
		f.Field, f.Code, f.Message = clean(f.Field, 100), clean(f.Code, 100), clean(f.Message, maxExcerpt)
	}
	if e.Err != nil {
		if msg := e.Err.Error(); clean(msg, len(msg)) != strings.TrimSpace(msg) {
			// net/http quotes a malformed answer in its error: keep the
			// error for errors.Is, with the scrubbed text.
			e.Err = scrubbedError{msg: clean(msg, maxExcerpt), err: e.Err}
		}
	}
}

// scrubbedError is an error whose text had credentials removed.
type scrubbedError struct {
	msg string
	err error
}

func (s scrubbedError) Error() string { return s.msg }
func (s scrubbedError) Unwrap() error { return s.err }

// truncRunes cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

func (t *Transport) name() string {
	if t.Name != "" {
		return t.Name
	}
	return t.Provider
}

func (t *Transport) baseURLSetting() string {
	if t.BaseURLSetting != "" {
		return t.BaseURLSetting
	}
	return "the base URL for " + t.name()
}

func (t *Transport) host() string {
	if u, err := url.Parse(t.BaseURL); err == nil && u.Host != "" {
		return u.Host
	}
	return t.BaseURL
}

// statusHint is the transport's advice for answers whose meaning does not
// depend on the provider; a provider's decoder may have set a better one.
func (t *Transport) statusHint(status int) string {
	switch {
	case status >= 300 && status < 400:
		return t.name() + " answered with a redirect, which paydesk never follows; check " + t.baseURLSetting()
	case status == http.StatusTooManyRequests:
		return t.name() + " is limiting requests; wait a moment and try again"
	case status >= 500:
		return t.name() + " had a server error; try again in a minute"
	}
	return ""
}

// adviseNetwork says in words what a failure without an answer means.
func (t *Transport) adviseNetwork(e *Error, err error, start time.Time) {
	var dns *net.DNSError
	var cert *tls.CertificateVerificationError
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled):
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		secs := max(1, int(time.Since(start).Round(time.Second)/time.Second))
		e.Hint = fmt.Sprintf("%s took longer than %d s", t.name(), secs)
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Hint = fmt.Sprintf("%s at %s is not answering", t.name(), t.host())
	case errors.As(err, &dns):
		e.Hint = fmt.Sprintf("%s's host %s could not be found: check %s and the network", t.name(), t.host(), t.baseURLSetting())
	case errors.As(err, &cert):
		e.Hint = fmt.Sprintf("%s at %s presented a certificate that could not be verified", t.name(), t.host())
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		e.Hint = fmt.Sprintf("%s at %s dropped the connection before answering in full", t.name(), t.host())
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
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

// IsTransient reports whether asking again later may succeed: no answer at
// all (a timeout, a refused or dropped connection), 409, 429, a server error,
// or an answer the provider marked retryable. A redirect, a refused
// credential or another 4xx will not change by asking again. It is the one
// definition of "transient" for the transport and the screens.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	if e, ok := AsError(err); ok {
		return e.Retryable
	}
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne)
}

// Canceled reports whether err came from the caller giving up.
func Canceled(err error) bool {
	return errors.Is(err, context.Canceled)
}
