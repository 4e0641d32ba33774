package sandbox

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, u, auth string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestStartServesAllThreeAndCloses(t *testing.T) {
	s, err := Start(Config{ForageAddr: "127.0.0.1:0", MoyasarAddr: "127.0.0.1:0", DigitalRiverAddr: "127.0.0.1:0",
		Orders: 20, Seed: 1, RefundLatency: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Forage: token, then the Order Report.
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest("POST", s.ForageURL+"/o/token/", strings.NewReader(form.Encode()))
	req.SetBasicAuth(ForageClientID, ForageClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("forage token: %d", resp.StatusCode)
	}
	day := time.Now().Format("2006-01-02")
	if st := get(t, s.ForageURL+"/reporting/orders/?start_date=2020-01-01&end_date="+day, "Bearer "+tok.AccessToken); st != 200 {
		t.Fatalf("forage report %d", st)
	}
	if st := get(t, s.MoyasarURL+"/v1/orders", "Bearer "+MoyasarAPIKey); st != 200 {
		t.Fatalf("moyasar %d", st)
	}
	if st := get(t, s.MoyasarURL+"/v1/orders", ""); st != 401 {
		t.Fatalf("moyasar without key %d", st)
	}
	if st := get(t, s.DigitalRiverURL+"/orders", "Bearer "+DigitalRiverAPIKey); st != 200 {
		t.Fatalf("digital river %d", st)
	}

	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(s.ForageURL, "http://"), time.Second); err == nil {
		t.Fatal("forage still listening after Close")
	}
}

func TestStartFailsCleanlyOnBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s, err := Start(Config{ForageAddr: "127.0.0.1:0", MoyasarAddr: busy.Addr().String(), Orders: 5})
	if err == nil {
		s.Close()
		t.Fatal("want error for a busy port")
	}
	if !strings.Contains(err.Error(), "moyasar") {
		t.Fatalf("error does not name the provider: %v", err)
	}
}

func TestCredentials(t *testing.T) {
	c := Credentials()
	for _, want := range []string{"demo-client", "demo-secret", "9000055", "demo-moyasar-key", "sk_test_demo"} {
		if !strings.Contains(c, want) {
			t.Errorf("Credentials() lacks %q:\n%s", want, c)
		}
	}
}

func TestChaosSpec(t *testing.T) {
	if s, err := Start(Config{Chaos: "nonsense=1", Orders: 5}); err == nil {
		s.Close()
		t.Fatal("want error for a bad chaos spec")
	}
	s, err := Start(Config{Chaos: "fail5xx=1", Orders: 5, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := get(t, s.ForageURL+"/sandbox/health/", ""); st < 500 {
		t.Fatalf("fail5xx=1 answered %d", st)
	}
}
