package moyasar

import (
	"crypto/subtle"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Defaults applied by New to zero-valued Options fields.
const (
	DefaultOrders           = 200
	DefaultRefundLatency    = 3 * time.Second
	DefaultAPIKey           = "demo-moyasar-key"
	DefaultProcessingWindow = time.Second
	// maxLockWait bounds how long a request waits for another request that holds
	// the same order before it gives up with "Initial request is still processing."
	maxLockWait = 2 * time.Second
)

// Options configure a sandbox Server. The zero value is usable.
type Options struct {
	Orders        int              // seeded orders; default 200
	Seed          int64            // same seed (and same Now at New), same data
	RefundLatency time.Duration    // how long a refund stays "initiated"; default 3s, negative = settle at once
	Now           func() time.Time // clock; nil = time.Now; seeded dates are relative to Now() at New()
	APIKey        string           // default "demo-moyasar-key"

	// ReadOnlyAPIKey, when set, is a second key that may read but not move money:
	// POSTs with it get 403 {"message":"Unauthorized"} (a key lacking the permission).
	ReadOnlyAPIKey string
	// ProcessingWindow: a repeat of a refund/void with an already used
	// transaction_id arriving within this long (by the clock) after the first
	// gets 400 "Initial request is still processing."; later repeats get the
	// order back. Default 1s; negative disables the window.
	ProcessingWindow time.Duration
	// ProcessingDelay: how long a refund/void request holds its order before it
	// answers (real time, not the clock). Concurrent requests for the same order
	// wait up to 2s for it; a concurrent repeat of the same transaction_id gets
	// 400 at once. Default 0.
	ProcessingDelay time.Duration
}

// Server is a fake Moyasar Payment Gateway merchant API. It implements
// http.Handler and is safe for concurrent use.
type Server struct {
	opts   Options
	now    func() time.Time
	mu     sync.Mutex
	orders []*order          // seeded and stable order
	byID   map[string]*order // order id -> order
	txns   map[string]*txnRecord
	busy   map[string]chan struct{} // order id -> closed when the holder is done
	rng    *rand.Rand               // runtime ids, RRNs, STANs (under mu)
}

// txnRecord remembers a refund/void request by its transaction_id.
type txnRecord struct {
	orderID  string
	kind     string // refund | void
	amount   int64
	at       time.Time // clock time of the first request
	inFlight bool
}

// New seeds a server from o. Seeded dates are relative to o.Now() at this call.
func New(o Options) *Server {
	if o.Orders <= 0 {
		o.Orders = DefaultOrders
	}
	if o.RefundLatency == 0 {
		o.RefundLatency = DefaultRefundLatency
	}
	if o.RefundLatency < 0 {
		o.RefundLatency = 0
	}
	if o.APIKey == "" {
		o.APIKey = DefaultAPIKey
	}
	if o.ProcessingWindow == 0 {
		o.ProcessingWindow = DefaultProcessingWindow
	}
	if o.ProcessingWindow < 0 {
		o.ProcessingWindow = 0
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	s := &Server{
		opts: o,
		now:  func() time.Time { return now().UTC() },
		byID: map[string]*order{},
		txns: map[string]*txnRecord{},
		busy: map[string]chan struct{}{},
		rng:  rand.New(rand.NewPCG(uint64(o.Seed), 0x6d6f79617361723a)),
	}
	s.orders = seedOrders(o.Seed, o.Orders, s.now(), o.RefundLatency)
	for _, ord := range s.orders {
		s.byID[ord.ID] = ord
		// Seeded transaction ids are taken: reusing one is a replay (same
		// order, kind and amount) or a 422.
		for _, x := range ord.Txns {
			s.txns[x.ID] = &txnRecord{orderID: ord.ID, kind: x.Type, amount: x.Amount, at: x.CreatedAt}
		}
	}
	return s
}

// ServeHTTP routes the merchant API:
//
//	GET  /v1/orders
//	GET  /v1/orders/:id
//	GET  /v1/orders/:id/transactions
//	POST /v1/orders/:id/refund
//	POST /v1/orders/:id/void
//	GET  /sandbox/health            (no auth)
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	if path == "/sandbox/health" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeMessage(w, http.StatusMethodNotAllowed, "Method not allowed")
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "provider": "moyasar"})
		return
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) < 2 || parts[0] != "v1" || parts[1] != "orders" || len(parts) > 4 {
		writeMessage(w, http.StatusNotFound, "Not found")
		return
	}
	readOnly, ok := s.authorize(w, r)
	if !ok {
		return
	}
	var route, id string
	switch len(parts) {
	case 2:
		route = "list"
	case 3:
		route, id = "show", parts[2]
	case 4:
		route, id = parts[3], parts[2]
	}
	want := map[string]string{"list": http.MethodGet, "show": http.MethodGet,
		"transactions": http.MethodGet, "refund": http.MethodPost, "void": http.MethodPost}
	method, known := want[route]
	if !known {
		writeMessage(w, http.StatusNotFound, "Not found")
		return
	}
	if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", method)
		writeMessage(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	if method == http.MethodPost && readOnly {
		writeMessage(w, http.StatusForbidden, "Unauthorized")
		return
	}
	switch route {
	case "list":
		s.handleList(w, r)
	case "show":
		s.handleShow(w, id)
	case "transactions":
		s.handleTransactions(w, r, id)
	case "refund", "void":
		s.handleMove(w, r, id, route)
	}
}

// authorize checks the Bearer key. It reports whether the key is the read-only one.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (readOnly, ok bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, key, found := strings.Cut(h, " ")
	key = strings.TrimSpace(key)
	if h == "" || !found || !strings.EqualFold(scheme, "Bearer") || key == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="moyasar"`)
		writeMessage(w, http.StatusUnauthorized, "Missing authentication information")
		return false, false
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.APIKey)) == 1 {
		return false, true
	}
	if s.opts.ReadOnlyAPIKey != "" && subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.ReadOnlyAPIKey)) == 1 {
		return true, true
	}
	writeMessage(w, http.StatusUnauthorized, "Unauthorized")
	return false, false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

type messageBody struct {
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors,omitempty"`
}

func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, messageBody{Message: msg})
}

// writeValidation answers 422 "Data validation failed" with per-field messages.
func writeValidation(w http.ResponseWriter, errs map[string][]string) {
	writeJSON(w, http.StatusUnprocessableEntity, messageBody{Message: "Data validation failed", Errors: errs})
}
