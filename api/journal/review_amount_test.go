package journal

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/moyasar"
	msandbox "paydesk/api/sandbox/moyasar"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// A provider that answers 2xx to a refund but refunded another amount than
// the one confirmed (a proxy rewriting the body, a provider bug, a
// whole-order refund whose total grew): the journal and the audit log must
// not record "succeeded" for the amount asked as if that were what moved.
// Here a proxy multiplies the refund's amount by five on its way to the
// Moyasar sandbox.
func TestReviewRefundAnsweredWithAnotherAmount(t *testing.T) {
	sb := msandbox.New(msandbox.Options{Orders: 40, Seed: 5, RefundLatency: -1, ProcessingWindow: -1})
	hs := sandboxtest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/refund") {
			b, _ := io.ReadAll(r.Body)
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				m["amount"] = m["amount"].(float64) * 5
				b, _ = json.Marshal(m)
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		}
		sb.ServeHTTP(w, r)
	}))
	c, err := moyasar.New(moyasar.Config{BaseURL: hs.URL, APIKey: api.NewSecret(msandbox.DefaultAPIKey), Limiter: rate.NewLimiter(rate.Inf, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var o *model.Order
	walkOrders(t, c, func(got *model.Order) bool {
		if len(got.Payments) > 0 && !got.HasRefundInFlight() && got.Refundable().Amount.GreaterThanOrEqual(model.MustParse("10", got.Currency).Amount) {
			o = got
		}
		return o == nil
	})
	if o == nil {
		t.Fatal("no refundable order")
	}
	var mu sync.Mutex
	var recs []AuditRecord
	j, err := Open(Options{Dir: t.TempDir(), Auditor: AuditorFunc(func(r AuditRecord) error {
		mu.Lock()
		recs = append(recs, r)
		mu.Unlock()
		return nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	asked := model.MustParse("1", o.Currency)
	res, err := Wrap(c, j, "desk-1").RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{Amount: asked, Reason: "damaged"})
	if err != nil {
		t.Fatalf("refund: %v", err)
	}
	if len(res.Refunds) != 1 {
		t.Fatalf("%d refunds in the answer", len(res.Refunds))
	}
	moved := res.Refunds[0].Amount
	if c, _ := moved.Cmp(asked); c == 0 {
		t.Fatalf("the proxy did not change the amount (%s)", moved)
	}
	mu.Lock()
	defer mu.Unlock()
	last := recs[len(recs)-1]
	if last.Outcome == StateSucceeded && last.ErrorCode == "" {
		t.Errorf("the audit line says %s %s %s succeeded, with nothing to say %s moved instead (note %q)",
			last.Action, last.Amount, last.Currency, moved, last.Note)
	}
}
