package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Bearer is the Authenticator for a static API key sent as a Bearer token
// (Moyasar PG, Digital River).
type Bearer struct{ Key Secret }

// Authorize implements Authenticator.
func (b Bearer) Authorize(_ context.Context, req *http.Request) error {
	req.Header.Set("Authorization", "Bearer "+b.Key.Reveal())
	return nil
}

// Invalidate implements Authenticator: a static key has nothing to refresh.
func (Bearer) Invalidate() {}

// Credentials implements Credentials: the key, which the transport scrubs
// in every form from whatever the provider says back.
func (b Bearer) Credentials() []string { return []string{b.Key.Reveal()} }

// ParseBaseURL checks a provider base URL: http or https with a host, no
// credentials, query or fragment in it, and plain http only to this machine
// (loopback), because every request carries a secret.
func ParseBaseURL(provider, raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: base URL must be an http or https URL with a host", provider)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: base URL must not carry credentials", provider)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s: base URL %s must not have a query or fragment", provider, u.Scheme+"://"+u.Host+u.Path)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%s: base URL %s must use https (plain http only on loopback: credentials travel in every request)", provider, u.Scheme+"://"+u.Host)
	}
	return u, nil
}

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
