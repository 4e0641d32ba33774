package providers

import (
	"context"
	"strings"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/api/sandbox"
)

// Every client in the table reaches its fake provider with nothing but the
// sandbox's settings, and the two tables list the same providers in the same
// order: a provider added to one and not the other fails here, not in the
// embedded demo.
func TestSandboxServesEveryClient(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Config{Orders: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	served := sandbox.Providers()
	if len(served) != len(All) {
		t.Fatalf("the sandbox serves %d providers, the client table lists %d", len(served), len(All))
	}
	clients, err := FromEnv(sb.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if len(clients) != len(All) {
		t.Fatalf("%d clients from the sandbox's settings, want %d", len(clients), len(All))
	}
	for i, e := range All {
		if served[i].ID != e.ID || clients[i].ID() != e.ID {
			t.Errorf("entry %d: client table %q, sandbox %q, client %q", i, e.ID, served[i].ID, clients[i].ID())
		}
		if sb.Getenv(e.Env[0]) != sb.URL(e.ID) {
			t.Errorf("%s: %s is not the sandbox's base URL", e.ID, e.Env[0])
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := clients[i].ListOrders(ctx, api.OrderQuery{})
		cancel()
		if err != nil {
			t.Errorf("%s: ListOrders with the sandbox's settings: %v", e.ID, err)
		}
	}
}

// No base URL is no provider and no error; a base URL without its
// credentials is an error that names what is missing, and no client.
func TestFromEnv(t *testing.T) {
	none, err := FromEnv(func(string) string { return "" })
	if err != nil || len(none) != 0 {
		t.Fatalf("nothing set: %d providers, %v", len(none), err)
	}
	for _, e := range All {
		env := map[string]string{e.Env[0]: "http://127.0.0.1:1"}
		ps, err := FromEnv(func(k string) string { return env[k] })
		if err == nil || ps != nil || !strings.Contains(err.Error(), e.Env[1]) {
			t.Errorf("%s: only %s set: %d providers, %v; want an error naming %s", e.ID, e.Env[0], len(ps), err, e.Env[1])
		}
	}
}

// Two accounts of one provider have different names; Forage's names the
// merchant too, since one base URL serves many merchants.
func TestAccount(t *testing.T) {
	env := map[string]string{
		"FORAGE_BASE_URL": "https://api.joinforage.app", "FORAGE_MERCHANT_ACCOUNT": "9000055",
		"MOYASAR_BASE_URL": "https://api.moyasar.com", "DIGITALRIVER_BASE_URL": "https://api.digitalriver.com",
	}
	getenv := func(k string) string { return env[k] }
	for id, want := range map[string]string{
		"forage":       "https://api.joinforage.app merchant 9000055",
		"moyasar":      "https://api.moyasar.com",
		"digitalriver": "https://api.digitalriver.com",
		"unknown":      "",
	} {
		if got := Account(id, getenv); got != want {
			t.Errorf("Account(%s) = %q, want %q", id, got, want)
		}
	}
}
