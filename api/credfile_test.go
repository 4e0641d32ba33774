package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "credentials.env")
	body := "# paydesk\nFORAGE_BASE_URL=http://127.0.0.1:7001\nexport FORAGE_CLIENT_SECRET=\"s3cr3t-value\"\n\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := LoadCredentials(p)
	if err != nil {
		t.Fatal(err)
	}
	if m["FORAGE_BASE_URL"] != "http://127.0.0.1:7001" || m["FORAGE_CLIENT_SECRET"] != "s3cr3t-value" {
		t.Fatalf("parsed %v", m)
	}

	// Readable by others: refused, with the command that fixes it, and
	// without a byte of the secret in the message.
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadCredentials(p)
	if err == nil {
		t.Fatal("a 0644 credentials file was accepted")
	}
	msg := err.Error()
	if !strings.Contains(msg, "chmod 600 "+p) || strings.Contains(msg, "s3cr3t") {
		t.Fatalf("error %q lacks the fix or leaks the secret", msg)
	}
	if err := os.Chmod(p, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCredentials(p); err == nil {
		t.Fatal("a group-readable credentials file was accepted")
	}

	// A bad line is named by number, never echoed.
	bad := filepath.Join(dir, "bad.env")
	if err := os.WriteFile(bad, []byte("FORAGE_CLIENT_SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCredentials(bad); err == nil || strings.Contains(err.Error(), "FORAGE_CLIENT_SECRET") {
		t.Fatalf("bad line: %v", err)
	}

	if m, err := LoadCredentials(filepath.Join(dir, "missing.env")); err != nil || m != nil {
		t.Fatalf("a missing file should be no credentials, got %v %v", m, err)
	}
}

func TestCredentialsPath(t *testing.T) {
	env := map[string]string{"XDG_CONFIG_HOME": "/x"}
	get := func(k string) string { return env[k] }
	if p := CredentialsPath(get); p != "/x/paydesk/credentials.env" {
		t.Fatal(p)
	}
	env[EnvCredentials] = "/y/c.env"
	if p := CredentialsPath(get); p != "/y/c.env" {
		t.Fatal(p)
	}
}

func TestParseBaseURL(t *testing.T) {
	for _, ok := range []string{"https://api.joinforage.app", "http://127.0.0.1:7001", "http://localhost:7002/", "http://[::1]:7003"} {
		if _, err := ParseBaseURL("p", ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://api.example.com", "ftp://x", "https://user:pw@x", "https://x/?a=1", "not a url", ""} {
		if _, err := ParseBaseURL("p", bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("error echoes credentials: %v", err)
		}
	}
}

// A provider that echoes the API key in an error never gets it onto the
// screen or into the journal: the transport scrubs what the Bearer sent.
func TestEchoedKeyIsRedacted(t *testing.T) {
	const key = "sk_live_echo_me_back_1234"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "bad header %q", r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	tr := &Transport{Provider: "p", BaseURL: srv.URL, Auth: Bearer{Key: NewSecret(key)}}
	_, err := tr.Do(context.Background(), Request{Method: http.MethodGet, Path: "/x"})
	if err == nil || strings.Contains(err.Error(), key) {
		t.Fatalf("error %v carries the key", err)
	}
}
