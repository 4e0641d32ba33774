package chaos

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"paydesk/api/sandbox/sandboxtest"
)

func TestParse(t *testing.T) {
	c, err := Parse("fail5xx=0.1,reset=0.05,lost_response=0.05,throttle=0.1,latency=200ms")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Fail5xx: 0.1, Reset: 0.05, LostResponse: 0.05, Throttle: 0.1, Latency: 200 * time.Millisecond}
	if c.Fail5xx != want.Fail5xx || c.Reset != want.Reset || c.LostResponse != want.LostResponse ||
		c.Throttle != want.Throttle || c.Latency != want.Latency {
		t.Errorf("Parse = %+v", c)
	}
	if s := c.String(); s != "fail5xx=0.1,reset=0.05,lost_response=0.05,throttle=0.1,latency=200ms" {
		t.Errorf("String = %q", s)
	}
	if c2, err := Parse(c.String()); err != nil || c2.String() != c.String() {
		t.Errorf("round trip: %v %v", c2, err)
	}
	for _, ok := range []string{"", " ", "latency=0s", " fail5xx = 1 ", "lost_response=1,", "seed=42,throttle=0.5", "reset=0,latency=1m"} {
		if _, err := Parse(ok); err != nil {
			t.Errorf("Parse(%q) = %v", ok, err)
		}
	}
	if c, _ := Parse(""); c.Enabled() {
		t.Error("empty spec enabled")
	}
	for spec, key := range map[string]string{
		"fail5xx=1.5":               "fail5xx",
		"reset=-0.1":                "reset",
		"lost_response=abc":         "lost_response",
		"throttle=NaN":              "throttle",
		"latency=fast":              "latency",
		"latency=-1s":               "latency",
		"latency=200":               "latency",
		"explode=0.1":               "explode",
		"fail5xx":                   "fail5xx",
		"reset=0.1,reset=0.2":       "reset",
		"seed=-1":                   "seed",
		"fail5xx=0.6,throttle=0.6":  "more than 1",
		"Fail5xx=0.1":               "Fail5xx",
		"fail5xx=0.1;reset=0.1":     "fail5xx",
		"lost_response=0.5,reset=x": "reset",
	} {
		_, err := Parse(spec)
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("Parse(%q) = %v, want an error naming %q", spec, err, key)
		}
	}
}

// counting is a fake provider endpoint that records each committed change.
type counting struct{ n atomic.Int64 }

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	c.n.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	io.WriteString(w, `{"status":"succeeded"}`)
}

func serve(t *testing.T, c Config) (*httptest.Server, *counting, *http.Client) {
	t.Helper()
	h := &counting{}
	srv := sandboxtest.Serve(t, Wrap(h, c))
	// A fresh connection per request, so Transport never replays a request
	// on a reused connection behind the test's back.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	return srv, h, client
}

func post(client *http.Client, url string, noChaos bool) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodPost, url+"/orders/ORD-1/refunds/", strings.NewReader(`{"amount":"20.00"}`))
	req.Header.Set("Idempotency-Key", "k1")
	if noChaos {
		req.Header.Set(NoChaosHeader, "1")
	}
	resp, err := client.Do(req)
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

func TestLostResponseCommitsThenDrops(t *testing.T) {
	srv, h, client := serve(t, Config{LostResponse: 1})
	resp, err := post(client, srv.URL, false)
	if err == nil {
		t.Fatalf("client got %s, want a transport error", resp.Status)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("transport error %v, want EOF or connection reset", err)
	}
	if got := h.n.Load(); got != 1 {
		t.Fatalf("handler ran %d times, want 1: the change must be committed", got)
	}
}

func TestFail5xxNeverCallsHandler(t *testing.T) {
	srv, h, client := serve(t, Config{Fail5xx: 1, Seed: 3})
	seen := map[int]bool{}
	for range 30 {
		resp, err := post(client, srv.URL, false)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 500 && resp.StatusCode != 502 && resp.StatusCode != 503 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if resp.Header.Get(FaultHeader) != "fail5xx" {
			t.Errorf("no %s header", FaultHeader)
		}
		seen[resp.StatusCode] = true
	}
	if h.n.Load() != 0 {
		t.Fatalf("handler ran %d times behind a 5xx", h.n.Load())
	}
	if len(seen) != 3 {
		t.Errorf("statuses seen %v, want all of 500, 502, 503", seen)
	}
}

func TestThrottle(t *testing.T) {
	srv, h, client := serve(t, Config{Throttle: 1})
	resp, err := post(client, srv.URL, false)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("got %s Retry-After %q", resp.Status, resp.Header.Get("Retry-After"))
	}
	if h.n.Load() != 0 {
		t.Fatal("handler ran behind a 429")
	}
}

func TestResetBeforeHandler(t *testing.T) {
	srv, h, client := serve(t, Config{Reset: 1})
	_, err := post(client, srv.URL, false)
	if err == nil {
		t.Fatal("no error from a reset connection")
	}
	if h.n.Load() != 0 {
		t.Fatal("handler ran before a reset")
	}
	if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
		t.Errorf("transport error %v, want connection reset", err)
	}
}

func TestNoChaosHeaderBypassesEverything(t *testing.T) {
	for _, c := range []Config{
		{Fail5xx: 1}, {Reset: 1}, {LostResponse: 1}, {Throttle: 1}, {Latency: time.Hour},
	} {
		srv, h, client := serve(t, c)
		resp, err := post(client, srv.URL, true)
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if resp.StatusCode != http.StatusCreated || h.n.Load() != 1 {
			t.Fatalf("%v: status %s, handler ran %d times", c, resp.Status, h.n.Load())
		}
		// A value other than "1" does not bypass.
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set(NoChaosHeader, "yes")
		if c.Latency == 0 {
			if resp, err := client.Do(req); err == nil && resp.StatusCode == http.StatusCreated {
				t.Errorf("%v: header value \"yes\" bypassed chaos", c)
			}
		}
	}
}

func TestLatency(t *testing.T) {
	srv, h, client := serve(t, Config{Latency: 80 * time.Millisecond})
	start := time.Now()
	if _, err := post(client, srv.URL, false); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("answered after %v, want at least 80ms", d)
	}
	if h.n.Load() != 1 {
		t.Fatal("handler did not run after the delay")
	}
}

func TestLatencyRespectsContext(t *testing.T) {
	srv, h, client := serve(t, Config{Latency: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	start := time.Now()
	if _, err := client.Do(req); err == nil {
		t.Fatal("no error")
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("latency ignored the deadline")
	}
	// srv.Close (cleanup) waits for the handler goroutine; it must not
	// sleep for an hour, and it must never reach the wrapped handler.
	srv.Close()
	if h.n.Load() != 0 {
		t.Fatal("handler ran for a request whose client had gone")
	}
}

func TestSeedIsReproducibleAndRatesHold(t *testing.T) {
	run := func(c Config) (faults []Fault) {
		c.OnFault = func(f Fault, _ *http.Request) { faults = append(faults, f) }
		h := Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), c)
		for range 2000 {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
		}
		return faults
	}
	c := Config{Fail5xx: 0.2, Throttle: 0.3, Seed: 42}
	a, b := run(c), run(c)
	if len(a) != len(b) {
		t.Fatalf("same seed, %d vs %d faults", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different fault %d", i)
		}
	}
	n := map[Fault]int{}
	for _, f := range a {
		n[f]++
	}
	if n[Fail5xx] < 300 || n[Fail5xx] > 500 || n[Throttle] < 500 || n[Throttle] > 700 {
		t.Errorf("fault counts %v out of 2000, want about 400 fail5xx and 600 throttle", n)
	}
	r := rand.New(rand.NewPCG(1, 2))
	if got := run(Config{Throttle: 1, Rand: r}); len(got) != 2000 {
		t.Errorf("throttle=1 faulted %d of 2000", len(got))
	}
}

func TestZeroConfigIsIdentity(t *testing.T) {
	h := http.NotFoundHandler()
	if got := Wrap(h, Config{}); got == nil {
		t.Fatal("nil handler")
	}
	srv, cnt, client := serve(t, Config{})
	for range 5 {
		if resp, err := post(client, srv.URL, false); err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatal(resp, err)
		}
	}
	if cnt.n.Load() != 5 {
		t.Fatal(cnt.n.Load())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"fail5xx=0.1,reset=0.05,lost_response=0.05,throttle=0.1,latency=200ms", "seed=1", "x", "=,=", "latency=1e9h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		c, err := Parse(spec)
		if err != nil {
			return
		}
		again, err := Parse(c.String())
		if err != nil || again.String() != c.String() {
			t.Fatalf("Parse(%q).String() = %q does not round-trip: %v", spec, c.String(), err)
		}
	})
}
