// Package chaos injects faults into the sandbox's fake providers, so the
// console's retry, idempotency and "outcome unknown" paths can be exercised
// against real HTTP on loopback:
//
//	paydesk sandbox --chaos 'fail5xx=0.1,reset=0.05,lost_response=0.05,throttle=0.1,latency=200ms'
//
// Faults, each with probability P per request (the Ps may add up to at most 1;
// one draw per request picks at most one fault):
//
//   - fail5xx: answer 500, 502 or 503 before the handler runs (nothing
//     changed on the server).
//   - reset: hijack the connection and close it with SO_LINGER 0 (the client
//     sees "connection reset by peer") before the handler runs.
//   - lost_response: run the handler into a buffer, so the change IS
//     committed, then drop the connection without writing a byte. This is
//     the case that turns a naive retry into a double refund.
//   - throttle: answer 429 with Retry-After: 1 before the handler runs.
//
// latency=D sleeps D before every request (or until the client gives up).
// seed=N makes the sequence of faults reproducible.
//
// Every method and path can be disturbed, including the OAuth token
// endpoint. A request carrying the header "X-Sandbox-No-Chaos: 1" is never
// disturbed (no latency either); use it to inspect the sandbox's state.
// Injected answers carry "X-Sandbox-Chaos: <fault>".
package chaos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// NoChaosHeader is the request header that bypasses all fault injection
// when its value is "1".
const NoChaosHeader = "X-Sandbox-No-Chaos"

// FaultHeader is set on injected error answers.
const FaultHeader = "X-Sandbox-Chaos"

// Fault names one kind of injected fault.
type Fault string

// The faults, in the order a draw considers them.
const (
	Fail5xx      Fault = "fail5xx"
	Reset        Fault = "reset"
	LostResponse Fault = "lost_response"
	Throttle     Fault = "throttle"
	Latency      Fault = "latency"
)

// Config says how often each fault happens. The zero Config disturbs nothing.
type Config struct {
	Fail5xx      float64       // probability of a 500/502/503 before the handler
	Reset        float64       // probability of a connection reset before the handler
	LostResponse float64       // probability of committing, then dropping the connection
	Throttle     float64       // probability of 429 + Retry-After: 1 before the handler
	Latency      time.Duration // added before every request

	// Seed seeds the random source; 0 means a different sequence each run.
	Seed uint64
	// Rand, when set, is the random source (tests); it overrides Seed. Draws
	// are serialised by this package, so one Rand may serve several Wraps.
	Rand *rand.Rand
	// OnFault, when set, is called for each injected fault (for logging).
	OnFault func(f Fault, r *http.Request)
}

// Enabled reports whether c disturbs anything.
func (c Config) Enabled() bool {
	return c.Fail5xx > 0 || c.Reset > 0 || c.LostResponse > 0 || c.Throttle > 0 || c.Latency > 0
}

// String renders c in the form Parse reads, listing only what is set.
func (c Config) String() string {
	var parts []string
	for _, p := range []struct {
		k Fault
		v float64
	}{{Fail5xx, c.Fail5xx}, {Reset, c.Reset}, {LostResponse, c.LostResponse}, {Throttle, c.Throttle}} {
		if p.v > 0 {
			parts = append(parts, string(p.k)+"="+strconv.FormatFloat(p.v, 'g', -1, 64))
		}
	}
	if c.Latency > 0 {
		parts = append(parts, "latency="+c.Latency.String())
	}
	if c.Seed != 0 {
		parts = append(parts, "seed="+strconv.FormatUint(c.Seed, 10))
	}
	return strings.Join(parts, ",")
}

// Parse reads a spec such as
// "fail5xx=0.1,reset=0.05,lost_response=0.05,throttle=0.1,latency=200ms,seed=7".
// Probabilities are between 0 and 1 and may add up to at most 1; latency is a
// Go duration. An empty spec is the zero Config. Unknown keys, repeated keys
// and bad values are errors that name the key.
func Parse(spec string) (Config, error) {
	var c Config
	seen := map[string]bool{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok {
			return Config{}, fmt.Errorf("chaos: %q: want key=value", item)
		}
		if seen[k] {
			return Config{}, fmt.Errorf("chaos: %s: given twice", k)
		}
		seen[k] = true
		var err error
		switch Fault(k) {
		case Fail5xx:
			c.Fail5xx, err = prob(k, v)
		case Reset:
			c.Reset, err = prob(k, v)
		case LostResponse:
			c.LostResponse, err = prob(k, v)
		case Throttle:
			c.Throttle, err = prob(k, v)
		case Latency:
			c.Latency, err = time.ParseDuration(v)
			if err != nil || c.Latency < 0 {
				err = fmt.Errorf("chaos: latency: %q is not a duration such as 200ms", v)
			}
		case "seed":
			c.Seed, err = strconv.ParseUint(v, 10, 64)
			if err != nil {
				err = fmt.Errorf("chaos: seed: %q is not a non-negative integer", v)
			}
		default:
			err = fmt.Errorf("chaos: unknown key %q (want fail5xx, reset, lost_response, throttle, latency or seed)", k)
		}
		if err != nil {
			return Config{}, err
		}
	}
	if sum := c.Fail5xx + c.Reset + c.LostResponse + c.Throttle; sum > 1+1e-9 {
		return Config{}, fmt.Errorf("chaos: fail5xx+reset+lost_response+throttle add up to %g, more than 1", sum)
	}
	return c, nil
}

func prob(k, v string) (float64, error) {
	p, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(p) || p < 0 || p > 1 {
		return 0, fmt.Errorf("chaos: %s: %q is not a probability between 0 and 1", k, v)
	}
	return p, nil
}

// randMu serialises draws: *rand.Rand is not safe for concurrent use.
var randMu sync.Mutex

type handler struct {
	next http.Handler
	c    Config
	rnd  *rand.Rand
}

// Wrap returns h with the faults of c injected. With a zero Config it
// returns h itself.
func Wrap(h http.Handler, c Config) http.Handler {
	if !c.Enabled() {
		return h
	}
	rnd := c.Rand
	if rnd == nil {
		seed := c.Seed
		if seed == 0 {
			seed = uint64(time.Now().UnixNano())
		}
		rnd = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
	return &handler{next: h, c: c, rnd: rnd}
}

func (h *handler) draw() (fault Fault, code int) {
	randMu.Lock()
	x := h.rnd.Float64()
	k := h.rnd.IntN(3)
	randMu.Unlock()
	c := h.c
	switch {
	case x < c.Fail5xx:
		return Fail5xx, []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[k]
	case x < c.Fail5xx+c.Reset:
		return Reset, 0
	case x < c.Fail5xx+c.Reset+c.LostResponse:
		return LostResponse, 0
	case x < c.Fail5xx+c.Reset+c.LostResponse+c.Throttle:
		return Throttle, 0
	}
	return "", 0
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(NoChaosHeader) == "1" {
		h.next.ServeHTTP(w, r)
		return
	}
	if d := h.c.Latency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return // the client has gone; do not run the handler
		}
	}
	fault, code := h.draw()
	if fault != "" && h.c.OnFault != nil {
		h.c.OnFault(fault, r)
	}
	switch fault {
	case Fail5xx:
		w.Header().Set(FaultHeader, string(fault))
		http.Error(w, fmt.Sprintf("sandbox chaos: injected %d %s", code, http.StatusText(code)), code)
	case Throttle:
		w.Header().Set(FaultHeader, string(fault))
		w.Header().Set("Retry-After", "1")
		http.Error(w, "sandbox chaos: injected 429 Too Many Requests", http.StatusTooManyRequests)
	case Reset:
		drop(w, true)
	case LostResponse:
		// Commit the change, then lose the answer.
		h.next.ServeHTTP(&discard{header: http.Header{}}, r)
		drop(w, false)
	default:
		h.next.ServeHTTP(w, r)
	}
}

// drop closes the client connection without writing a response. With reset
// it sets SO_LINGER 0 so the close is an RST rather than a FIN.
func drop(w http.ResponseWriter, reset bool) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (HTTP/2): abort the response instead; the server
		// then resets the stream or closes the connection unanswered.
		panic(http.ErrAbortHandler)
	}
	if reset {
		if tc := tcpConn(conn); tc != nil {
			_ = tc.SetLinger(0)
		}
	}
	_ = conn.Close()
}

func tcpConn(c net.Conn) *net.TCPConn {
	for range 4 {
		if tc, ok := c.(*net.TCPConn); ok {
			return tc
		}
		u, ok := c.(interface{ NetConn() net.Conn }) // *tls.Conn
		if !ok {
			return nil
		}
		c = u.NetConn()
	}
	return nil
}

// discard is the ResponseWriter a lost_response handler writes into: the
// handler runs to completion and its answer goes nowhere.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }

// Flush lets handlers that stream (http.Flusher) run unchanged.
func (d *discard) Flush() {}
