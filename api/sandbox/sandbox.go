// Package sandbox runs the fake provider APIs (Forage, Moyasar PG, Digital
// River) over real HTTP on loopback, for `paydesk sandbox` and for the
// embedded sandbox that `paydesk` and `paydesk serve` start when no provider
// is configured (serve starts one for the process, and every SSH session
// uses it). It only wires the provider sandbox packages together; it shares
// no code with the API clients.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"paydesk/api/sandbox/chaos"
	"paydesk/api/sandbox/digitalriver"
	"paydesk/api/sandbox/forage"
	"paydesk/api/sandbox/moyasar"
)

// Fixed sandbox credentials (DESIGN.md, "Sandbox credentials").
const (
	ForageClientID        = "demo-client"
	ForageClientSecret    = "demo-secret"
	ForageMerchantAccount = "9000055"
	MoyasarAPIKey         = "demo-moyasar-key"
	DigitalRiverAPIKey    = "sk_test_demo"
)

// A provider is one fake provider the sandbox serves: adding a provider to
// the sandbox is one entry in providers. Its settings are what a console
// reads from the environment to reach it (DESIGN.md, "Sandbox credentials");
// the sandbox spells the variable names itself because it shares no code
// with the clients.
type provider struct {
	id, name    string
	defaultAddr string // main.go's --<id>-addr default for `paydesk sandbox`
	baseURLEnv  string
	settings    []setting
	handler     func(Config) http.Handler
}

// setting is one credential: the variable a console reads, the words
// `paydesk sandbox` prints beside it, and the sandbox's fixed value.
type setting struct{ env, label, value string }

var providers = []provider{
	{
		id: "forage", name: "Forage", defaultAddr: "127.0.0.1:7001", baseURLEnv: "FORAGE_BASE_URL",
		settings: []setting{
			{"FORAGE_CLIENT_ID", "client id", ForageClientID},
			{"FORAGE_CLIENT_SECRET", "client secret", ForageClientSecret},
			{"FORAGE_MERCHANT_ACCOUNT", "merchant account", ForageMerchantAccount},
		},
		handler: func(cfg Config) http.Handler {
			return forage.New(forage.Options{
				Orders: cfg.Orders, Seed: cfg.Seed, RefundLatency: cfg.RefundLatency, Now: cfg.Now,
				ClientID: ForageClientID, ClientSecret: ForageClientSecret, MerchantAccount: ForageMerchantAccount,
			})
		},
	},
	{
		id: "moyasar", name: "Moyasar PG", defaultAddr: "127.0.0.1:7002", baseURLEnv: "MOYASAR_BASE_URL",
		settings: []setting{{"MOYASAR_API_KEY", "API key", MoyasarAPIKey}},
		handler: func(cfg Config) http.Handler {
			return moyasar.New(moyasar.Options{
				Orders: cfg.Orders, Seed: cfg.Seed, RefundLatency: cfg.RefundLatency, Now: cfg.Now,
				APIKey: MoyasarAPIKey,
			})
		},
	},
	{
		id: "digitalriver", name: "Digital River", defaultAddr: "127.0.0.1:7003", baseURLEnv: "DIGITALRIVER_BASE_URL",
		settings: []setting{{"DIGITALRIVER_API_KEY", "secret key", DigitalRiverAPIKey}},
		handler: func(cfg Config) http.Handler {
			return digitalriver.New(digitalriver.Options{
				Orders: cfg.Orders, Seed: cfg.Seed, RefundLatency: cfg.RefundLatency, Now: cfg.Now,
				APIKey: DigitalRiverAPIKey,
			})
		},
	},
}

// Provider describes one provider the sandbox serves, for main.go's flags.
type Provider struct {
	ID, Name    string
	DefaultAddr string // where `paydesk sandbox` listens unless told otherwise
}

// Providers lists the providers the sandbox serves, in the order it prints
// them.
func Providers() []Provider {
	out := make([]Provider, len(providers))
	for i, p := range providers {
		out[i] = Provider{ID: p.id, Name: p.name, DefaultAddr: p.defaultAddr}
	}
	return out
}

// Config says where and how to serve the sandboxes.
type Config struct {
	// Addrs are the listen addresses by provider id; "127.0.0.1:0" picks a
	// free port. A missing or empty one means "127.0.0.1:0" too (the
	// 7001/7002/7003 defaults are `paydesk sandbox`'s flags).
	Addrs map[string]string

	Orders        int              // orders per provider (0 = provider default, 200)
	Seed          int64            // same seed, same data
	RefundLatency time.Duration    // 0 = provider default (3s)
	Now           func() time.Time // clock; nil = time.Now

	// Chaos is a fault-injection spec for chaos.Parse; "" = none.
	Chaos string
}

// Sandbox is a running set of fake providers.
type Sandbox struct {
	urls []string // by index in providers

	servers []*http.Server
	wg      sync.WaitGroup
	mu      sync.Mutex
	errs    []error
	closed  bool
}

// URL is the base URL the provider with this id is served at ("" for an id
// the sandbox does not serve).
func (s *Sandbox) URL(id string) string {
	for i, p := range providers {
		if p.id == id {
			return s.urls[i]
		}
	}
	return ""
}

// Getenv answers the variables a console reads to reach this sandbox (base
// URLs and fixed credentials) and nothing else: a client configured from it
// sees no setting from the process environment.
func (s *Sandbox) Getenv(name string) string {
	for i, p := range providers {
		if name == p.baseURLEnv {
			return s.urls[i]
		}
		for _, st := range p.settings {
			if name == st.env {
				return st.value
			}
		}
	}
	return ""
}

// Exports is one ready-to-paste export line per setting, per provider, for
// a console in another shell.
func (s *Sandbox) Exports() string { return exports(s.urls) }

func exports(urls []string) string {
	var b strings.Builder
	for i, p := range providers {
		fmt.Fprintf(&b, "export %s=%s\n", p.baseURLEnv, urls[i])
		for _, st := range p.settings {
			fmt.Fprintf(&b, "export %s=%s\n", st.env, st.value)
		}
	}
	return b.String()
}

// Start listens on every provider's address and serves each provider in its
// own goroutine. On error nothing is left listening.
func Start(cfg Config) (*Sandbox, error) {
	handlers := make([]http.Handler, len(providers))
	for i, p := range providers {
		handlers[i] = p.handler(cfg)
	}
	if cfg.Chaos != "" {
		c, err := chaos.Parse(cfg.Chaos)
		if err != nil {
			return nil, fmt.Errorf("sandbox: --chaos: %w", err)
		}
		if c.Seed == 0 {
			c.Seed = uint64(cfg.Seed) // same seed, same faults
		}
		for i, h := range handlers {
			handlers[i] = chaos.Wrap(h, c)
		}
	}
	var lns []net.Listener
	for _, p := range providers {
		a := cfg.Addrs[p.id]
		if a == "" {
			a = "127.0.0.1:0"
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, fmt.Errorf("sandbox: %s: %w", p.id, err)
		}
		lns = append(lns, ln)
	}
	s := &Sandbox{}
	for _, ln := range lns {
		s.urls = append(s.urls, "http://"+ln.Addr().String())
	}
	for i, ln := range lns {
		srv := &http.Server{Handler: handlers[i], ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		s.wg.Add(1)
		go func(name string) {
			defer s.wg.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.mu.Lock()
				s.errs = append(s.errs, fmt.Errorf("sandbox: %s: %w", name, err))
				s.mu.Unlock()
			}
		}(providers[i].id)
	}
	return s, nil
}

// Close shuts the servers down gracefully (in-flight requests get up to 5
// seconds) and waits for the serving goroutines. It is safe to call twice.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	for _, srv := range s.servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			_ = srv.Close()
		}
	}
	s.wg.Wait()
	s.mu.Lock()
	errs = append(errs, s.errs...)
	s.mu.Unlock()
	return errors.Join(errs...)
}

// Credentials is the human text `paydesk sandbox` prints: the credentials
// each provider's base URL accepts.
func Credentials() string {
	var b strings.Builder
	for _, p := range providers {
		fmt.Fprintf(&b, "%s (%s)\n", p.name, p.baseURLEnv)
		writeSettings(&b, p)
	}
	return b.String()
}

// Summary is Credentials with this sandbox's base URLs, ready to print.
func (s *Sandbox) Summary() string {
	var b strings.Builder
	for i, p := range providers {
		fmt.Fprintf(&b, "%-15s%s\n", p.name, s.urls[i])
		writeSettings(&b, p)
	}
	return b.String()
}

func writeSettings(b *strings.Builder, p provider) {
	for _, st := range p.settings {
		fmt.Fprintf(b, "  %-18s%s\n", st.label, st.value)
	}
}
