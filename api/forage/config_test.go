package forage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/forage"
)

func getenv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	_, ok, err := forage.ConfigFromEnv(getenv(nil))
	if ok || err != nil {
		t.Fatalf("unset base URL: ok %v err %v", ok, err)
	}
	full := map[string]string{
		"FORAGE_BASE_URL": "https://api.sandbox.joinforage.app", "FORAGE_CLIENT_ID": "id",
		"FORAGE_CLIENT_SECRET": "s3cr3t-value", "FORAGE_MERCHANT_ACCOUNT": "9000055", "FORAGE_API_VERSION": "2024-05-07",
	}
	c, ok, err := forage.ConfigFromEnv(getenv(full))
	if !ok || err != nil || c.BaseURL != full["FORAGE_BASE_URL"] || c.ClientID != "id" ||
		c.ClientSecret.Reveal() != "s3cr3t-value" || c.MerchantAccount != "9000055" || c.APIVersion != "2024-05-07" {
		t.Fatalf("config %+v ok %v err %v", c, ok, err)
	}
	for _, missing := range []string{"FORAGE_CLIENT_ID", "FORAGE_CLIENT_SECRET", "FORAGE_MERCHANT_ACCOUNT"} {
		m := map[string]string{}
		for k, v := range full {
			if k != missing {
				m[k] = v
			}
		}
		_, ok, err := forage.ConfigFromEnv(getenv(m))
		if !ok || err == nil || !strings.Contains(err.Error(), missing) || strings.Contains(err.Error(), "s3cr3t-value") {
			t.Fatalf("without %s: ok %v err %v", missing, ok, err)
		}
	}
	delete(full, "FORAGE_API_VERSION")
	if c, ok, err := forage.ConfigFromEnv(getenv(full)); !ok || err != nil || c.APIVersion != "" {
		t.Fatalf("API version is optional: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	good := forage.Config{BaseURL: "https://api.sandbox.joinforage.app", ClientID: "id", ClientSecret: api.NewSecret("s3cr3t-value")}
	if _, err := forage.New(good); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*forage.Config){
		"no base":     func(c *forage.Config) { c.BaseURL = "" },
		"bad scheme":  func(c *forage.Config) { c.BaseURL = "ftp://x" },
		"no host":     func(c *forage.Config) { c.BaseURL = "https://" },
		"userinfo":    func(c *forage.Config) { c.BaseURL = "https://u:s3cr3t-value@host" },
		"query":       func(c *forage.Config) { c.BaseURL = "https://host/?k=s3cr3t-value" },
		"no id":       func(c *forage.Config) { c.ClientID = " " },
		"colon id":    func(c *forage.Config) { c.ClientID = "a:b" },
		"no secret":   func(c *forage.Config) { c.ClientSecret = api.Secret{} },
		"ctl account": func(c *forage.Config) { c.MerchantAccount = "9000055\r\nX: y" },
		"bad version": func(c *forage.Config) { c.APIVersion = "latest" },
	} {
		c := good
		mod(&c)
		_, err := forage.New(c)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t-value") {
			t.Errorf("%s: error shows the secret: %v", name, err)
		}
	}
}

// The secret (and the token) appear in no way Go prints a Config, a Client,
// or any error the client returns, on success or failure paths.
func TestSecretNeverPrinted(t *testing.T) {
	const sec = "Zq9-very-secret-value"
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/o/token/":
			// A hostile or broken server echoing credentials back.
			if _, pw, _ := r.BasicAuth(); pw != sec {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprintf(w, `{"detail":"bad secret %s"}`, pw)
				return
			}
			tok := "sandbox_tok" + fmt.Sprint(len(tokens))
			tokens = append(tokens, tok)
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600,"token_type":"Bearer"}`, tok)
		default:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"path":%q,"errors":[{"code":"echo","message":"you sent %s and secret %s","source":{"resource":"%s","ref":""}}]}`,
				r.URL.Path, r.Header.Get("Authorization"), sec, sec)
		}
	}))
	defer srv.Close()
	cfg := forage.Config{BaseURL: srv.URL, ClientID: "id", ClientSecret: api.NewSecret(sec), MerchantAccount: "9000055",
		Limiter: rate.NewLimiter(rate.Inf, 0)}
	c, err := forage.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	_, err = c.GetOrder(ctx, "abcdef0123")
	errs = append(errs, err)
	_, err = c.ListOrders(ctx, api.OrderQuery{})
	errs = append(errs, err)
	bad := cfg
	bad.ClientSecret = api.NewSecret("wrong-" + sec)
	bc, _ := forage.New(bad)
	_, err = bc.GetOrder(ctx, "abcdef0123")
	errs = append(errs, err)

	js, _ := json.Marshal(cfg)
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg, "secret", cfg.ClientSecret)
	out := []string{
		fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", cfg.ClientSecret),
		fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", reflect.ValueOf(c).Elem()), fmt.Sprintf("%+v", reflect.ValueOf(c).Elem()),
		string(js), logged.String(),
	}
	for _, err := range errs {
		if err == nil {
			t.Fatal("want an error")
		}
		out = append(out, err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
		if e, ok := api.AsError(err); ok {
			out = append(out, fmt.Sprintf("%+v", *e), fmt.Sprintf("%#v", *e))
		}
	}
	if len(tokens) == 0 {
		t.Fatal("no token was issued")
	}
	for _, s := range out {
		if strings.Contains(s, sec) {
			t.Errorf("secret printed: %s", s)
		}
		for _, tok := range tokens {
			if strings.Contains(s, tok) {
				t.Errorf("token printed: %s", s)
			}
		}
	}
}
