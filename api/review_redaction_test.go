package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/moyasar"
	msandbox "paydesk/api/sandbox/moyasar"
)

// unescapeJSON reads JSON string escapes (\u0041, \/) the way a person, or
// any JSON viewer, reads them. A credential split by escapes is still the
// credential to whoever looks at the screen.
func unescapeJSON(s string) string {
	var out string
	if err := json.Unmarshal([]byte(`"`+strings.ReplaceAll(s, `"`, `\"`)+`"`), &out); err != nil {
		return s
	}
	return out
}

// escapeEvery writes every nth byte of s as a JSON \u escape, so no
// runLen-byte run of s survives as is.
func escapeEvery(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if i%n == 0 {
			fmt.Fprintf(&b, `\u%04x`, s[i])
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// leaks reports the first 8-byte run of secret found in text.
func leaks(text, secret string) (string, bool) {
	for i := 0; i+8 <= len(secret); i++ {
		if strings.Contains(text, secret[i:i+8]) {
			return secret[i : i+8], true
		}
	}
	return "", false
}

// A provider whose error body is JSON cut short (so no decoder can read it)
// quotes the API key with JSON escapes: the raw excerpt the console shows
// must not spell the key to anyone who reads \u0064 as 'd'.
func TestReviewEscapedKeyInRawErrorExcerpt(t *testing.T) {
	const key = "sk_live_paydesk_review_key_0123456789"
	sb := msandbox.New(msandbox.Options{Orders: 3, Seed: 1, APIKey: key})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/orders/") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			// JSON cut short: the upstream's answer quoting our header.
			fmt.Fprintf(w, `{"message":"upstream refused %s`, escapeEvery(r.Header.Get("Authorization"), 3))
			return
		}
		sb.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cl, err := moyasar.New(moyasar.Config{BaseURL: srv.URL, APIKey: api.NewSecret(key),
		Limiter: rate.NewLimiter(rate.Inf, 1), Retry: api.RetryPolicy{MaxAttempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = cl.GetOrder(ctx, "ord_x")
	if err == nil {
		t.Fatal("the 502 was not an error")
	}
	shown := err.Error()
	if e, ok := api.AsError(err); ok {
		shown += " " + e.Message + " " + e.Hint
	}
	if run, ok := leaks(unescapeJSON(shown), key); ok {
		t.Errorf("the key (run %q) is readable in the error once its JSON escapes are read:\n%s", run, shown)
	}
}

// A 2xx answer that quotes the API key in a field the console shows (an
// order's description) must not put the key on the screen: the rule is that
// secrets never reach the screen, whichever answer carries them.
func TestReviewKeyEchoedInOKBody(t *testing.T) {
	t.Run("plain", func(t *testing.T) { okBodyEcho(t, func(h string) string { return h }) })
	// Escaped, the echo cannot be cut out of the JSON; the answer is then
	// refused whole, and nothing of the key reaches the order or the error.
	t.Run("escaped", func(t *testing.T) { okBodyEcho(t, func(h string) string { return escapeEvery(h, 3) }) })
}

func okBodyEcho(t *testing.T, enc func(string) string) {
	const key = "sk_live_paydesk_review_key_0123456789"
	sb := msandbox.New(msandbox.Options{Orders: 3, Seed: 1, APIKey: key})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		sb.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var m map[string]any
		if rec.Code == http.StatusOK && json.Unmarshal(body, &m) == nil {
			if _, ok := m["description"]; ok {
				// A careless upstream logs the request into the description.
				m["description"] = "@@"
				body, _ = json.Marshal(m)
				body = []byte(strings.Replace(string(body), "@@", "seen "+enc(r.Header.Get("Authorization")), 1))
			}
		}
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	cl, err := moyasar.New(moyasar.Config{BaseURL: srv.URL, APIKey: api.NewSecret(key),
		Limiter: rate.NewLimiter(rate.Inf, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	page, err := cl.ListOrders(ctx, api.OrderQuery{Limit: 3})
	if err != nil || len(page.Orders) == 0 {
		t.Fatalf("list: %v (%d orders)", err, len(page.Orders))
	}
	o, err := cl.GetOrder(ctx, page.Orders[0].ID)
	if err != nil {
		if run, ok := leaks(unescapeJSON(err.Error()), key); ok {
			t.Errorf("the error holds the key (run %q): %v", run, err)
		}
		return
	}
	if run, ok := leaks(unescapeJSON(o.Description), key); ok {
		t.Errorf("the order's description, drawn on the order screen, holds the key (run %q): %q", run, o.Description)
	}
}

// BenchmarkReviewScrubNoMatch is the cost every 2xx body now pays: a 1 MB
// answer with escapes and no credential in it.
// go test ./api -run '^$' -bench ReviewScrubNoMatch -benchmem
func BenchmarkReviewScrubNoMatch(b *testing.B) {
	s := api.NewScrubber("sk_live_paydesk_review_key_0123456789")
	body := strings.Repeat(`{"k":"abcdefghijklmnop\u00e9\u0041","n":12345},`, 1<<20/48)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if s.Scrub(body) != body {
			b.Fatal("scrubbed a body with no credential")
		}
	}
}
