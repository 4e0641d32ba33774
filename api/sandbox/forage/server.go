package forage

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Pacific day boundaries for the Order Report, everywhere

	"github.com/shopspring/decimal"
)

// Options configures a sandbox Server. Zero values take the defaults noted.
type Options struct {
	Orders          int              // orders to seed (default 200)
	Seed            int64            // same seed, same data
	RefundLatency   time.Duration    // processing -> final after this (default 3s; negative = at once)
	Now             func() time.Time // clock; nil = time.Now. Seeded dates are relative to Now() at New()
	RateLimit       int              // requests per RateWindow per source IP (default 900)
	RateWindow      time.Duration    // default 5m
	IdempotencyTTL  time.Duration    // default 24h
	ClientID        string           // default "demo-client"
	ClientSecret    string           // default "demo-secret"
	MerchantAccount string           // default "9000055"
	// DashboardAPIVersion is the version a request without an API-Version
	// header gets, as a merchant's dashboard setting would give it. Default
	// "": Forage's original unversioned release, older than every dated one.
	DashboardAPIVersion string
}

// receiptVersion is the first API version whose refund endpoints return
// receipt data (Forage's version history: 2024-01-08).
const receiptVersion = "2024-01-08"

// Server is a fake Forage API. It implements http.Handler and is safe for
// concurrent use.
type Server struct {
	opts Options
	loc  *time.Location

	mu        sync.Mutex
	rng       *mrand.Rand
	orders    map[string]*order
	orderList []*order
	payments  map[string]*payment
	refunds   map[string]*refund
	refs      map[string]bool
	tokens    map[string]tokenInfo
	rate      map[string]*rateWindow

	idemMu sync.Mutex
	idem   map[string]*idemEntry
	idemN  int
}

type tokenInfo struct {
	clientID string
	scope    string
	expires  time.Time
}

type rateWindow struct {
	start time.Time
	n     int
}

type idemEntry struct {
	mu      sync.Mutex
	done    bool
	canon   []byte
	status  int
	body    []byte
	expires time.Time
}

// result is a finished answer: status and JSON body.
type result struct {
	status int
	body   []byte
	header map[string]string
}

// New builds a Server and seeds its data.
func New(o Options) *Server {
	if o.Orders <= 0 {
		o.Orders = 200
	}
	if o.RefundLatency == 0 {
		o.RefundLatency = 3 * time.Second
	}
	if o.RefundLatency < 0 { // like the other sandboxes: settle at once
		o.RefundLatency = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RateLimit <= 0 {
		o.RateLimit = 900
	}
	if o.RateWindow <= 0 {
		o.RateWindow = 5 * time.Minute
	}
	if o.IdempotencyTTL <= 0 {
		o.IdempotencyTTL = 24 * time.Hour
	}
	if o.ClientID == "" {
		o.ClientID = "demo-client"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "demo-secret"
	}
	if o.MerchantAccount == "" {
		o.MerchantAccount = "9000055"
	}
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		loc = time.FixedZone("PST", -8*3600)
	}
	s := &Server{
		opts:     o,
		loc:      loc,
		rng:      mrand.New(mrand.NewPCG(uint64(o.Seed), 0x5eed_f0a6e)),
		orders:   map[string]*order{},
		payments: map[string]*payment{},
		refunds:  map[string]*refund{},
		refs:     map[string]bool{},
		tokens:   map[string]tokenInfo{},
		rate:     map[string]*rateWindow{},
		idem:     map[string]*idemEntry{},
	}
	s.seed(s.now())
	return s
}

func (s *Server) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// newRef returns an unused 10-character lowercase hex ref. Caller holds mu
// (or is seeding).
func (s *Server) newRef() string {
	for {
		ref := fmt.Sprintf("%010x", s.rng.Uint64()&0xffffffffff)
		if !s.refs[ref] {
			s.refs[ref] = true
			return ref
		}
	}
}

// ---------------------------------------------------------------- routing

type route struct {
	kind    string // token, order, payments, payment, cancel, refunds, refund, refund_all, report, health, sb_orders
	order   string
	sub     string // payment or refund ref
	methods []string
}

func parseRoute(path string) (route, bool) {
	if !strings.HasSuffix(path, "/") {
		if path == "/sandbox/health" {
			return route{kind: "health", methods: []string{"GET"}}, true
		}
		return route{}, false
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case path == "/o/token/":
		return route{kind: "token", methods: []string{"POST"}}, true
	case path == "/reporting/orders/":
		return route{kind: "report", methods: []string{"GET"}}, true
	case path == "/sandbox/health/":
		return route{kind: "health", methods: []string{"GET"}}, true
	case path == "/sandbox/orders/":
		return route{kind: "sb_orders", methods: []string{"POST"}}, true
	}
	if len(parts) < 3 || parts[0] != "api" || parts[1] != "orders" || parts[2] == "" {
		return route{}, false
	}
	for _, p := range parts {
		if p == "" {
			return route{}, false
		}
	}
	o := parts[2]
	switch len(parts) {
	case 3:
		return route{kind: "order", order: o, methods: []string{"GET"}}, true
	case 4:
		switch parts[3] {
		case "payments":
			return route{kind: "payments", order: o, methods: []string{"GET"}}, true
		case "refunds":
			return route{kind: "refunds", order: o, methods: []string{"GET", "POST"}}, true
		case "refund_all":
			return route{kind: "refund_all", order: o, methods: []string{"POST"}}, true
		}
	case 5:
		switch parts[3] {
		case "payments":
			return route{kind: "payment", order: o, sub: parts[4], methods: []string{"GET", "PATCH", "POST"}}, true
		case "refunds":
			return route{kind: "refund", order: o, sub: parts[4], methods: []string{"GET"}}, true
		}
	case 6:
		if parts[3] == "payments" && parts[5] == "cancel" {
			return route{kind: "cancel", order: o, sub: parts[4], methods: []string{"POST"}}, true
		}
	}
	return route{}, false
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res := s.serve(r)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	for k, v := range res.header {
		h.Set(k, v)
	}
	w.WriteHeader(res.status)
	_, _ = w.Write(res.body)
}

func (s *Server) serve(r *http.Request) result {
	path := r.URL.Path
	rt, ok := parseRoute(path)
	if !ok {
		return errResult(http.StatusNotFound, path, "not_found", "The requested resource was not found.", "", "")
	}
	allowed := false
	for _, m := range rt.methods {
		if r.Method == m {
			allowed = true
		}
	}
	if !allowed {
		res := errResult(http.StatusMethodNotAllowed, path, "method_not_allowed",
			fmt.Sprintf("Method %q not allowed.", r.Method), "", "")
		res.header = map[string]string{"Allow": strings.Join(rt.methods, ", ")}
		return res
	}
	switch rt.kind {
	case "health":
		return jsonResult(http.StatusOK, map[string]any{"status": "ok", "orders": s.orderCount()})
	case "sb_orders":
		body, err := readBody(r)
		if err != nil {
			return errResult(http.StatusBadRequest, path, "cannot_parse_request_body", "Could not read the request body.", "", "")
		}
		return s.handleSandboxCreateOrder(path, body)
	}

	// Everything below counts against the rate limit.
	client, tokOK, tokErr := s.authenticate(r)
	if res, limited := s.rateLimit(path, client); limited {
		return res
	}
	if rt.kind == "token" {
		return s.handleToken(r)
	}
	if !tokOK {
		return tokErr
	}
	if rt.kind == "report" {
		if ma := r.Header.Get("Merchant-Account"); ma != "" && ma != s.opts.MerchantAccount {
			return s.merchantErr(path, ma)
		}
		return s.handleReport(r)
	}
	if ma := r.Header.Get("Merchant-Account"); ma != s.opts.MerchantAccount {
		return s.merchantErr(path, ma)
	}

	body, err := readBody(r)
	if err != nil {
		return errResult(http.StatusBadRequest, path, "cannot_parse_request_body", "Could not read the request body.", "", "")
	}
	key := r.Header.Get("Idempotency-Key")
	create := r.Method == http.MethodPost && rt.kind != "payment"
	if create && key == "" {
		return errResult(http.StatusBadRequest, path, "missing_idempotency_key",
			"No Idempotency-Key header was provided.", "Idempotency_Key", "")
	}
	version := strings.TrimSpace(r.Header.Get("API-Version"))
	if !apiVersionRE.MatchString(version) { // absent, "default" or not a date
		version = s.opts.DashboardAPIVersion
	}
	run := func() result { return versioned(version, r.Method, rt, s.dispatch(r.Method, path, rt, body)) }
	if key != "" && r.Method != http.MethodGet {
		return s.idempotent(r.Method+" "+path, key, body, path, run)
	}
	return run()
}

var apiVersionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// versioned gives refund answers the shape of API versions before
// 2024-01-08: no receipt data on OrderRefunds, and a new OrderRefund answers
// as the docs' example does, requires_confirmation with receipt null.
// Versions compare as YYYY-MM-DD strings.
func versioned(version, method string, rt route, res result) result {
	if version >= receiptVersion || res.status >= 300 || (rt.kind != "refunds" && rt.kind != "refund") {
		return res
	}
	created := rt.kind == "refunds" && method == http.MethodPost
	strip := func(raw json.RawMessage) json.RawMessage {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return raw
		}
		m["receipt"] = json.RawMessage("null")
		if created {
			m["status"] = json.RawMessage(`"requires_confirmation"`)
		}
		out, err := json.Marshal(m)
		if err != nil {
			return raw
		}
		return out
	}
	if len(res.body) > 0 && res.body[0] == '[' {
		var list []json.RawMessage
		if json.Unmarshal(res.body, &list) != nil {
			return res
		}
		for i := range list {
			list[i] = strip(list[i])
		}
		if b, err := json.Marshal(list); err == nil {
			res.body = b
		}
		return res
	}
	res.body = strip(res.body)
	return res
}

func (s *Server) dispatch(method, path string, rt route, body []byte) result {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	switch rt.kind {
	case "order":
		o, res := s.findOrder(path, rt.order)
		if o == nil {
			return res
		}
		return jsonResult(http.StatusOK, s.orderJSON(o, now))
	case "payments":
		o, res := s.findOrder(path, rt.order)
		if o == nil {
			return res
		}
		list := []paymentJSON{}
		for _, pref := range o.payments {
			list = append(list, s.paymentJSON(s.payments[pref], now))
		}
		return jsonResult(http.StatusOK, list)
	case "payment":
		o, res := s.findOrder(path, rt.order)
		if o == nil {
			return res
		}
		p, res := s.findPayment(path, o, rt.sub)
		if p == nil {
			return res
		}
		if method == http.MethodGet {
			return jsonResult(http.StatusOK, s.paymentJSON(p, now))
		}
		return s.updatePayment(path, p, body, now)
	case "cancel":
		o, res := s.findOrder(path, rt.order)
		if o == nil {
			return res
		}
		p, res := s.findPayment(path, o, rt.sub)
		if p == nil {
			return res
		}
		return s.cancelPayment(path, p, now)
	case "refunds":
		o, res := s.findOrder(path, rt.order)
		if o == nil {
			return res
		}
		if method == http.MethodPost {
			return s.createRefund(path, o, body, now)
		}
		list := []refundJSON{}
		for _, rref := range o.refunds {
			list = append(list, s.refundJSON(s.refunds[rref], now))
		}
		return jsonResult(http.StatusOK, list)
	case "refund":
		o, res := s.findOrder(path, rt.order)
		if o == nil {
			return res
		}
		rf := s.refunds[rt.sub]
		if rf == nil || rf.order != o.ref {
			return errResult(http.StatusNotFound, path, "resource_not_found",
				fmt.Sprintf("Refund with ref %s does not exist for current Merchant with FNS %s.", rt.sub, s.opts.MerchantAccount),
				"Refunds", rt.sub)
		}
		return jsonResult(http.StatusOK, s.refundJSON(rf, now))
	case "refund_all":
		o, res := s.findOrder(path, rt.order)
		if o == nil {
			return res
		}
		return s.refundAll(path, o, body, now)
	}
	return errResult(http.StatusNotFound, path, "not_found", "The requested resource was not found.", "", "")
}

func (s *Server) findOrder(path, ref string) (*order, result) {
	o := s.orders[ref]
	if o == nil {
		return nil, errResult(http.StatusNotFound, path, "resource_not_found",
			fmt.Sprintf("Order with ref %s does not exist for current Merchant with FNS %s.", ref, s.opts.MerchantAccount),
			"Orders", ref)
	}
	return o, result{}
}

func (s *Server) findPayment(path string, o *order, ref string) (*payment, result) {
	p := s.payments[ref]
	if p == nil || p.order != o.ref {
		return nil, errResult(http.StatusNotFound, path, "resource_not_found",
			fmt.Sprintf("Payment with ref %s does not exist for current Merchant with FNS %s.", ref, s.opts.MerchantAccount),
			"Payments", ref)
	}
	return p, result{}
}

func (s *Server) orderCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orderList)
}

// ---------------------------------------------------------------- auth

// authenticate returns the rate-limit key (the source IP, as Forage
// documents), whether a valid token was sent, and the 401 answer to give
// when it was not.
func (s *Server) authenticate(r *http.Request) (string, bool, result) {
	ip := r.RemoteAddr
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	client := "ip:" + ip
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return client, false, jsonResult(http.StatusUnauthorized,
			map[string]string{"detail": "Authentication credentials were not provided."})
	}
	invalid := errResult(http.StatusUnauthorized, r.URL.Path, "invalid_token",
		"Incorrect authentication credentials.", "Authentication_Token", "")
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return client, false, invalid
	}
	tok = strings.TrimSpace(tok)
	s.mu.Lock()
	ti, found := s.tokens[tok]
	s.mu.Unlock()
	if !found || !s.now().Before(ti.expires) {
		return client, false, invalid
	}
	return client, true, result{}
}

func (s *Server) merchantErr(path, got string) result {
	msg := "No merchant account FNS number was provided."
	if got != "" {
		msg = fmt.Sprintf("Merchant account FNS number %s is not valid for these credentials.", got)
	}
	return errResult(http.StatusBadRequest, path, "missing_merchant_account", msg, "Merchant_Account_Header", "")
}

func (s *Server) rateLimit(path, client string) (result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	w := s.rate[client]
	if w == nil || !now.Before(w.start.Add(s.opts.RateWindow)) {
		w = &rateWindow{start: now}
		s.rate[client] = w
	}
	w.n++
	if w.n <= s.opts.RateLimit {
		return result{}, false
	}
	wait := int(math.Ceil(w.start.Add(s.opts.RateWindow).Sub(now).Seconds()))
	if wait < 1 {
		wait = 1
	}
	res := errResult(http.StatusTooManyRequests, path, "too_many_requests",
		fmt.Sprintf("Request was throttled. Expected available in %d seconds.", wait), "", "")
	res.header = map[string]string{"Retry-After": fmt.Sprint(wait)}
	return res, true
}

const tokenAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (s *Server) handleToken(r *http.Request) result {
	path := r.URL.Path
	if err := r.ParseForm(); err != nil {
		return errResult(http.StatusBadRequest, path, "cannot_parse_request_body", "Could not parse the form body.", "OAuth_Access_Tokens", "")
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != s.opts.ClientID || secret != s.opts.ClientSecret || id == "" {
		return errResult(http.StatusUnauthorized, path, "invalid_client", "Invalid client credentials.", "OAuth_Access_Tokens", "")
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		return errResult(http.StatusBadRequest, path, "unsupported_grant_type",
			"grant_type must be client_credentials.", "OAuth_Access_Tokens", "")
	}
	scope := r.PostForm.Get("scope")
	if scope == "" {
		scope = "hosted_checkout"
	}
	exp := 604800
	if e := r.PostForm.Get("expiration"); e != "" {
		var n int
		if _, err := fmt.Sscanf(e, "%d", &n); err != nil || n < 1 || n > 2592000 || fmt.Sprint(n) != e {
			return errResult(http.StatusBadRequest, path, "invalid_input_data",
				"expiration: Ensure this value is an integer between 1 and 2592000.", "OAuth_Access_Tokens", "")
		}
		exp = n
	}
	var raw [30]byte
	_, _ = rand.Read(raw[:])
	var b strings.Builder
	b.WriteString("sandbox_")
	for _, c := range raw {
		b.WriteByte(tokenAlphabet[int(c)%len(tokenAlphabet)])
	}
	tok := b.String()
	s.mu.Lock()
	now := s.now()
	for k, ti := range s.tokens {
		if !now.Before(ti.expires) {
			delete(s.tokens, k)
		}
	}
	s.tokens[tok] = tokenInfo{clientID: id, scope: scope, expires: now.Add(time.Duration(exp) * time.Second)}
	s.mu.Unlock()
	return jsonResult(http.StatusOK, map[string]any{
		"access_token": tok,
		"expires_in":   exp,
		"token_type":   "Bearer",
		"scope":        scope,
	})
}

// ---------------------------------------------------------------- idempotency

func (s *Server) idempotent(scope, key string, body []byte, path string, run func() result) result {
	k := s.opts.MerchantAccount + "|" + scope + "|" + key
	s.idemMu.Lock()
	e := s.idem[k]
	if e == nil {
		e = &idemEntry{}
		s.idem[k] = e
		s.idemN++
		if s.idemN%256 == 0 {
			s.sweepIdem()
		}
	}
	s.idemMu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	canon := canonical(body)
	now := s.now()
	if e.done && !now.Before(e.expires) {
		e.done, e.canon, e.body = false, nil, nil
	}
	if e.done {
		if !bytes.Equal(e.canon, canon) {
			return errResult(http.StatusBadRequest, path, "cannot_change_request",
				"Two requests were submitted with the same idempotency key, but slightly different request bodies. Please use a new idempotency key for a new request.",
				"Idempotency_Key", key)
		}
		return result{status: e.status, body: e.body}
	}
	res := run()
	if res.status >= 200 && res.status < 300 {
		e.done, e.canon, e.status, e.body = true, canon, res.status, res.body
		e.expires = now.Add(s.opts.IdempotencyTTL)
	}
	return res
}

// sweepIdem drops expired entries. Caller holds idemMu.
func (s *Server) sweepIdem() {
	now := s.now()
	for k, e := range s.idem {
		if e.mu.TryLock() {
			if e.done && !now.Before(e.expires) {
				delete(s.idem, k)
			}
			e.mu.Unlock()
		}
	}
}

// canonical re-encodes a JSON body with sorted keys and no insignificant
// whitespace; non-JSON bodies are only trimmed.
func canonical(body []byte) []byte {
	trimmed := bytes.TrimSpace(body)
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return trimmed
	}
	out, err := marshal(v)
	if err != nil {
		return trimmed
	}
	return out
}

// ---------------------------------------------------------------- helpers

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(nil, r.Body, 1<<20))
	return buf.Bytes(), err
}

func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func jsonResult(status int, v any) result {
	b, err := marshal(v)
	if err != nil {
		return result{status: http.StatusInternalServerError, body: []byte(`{"detail":"internal error"}`)}
	}
	return result{status: status, body: b}
}

type errSource struct {
	Resource string `json:"resource"`
	Ref      string `json:"ref"`
}

type errItem struct {
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Source  errSource `json:"source"`
}

type errEnvelope struct {
	Path   string    `json:"path"`
	Errors []errItem `json:"errors"`
}

func errResult(status int, path, code, msg, resource, ref string) result {
	return jsonResult(status, errEnvelope{Path: path, Errors: []errItem{{
		Code: code, Message: msg, Source: errSource{Resource: resource, Ref: ref},
	}}})
}

func money(d decimal.Decimal) string { return d.StringFixed(2) }

func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00") }

func tsPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	v := ts(*t)
	return &v
}

func strPtr(s string) *string { return &s }
