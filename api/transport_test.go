package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
)

// hit is one request as the fake provider saw it.
type hit struct {
	Body []byte
	Key  string
}

// recorder is a loopback provider that answers from a script, one handler per
// request (the last one repeats), and records what it was sent.
type recorder struct {
	mu     sync.Mutex
	hits   []hit
	script []http.HandlerFunc
	srv    *httptest.Server
}

func newRecorder(t *testing.T, script ...http.HandlerFunc) *recorder {
	t.Helper()
	r := &recorder{script: script}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.hits = append(r.hits, hit{Body: body, Key: req.Header.Get("Idempotency-Key")})
	n := len(r.hits) - 1
	h := r.script[min(n, len(r.script)-1)]
	r.mu.Unlock()
	h(w, req)
}

func (r *recorder) Hits() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

func status(code int, hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"ok":` + map[bool]string{true: "true", false: "false"}[code < 300] + `}`))
	}
}

// dropAfterRead reads the whole request (so the provider "did" it) and then
// resets the connection without answering.
func dropAfterRead(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST, not FIN
	}
	_ = conn.Close()
}

// sleeps records the transport's waits instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) Waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func newTransport(r *recorder, s *sleeps) *api.Transport {
	t := &api.Transport{Provider: "test", BaseURL: r.srv.URL, RoundTripper: r.srv.Client().Transport}
	if s != nil {
		t.Sleep = s.Sleep
	}
	return t
}

var refundBody = []byte(`{"amount":"12.50","payment_ref":"p1","reason":"test","metadata":{"paydesk_intent":"x"}}`)

func refundReq(replayable bool) api.Request {
	return api.Request{
		Op:         "refund order o1",
		Method:     http.MethodPost,
		Path:       "/orders/o1/refunds/",
		Body:       refundBody,
		Header:     http.Header{"Idempotency-Key": {"key-123"}},
		Mutating:   true,
		Replayable: replayable,
	}
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestRetries5xxWithSameBodyAndKey(t *testing.T) {
	for _, code := range []int{500, 502, 503, 504, 409} {
		rec := newRecorder(t, status(code), status(code), status(201))
		s := &sleeps{}
		resp, err := newTransport(rec, s).Do(ctxT(t, 10*time.Second), refundReq(true))
		if err != nil {
			t.Fatalf("%d then 201: %v", code, err)
		}
		if resp.Status != 201 {
			t.Fatalf("status %d", resp.Status)
		}
		hits := rec.Hits()
		if len(hits) != 3 {
			t.Fatalf("%d: %d attempts, want 3", code, len(hits))
		}
		for i, h := range hits {
			if !bytes.Equal(h.Body, refundBody) {
				t.Errorf("%d: attempt %d body %q differs from %q", code, i, h.Body, refundBody)
			}
			if h.Key != "key-123" {
				t.Errorf("%d: attempt %d key %q", code, i, h.Key)
			}
		}
		if w := s.Waits(); len(w) != 2 {
			t.Errorf("%d: waits %v, want 2", code, w)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	cases := []struct {
		name     string
		value    func() string
		min, max time.Duration
	}{
		{"delta seconds", func() string { return "2" }, 2 * time.Second, 2 * time.Second},
		// HTTP-date has one-second resolution: 5s ahead is 4..5s away.
		{"http date", func() string { return time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat) }, 3 * time.Second, 5 * time.Second},
		// A past date or 0 never means "now": the first backoff step still
		// applies (half fixed, half jitter of the 250ms base).
		{"date in the past", func() string { return time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat) }, 125 * time.Millisecond, 250 * time.Millisecond},
		{"zero", func() string { return "0" }, 125 * time.Millisecond, 250 * time.Millisecond},
		{"absurd capped", func() string { return "99999" }, 30 * time.Second, 30 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := newRecorder(t,
				func(w http.ResponseWriter, r *http.Request) { status(429, "Retry-After", c.value())(w, r) },
				status(200))
			s := &sleeps{}
			// No deadline: a deadline shorter than the wait would (rightly)
			// stop the retry instead.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if _, err := newTransport(rec, s).Do(ctx, refundReq(true)); err != nil {
				t.Fatal(err)
			}
			w := s.Waits()
			if len(w) != 1 || w[0] < c.min || w[0] > c.max {
				t.Fatalf("waits %v, want one in [%v, %v]", w, c.min, c.max)
			}
			if n := len(rec.Hits()); n != 2 {
				t.Fatalf("%d attempts, want 2", n)
			}
		})
	}
}

func TestRetryAfterLongerThanDeadlineStops(t *testing.T) {
	rec := newRecorder(t, status(429, "Retry-After", "20"))
	s := &sleeps{}
	_, err := newTransport(rec, s).Do(ctxT(t, 2*time.Second), refundReq(true))
	// A 429 can come from a gateway after the backend committed, so a
	// refund left at a 429 is unknown (settled by reading, or by a later
	// replay with the same key), and transient.
	e, ok := api.AsError(err)
	if !ok || e.HTTPStatus != 429 || !e.Unknown || !api.IsTransient(err) {
		t.Fatalf("got %v, want a transient 429 with outcome unknown", err)
	}
	if len(s.Waits()) != 0 || len(rec.Hits()) != 1 {
		t.Fatalf("waits %v hits %d: must not wait past the deadline", s.Waits(), len(rec.Hits()))
	}
}

type fakeAuth struct{ invalidated atomic.Int32 }

func (a *fakeAuth) Authorize(_ context.Context, r *http.Request) error {
	r.Header.Set("Authorization", "Bearer t")
	return nil
}
func (a *fakeAuth) Invalidate() { a.invalidated.Add(1) }

// Refreshable: like an OAuth token, it can be fetched anew after a 401.
func (a *fakeAuth) Refreshable() bool { return true }

// A 401 is not among them: to a change it is outcome unknown (a gateway can
// say it after the backend committed), see TestDecide.
func TestDefiniteAnswersAreNotRetried(t *testing.T) {
	for _, code := range []int{400, 403, 404, 422} {
		rec := newRecorder(t, status(code))
		s := &sleeps{}
		tr := newTransport(rec, s)
		_, err := tr.Do(ctxT(t, 5*time.Second), refundReq(true))
		e, ok := api.AsError(err)
		if !ok || e.HTTPStatus != code {
			t.Fatalf("%d: got %v", code, err)
		}
		if e.Retryable || e.Unknown || api.IsOutcomeUnknown(err) || api.IsTransient(err) {
			t.Errorf("%d: retryable=%v unknown=%v, want neither", code, e.Retryable, e.Unknown)
		}
		if n := len(rec.Hits()); n != 1 {
			t.Errorf("%d: %d attempts, want 1", code, n)
		}
		if len(s.Waits()) != 0 {
			t.Errorf("%d: waited %v", code, s.Waits())
		}
	}
}

func TestUnauthorizedRefreshesOnce(t *testing.T) {
	t.Run("then ok", func(t *testing.T) {
		rec := newRecorder(t, status(401), status(200))
		tr := newTransport(rec, &sleeps{})
		a := &fakeAuth{}
		tr.Auth = a
		if _, err := tr.Do(ctxT(t, 5*time.Second), refundReq(true)); err != nil {
			t.Fatal(err)
		}
		if a.invalidated.Load() != 1 || len(rec.Hits()) != 2 {
			t.Fatalf("invalidated %d, hits %d; want 1, 2", a.invalidated.Load(), len(rec.Hits()))
		}
	})
	t.Run("still 401", func(t *testing.T) {
		rec := newRecorder(t, status(401))
		s := &sleeps{}
		tr := newTransport(rec, s)
		a := &fakeAuth{}
		tr.Auth = a
		_, err := tr.Do(ctxT(t, 5*time.Second), refundReq(true))
		if api.StatusOf(err) != 401 || api.IsTransient(err) {
			t.Fatalf("got %v", err)
		}
		if a.invalidated.Load() != 1 || len(rec.Hits()) != 2 || len(s.Waits()) != 0 {
			t.Fatalf("invalidated %d, hits %d, waits %v; want 1, 2, none", a.invalidated.Load(), len(rec.Hits()), s.Waits())
		}
	})
}

// A definite refusal after an attempt that may have taken effect (a 5xx or a
// lost answer) does not make the outcome known: the first attempt may have
// moved the money and the refusal may be about that (Forage answers 400
// wait_for_batch_refund while the first refund_all is processing).
func TestRefusalAfterAmbiguousAttemptStaysUnknown(t *testing.T) {
	rec := newRecorder(t, status(502), status(400))
	_, err := newTransport(rec, &sleeps{}).Do(ctxT(t, 5*time.Second), refundReq(true))
	if !api.IsOutcomeUnknown(err) {
		t.Fatalf("502 then 400 gave %v; want outcome unknown", err)
	}
	if api.StatusOf(err) != 400 {
		t.Fatalf("status %d, want the last answer (400)", api.StatusOf(err))
	}
}

func TestContextCancelStopsAtOnce(t *testing.T) {
	t.Run("in flight", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err := newTransport(rec, &sleeps{}).Do(ctx, refundReq(true))
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("took %v after cancel", el)
		}
		if !errors.Is(err, context.Canceled) || !api.Canceled(err) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		// It was sent: the provider may be doing it.
		if !api.IsOutcomeUnknown(err) {
			t.Fatalf("cancel after sending: %v, want outcome unknown", err)
		}
		if n := len(rec.Hits()); n != 1 {
			t.Fatalf("%d attempts after cancel, want 1", n)
		}
	})
	t.Run("while waiting to retry", func(t *testing.T) {
		rec := newRecorder(t, status(503, "Retry-After", "20"))
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		tr := newTransport(rec, nil) // real sleep
		_, err := tr.Do(ctx, api.Request{Method: "GET", Path: "/orders/o1/"})
		if el := time.Since(start); el > 2*time.Second {
			t.Fatalf("took %v after cancel", el)
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		if api.IsOutcomeUnknown(err) {
			t.Fatalf("a read is never outcome-unknown: %v", err)
		}
		if n := len(rec.Hits()); n != 1 {
			t.Fatalf("%d attempts, want 1", n)
		}
	})
}

func TestDroppedAfterReadIsUnknown(t *testing.T) {
	t.Run("replayable", func(t *testing.T) {
		rec := newRecorder(t, dropAfterRead)
		_, err := newTransport(rec, &sleeps{}).Do(ctxT(t, 10*time.Second), refundReq(true))
		e, ok := api.AsError(err)
		if !ok || !e.Unknown || !errors.Is(err, api.ErrOutcomeUnknown) {
			t.Fatalf("got %v, want outcome unknown", err)
		}
		hits := rec.Hits()
		if len(hits) < 2 {
			t.Fatalf("%d attempts: a replayable request is retried with its key", len(hits))
		}
		for i, h := range hits {
			if !bytes.Equal(h.Body, refundBody) || h.Key != "key-123" {
				t.Fatalf("attempt %d: body %q key %q", i, h.Body, h.Key)
			}
		}
	})
	t.Run("replayable then answered", func(t *testing.T) {
		rec := newRecorder(t, dropAfterRead, status(201))
		resp, err := newTransport(rec, &sleeps{}).Do(ctxT(t, 10*time.Second), refundReq(true))
		if err != nil || resp.Status != 201 {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("not replayable is sent once", func(t *testing.T) {
		rec := newRecorder(t, dropAfterRead)
		req := refundReq(false)
		req.Header = nil
		_, err := newTransport(rec, &sleeps{}).Do(ctxT(t, 10*time.Second), req)
		if !errors.Is(err, api.ErrOutcomeUnknown) {
			t.Fatalf("got %v, want outcome unknown", err)
		}
		if n := len(rec.Hits()); n != 1 {
			t.Fatalf("sent %d times, want exactly once", n)
		}
	})
	t.Run("not replayable 5xx is sent once", func(t *testing.T) {
		rec := newRecorder(t, status(500))
		_, err := newTransport(rec, &sleeps{}).Do(ctxT(t, 10*time.Second), refundReq(false))
		if !errors.Is(err, api.ErrOutcomeUnknown) {
			t.Fatalf("got %v, want outcome unknown", err)
		}
		if n := len(rec.Hits()); n != 1 {
			t.Fatalf("sent %d times, want exactly once", n)
		}
	})
	// net/http itself silently re-sends a request on a reused keep-alive
	// connection that died, when the request carries an Idempotency-Key
	// header. For a request the provider cannot de-duplicate that is a second
	// refund; the transport must switch that off.
	t.Run("not replayable on a reused connection is sent once", func(t *testing.T) {
		rec := newRecorder(t, status(200), dropAfterRead)
		tr := newTransport(rec, &sleeps{})
		if _, err := tr.Do(ctxT(t, 5*time.Second), api.Request{Method: "GET", Path: "/warm/"}); err != nil {
			t.Fatal(err)
		}
		_, err := tr.Do(ctxT(t, 10*time.Second), refundReq(false)) // carries a key header anyway
		if !errors.Is(err, api.ErrOutcomeUnknown) {
			t.Fatalf("got %v, want outcome unknown", err)
		}
		if n := len(rec.Hits()) - 1; n != 1 {
			t.Fatalf("sent %d times, want exactly once", n)
		}
	})
	// When net/http re-sends by itself (a replayable request on a dead
	// keep-alive connection), the answer to its second write says nothing
	// about the first: a 429 or 400 then must not read as "did not happen".
	t.Run("hidden net/http retry keeps it unknown", func(t *testing.T) {
		for _, code := range []int{429, 400} {
			rec := newRecorder(t, status(200), dropAfterRead, status(code))
			tr := newTransport(rec, &sleeps{})
			tr.Retry.MaxAttempts = 1
			if _, err := tr.Do(ctxT(t, 5*time.Second), api.Request{Method: "GET", Path: "/warm/"}); err != nil {
				t.Fatal(err)
			}
			_, err := tr.Do(ctxT(t, 10*time.Second), refundReq(true))
			if n := len(rec.Hits()) - 1; n != 2 {
				t.Fatalf("%d: sent %d times; this test needs net/http's own retry", code, n)
			}
			if !errors.Is(err, api.ErrOutcomeUnknown) {
				t.Fatalf("dropped then %d: got %v, want outcome unknown", code, err)
			}
		}
	})
	t.Run("read is never unknown", func(t *testing.T) {
		rec := newRecorder(t, dropAfterRead)
		_, err := newTransport(rec, &sleeps{}).Do(ctxT(t, 10*time.Second), api.Request{Method: "GET", Path: "/orders/o1/"})
		if err == nil || api.IsOutcomeUnknown(err) || !api.IsTransient(err) {
			t.Fatalf("got %v, want a transient error that is not unknown", err)
		}
	})
}

func TestDialFailureIsNotUnknown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	s := &sleeps{}
	tr := &api.Transport{Provider: "test", BaseURL: "http://" + addr, Sleep: s.Sleep}
	_, err = tr.Do(ctxT(t, 5*time.Second), refundReq(true))
	e, ok := api.AsError(err)
	if !ok || e.Unknown || errors.Is(err, api.ErrOutcomeUnknown) {
		t.Fatalf("got %v, want a known (not sent) failure", err)
	}
	if !e.Retryable {
		t.Fatalf("a dial failure may be retried later: %v", err)
	}
	if len(s.Waits()) != 3 {
		t.Fatalf("waits %v: a dial failure is retried (nothing was sent)", s.Waits())
	}
}

func TestElapsedBoundedByDeadline(t *testing.T) {
	t.Run("hanging provider", func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		})
		tr := newTransport(rec, nil)
		start := time.Now()
		_, err := tr.Do(ctxT(t, 300*time.Millisecond), refundReq(true))
		if el := time.Since(start); el > 1500*time.Millisecond {
			t.Fatalf("took %v with a 300ms deadline", el)
		}
		if !errors.Is(err, context.DeadlineExceeded) || !api.IsOutcomeUnknown(err) {
			t.Fatalf("got %v, want deadline exceeded and outcome unknown", err)
		}
	})
	t.Run("always 503", func(t *testing.T) {
		rec := newRecorder(t, status(503))
		tr := newTransport(rec, nil)
		tr.Retry = api.RetryPolicy{MaxAttempts: 100, Base: 50 * time.Millisecond, Cap: 200 * time.Millisecond}
		start := time.Now()
		_, err := tr.Do(ctxT(t, 700*time.Millisecond), refundReq(true))
		if el := time.Since(start); el > 1500*time.Millisecond {
			t.Fatalf("took %v with a 700ms deadline", el)
		}
		if !api.IsOutcomeUnknown(err) {
			t.Fatalf("got %v, want outcome unknown", err)
		}
	})
}

func TestBackoffBounds(t *testing.T) {
	p := api.RetryPolicy{Base: 100 * time.Millisecond, Cap: time.Second}
	for n := range 40 {
		step := min(p.Base<<min(n, 20), p.Cap)
		for range 20 {
			d := p.Backoff(n)
			if d < step/2 || d > step {
				t.Fatalf("Backoff(%d) = %v, want in [%v, %v]", n, d, step/2, step)
			}
		}
	}
}

func TestSharedLimiter(t *testing.T) {
	a := api.SharedLimiter("test-shared/acct-1", time.Second, 3)
	b := api.SharedLimiter("test-shared/acct-1", time.Millisecond, 99)
	c := api.SharedLimiter("test-shared/acct-2", time.Second, 3)
	if a != b {
		t.Fatal("same key gave two limiters")
	}
	if a == c {
		t.Fatal("different keys share a limiter")
	}
	if a.Burst() != 3 {
		t.Fatalf("burst %d: the first caller's budget must stand", a.Burst())
	}
	var wg sync.WaitGroup
	got := make([]any, 8)
	for i := range got {
		wg.Go(func() { got[i] = api.SharedLimiter("test-shared/concurrent", time.Second, 1) })
	}
	wg.Wait()
	for _, l := range got {
		if l != got[0] {
			t.Fatal("concurrent callers got different limiters")
		}
	}
}

// A hostile error answer cannot make one *Error (and so one journal line or
// one status line) unbounded: each text is cut after scrubbing, and the
// field list is capped.
func TestErrorTextsAreBounded(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	var fields strings.Builder
	fields.WriteString("{")
	for i := 0; i < 5000; i++ {
		if i > 0 {
			fields.WriteString(",")
		}
		fmt.Fprintf(&fields, `"f%d":"%s"`, i, strings.Repeat("y", 100))
	}
	fields.WriteString("}")
	for _, body := range []string{big, fields.String()} {
		rec := newRecorder(t, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(body))
		})
		tr := newTransport(rec, &sleeps{})
		tr.DecodeError = func(_ int, _ http.Header, b []byte) *api.Error {
			e := &api.Error{Code: string(b), Message: string(b)}
			var m map[string]string
			if json.Unmarshal(b, &m) == nil {
				for k, v := range m {
					e.Fields = append(e.Fields, api.FieldError{Field: k, Message: v})
				}
			}
			return e
		}
		_, err := tr.Do(ctxT(t, 5*time.Second), api.Request{Op: "read", Method: http.MethodGet, Path: "/x"})
		if n := len(err.Error()); n > 20000 {
			t.Errorf("error text is %d bytes", n)
		}
	}
}

// IsTransient is the one definition of "asking again may succeed", used by
// the transport's callers and the screens alike.
func TestIsTransient(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"caller gave up", context.Canceled, false},
		{"deadline", context.DeadlineExceeded, true},
		{"network error", &net.OpError{Op: "dial", Err: errors.New("refused")}, true},
		{"plain error", errors.New("the provider returned no order"), false},
		{"retryable answer", &api.Error{HTTPStatus: 503, Retryable: true}, true},
		{"refusal", &api.Error{HTTPStatus: 404}, false},
		{"wrapped retryable", fmt.Errorf("load: %w", &api.Error{HTTPStatus: 429, Retryable: true}), true},
	}
	for _, c := range cases {
		if got := api.IsTransient(c.err); got != c.want {
			t.Errorf("%s: IsTransient = %v, want %v", c.name, got, c.want)
		}
	}
	// What the transport returns for each kind of failure of a read.
	for _, c := range []struct {
		status int
		want   bool
	}{{302, false}, {400, false}, {401, false}, {404, false}, {409, true}, {429, true}, {500, true}, {503, true}} {
		rec := newRecorder(t, status(c.status))
		_, err := newTransport(rec, &sleeps{}).Do(ctxT(t, 5*time.Second), api.Request{Op: "read", Method: http.MethodGet, Path: "/x"})
		if got := api.IsTransient(err); got != c.want {
			t.Errorf("read answered %d: IsTransient = %v, want %v (%v)", c.status, got, c.want, err)
		}
	}
}

// A read the shared budget cannot serve before its deadline is not sent
// and says when the budget has room, instead of timing out.
func TestSpentBudgetSaysThrottled(t *testing.T) {
	r := newRecorder(t, status(200))
	tr := newTransport(r, nil)
	tr.Limiter = rate.NewLimiter(rate.Every(20*time.Second), 1)
	if _, err := tr.Do(ctxT(t, 5*time.Second), api.Request{Method: "GET", Path: "/orders/o1/"}); err != nil {
		t.Fatal(err)
	}
	_, err := tr.Do(ctxT(t, 2*time.Second), api.Request{Method: "GET", Path: "/orders/o1/"})
	te, ok := api.AsThrottled(err)
	if !ok || !errors.Is(err, api.ErrThrottled) {
		t.Fatalf("err = %v, want throttled", err)
	}
	if te.Wait < 15*time.Second || te.Wait > 20*time.Second || te.Seconds() == "0s" {
		t.Fatalf("wait = %s (%s), want about 20s", te.Wait, te.Seconds())
	}
	if api.IsOutcomeUnknown(err) {
		t.Fatal("a throttled read reads as an unknown outcome")
	}
	if n := len(r.Hits()); n != 1 {
		t.Fatalf("%d requests reached the server, want 1", n)
	}
}
