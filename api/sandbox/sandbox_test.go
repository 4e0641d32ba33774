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

// forageToken asks the sandbox's Forage for an access token with the
// demo credentials and returns it with the answer's status. Every test that
// talks to the Forage sandbox over the wire starts here.
func forageToken(t *testing.T, s *Sandbox) (string, int) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest("POST", s.URL("forage")+"/o/token/", strings.NewReader(form.Encode()))
	req.SetBasicAuth(ForageClientID, ForageClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	return tok.AccessToken, resp.StatusCode
}

func TestStartServesAllThreeAndCloses(t *testing.T) {
	s, err := Start(Config{
		Orders: 20, Seed: 1, RefundLatency: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	// Forage: token, then the Order Report.
	token, status := forageToken(t, s)
	if status != 200 || token == "" {
		t.Fatalf("forage token: %d", status)
	}
	day := time.Now().Format("2006-01-02")
	if st := get(t, s.URL("forage")+"/reporting/orders/?start_date=2020-01-01&end_date="+day, "Bearer "+token); st != 200 {
		t.Fatalf("forage report %d", st)
	}
	if st := get(t, s.URL("moyasar")+"/v1/orders", "Bearer "+MoyasarAPIKey); st != 200 {
		t.Fatalf("moyasar %d", st)
	}
	if st := get(t, s.URL("moyasar")+"/v1/orders", ""); st != 401 {
		t.Fatalf("moyasar without key %d", st)
	}
	if st := get(t, s.URL("digitalriver")+"/orders", "Bearer "+DigitalRiverAPIKey); st != 200 {
		t.Fatalf("digital river %d", st)
	}

	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := net.DialTimeout("tcp", strings.TrimPrefix(s.URL("forage"), "http://"), time.Second); err == nil {
		t.Fatal("forage still listening after Close")
	}
}

func TestStartFailsCleanlyOnBusyPort(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	s, err := Start(Config{Addrs: map[string]string{"moyasar": busy.Addr().String()}, Orders: 5})
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

// The text `paydesk sandbox` prints is built from the provider table; it
// must read as it did when each line was written out by hand.
func TestPrintedText(t *testing.T) {
	want := "Forage (FORAGE_BASE_URL)\n" +
		"  client id         demo-client\n" +
		"  client secret     demo-secret\n" +
		"  merchant account  9000055\n" +
		"Moyasar PG (MOYASAR_BASE_URL)\n" +
		"  API key           demo-moyasar-key\n" +
		"Digital River (DIGITALRIVER_BASE_URL)\n" +
		"  secret key        sk_test_demo\n"
	if got := Credentials(); got != want {
		t.Errorf("Credentials() =\n%s\nwant\n%s", got, want)
	}
	s := &Sandbox{urls: []string{"http://127.0.0.1:7001", "http://127.0.0.1:7002", "http://127.0.0.1:7003"}}
	want = "Forage         http://127.0.0.1:7001\n" +
		"  client id         demo-client\n" +
		"  client secret     demo-secret\n" +
		"  merchant account  9000055\n" +
		"Moyasar PG     http://127.0.0.1:7002\n" +
		"  API key           demo-moyasar-key\n" +
		"Digital River  http://127.0.0.1:7003\n" +
		"  secret key        sk_test_demo\n"
	if got := s.Summary(); got != want {
		t.Errorf("Summary() =\n%s\nwant\n%s", got, want)
	}
	// Moved from main's cli_test.go with the function it tests.
	got := s.Exports()
	for _, want := range []string{
		"export FORAGE_BASE_URL=http://127.0.0.1:7001\n",
		"export FORAGE_CLIENT_ID=demo-client\n",
		"export FORAGE_CLIENT_SECRET=demo-secret\n",
		"export FORAGE_MERCHANT_ACCOUNT=9000055\n",
		"export MOYASAR_BASE_URL=http://127.0.0.1:7002\n",
		"export MOYASAR_API_KEY=demo-moyasar-key\n",
		"export DIGITALRIVER_BASE_URL=http://127.0.0.1:7003\n",
		"export DIGITALRIVER_API_KEY=sk_test_demo\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	// Getenv answers the same settings, and nothing from the process.
	t.Setenv("FORAGE_API_VERSION", "1999-01-01")
	for _, kv := range [][2]string{
		{"FORAGE_BASE_URL", "http://127.0.0.1:7001"}, {"FORAGE_CLIENT_SECRET", "demo-secret"},
		{"DIGITALRIVER_API_KEY", "sk_test_demo"}, {"FORAGE_API_VERSION", ""}, {"PATH", ""},
	} {
		if got := s.Getenv(kv[0]); got != kv[1] {
			t.Errorf("Getenv(%s) = %q, want %q", kv[0], got, kv[1])
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
	if st := get(t, s.URL("forage")+"/sandbox/health/", ""); st < 500 {
		t.Fatalf("fail5xx=1 answered %d", st)
	}
}
