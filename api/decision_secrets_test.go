package api_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/digitalriver"
	"paydesk/api/forage"
	"paydesk/api/moyasar"
	fsandbox "paydesk/api/sandbox/forage"
	"paydesk/model"
)

// echoForms is how a hostile or careless provider might quote a credential
// header back: as sent, without its scheme, base64 of either, URL-escaped,
// and (for Basic) decoded to id:secret.
func echoForms(h string) string {
	_, cred, _ := strings.Cut(h, " ")
	forms := []string{h, cred, base64.StdEncoding.EncodeToString([]byte(h)),
		base64.URLEncoding.EncodeToString([]byte(cred)), url.QueryEscape(h)}
	if strings.HasPrefix(h, "Basic ") {
		if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
			forms = append(forms, string(dec), base64.RawStdEncoding.EncodeToString(dec[3:]))
		}
	}
	return strings.Join(forms, " | ")
}

// pad puts the echo where a cut at 200 or 300 bytes falls inside it.
func pad(s string, n int) string { return strings.Repeat(".", n) + s }

func js(s string) string { b, _ := json.Marshal(s); return string(b) }

// template is one error position: status, content type and body for an
// echoed text H.
type template struct {
	name   string
	status int
	ct     string
	body   func(h string) string
	loc    bool // echo into a redirect's Location instead
}

func jsonT(name string, status int, body func(h string) string) template {
	return template{name: name, status: status, ct: "application/json", body: body}
}

var commonTemplates = []template{
	{name: "non-JSON excerpt cut mid-key", status: 502, ct: "text/html", body: func(h string) string { return pad(h, 190) }},
	{name: "non-JSON excerpt cut mid-key 300", status: 400, ct: "text/plain", body: func(h string) string { return pad(h, 290) }},
	{name: "redirect Location", status: 302, loc: true},
}

var forageTemplates = append([]template{
	jsonT("errors[0].code", 400, func(h string) string { return `{"errors":[{"code":` + js(h) + `,"message":"x"}]}` }),
	jsonT("errors[0].message", 400, func(h string) string { return `{"errors":[{"code":"bad","message":` + js(h) + `}]}` }),
	jsonT("source resource/ref", 400, func(h string) string {
		return `{"errors":[{"code":"bad","message":"m","source":{"resource":` + js(h) + `,"ref":` + js(h) + `}}]}`
	}),
	jsonT("field prefix", 400, func(h string) string { return `{"errors":[{"code":"bad","message":` + js("amount: "+h) + `}]}` }),
	jsonT("path", 400, func(h string) string { return `{"path":` + js(h) + `,"errors":[{"code":"x","message":"y"}]}` }),
	jsonT("detail", 403, func(h string) string { return `{"detail":` + js(pad(h, 195)) + `}` }),
	jsonT("vault description/name", 400, func(h string) string { return `{"code":400,"description":` + js(h) + `,"name":` + js(h) + `}` }),
	jsonT("DRF field names", 400, func(h string) string { return `{` + js(h) + `:[` + js(h) + `]}` }),
}, commonTemplates...)

var moyasarTemplates = append([]template{
	jsonT("message", 400, func(h string) string { return `{"message":` + js(pad(h, 195)) + `}` }),
	jsonT("field names and messages", 400, func(h string) string {
		return `{"message":"m","errors":{` + js(h) + `:[` + js(h) + `],"amount":` + js(h) + `}}`
	}),
	jsonT("401 message", 401, func(h string) string { return `{"message":` + js(h) + `}` }),
}, commonTemplates...)

var drTemplates = append([]template{
	jsonT("type code parameter message", 400, func(h string) string {
		return `{"type":` + js(h) + `,"errors":[{"code":` + js(h) + `,"parameter":` + js(h) + `,"message":` + js(h) + `}]}`
	}),
	jsonT("type only", 409, func(h string) string { return `{"type":` + js(pad(h, 195)) + `}` }),
	jsonT("401", 401, func(h string) string {
		return `{"type":"unauthorized","errors":[{"code":` + js(h) + `,"message":` + js(h) + `}]}`
	}),
}, commonTemplates...)

// echoServer answers with tpl, quoting the request's Authorization header
// and body. When passToken is set, Forage's token call goes to the real
// sandbox so API calls carry a real token to echo. It records every
// credential header it saw.
type echoServer struct {
	mu        sync.Mutex
	tpl       template
	tokenOnly bool // echo only on the token call
	sandbox   http.Handler
	seen      []string
}

func (s *echoServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	tpl, tokenOnly := s.tpl, s.tokenOnly
	s.seen = append(s.seen, r.Header.Get("Authorization"))
	s.mu.Unlock()
	isToken := strings.HasSuffix(r.URL.Path, "/o/token/")
	if s.sandbox != nil && isToken != tokenOnly {
		s.sandbox.ServeHTTP(w, r)
		return
	}
	body := make([]byte, 0)
	if r.Body != nil {
		body = make([]byte, 4096)
		n, _ := r.Body.Read(body)
		body = body[:n]
	}
	h := echoForms(r.Header.Get("Authorization")) + " body=" + string(body)
	if tpl.loc {
		w.Header().Set("Location", "http://127.0.0.1:1/x?q="+url.QueryEscape(h)+"&raw="+h)
		w.WriteHeader(tpl.status)
		return
	}
	w.Header().Set("Content-Type", tpl.ct)
	w.WriteHeader(tpl.status)
	_, _ = w.Write([]byte(tpl.body(h)))
}

func (s *echoServer) creds() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, h := range s.seen {
		if _, c, ok := strings.Cut(h, " "); ok && c != "" {
			out = append(out, c)
			if strings.HasPrefix(h, "Basic ") {
				if dec, err := base64.StdEncoding.DecodeString(c); err == nil {
					out = append(out, string(dec))
				}
			}
		}
	}
	return out
}

// errorTexts is everything about err that reaches the screen, the journal
// (err.Error() and its code) and the audit log (the code).
func errorTexts(err error) []string {
	if err == nil {
		return nil
	}
	out := []string{err.Error()}
	if e, ok := api.AsError(err); ok {
		out = append(out, e.Code, e.Message, e.Hint, e.RetryAfter, e.Op, e.Provider)
		for _, f := range e.Fields {
			out = append(out, f.Field, f.Code, f.Message)
		}
		if e.Err != nil {
			out = append(out, e.Err.Error())
		}
	}
	return out
}

// leak returns the first 8-byte run of any form of any credential found in
// texts, or "". The forms are checked independently of the scrubber: raw,
// and base64 (both alphabets) of the credential at each byte alignment.
func leak(texts []string, creds []string) string {
	all := strings.Join(texts, "\n")
	for _, c := range creds {
		forms := []string{c, url.QueryEscape(c)}
		for skip := 0; skip < 3 && skip < len(c); skip++ {
			for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
				b := enc.EncodeToString([]byte(c[skip:]))
				forms = append(forms, b[:max(0, len(b)-1)])
			}
		}
		for _, f := range forms {
			for i := 0; i+8 <= len(f); i++ {
				if strings.Contains(all, f[i:i+8]) {
					return fmt.Sprintf("%q (from %q)", f[i:i+8], f)
				}
			}
		}
	}
	return ""
}

// TestEchoedCredentialsNeverLeak is the property test of issue 8 point 5: a
// provider that quotes the request's credentials (every form it was sent
// in) into each error position leaves no 8-byte run of any credential or
// its base64 in any text of the resulting error, for a read and a refund,
// for every provider, and for Forage's token endpoint.
func TestEchoedCredentialsNeverLeak(t *testing.T) {
	type prov struct {
		name      string
		templates []template
		tokenOnly bool
		mk        func(base string) api.Provider
		secrets   []string // configured secrets, checked besides what was seen
	}
	lim := func() *rate.Limiter { return rate.NewLimiter(rate.Inf, 0) }
	retry := api.RetryPolicy{MaxAttempts: 2, Base: time.Millisecond, Cap: time.Millisecond}
	const fsecret, msecret, drsecret = "demo-secret", "sk_live_moyasar_0123456789abcdef", "sk_test_dr_0123456789abcdefghij"
	mkForage := func(base string) api.Provider {
		p, err := forage.New(forage.Config{BaseURL: base, ClientID: "demo-client", ClientSecret: api.NewSecret(fsecret),
			MerchantAccount: "9000055", Limiter: lim(), Retry: retry})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	provs := []prov{
		{name: "forage api", templates: forageTemplates, mk: mkForage, secrets: []string{fsecret, "demo-client:" + fsecret}},
		{name: "forage token endpoint", tokenOnly: true, mk: mkForage, secrets: []string{fsecret, "demo-client:" + fsecret},
			templates: append([]template{
				jsonT("oauth error_description", 401, func(h string) string {
					return `{"error":"invalid_client","error_description":` + js(h) + `}`
				}),
				jsonT("oauth error code", 400, func(h string) string { return `{"error":` + js(h) + `}` }),
				jsonT("200 with token_type", 200, func(h string) string {
					return `{"access_token":"t0k3n-value","token_type":` + js(h[strings.Index(h, " ")+1:]) + `}`
				}),
			}, forageTemplates...)},
		{name: "moyasar", templates: moyasarTemplates, secrets: []string{msecret}, mk: func(base string) api.Provider {
			p, err := moyasar.New(moyasar.Config{BaseURL: base, APIKey: api.NewSecret(msecret), Limiter: lim(), Retry: retry})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
		{name: "digitalriver", templates: drTemplates, secrets: []string{drsecret}, mk: func(base string) api.Provider {
			p, err := digitalriver.New(digitalriver.Config{BaseURL: base, APIKey: api.NewSecret(drsecret), Limiter: lim(), Retry: retry})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}},
	}
	cases := 0
	for _, pv := range provs {
		for _, tpl := range pv.templates {
			t.Run(pv.name+"/"+tpl.name, func(t *testing.T) {
				es := &echoServer{tpl: tpl, tokenOnly: pv.tokenOnly}
				if strings.HasPrefix(pv.name, "forage") {
					es.sandbox = fsandbox.New(fsandbox.Options{Orders: 3, Seed: 1, RateLimit: 1 << 30, ClientSecret: fsecret})
				}
				srv := httptest.NewServer(es)
				defer srv.Close()
				p := pv.mk(srv.URL)
				_, rerr := p.GetOrder(tctx(t), "order1")
				_, merr := p.RefundPayment(tctx(t), "order1", "pay1", api.RefundPaymentRequest{
					IdempotencyKey: "k1", Amount: model.MustParse("1", "USD"), Reason: "test"})
				if rerr == nil || merr == nil {
					t.Fatalf("want errors from an echoing provider, got %v / %v", rerr, merr)
				}
				texts := append(errorTexts(rerr), errorTexts(merr)...)
				if l := leak(texts, append(es.creds(), pv.secrets...)); l != "" {
					t.Errorf("credential run %s leaked in:\n%s", l, strings.Join(texts, "\n"))
				}
				cases++
			})
		}
	}
	t.Logf("%d echo positions checked, credentials leaked: 0 unless reported above", cases)
}
