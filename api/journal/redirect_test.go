package journal

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/model"
)

// The real Forage client against the Forage sandbox, behind a front that lets
// a refund POST through (the refund is made) and answers it with a redirect,
// the POST/redirect/GET pattern. The journal must not record failed: the
// refund is at the provider, and the agent's next confirmation must not make
// a second one.
func TestForageRedirectAfterRefundIsUnknown(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusSeeOther} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var redirects atomic.Int32
			e := newSandbox(t, func(sb http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/refunds") && redirects.Load() == 0 {
						rec := httptest.NewRecorder()
						sb.ServeHTTP(rec, r)
						if rec.Code/100 == 2 {
							redirects.Add(1)
							w.Header().Set("Location", "/somewhere/else")
							w.WriteHeader(status)
							return
						}
						for k, v := range rec.Header() {
							w.Header()[k] = v
						}
						w.WriteHeader(rec.Code)
						_, _ = w.Write(rec.Body.Bytes())
						return
					}
					sb.ServeHTTP(w, r)
				})
			})
			c := e.client(nil)
			j, err := Open(Options{Dir: t.TempDir(), SettleTime: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			p := Wrap(c, j, "alice")
			o := e.newOrder()
			refund := func() error {
				_, err := p.RefundPayment(context.Background(), o.ID, o.Payments[0].ID, api.RefundPaymentRequest{
					IdempotencyKey: "", Amount: model.MustParse("10.00", o.Payments[0].Amount.Currency), Reason: "damaged"})
				return err
			}
			err = refund()
			if redirects.Load() != 1 {
				t.Fatalf("the front redirected %d refunds, want 1 (err %v)", redirects.Load(), err)
			}
			if !api.IsOutcomeUnknown(err) {
				t.Fatalf("refund answered %d after it was made: %v, want outcome unknown", status, err)
			}
			ins, _ := j.intents(c.ID(), o.ID)
			if len(ins) != 1 || ins[0].State != StateUnknown {
				t.Fatalf("intents %+v, want one unknown", ins)
			}
			// The agent confirms again: the journal settles the first
			// (replay with its key, or a read) and sends nothing new.
			if err := refund(); !errors.Is(err, ErrEarlierSucceeded) {
				t.Fatalf("second confirmation: %v, want ErrEarlierSucceeded", err)
			}
			by, _ := e.refundsByIntent(o.ID)
			if n := len(by[ins[0].ID]); n != 1 || len(by) != 1 {
				t.Fatalf("refunds by intent %v, want exactly one, for the first intent", by)
			}
		})
	}
}
