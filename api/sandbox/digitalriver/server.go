package digitalriver

import (
	"crypto/subtle"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. Zero values take the defaults noted.
type Options struct {
	Orders        int              // default 200
	Seed          int64            // same seed (and Now) -> same data
	RefundLatency time.Duration    // default 3s: pending -> final after this; negative = at once
	Now           func() time.Time // nil = time.Now; seeded dates relative to Now() at New()
	APIKey        string           // default "sk_test_demo"
	RatePerSecond int              // default 25 (test keys); negative disables the limit
}

// Server is the fake Digital River API. It is an http.Handler, safe for
// concurrent use.
type Server struct {
	apiKey  string
	now     func() time.Time
	latency time.Duration
	rate    int

	mu         sync.Mutex
	orders     []*order // newest first
	orderByID  map[string]*order
	refunds    []*refund // newest first
	refundByID map[string]*refund
	buckets    map[string]*bucket
	faults     []fault

	mux *http.ServeMux
}

// New builds a server with its seeded data.
func New(o Options) *Server {
	if o.Orders <= 0 {
		o.Orders = 200
	}
	if o.RefundLatency == 0 {
		o.RefundLatency = 3 * time.Second
	}
	if o.RefundLatency < 0 {
		o.RefundLatency = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.APIKey == "" {
		o.APIKey = "sk_test_demo"
	}
	if o.RatePerSecond == 0 {
		o.RatePerSecond = 25
	}
	s := &Server{
		apiKey:     o.APIKey,
		now:        o.Now,
		latency:    o.RefundLatency,
		rate:       o.RatePerSecond,
		orderByID:  map[string]*order{},
		refundByID: map[string]*refund{},
		buckets:    map[string]*bucket{},
	}
	s.seed(o.Orders, o.Seed, ms(o.Now()))
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/orders", s.handleOrders)
	s.mux.HandleFunc("/orders/{id}", s.handleOrder)
	s.mux.HandleFunc("/refunds", s.handleRefunds)
	s.mux.HandleFunc("/refunds/{id}", s.handleRefund)
	s.mux.HandleFunc("/sandbox/scenarios", s.handleScenarios)
	s.mux.HandleFunc("/sandbox/faults", s.handleFaults)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "not_found", "", "no such resource: "+r.URL.Path)
	})
	return s
}

// ServeHTTP authenticates, rate-limits and routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(key)), []byte(s.apiKey)) != 1 {
		writeError(w, http.StatusUnauthorized, "unauthorized", "unauthorized", "",
			"missing or invalid API key; send Authorization: Bearer <secret key>")
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/sandbox/") {
		if wait, ok := s.take(key); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(wait))
			writeError(w, http.StatusTooManyRequests, "too_many_requests", "too_many_requests", "",
				"rate limit exceeded; retry after "+strconv.Itoa(wait)+"s")
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

// bucket is a token bucket for one API key.
type bucket struct {
	tokens float64
	last   time.Time
}

// take spends one token for key; when none is left it returns the whole
// seconds until one is.
func (s *Server) take(key string) (int, bool) {
	if s.rate < 0 {
		return 0, true
	}
	now := time.Now() // wall clock on purpose: load is real even when the data clock is not
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[key]
	rate := float64(s.rate)
	if b == nil {
		b = &bucket{tokens: rate, last: now}
		s.buckets[key] = b
	}
	b.tokens = math.Min(rate, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	wait := int(math.Ceil((1 - b.tokens) / rate))
	if wait < 1 {
		wait = 1
	}
	return wait, false
}

// apiError is one entry of the errors array.
type apiError struct {
	Code      string `json:"code"`
	Parameter string `json:"parameter,omitempty"`
	Message   string `json:"message"`
}

type errorBody struct {
	Type   string     `json:"type"`
	Errors []apiError `json:"errors"`
}

// errStatus carries an error answer through the handlers.
type errStatus struct {
	status int
	body   errorBody
}

func (e *errStatus) Error() string { return e.body.Errors[0].Message }

var statusType = map[int]string{
	400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
	405: "method_not_allowed", 406: "not_acceptable", 408: "request_timeout",
	409: "conflict", 429: "too_many_requests", 500: "internal_server_error",
	502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout",
}

func newErr(status int, code, param, msg string) *errStatus {
	return &errStatus{status: status, body: errorBody{Type: statusType[status],
		Errors: []apiError{{Code: code, Parameter: param, Message: msg}}}}
}

func badParam(param, msg string) *errStatus {
	return newErr(http.StatusBadRequest, "invalid_parameter", param, msg)
}

func writeError(w http.ResponseWriter, status int, typ, code, param, msg string) {
	writeJSON(w, status, errorBody{Type: typ, Errors: []apiError{{Code: code, Parameter: param, Message: msg}}})
}

func writeErr(w http.ResponseWriter, e *errStatus) { writeJSON(w, e.status, e.body) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"type":"internal_server_error","errors":[{"code":"internal_server_error","message":"encoding failed"}]}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "method_not_allowed", "",
		"method not allowed; allowed: "+allow)
}
