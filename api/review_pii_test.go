package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/forage"
	fsandbox "paydesk/api/sandbox/forage"
	"paydesk/model"
)

// The PII guard must catch a card number however the agent's keyboard
// writes it: Arabic-Indic digits (an agent supporting Moyasar merchants),
// full-width digits (a Japanese IME), dots, slashes or typographic dashes
// between the groups. Each of these reached the provider verbatim. Checked
// with the real Forage client against the sandbox: no refund body that
// leaves the machine may carry the number.
func TestReviewPIIGuardOtherDigitsAndSeparators(t *testing.T) {
	sb := fsandbox.New(fsandbox.Options{Orders: 5, Seed: 3, RefundLatency: -1, RateLimit: 1 << 20})
	var mu sync.Mutex
	var posted []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && !strings.HasSuffix(r.URL.Path, "/o/token/") {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			posted = append(posted, string(b))
			mu.Unlock()
			r.Body = io.NopCloser(strings.NewReader(string(b)))
		}
		sb.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c, err := forage.New(forage.Config{BaseURL: srv.URL, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", Limiter: rate.NewLimiter(rate.Inf, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	page, err := c.ListOrders(ctx, api.OrderQuery{Limit: 5})
	if err != nil || len(page.Orders) == 0 {
		t.Fatalf("list: %v", err)
	}
	var id string
	var left model.Money
	for _, sum := range page.Orders {
		o, err := c.GetOrder(ctx, sum.ID)
		if err == nil && o.Refundable().IsPositive() && !o.HasRefundInFlight() {
			id, left = o.ID, o.Refundable()
			break
		}
	}
	if id == "" {
		t.Fatal("no refundable order")
	}
	for name, reason := range map[string]string{
		"arabic-indic digits": "customer card ٤١١١١١١١١١١١١١١١ declined",
		"persian digits":      "customer card ۴۱۱۱۱۱۱۱۱۱۱۱۱۱۱۱ declined",
		"full-width digits":   "customer card ４１１１１１１１１１１１１１１１ declined",
		"dots":                "customer card 4111.1111.1111.1111 declined",
		"slashes":             "customer card 4111/1111/1111/1111 declined",
		"en dashes":           "customer card 4111–1111–1111–1111 declined",
		"no-break spaces":     "customer card 4111\u00a01111\u00a01111\u00a01111 declined",
		"full-width at":       "mail customer a.person＠example.com",
		"spaced ssn":          "customer ssn 078 05 1120 on file",
		"arabic-indic ssn":    "customer ssn ٠٧٨-٠٥-١١٢٠ on file",
	} {
		_, err := c.RefundOrder(ctx, id, api.RefundOrderRequest{IdempotencyKey: "review-pii-" + strings.ReplaceAll(name, " ", "-"),
			Reason: reason, Expected: left})
		if err == nil {
			t.Errorf("%s: the reason %q was accepted", name, reason)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, b := range posted {
		t.Errorf("a refund body left the machine: %s", b)
	}
}
