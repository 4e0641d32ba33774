// Package faultproxy is a misbehaving provider for tests: an HTTP proxy on
// loopback in front of one sandbox that lets a money request through (the
// sandbox commits it: the refund is made) and then answers the client badly,
// the way a real provider, load balancer or middlebox sometimes does.
//
//	p, _ := faultproxy.New(faultproxy.Config{Upstream: sandboxURL, Flavor: faultproxy.DigitalRiver})
//	defer p.Close()
//	p.Arm(faultproxy.Fault{Mode: faultproxy.Unauthorized401})
//	client := digitalriver.New(digitalriver.Config{BaseURL: p.URL, ...})
//
// After commit it can answer with a 5xx, a connection reset, half a body,
// unparseable 2xx, 302, 303, 401, 429, 409 while the sandbox's lists lag (the
// new refund stays hidden from reads for Fault.Lag), or hang until the client
// gives up; armed on reads (Target Reads), the same lies answer reads.
// Without committing it can refuse while echoing the request's credentials
// into every position of an error (code, message, field name, field
// message, or a non-JSON page), on money requests or on the OAuth token
// endpoint, and it can redirect reads to another loopback port that records
// every Authorization header it is sent (Recorder).
//
// It is the other side of the wire: it imports only the standard library and
// shares no code with the API clients. It knows the providers' error
// envelopes (Flavor) and, to hide a refund, looks only for the intent marker
// or idempotency key the client sent, never at the shape of a refund.
package faultproxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Mode is what the proxy does to a request its armed Fault matches.
type Mode string

// Modes that commit first: the request reaches the sandbox and takes effect,
// then the client gets this answer instead of the sandbox's.
const (
	Status5xx       Mode = "5xx"         // 502 Bad Gateway in the provider's error envelope
	Reset           Mode = "reset"       // the connection is reset (RST), no answer
	HalfBody        Mode = "half_body"   // the sandbox's status and headers, then half the body and EOF
	Garbage2xx      Mode = "garbage_2xx" // the sandbox's 2xx status with a body that is not JSON
	Found302        Mode = "302"         // 302 to the recorder port
	SeeOther303     Mode = "303"         // 303 to the recorder port (POST/redirect/GET)
	Unauthorized401 Mode = "401"         // 401 in the provider's envelope
	TooMany429      Mode = "429"         // 429 with Retry-After
	Conflict409Lag  Mode = "409_lag"     // 409, and the new refund is hidden from reads for Fault.Lag
	Hang            Mode = "hang"        // no answer until the client gives up
)

// Modes that do not commit: the request is refused with the request's
// credentials echoed back.
const (
	EchoCode         Mode = "echo_code"          // in the error code
	EchoMessage      Mode = "echo_message"       // in the error message (with the request body)
	EchoFieldName    Mode = "echo_field_name"    // as the name of a field in error
	EchoFieldMessage Mode = "echo_field_message" // as a field's message
	EchoText         Mode = "echo_text"          // in a non-JSON page, across byte 200
	EchoAll          Mode = "echo_all"           // in every JSON position at once
)

// RedirectReads answers every read (GET) with 302 to the recorder port.
const RedirectReads Mode = "redirect_reads"

// Commits reports whether the mode lets the request reach the sandbox.
func (m Mode) Commits() bool {
	switch m {
	case Status5xx, Reset, HalfBody, Garbage2xx, Found302, SeeOther303, Unauthorized401, TooMany429, Conflict409Lag, Hang:
		return true
	}
	return false
}

// Echoes reports whether the mode echoes credentials.
func (m Mode) Echoes() bool { return strings.HasPrefix(string(m), "echo_") }

// Target is which requests a Fault applies to.
type Target int

const (
	// Money: refunds, refund_all, cancel and void (Config.IsMoney).
	Money Target = iota
	// Token: the OAuth token endpoint (Forage's POST /o/token/).
	Token
	// Reads: every GET.
	Reads
)

// Fault is armed on the proxy and applies to the next Times requests of its
// Target (0 = every one until Heal).
type Fault struct {
	Mode   Mode
	Target Target
	Times  int
	// Lag is how long a refund committed under Conflict409Lag stays out of
	// the sandbox's answers to reads (default 1s).
	Lag time.Duration
	// RetryAfter is TooMany429's Retry-After header (default "1").
	RetryAfter string
}

// Flavor is the provider whose error envelope the proxy answers in.
type Flavor string

const (
	Forage       Flavor = "forage"
	Moyasar      Flavor = "moyasar"
	DigitalRiver Flavor = "digitalriver"
)

// Config configures a Proxy.
type Config struct {
	Upstream string // the sandbox's base URL
	Flavor   Flavor
	// IsMoney reports whether a request moves money (default IsMoney).
	IsMoney func(method, path string) bool
}

// IsMoney knows the three sandboxes' money endpoints: Forage's
// .../refunds/, .../refund_all/ and .../cancel/, Moyasar's .../refund and
// .../void, and Digital River's POST /refunds.
func IsMoney(method, path string) bool {
	if method != http.MethodPost {
		return false
	}
	for _, s := range []string{"/refunds/", "/refund_all/", "/cancel/", "/refund", "/void"} {
		if strings.HasSuffix(path, s) {
			return true
		}
	}
	return path == "/refunds"
}

// Commit is one money request the proxy let through to the sandbox.
type Commit struct {
	Method, Path string
	Status       int    // the sandbox's answer
	Token        string // the request's idempotency key or intent marker, when it had one
	Fault        Mode   // "" when it was passed on untouched
}

// Proxy is a running fault proxy. Its methods are safe for concurrent use.
type Proxy struct {
	URL      string // give this to the client as its base URL
	Recorder *Recorder

	cfg      Config
	upstream *http.Client
	srv      *http.Server
	ln       net.Listener
	done     chan struct{}

	mu      sync.Mutex
	fault   *Fault
	used    int
	commits []Commit
	creds   []string
	hidden  map[string]time.Time // token -> hidden until
	closed  bool
}

// New starts a proxy on 127.0.0.1 in front of cfg.Upstream, with its
// recorder on another port.
func New(cfg Config) (*Proxy, error) {
	if cfg.Upstream == "" {
		return nil, fmt.Errorf("faultproxy: no upstream")
	}
	if cfg.IsMoney == nil {
		cfg.IsMoney = IsMoney
	}
	rec, err := NewRecorder()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		rec.Close()
		return nil, err
	}
	p := &Proxy{
		URL: "http://" + ln.Addr().String(), Recorder: rec, cfg: cfg, ln: ln,
		done: make(chan struct{}), hidden: map[string]time.Time{},
		upstream: &http.Client{
			Transport:     &http.Transport{DisableCompression: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	p.cfg.Upstream = strings.TrimRight(cfg.Upstream, "/")
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// Close stops the proxy and its recorder; hanging answers end at once.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = p.srv.Shutdown(ctx)
	p.upstream.CloseIdleConnections()
	p.Recorder.Close()
}

// Arm sets the fault for the next matching requests, replacing any other.
func (p *Proxy) Arm(f Fault) {
	if f.Lag <= 0 {
		f.Lag = time.Second
	}
	if f.RetryAfter == "" {
		f.RetryAfter = "1"
	}
	p.mu.Lock()
	p.fault, p.used = &f, 0
	p.mu.Unlock()
}

// Heal disarms the fault: the network is fine again. A refund hidden by
// Conflict409Lag stays hidden until its lag ends (that is the provider's
// list, not the network).
func (p *Proxy) Heal() {
	p.mu.Lock()
	p.fault = nil
	p.mu.Unlock()
}

// Commits lists the money requests that reached the sandbox, in order.
func (p *Proxy) Commits() []Commit {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.commits)
}

// Credentials lists every credential the proxy saw a client send or the
// sandbox issue: bearer tokens, Basic values, the secret inside a Basic
// value, and access tokens from token answers.
func (p *Proxy) Credentials() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.creds)
}

func (p *Proxy) addCred(v string) {
	if v == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.creds, v) {
		p.creds = append(p.creds, v)
	}
}

// noteAuth records the credentials in an Authorization header.
func (p *Proxy) noteAuth(h string) {
	scheme, val, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		p.addCred(h)
		return
	}
	val = strings.TrimSpace(val)
	if strings.EqualFold(scheme, "Basic") {
		// The secret is the credential; the client id in front of it is
		// not (its base64 inside the Basic value is public knowledge).
		if b, err := base64.StdEncoding.DecodeString(val); err == nil {
			if _, secret, ok := strings.Cut(string(b), ":"); ok {
				p.addCred(secret)
				return
			}
		}
	}
	p.addCred(val)
}

// take reports the fault that applies to this request, counting it.
func (p *Proxy) take(t Target) *Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fault
	if f == nil || f.Target != t || (f.Times > 0 && p.used >= f.Times) {
		return nil
	}
	p.used++
	cp := *f
	return &cp
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil {
		http.Error(w, "faultproxy: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if a := r.Header.Get("Authorization"); a != "" {
		p.noteAuth(a)
	}
	target := Target(-1)
	switch {
	case p.cfg.IsMoney(r.Method, r.URL.Path):
		target = Money
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/o/token/"):
		target = Token
	case r.Method == http.MethodGet:
		target = Reads
	}
	f := p.take(target)
	if f != nil && !f.Mode.Commits() {
		switch {
		case f.Mode == RedirectReads:
			w.Header().Set("Location", p.Recorder.URL+r.URL.RequestURI())
			w.WriteHeader(http.StatusFound)
		case f.Mode.Echoes():
			p.echo(w, r, body, f.Mode)
		default:
			http.Error(w, "faultproxy: unknown mode "+string(f.Mode), http.StatusInternalServerError)
		}
		return
	}
	status, hdr, rbody, err := p.forward(r, body)
	if err != nil {
		// The sandbox is gone: say so as a gateway would.
		http.Error(w, "faultproxy: upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	if target == Token && status/100 == 2 {
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(rbody, &tok) == nil {
			p.addCred(tok.AccessToken)
		}
	}
	if target == Money {
		c := Commit{Method: r.Method, Path: r.URL.Path, Status: status, Token: intentToken(r.Header, body)}
		if f != nil {
			c.Fault = f.Mode
		}
		p.mu.Lock()
		p.commits = append(p.commits, c)
		if f != nil && f.Mode == Conflict409Lag && status/100 == 2 {
			until := time.Now().Add(f.Lag)
			for _, tok := range hideTokens(r.Header, body) {
				p.hidden[tok] = until
			}
		}
		p.mu.Unlock()
	}
	// A fault armed on reads lies about them as it lies about money (a
	// read that commits nothing, then answers badly); the token endpoint
	// only ever echoes.
	if f == nil || target == Token {
		if r.Method == http.MethodGet && status/100 == 2 {
			var gone bool
			if rbody, gone = p.hide(rbody); gone {
				p.writeError(w, http.StatusNotFound, "not_found", "not found", "id", "")
				return
			}
			hdr.Del("Content-Length")
		}
		copyHeader(w.Header(), hdr)
		w.WriteHeader(status)
		_, _ = w.Write(rbody)
		return
	}
	p.misanswer(w, r, f, status, hdr, rbody)
}

// forwardTimeout bounds one request to the sandbox.
const forwardTimeout = 30 * time.Second

// forward sends the request to the sandbox and reads its whole answer.
func (p *Proxy) forward(r *http.Request, body []byte) (int, http.Header, []byte, error) {
	// The sandbox acts whether or not the client is still waiting (that is
	// the point), but never longer than forwardTimeout.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), forwardTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, p.cfg.Upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header = r.Header.Clone()
	req.Header.Del("Accept-Encoding")
	resp, err := p.upstream.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, b, nil
}

// misanswer answers a request the sandbox has served (a committed money
// request, or a read) with the fault's lie.
func (p *Proxy) misanswer(w http.ResponseWriter, r *http.Request, f *Fault, status int, hdr http.Header, body []byte) {
	switch f.Mode {
	case Status5xx:
		p.writeError(w, http.StatusBadGateway, "bad_gateway", "upstream answered badly", "", "")
	case Reset:
		if conn := hijack(w); conn != nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			_ = conn.Close()
		}
	case HalfBody:
		conn := hijack(w)
		if conn == nil {
			return
		}
		ct := hdr.Get("Content-Type")
		if ct == "" {
			ct = "application/json"
		}
		fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
			status, http.StatusText(status), ct, len(body))
		_, _ = conn.Write(body[:len(body)/2])
		_ = conn.Close()
	case Garbage2xx:
		if status/100 != 2 {
			status = http.StatusOK
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html><body>OK</body></html>\x00{\"id\":"))
	case Found302, SeeOther303:
		code := http.StatusFound
		if f.Mode == SeeOther303 {
			code = http.StatusSeeOther
		}
		w.Header().Set("Location", p.Recorder.URL+r.URL.RequestURI())
		w.WriteHeader(code)
	case Unauthorized401:
		p.writeError(w, http.StatusUnauthorized, "unauthorized", "Invalid authentication credentials", "", "")
	case TooMany429:
		w.Header().Set("Retry-After", f.RetryAfter)
		p.writeError(w, http.StatusTooManyRequests, "rate_limit_exceeded", "Too many requests", "", "")
	case Conflict409Lag:
		p.writeError(w, http.StatusConflict, "conflict", "The request conflicts with the current state of the order", "", "")
	case Hang:
		select {
		case <-r.Context().Done():
		case <-p.done:
		}
	}
}

func hijack(w http.ResponseWriter) net.Conn {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return nil
	}
	return conn
}

// echo refuses the request with its credentials in the mode's position.
func (p *Proxy) echo(w http.ResponseWriter, r *http.Request, body []byte, m Mode) {
	auth := r.Header.Get("Authorization")
	_, bare, _ := strings.Cut(auth, " ")
	full := "Authorization: " + auth + "; token " + bare + "; body " + string(body)
	if m == EchoText {
		// The bare credential starts at byte 176 and runs past byte 200,
		// then comes again whole: a client that cuts the page to 200 bytes
		// before redacting keeps at least 24 bytes of it (for a Basic value,
		// the first 8 base64 bytes of the secret after a 12-byte client id).
		const head = "<html><body>Bad request: "
		page := head + strings.Repeat("x", 176-len(head)) + bare + " " + auth + " " + full + "</body></html>"
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, page)
		return
	}
	code, msg, field, fmsg := "invalid_request", "the request is invalid", "amount", "is invalid"
	switch m {
	case EchoCode:
		code = auth
	case EchoMessage:
		msg = full
	case EchoFieldName:
		field = auth
	case EchoFieldMessage:
		fmsg = full
	case EchoAll:
		code, msg, field, fmsg = auth, full, bare, full
	}
	p.writeError(w, http.StatusBadRequest, code, msg, field, fmsg)
}

// writeError answers in the flavor's error envelope. field and fieldMsg, when
// set, add a second error about that field.
func (p *Proxy) writeError(w http.ResponseWriter, status int, code, msg, field, fieldMsg string) {
	if fieldMsg == "" {
		fieldMsg = msg
	}
	var v any
	switch p.cfg.Flavor {
	case Forage:
		type src struct {
			Resource string `json:"resource"`
			Ref      string `json:"ref"`
		}
		type item struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Source  src    `json:"source"`
		}
		items := []item{{Code: code, Message: msg, Source: src{Resource: field}}}
		if field != "" {
			items = append(items, item{Code: code, Message: fieldMsg, Source: src{Resource: field, Ref: field}})
		}
		v = map[string]any{"path": "/" + field, "errors": items}
	case Moyasar:
		errs := map[string][]string{}
		if field != "" {
			errs[field] = []string{fieldMsg}
		}
		v = map[string]any{"type": code, "message": msg, "errors": errs}
	default: // Digital River
		type item struct {
			Code      string `json:"code"`
			Parameter string `json:"parameter,omitempty"`
			Message   string `json:"message"`
		}
		items := []item{{Code: code, Message: msg}}
		if field != "" {
			items = append(items, item{Code: code, Parameter: field, Message: fieldMsg})
		}
		v = map[string]any{"type": code, "errors": items}
	}
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// markerKeys are the body fields that name one money intent uniquely: the
// intent marker paydesk puts in refund metadata, and Moyasar's
// client-chosen transaction_id (which becomes the refund's id).
var markerKeys = []string{"paydesk_intent", "transaction_id"}

// intentToken is what makes a money request one intent: the Idempotency-Key
// header, else a marker in the body.
func intentToken(h http.Header, body []byte) string {
	if k := h.Get("Idempotency-Key"); k != "" {
		return k
	}
	if toks := bodyMarkers(body); len(toks) > 0 {
		return toks[0]
	}
	return ""
}

// hideTokens are the strings by which the refund a request made can be
// recognised in later reads.
func hideTokens(h http.Header, body []byte) []string {
	toks := bodyMarkers(body)
	if k := h.Get("Idempotency-Key"); k != "" {
		toks = append(toks, k)
	}
	return toks
}

func bodyMarkers(body []byte) []string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && s != "" && slices.Contains(markerKeys, k) {
					out = append(out, s)
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	slices.Sort(out)
	return slices.Compact(out)
}

// hide removes from a read's answer every array element that carries a
// hidden token (the lagging list), and reports gone when the answer itself
// is the hidden object (a read of the refund by id).
func (p *Proxy) hide(body []byte) ([]byte, bool) {
	p.mu.Lock()
	now := time.Now()
	var toks []string
	for t, until := range p.hidden {
		if now.Before(until) {
			toks = append(toks, t)
		} else {
			delete(p.hidden, t)
		}
	}
	p.mu.Unlock()
	if len(toks) == 0 {
		return body, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // amounts go back digit for digit
	var v any
	if dec.Decode(&v) != nil {
		return body, false
	}
	v, changed := prune(v, toks)
	if carries(v, toks) {
		return nil, true
	}
	if !changed {
		return body, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return body, false
	}
	return b, false
}

func prune(v any, toks []string) (any, bool) {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			nc, ch := prune(c, toks)
			x[k], changed = nc, changed || ch
		}
	case []any:
		out := x[:0]
		for _, c := range x {
			if _, isObj := c.(map[string]any); isObj && carries(c, toks) {
				changed = true
				continue
			}
			nc, ch := prune(c, toks)
			changed = changed || ch
			out = append(out, nc)
		}
		return out, changed
	}
	return v, changed
}

// carries reports whether any string in v equals a token.
func carries(v any, toks []string) bool {
	switch x := v.(type) {
	case string:
		return slices.Contains(toks, x)
	case map[string]any:
		for _, c := range x {
			if carries(c, toks) {
				return true
			}
		}
	case []any:
		for _, c := range x {
			if carries(c, toks) {
				return true
			}
		}
	}
	return false
}

func copyHeader(dst, src http.Header) {
	for k, vs := range src {
		switch http.CanonicalHeaderKey(k) {
		case "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length":
			continue
		}
		dst[k] = slices.Clone(vs)
	}
}

// Recorder is a loopback server that answers everything with 200 "{}" and
// remembers every request, so a test can see whether a client sent a
// credential somewhere other than its configured base URL.
type Recorder struct {
	URL string

	srv *http.Server
	mu  sync.Mutex
	got []Received
}

// Received is one request the recorder was sent.
type Received struct {
	Method, Path  string
	Authorization string
	Body          string
}

// NewRecorder starts a recorder on 127.0.0.1.
func NewRecorder() (*Recorder, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rec := &Recorder{URL: "http://" + ln.Addr().String()}
	rec.srv = &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		rec.mu.Lock()
		rec.got = append(rec.got, Received{Method: r.Method, Path: r.URL.RequestURI(), Authorization: r.Header.Get("Authorization"), Body: string(b)})
		rec.mu.Unlock()
		// An empty success: a client that followed the redirect shows it as
		// if it were the provider's answer.
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(2))
		_, _ = io.WriteString(w, "{}")
	})}
	go func() { _ = rec.srv.Serve(ln) }()
	return rec, nil
}

// Received lists the requests the recorder got.
func (rec *Recorder) Received() []Received {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return slices.Clone(rec.got)
}

// Close stops the recorder.
func (rec *Recorder) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = rec.srv.Shutdown(ctx)
}
