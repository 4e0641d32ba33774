package forage

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"paydesk/api"
)

// tokenSource is the api.Authenticator for Forage: an OAuth2
// client-credentials authentication token from POST /o/token/, cached until
// shortly before it expires. One fetch runs at a time; callers that arrive
// meanwhile wait for it (or for their context) and share its token.
type tokenSource struct {
	clientID string
	secret   api.Secret
	tr       *api.Transport // no Authenticator: the token call authenticates itself
	now      func() time.Time

	sem chan struct{} // one token fetch at a time

	mu      sync.Mutex
	token   api.Secret
	expires time.Time // zero = no token
	// past holds the last few tokens handed out, so one echoed back after
	// it was replaced is still scrubbed.
	past []api.Secret
}

// maxPastTokens bounds past: a token older than this many refreshes is long
// expired and no longer in any answer in flight.
const maxPastTokens = 4

// tokenMargin is how long before expires_in a token is replaced, so a token
// never expires between Authorize and the server reading it. Short-lived
// tokens get a proportional margin (a fifth of their life).
const tokenMargin = 2 * time.Minute

// defaultTokenLife is assumed when the answer has no expires_in: the docs
// disagree on the default (7 days, or 10 hours in an older copy), and
// re-fetching hourly costs one request while a 401 would be refreshed anyway.
const defaultTokenLife = time.Hour

// maxTokenLife bounds expires_in (the documented maximum is 30 days).
const maxTokenLife = 30 * 24 * time.Hour

func newTokenSource(clientID string, secret api.Secret, tr *api.Transport, now func() time.Time) *tokenSource {
	return &tokenSource{clientID: clientID, secret: secret, tr: tr, now: now, sem: make(chan struct{}, 1)}
}

// String keeps the credentials out of every %v of the client.
func (ts *tokenSource) String() string   { return "forage.tokenSource{" + ts.clientID + "}" }
func (ts *tokenSource) GoString() string { return ts.String() }

// cached returns the current token when it is still fresh.
func (ts *tokenSource) cached() (api.Secret, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.expires.IsZero() || !ts.now().Before(ts.expires) {
		return api.Secret{}, false
	}
	return ts.token, true
}

// Authorize implements api.Authenticator.
func (ts *tokenSource) Authorize(ctx context.Context, req *http.Request) error {
	tok, err := ts.Token(ctx)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	return nil
}

// Refreshable implements the transport's refresh check: a 401 may mean the
// token expired early, and one fresh token is worth one more try.
func (ts *tokenSource) Refreshable() bool { return true }

// Credentials implements api.Credentials: the secret, the id:secret pair the
// Basic header encodes (and that encoding), and every recent token, so the transport scrubs each
// of them (raw, base64, URL-escaped, any 8-byte run) from what Forage says.
func (ts *tokenSource) Credentials() []string {
	pair := ts.clientID + ":" + ts.secret.Reveal()
	// The Basic value itself is listed too, so a provider that re-encodes
	// the whole header (base64 of the base64) is caught.
	out := []string{ts.secret.Reveal(), pair, base64.StdEncoding.EncodeToString([]byte(pair))}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, t := range ts.past {
		out = append(out, t.Reveal())
	}
	return out
}

// Invalidate implements api.Authenticator: the server refused the token
// (401), so the next Authorize fetches a new one.
func (ts *tokenSource) Invalidate() {
	ts.mu.Lock()
	ts.token, ts.expires = api.Secret{}, time.Time{}
	ts.mu.Unlock()
}

// Token returns a valid token, fetching one if needed.
func (ts *tokenSource) Token(ctx context.Context) (api.Secret, error) {
	if tok, ok := ts.cached(); ok {
		return tok, nil
	}
	select {
	case ts.sem <- struct{}{}:
	case <-ctx.Done():
		return api.Secret{}, ctx.Err()
	}
	defer func() { <-ts.sem }()
	// Whoever held the semaphore before us may have fetched one.
	if tok, ok := ts.cached(); ok {
		return tok, nil
	}
	return ts.fetch(ctx)
}

type tokenAnswer struct {
	AccessToken string          `json:"access_token"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	TokenType   string          `json:"token_type"`
}

func (ts *tokenSource) fetch(ctx context.Context) (api.Secret, error) {
	basic := base64.StdEncoding.EncodeToString([]byte(ts.clientID + ":" + ts.secret.Reveal()))
	form := url.Values{"grant_type": {"client_credentials"}}
	resp, err := ts.tr.Do(ctx, api.Request{
		Op:          "get an authentication token",
		Method:      http.MethodPost,
		Path:        "/o/token/",
		Body:        []byte(form.Encode()),
		ContentType: "application/x-www-form-urlencoded",
		Header:      http.Header{"Authorization": {"Basic " + basic}},
	})
	if err != nil {
		return api.Secret{}, err
	}
	var a tokenAnswer
	if err := json.Unmarshal(resp.Body, &a); err != nil || a.AccessToken == "" {
		return api.Secret{}, &api.Error{Provider: ProviderID, Op: "get an authentication token",
			HTTPStatus: resp.Status, Message: "the token answer has no access_token"}
	}
	if a.TokenType != "" && !strings.EqualFold(a.TokenType, "Bearer") {
		return api.Secret{}, &api.Error{Provider: ProviderID, Op: "get an authentication token",
			HTTPStatus: resp.Status, Hint: "Forage did not answer with a Bearer token: check " + EnvBaseURL + " points at Forage",
			// Scrubbed before it is cut: a server echoing the Basic header
			// here must not leave a prefix of it behind.
			Message: "unexpected token_type " + clipRunes(api.NewScrubber(ts.Credentials()...).Scrub(a.TokenType), 20)}
	}
	life := defaultTokenLife
	var secs float64
	if json.Unmarshal(a.ExpiresIn, &secs) == nil && secs > 0 {
		life = time.Duration(min(secs, maxTokenLife.Seconds()) * float64(time.Second))
	}
	margin := min(tokenMargin, life/5)
	tok := api.NewSecret(a.AccessToken)
	ts.mu.Lock()
	ts.token, ts.expires = tok, ts.now().Add(life-margin)
	ts.past = append(ts.past, tok)
	if len(ts.past) > maxPastTokens {
		ts.past = ts.past[len(ts.past)-maxPastTokens:]
	}
	ts.mu.Unlock()
	return tok, nil
}
