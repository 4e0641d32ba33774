// Package providers is the one table of provider clients the console can
// use. Adding a provider to the console is one entry in All (and, for the
// embedded sandbox, one entry in api/sandbox's own table, which shares no
// code with the clients). Configure builds the clients from this table, from
// the environment or from the embedded sandbox's settings alike.
package providers

import (
	"strings"

	"paydesk/api"
	"paydesk/api/digitalriver"
	"paydesk/api/forage"
	"paydesk/api/moyasar"
)

// Entry is one provider client.
type Entry struct {
	ID string // the provider's id in journals and audit logs
	// Env is every variable the client reads; the first is its base URL,
	// whose presence means "configured".
	Env []string
	// FromEnv builds the client from getenv. ok is false when the provider is
	// not configured; a configuration that is set but incomplete or unsafe is
	// an error naming the variable.
	FromEnv func(getenv func(string) string) (p api.Provider, ok bool, err error)
	// Account names one account of this provider from the same settings
	// (the order index keeps accounts of one provider apart by it).
	Account func(getenv func(string) string) string
}

// All lists the provider clients, in the order the console shows them.
var All = []Entry{
	{
		ID: forage.ProviderID,
		Env: []string{forage.EnvBaseURL, forage.EnvClientID, forage.EnvClientSecret,
			forage.EnvMerchantAccount, forage.EnvAPIVersion},
		FromEnv: func(getenv func(string) string) (api.Provider, bool, error) {
			return build(forage.ConfigFromEnv, forage.New, getenv)
		},
		Account: func(getenv func(string) string) string {
			return strings.TrimRight(getenv(forage.EnvBaseURL), "/") + " merchant " + getenv(forage.EnvMerchantAccount)
		},
	},
	{
		ID:  moyasar.ProviderID,
		Env: []string{moyasar.EnvBaseURL, moyasar.EnvAPIKey},
		FromEnv: func(getenv func(string) string) (api.Provider, bool, error) {
			return build(moyasar.ConfigFromEnv, moyasar.New, getenv)
		},
		Account: func(getenv func(string) string) string { return strings.TrimRight(getenv(moyasar.EnvBaseURL), "/") },
	},
	{
		ID:  digitalriver.ProviderID,
		Env: []string{digitalriver.EnvBaseURL, digitalriver.EnvAPIKey},
		FromEnv: func(getenv func(string) string) (api.Provider, bool, error) {
			return build(digitalriver.ConfigFromEnv, digitalriver.New, getenv)
		},
		Account: func(getenv func(string) string) string {
			return strings.TrimRight(getenv(digitalriver.EnvBaseURL), "/")
		},
	},
}

// build is every client's two steps: read the configuration, then check it
// and make the client.
func build[C any, P api.Provider](
	config func(func(string) string) (C, bool, error), newClient func(C) (P, error), getenv func(string) string,
) (api.Provider, bool, error) {
	cfg, ok, err := config(getenv)
	if err != nil || !ok {
		return nil, ok, err
	}
	p, err := newClient(cfg)
	if err != nil {
		return nil, true, err
	}
	return p, true, nil
}

// FromEnv builds a client for every provider whose base URL getenv sets, in
// the order of All. None set is no providers and no error: the caller
// decides what that means (the console starts the embedded sandbox).
func FromEnv(getenv func(string) string) ([]api.Provider, error) {
	var out []api.Provider
	for _, e := range All {
		p, ok, err := e.FromEnv(getenv)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// Account is the account name of provider id from getenv's settings ("" for
// a provider not in All).
func Account(id string, getenv func(string) string) string {
	for _, e := range All {
		if e.ID == id {
			return e.Account(getenv)
		}
	}
	return ""
}
