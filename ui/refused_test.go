package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"paydesk/api"
	"paydesk/model"
)

// racingProvider lets another agent refund the rest of a payment (through
// the same real client and sandbox) just before the console's own refund
// is sent: the sandbox then refuses the console's amount with its own 422.
type racingProvider struct {
	api.Provider
	once sync.Once
	err  error
}

func (r *racingProvider) RefundPayment(ctx context.Context, orderID, paymentID string, req api.RefundPaymentRequest) (*api.RefundResult, error) {
	r.once.Do(func() {
		o, err := r.Provider.GetOrder(ctx, orderID)
		if err != nil {
			r.err = err
			return
		}
		_, r.err = r.Provider.RefundPayment(ctx, orderID, paymentID, api.RefundPaymentRequest{
			IdempotencyKey: uuid.Must(uuid.NewV7()).String(), Amount: o.Refundable(), Reason: "another agent",
		})
	})
	return r.Provider.RefundPayment(ctx, orderID, paymentID, req)
}

// A field the provider refuses is shown beside that field, back in the form,
// with everything the agent typed still there.
func TestProviderRefusalShowsBesideTheField(t *testing.T) {
	t.Parallel()
	o := harnessOpts{refresh: time.Hour}
	m := newMultiHarness(t, o)
	race := &racingProvider{Provider: m.provs[pMPG]}
	m.provs[pMPG] = race
	order := m.find(pMPG, mpgRefundable("SAR"))

	s := m.run(120, 40, o)
	s.switchTo(m, 1, pMPG)
	s.openOrder(order.Ref)
	s.keys("f")
	s.waitText("Amount (SAR)")
	s.typeText("1.00")
	s.keys("enter")
	s.waitText("┃ Reason")
	s.typeText("damaged item")
	s.enterToConfirm()
	s.typeText(confirmWord(order.Ref))
	s.keys("enter")
	v := s.waitText("✗ Moyasar PG:")
	if race.err != nil {
		t.Fatalf("the competing refund failed: %v", race.err)
	}
	if !strings.Contains(v, "Amount (SAR)") || !strings.Contains(v, "> 1.00") || !strings.Contains(v, "> damaged item") {
		t.Fatalf("not back in the form with the typed values:\n%s", v)
	}
	amountAt := strings.Index(v, "Amount (SAR)")
	refusedAt := strings.Index(v, "✗ Moyasar PG:")
	reasonAt := strings.Index(v, "Reason")
	if !(amountAt < refusedAt && refusedAt < reasonAt) {
		t.Fatalf("the refusal is not beside the amount field:\n%s", v)
	}
	after := readOrder(t, m.provs[pMPG], order.ID)
	for _, r := range after.Refunds {
		if c, _ := r.Amount.Cmp(model.MustParse("1.00", "SAR")); c == 0 {
			t.Fatalf("the refused 1.00 SAR refund exists at the provider: %+v", r)
		}
	}
}
