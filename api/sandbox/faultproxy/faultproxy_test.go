package faultproxy

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// upstream is a tiny provider: POST /refunds makes a refund carrying the
// request's metadata; GET /refunds lists them; GET /refunds/{id} reads one.
type upstream struct {
	mu      sync.Mutex
	refunds []map[string]any
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == "POST" && r.URL.Path == "/refunds":
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		rf := map[string]any{"id": "re_" + string(rune('a'+len(u.refunds))), "amount": 1.50, "metadata": body["metadata"]}
		u.refunds = append(u.refunds, rf)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(rf)
	case r.Method == "GET" && r.URL.Path == "/refunds":
		_ = json.NewEncoder(w).Encode(map[string]any{"data": u.refunds, "hasMore": false})
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/refunds/"):
		for _, rf := range u.refunds {
			if rf["id"] == strings.TrimPrefix(r.URL.Path, "/refunds/") {
				_ = json.NewEncoder(w).Encode(rf)
				return
			}
		}
		w.WriteHeader(http.StatusNotFound)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.refunds)
}

func setup(t *testing.T, f Flavor) (*Proxy, *upstream) {
	t.Helper()
	u := &upstream{}
	hs := httptest.NewServer(u)
	t.Cleanup(hs.Close)
	p, err := New(Config{Upstream: hs.URL, Flavor: f})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p, u
}

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func send(t *testing.T, c *http.Client, ctx context.Context, method, url, body string) (*http.Response, []byte, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer sk_test_0123456789abcdef")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

const refundBody = `{"orderId":"o1","amount":"1.50","metadata":{"paydesk_intent":"key-1"}}`

func TestCommitModesCommitOnceAndMisanswer(t *testing.T) {
	for _, tc := range []struct {
		mode   Mode
		status int
		check  func(t *testing.T, p *Proxy, resp *http.Response, body []byte, err error)
	}{
		{Status5xx, 502, nil},
		{Unauthorized401, 401, nil},
		{TooMany429, 429, func(t *testing.T, _ *Proxy, resp *http.Response, _ []byte, _ error) {
			if resp.Header.Get("Retry-After") != "1" {
				t.Errorf("Retry-After %q", resp.Header.Get("Retry-After"))
			}
		}},
		{Conflict409Lag, 409, nil},
		{Found302, 302, func(t *testing.T, p *Proxy, resp *http.Response, _ []byte, _ error) {
			if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, p.Recorder.URL+"/refunds") {
				t.Errorf("Location %q, want the recorder", loc)
			}
		}},
		{SeeOther303, 303, nil},
		{Garbage2xx, 201, func(t *testing.T, _ *Proxy, _ *http.Response, body []byte, _ error) {
			if json.Valid(body) {
				t.Errorf("garbage body is JSON: %s", body)
			}
		}},
		{Reset, 0, func(t *testing.T, _ *Proxy, _ *http.Response, _ []byte, err error) {
			if err == nil {
				t.Error("no error from a reset")
			}
		}},
		{HalfBody, 201, func(t *testing.T, _ *Proxy, _ *http.Response, _ []byte, err error) {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("reading half a body: %v, want unexpected EOF", err)
			}
		}},
		{Hang, 0, func(t *testing.T, _ *Proxy, _ *http.Response, _ []byte, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("hang: %v, want the client's deadline", err)
			}
		}},
	} {
		t.Run(string(tc.mode), func(t *testing.T) {
			p, u := setup(t, DigitalRiver)
			p.Arm(Fault{Mode: tc.mode, Times: 1})
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			resp, body, err := send(t, noFollow, ctx, "POST", p.URL+"/refunds", refundBody)
			if tc.status != 0 && (resp == nil || resp.StatusCode != tc.status) {
				t.Fatalf("answer %v %v, want %d", resp, err, tc.status)
			}
			if tc.check != nil {
				tc.check(t, p, resp, body, err)
			}
			if u.count() != 1 {
				t.Errorf("%d refunds at the sandbox, want 1 (committed before the fault)", u.count())
			}
			cs := p.Commits()
			if len(cs) != 1 || cs[0].Fault != tc.mode || cs[0].Status != 201 || cs[0].Token != "key-1" {
				t.Errorf("commits %+v", cs)
			}
			// Times 1: the next request passes untouched.
			resp, _, err = send(t, noFollow, context.Background(), "POST", p.URL+"/refunds", refundBody)
			if err != nil || resp.StatusCode != 201 || u.count() != 2 {
				t.Errorf("second request: %v %v, %d refunds", resp, err, u.count())
			}
		})
	}
}

func TestEchoRefusesWithTheCredentials(t *testing.T) {
	for _, f := range []Flavor{Forage, Moyasar, DigitalRiver} {
		for _, m := range []Mode{EchoCode, EchoMessage, EchoFieldName, EchoFieldMessage, EchoAll, EchoText} {
			p, u := setup(t, f)
			p.Arm(Fault{Mode: m, Times: 1})
			resp, body, err := send(t, noFollow, context.Background(), "POST", p.URL+"/refunds", refundBody)
			if err != nil || resp.StatusCode != 400 {
				t.Fatalf("%s %s: %v %v", f, m, resp, err)
			}
			if u.count() != 0 {
				t.Errorf("%s %s: an echo refusal committed", f, m)
			}
			if !strings.Contains(string(body), "sk_test_0123456789abcdef") {
				t.Errorf("%s %s: body does not echo the key: %s", f, m, body)
			}
			if m == EchoText {
				if i := strings.Index(string(body), "sk_test_"); i != 176 {
					t.Errorf("%s: the key starts at byte %d, want 176 (across byte 200)", f, i)
				}
				continue
			}
			if !json.Valid(body) {
				t.Errorf("%s %s: not JSON: %s", f, m, body)
			}
		}
	}
}

func TestLagHidesTheNewRefundFromReads(t *testing.T) {
	p, _ := setup(t, DigitalRiver)
	// An older refund with another marker stays visible.
	if resp, _, err := send(t, noFollow, context.Background(), "POST", p.URL+"/refunds", strings.Replace(refundBody, "key-1", "key-0", 1)); err != nil || resp.StatusCode != 201 {
		t.Fatalf("%v %v", resp, err)
	}
	p.Arm(Fault{Mode: Conflict409Lag, Times: 1, Lag: 300 * time.Millisecond})
	if resp, _, err := send(t, noFollow, context.Background(), "POST", p.URL+"/refunds", refundBody); err != nil || resp.StatusCode != 409 {
		t.Fatalf("%v %v", resp, err)
	}
	p.Heal()
	list := func() []string {
		_, b, err := send(t, noFollow, context.Background(), "GET", p.URL+"/refunds", "")
		if err != nil {
			t.Fatal(err)
		}
		var l struct {
			Data []struct {
				ID     string  `json:"id"`
				Amount float64 `json:"amount"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &l); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		var ids []string
		for _, d := range l.Data {
			ids = append(ids, d.ID)
			if d.Amount != 1.50 {
				t.Errorf("amount %v changed in the rewrite", d.Amount)
			}
		}
		return ids
	}
	if got := list(); !slices.Equal(got, []string{"re_a"}) {
		t.Fatalf("inside the lag: %v, want only the older refund", got)
	}
	if resp, _, _ := send(t, noFollow, context.Background(), "GET", p.URL+"/refunds/re_b", ""); resp.StatusCode != 404 {
		t.Errorf("read by id inside the lag: %d, want 404", resp.StatusCode)
	}
	time.Sleep(350 * time.Millisecond)
	if got := list(); !slices.Equal(got, []string{"re_a", "re_b"}) {
		t.Fatalf("after the lag: %v", got)
	}
}

func TestRedirectReadsAndCredentials(t *testing.T) {
	p, u := setup(t, Forage)
	p.Arm(Fault{Mode: RedirectReads, Target: Reads})
	// A client that follows redirects takes its Authorization along (Go
	// keeps it for the same host: both are 127.0.0.1).
	resp, _, err := send(t, http.DefaultClient, context.Background(), "GET", p.URL+"/refunds?x=1", "")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	got := p.Recorder.Received()
	if len(got) != 1 || got[0].Path != "/refunds?x=1" || got[0].Authorization != "Bearer sk_test_0123456789abcdef" {
		t.Fatalf("recorder got %+v", got)
	}
	// Money passes while reads are redirected.
	if resp, _, err := send(t, noFollow, context.Background(), "POST", p.URL+"/refunds", refundBody); err != nil || resp.StatusCode != 201 || u.count() != 1 {
		t.Fatalf("money request: %v %v", resp, err)
	}

	// Basic credentials: the secret is recorded, not the client id.
	req, _ := http.NewRequest("POST", p.URL+"/o/token/", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("client-id:the-secret")))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	creds := p.Credentials()
	if !slices.Contains(creds, "the-secret") || !slices.Contains(creds, "sk_test_0123456789abcdef") || slices.ContainsFunc(creds, func(c string) bool { return strings.Contains(c, "client-id") }) {
		t.Errorf("credentials %q", creds)
	}
}
