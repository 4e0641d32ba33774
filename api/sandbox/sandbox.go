// Package sandbox runs the fake provider APIs (Forage, Moyasar PG, Digital
// River) over real HTTP on loopback, for `paydesk sandbox` and for the
// console's embedded demo mode. It only wires the provider sandbox packages
// together; it shares no code with the API clients.
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

// Config says where and how to serve the sandboxes.
type Config struct {
	// Listen addresses; "127.0.0.1:0" picks a free port. Empty means
	// "127.0.0.1:0" too (the 7001/7002/7003 defaults are main.go's flags).
	ForageAddr, MoyasarAddr, DigitalRiverAddr string

	Orders        int              // orders per provider (0 = provider default, 200)
	Seed          int64            // same seed, same data
	RefundLatency time.Duration    // 0 = provider default (3s)
	Now           func() time.Time // clock; nil = time.Now

	// Chaos is a fault-injection spec for chaos.Parse; "" = none.
	Chaos string
}

// Sandbox is a running set of fake providers.
type Sandbox struct {
	ForageURL, MoyasarURL, DigitalRiverURL string

	servers []*http.Server
	wg      sync.WaitGroup
	mu      sync.Mutex
	errs    []error
	closed  bool
}

// Start listens on all three addresses and serves each provider in its own
// goroutine. On error nothing is left listening.
func Start(cfg Config) (*Sandbox, error) {
	handlers := []http.Handler{
		forage.New(forage.Options{
			Orders: cfg.Orders, Seed: cfg.Seed, RefundLatency: cfg.RefundLatency, Now: cfg.Now,
			ClientID: ForageClientID, ClientSecret: ForageClientSecret, MerchantAccount: ForageMerchantAccount,
		}),
		moyasar.New(moyasar.Options{
			Orders: cfg.Orders, Seed: cfg.Seed, RefundLatency: cfg.RefundLatency, Now: cfg.Now,
			APIKey: MoyasarAPIKey,
		}),
		digitalriver.New(digitalriver.Options{
			Orders: cfg.Orders, Seed: cfg.Seed, RefundLatency: cfg.RefundLatency, Now: cfg.Now,
			APIKey: DigitalRiverAPIKey,
		}),
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
	addrs := []string{cfg.ForageAddr, cfg.MoyasarAddr, cfg.DigitalRiverAddr}
	names := []string{"forage", "moyasar", "digitalriver"}
	var lns []net.Listener
	for i, a := range addrs {
		if a == "" {
			a = "127.0.0.1:0"
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			return nil, fmt.Errorf("sandbox: %s: %w", names[i], err)
		}
		lns = append(lns, ln)
	}
	s := &Sandbox{
		ForageURL:       "http://" + lns[0].Addr().String(),
		MoyasarURL:      "http://" + lns[1].Addr().String(),
		DigitalRiverURL: "http://" + lns[2].Addr().String(),
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
		}(names[i])
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
	fmt.Fprintf(&b, "Forage (FORAGE_BASE_URL)\n")
	fmt.Fprintf(&b, "  client id         %s\n", ForageClientID)
	fmt.Fprintf(&b, "  client secret     %s\n", ForageClientSecret)
	fmt.Fprintf(&b, "  merchant account  %s\n", ForageMerchantAccount)
	fmt.Fprintf(&b, "Moyasar PG (MOYASAR_BASE_URL)\n")
	fmt.Fprintf(&b, "  API key           %s\n", MoyasarAPIKey)
	fmt.Fprintf(&b, "Digital River (DIGITALRIVER_BASE_URL)\n")
	fmt.Fprintf(&b, "  secret key        %s\n", DigitalRiverAPIKey)
	return b.String()
}

// Summary is Credentials with this sandbox's base URLs, ready to print.
func (s *Sandbox) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Forage         %s\n", s.ForageURL)
	fmt.Fprintf(&b, "  client id         %s\n", ForageClientID)
	fmt.Fprintf(&b, "  client secret     %s\n", ForageClientSecret)
	fmt.Fprintf(&b, "  merchant account  %s\n", ForageMerchantAccount)
	fmt.Fprintf(&b, "Moyasar PG     %s\n", s.MoyasarURL)
	fmt.Fprintf(&b, "  API key           %s\n", MoyasarAPIKey)
	fmt.Fprintf(&b, "Digital River  %s\n", s.DigitalRiverURL)
	fmt.Fprintf(&b, "  secret key        %s\n", DigitalRiverAPIKey)
	return b.String()
}
