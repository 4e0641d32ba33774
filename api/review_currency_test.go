package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/digitalriver"
	"paydesk/api/moyasar"
	drsandbox "paydesk/api/sandbox/digitalriver"
	msandbox "paydesk/api/sandbox/moyasar"
	"paydesk/model"
)

// A refund amount in another currency than the order's must be refused
// before anything is sent, not reinterpreted: 30.000 KWD sent to a SAR
// order as 30000 minor units is 300.00 SAR, three times an agent's 100.00
// limit, while the role guard saw "30 KWD" (a per-currency limit of 30 KWD
// is about 100 USD). Any caller of the api layer can make this request; the
// client is the last place that knows the order's currency.
func TestReviewRefundInAnotherCurrencyIsRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type prov struct {
		name string
		h    http.Handler
		mk   func(url string) api.Provider
	}
	for _, p := range []prov{
		{"moyasar", msandbox.New(msandbox.Options{Orders: 20, Seed: 2, RefundLatency: -1}), func(u string) api.Provider {
			c, err := moyasar.New(moyasar.Config{BaseURL: u, APIKey: api.NewSecret(msandbox.DefaultAPIKey), Limiter: rate.NewLimiter(rate.Inf, 1)})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"digitalriver", drsandbox.New(drsandbox.Options{Orders: 20, Seed: 2, RefundLatency: -1}), func(u string) api.Provider {
			c, err := digitalriver.New(digitalriver.Config{BaseURL: u, APIKey: api.NewSecret("sk_test_demo"), Limiter: rate.NewLimiter(rate.Inf, 1)})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
	} {
		t.Run(p.name, func(t *testing.T) {
			var posts atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "refund") {
					posts.Add(1)
				}
				p.h.ServeHTTP(w, r)
			}))
			defer srv.Close()
			c := p.mk(srv.URL)
			var o *model.Order
			for q := (api.OrderQuery{}); o == nil; {
				page, err := c.ListOrders(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range page.Orders {
					got, err := c.GetOrder(ctx, s.ID)
					if err == nil && len(got.Payments) > 0 && got.Refundable().IsPositive() && !got.HasRefundInFlight() && got.Currency != "KWD" {
						o = got
						break
					}
				}
				if q.Cursor = page.Next; q.Cursor == "" && o == nil {
					t.Fatal("no refundable order")
				}
			}
			kwd := model.MustParse("0.010", "KWD")
			_, err := c.RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{IdempotencyKey: "review-cur-1", Amount: kwd, Reason: "damaged"})
			if err == nil || posts.Load() > 0 {
				t.Errorf("a refund of %s on a %s order was sent (%d refund requests; err %v)", kwd, o.Currency, posts.Load(), err)
			}
		})
	}
}
