package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/digitalriver"
	"paydesk/api/forage"
	"paydesk/api/moyasar"
	drsandbox "paydesk/api/sandbox/digitalriver"
	fsandbox "paydesk/api/sandbox/forage"
	msandbox "paydesk/api/sandbox/moyasar"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// These tests drive the real clients over loopback HTTP against the real
// sandboxes, through a front door that lets a money request reach the
// sandbox (which commits it) and then answers the client badly. Whatever the
// bad answer, the sandbox must hold exactly one refund and the client must
// not call the action failed.

// faultFront passes everything to the sandbox; a money request is passed
// too and, when the sandbox committed it (2xx), answered with the fault.
type faultFront struct {
	h     http.Handler
	fault string // "401", "303", "garbage", "half", ...

	mu    sync.Mutex
	money int      // money requests that reached the sandbox
	auths []string // Authorization headers seen, every request
}

func isMoney(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.Contains(r.URL.Path, "refund") ||
		r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/void")
}

func (f *faultFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	fault := f.fault
	if isMoney(r) {
		f.money++
	}
	f.mu.Unlock()
	if !isMoney(r) || fault == "" {
		f.h.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	if rec.Code < 200 || rec.Code >= 300 {
		// Not committed (a replay refused, say): pass the answer on.
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	answerBadly(w, r, fault)
}

// answerBadly writes one bad answer to a request that was carried out.
func answerBadly(w http.ResponseWriter, r *http.Request, fault string) {
	switch fault {
	case "garbage":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`<html>ok</html>`))
	case "half":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "4000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"id":"`))
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	case "302", "303", "307":
		w.Header().Set("Location", r.URL.Path+"?after=commit")
		w.WriteHeader(map[string]int{"302": 302, "303": 303, "307": 307}[fault])
	case "401":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"type":"unauthorized","errors":[{"code":"unauthorized","message":"Unauthorized"}],"message":"Unauthorized","detail":"Unauthorized"}`))
	case "429":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"type":"too_many_requests","errors":[{"code":"too_many_requests","message":"slow down"}],"message":"slow down"}`))
	case "409", "500", "502":
		code := map[string]int{"409": 409, "500": 500, "502": 502}[fault]
		w.WriteHeader(code)
		_, _ = w.Write([]byte(http.StatusText(code)))
	default:
		panic("unknown fault " + fault)
	}
}

// provEnv is one provider's sandbox with a clean client and one behind
// the fault front.
type provEnv struct {
	name   string
	front  *faultFront
	clean  api.Provider
	faulty api.Provider
	secret []string // every credential the faulty client sends, raw
}

func newProvEnv(t *testing.T, name string) *provEnv {
	t.Helper()
	var h http.Handler
	switch name {
	case "forage":
		h = fsandbox.New(fsandbox.Options{Orders: 20, Seed: 5, RefundLatency: -1, RateLimit: 1 << 30})
	case "moyasar":
		h = msandbox.New(msandbox.Options{Orders: 20, Seed: 5, RefundLatency: -1})
	case "digitalriver":
		h = drsandbox.New(drsandbox.Options{Orders: 20, Seed: 5, RefundLatency: -1, RatePerSecond: -1})
	}
	f := &faultFront{h: h}
	cleanSrv := sandboxtest.Serve(t, h)
	faultSrv := sandboxtest.Serve(t, f)
	e := &provEnv{name: name, front: f}
	mk := func(base string) api.Provider {
		lim := rate.NewLimiter(rate.Inf, 0)
		retry := api.RetryPolicy{Base: time.Millisecond, Cap: 5 * time.Millisecond}
		var p api.Provider
		var err error
		switch name {
		case "forage":
			p, err = forage.New(forage.Config{BaseURL: base, ClientID: "demo-client",
				ClientSecret: api.NewSecret("demo-secret"), MerchantAccount: "9000055", Limiter: lim, Retry: retry})
			e.secret = []string{"demo-secret"}
		case "moyasar":
			p, err = moyasar.New(moyasar.Config{BaseURL: base, APIKey: api.NewSecret(msandbox.DefaultAPIKey), Limiter: lim, Retry: retry})
			e.secret = []string{msandbox.DefaultAPIKey}
		case "digitalriver":
			p, err = digitalriver.New(digitalriver.Config{BaseURL: base, APIKey: api.NewSecret("sk_test_demo"), Limiter: lim, Retry: retry})
			e.secret = []string{"sk_test_demo"}
		}
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	e.clean, e.faulty = mk(cleanSrv.URL), mk(faultSrv.URL)
	return e
}

// refundable finds a settled payment with at least 2.00 left to refund and
// returns its order and the payment.
func (e *provEnv) refundable(t *testing.T) (*model.Order, *model.Payment) {
	t.Helper()
	ctx := tctx(t)
	page, err := e.clean.ListOrders(ctx, api.OrderQuery{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range page.Orders {
		o, err := e.clean.GetOrder(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range o.Payments {
			p := &o.Payments[i]
			if o.RefundableOn(p).Amount.GreaterThanOrEqual(model.MustParse("2", o.Currency).Amount) {
				return o, p
			}
		}
	}
	t.Fatalf("%s: no refundable payment left", e.name)
	return nil, nil
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestMoneyFaultsAfterCommit reproduces issue 8's double refunds and false
// failures: a refund the provider committed and then answered with 401,
// 429, 3xx, 409, 5xx, a garbage 2xx or a half body. Before the retry
// decision was named, Digital River re-sent on 401 and 429 (a second
// refund), and Forage and Moyasar called a 302/303 a definite failure.
func TestMoneyFaultsAfterCommit(t *testing.T) {
	faults := []string{"401", "429", "302", "303", "307", "409", "500", "garbage", "half"}
	var table strings.Builder
	for _, prov := range []string{"forage", "moyasar", "digitalriver"} {
		e := newProvEnv(t, prov)
		for _, fault := range faults {
			t.Run(prov+"/"+fault, func(t *testing.T) {
				o, p := e.refundable(t)
				before := len(o.Refunds)
				e.front.mu.Lock()
				e.front.fault, e.front.money = fault, 0
				e.front.mu.Unlock()
				_, err := e.faulty.RefundPayment(tctx(t), o.ID, p.ID, api.RefundPaymentRequest{
					IdempotencyKey: fmt.Sprintf("k-%s-%s-%d", prov, fault, time.Now().UnixNano()),
					Amount:         model.MustParse("1", o.Currency), Reason: "test",
				})
				e.front.mu.Lock()
				e.front.fault = ""
				sends := e.front.money
				e.front.mu.Unlock()
				after, gerr := e.clean.GetOrder(tctx(t), o.ID)
				if gerr != nil {
					t.Fatal(gerr)
				}
				made := len(after.Refunds) - before
				outcome := "ok"
				if err != nil {
					outcome = "unknown"
					if !api.IsOutcomeUnknown(err) {
						outcome = "FAILED"
					}
				}
				fmt.Fprintf(&table, "%-13s %-8s sends=%d refunds=%d outcome=%s\n", prov, fault, sends, made, outcome)
				if made != 1 {
					t.Errorf("%d refunds at the provider, want exactly 1 (sent %d times; err %v)", made, sends, err)
				}
				if err != nil && !api.IsOutcomeUnknown(err) {
					t.Errorf("the refund was made but the client says it failed: %v", err)
				}
			})
		}
	}
	t.Log("\n" + table.String())
}

// TestRedirectsAreNeverFollowed reproduces issue 8 point 4: Digital River's
// client followed a 302 to another port with its Bearer key, and showed that
// server's empty list as "No orders". No client may follow a redirect: the
// other server sees nothing, a redirected read is an error saying so, and a
// redirected refund is outcome unknown.
func TestRedirectsAreNeverFollowed(t *testing.T) {
	var (
		mu    sync.Mutex
		stray []string // requests the other server received
	)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		stray = append(stray, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":[],"hasMore":false,"orders":[],"results":[],"next":null}`))
	}))
	defer other.Close()
	for _, prov := range []string{"forage", "moyasar", "digitalriver"} {
		t.Run(prov, func(t *testing.T) {
			e := newProvEnv(t, prov)
			sb := e.front.h
			// Forage's token call reaches the sandbox, so the redirected
			// requests carry a real Bearer token.
			e.front.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/o/token/") {
					sb.ServeHTTP(w, r)
					return
				}
				http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
			})
			_, err := e.faulty.ListOrders(tctx(t), api.OrderQuery{Limit: 5})
			if err == nil {
				t.Fatal("a redirected order list came back as a list; want an error")
			}
			if e, ok := api.AsError(err); !ok || e.HTTPStatus != http.StatusFound || !strings.Contains(err.Error(), "not followed") || !strings.Contains(e.Hint, "_BASE_URL") {
				t.Errorf("redirected read: %v (hint %q); want a 302 error saying it was not followed, with a hint naming the base URL setting", err, hintOf(err))
			}
			_, err = e.faulty.RefundPayment(tctx(t), "order1", "pay1", api.RefundPaymentRequest{
				IdempotencyKey: "redirect-" + prov, Amount: model.MustParse("1", "USD"), Reason: "test"})
			// Digital River reads the order first, and that read is the
			// one redirected: a definite error is right only if no money
			// request left.
			e.front.mu.Lock()
			sent := e.front.money
			e.front.mu.Unlock()
			if err == nil || (sent > 0 && !api.IsOutcomeUnknown(err)) {
				t.Errorf("redirected refund (%d money requests sent): %v; want outcome unknown", sent, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(stray) > 0 {
				t.Fatalf("the redirect target was sent: %v", stray)
			}
		})
	}
}

// TestCredentialsOnlyToBaseURL: a path that would move the request to
// another host or port (userinfo-style "@host:port") is refused before
// anything, and no credential, is sent.
func TestCredentialsOnlyToBaseURL(t *testing.T) {
	var hits sync.Map
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(r.Header.Get("Authorization"), true)
	}))
	defer other.Close()
	base := newRecorder(t, status(200))
	tr := newTransport(base, &sleeps{})
	tr.Auth = api.Bearer{Key: api.NewSecret("sk_test_never_elsewhere")}
	otherHost := strings.TrimPrefix(other.URL, "http://")
	for _, path := range []string{"@" + otherHost + "/x", ":" + strings.Split(otherHost, ":")[1] + "/x"} {
		_, err := tr.Do(tctx(t), api.Request{Op: "read", Method: http.MethodGet, Path: path})
		if err == nil {
			t.Errorf("path %q: sent", path)
		}
	}
	n := 0
	hits.Range(func(any, any) bool { n++; return true })
	if n != 0 || len(base.Hits()) != 0 {
		t.Fatalf("other server got %d requests, base %d; want none", n, len(base.Hits()))
	}
}

// TestHints: every provider names its own settings when it refuses the
// credentials, and the transport says in words what a network failure
// means, naming the provider and the address.
func TestHints(t *testing.T) {
	lim := rate.NewLimiter(rate.Inf, 0)
	t.Run("refused credentials", func(t *testing.T) {
		fs := sandboxtest.Serve(t, fsandbox.New(fsandbox.Options{Orders: 2, Seed: 1, RateLimit: 1 << 30}))
		ms := sandboxtest.Serve(t, msandbox.New(msandbox.Options{Orders: 2, Seed: 1}))
		ds := sandboxtest.Serve(t, drsandbox.New(drsandbox.Options{Orders: 2, Seed: 1, RatePerSecond: -1}))
		fp, _ := forage.New(forage.Config{BaseURL: fs.URL, ClientID: "demo-client", ClientSecret: api.NewSecret("wrong-secret"),
			MerchantAccount: "9000055", Limiter: lim})
		mp, _ := moyasar.New(moyasar.Config{BaseURL: ms.URL, APIKey: api.NewSecret("wrong-key"), Limiter: lim})
		dp, _ := digitalriver.New(digitalriver.Config{BaseURL: ds.URL, APIKey: api.NewSecret("sk_test_wrong"), Limiter: lim})
		for _, c := range []struct {
			p    api.Provider
			want string
		}{
			{fp, "Forage refused the client id/secret: check FORAGE_CLIENT_ID and FORAGE_CLIENT_SECRET"},
			{mp, "Moyasar refused the API key: check MOYASAR_API_KEY"},
			{dp, "Digital River refused the API key: check DIGITALRIVER_API_KEY"},
		} {
			_, err := c.p.ListOrders(tctx(t), api.OrderQuery{Limit: 1})
			if e, ok := api.AsError(err); !ok || e.Hint != c.want {
				t.Errorf("%s: got %v (hint %q), want hint %q", c.p.Name(), err, hintOf(err), c.want)
			}
		}
	})
	t.Run("not answering", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		addr := strings.TrimPrefix(dead.URL, "http://")
		dead.Close()
		tr := &api.Transport{Provider: "forage", Name: "Forage", BaseURL: "http://" + addr,
			Retry: api.RetryPolicy{MaxAttempts: 2, Base: time.Millisecond, Cap: time.Millisecond}}
		_, err := tr.Do(tctx(t), api.Request{Op: "list orders", Method: http.MethodGet, Path: "/x"})
		if want := "Forage at " + addr + " is not answering"; hintOf(err) != want || !api.IsTransient(err) {
			t.Errorf("got %v (hint %q), want transient with hint %q", err, hintOf(err), want)
		}
	})
	t.Run("too slow", func(t *testing.T) {
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
		defer slow.Close()
		defer close(release)
		tr := &api.Transport{Provider: "forage", Name: "Forage", BaseURL: slow.URL}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := tr.Do(ctx, api.Request{Op: "list orders", Method: http.MethodGet, Path: "/x"})
		if want := "Forage took longer than 1 s"; hintOf(err) != want || !api.IsTransient(err) {
			t.Errorf("got %v (hint %q), want transient with hint %q", err, hintOf(err), want)
		}
	})
}

func hintOf(err error) string {
	if e, ok := api.AsError(err); ok {
		return e.Hint
	}
	return ""
}
