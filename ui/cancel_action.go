package ui

import (
	"context"
	"fmt"

	"paydesk/api"
	"paydesk/model"
	"paydesk/model/safetext"
)

// newCancelPaymentScreen is the typed confirmation for canceling a payment.
// Canceling moves no money (Forage allows it only before capture or after a
// failure), but it cannot be undone, so it is confirmed the same way.
func newCancelPaymentScreen(c *Context, provider int, order *model.Order, paymentID string) Screen {
	p := c.Providers[provider]
	st := c.Styles
	pay := order.Payment(paymentID)
	lines := []string{
		st.Label.Render("Provider  ") + p.Name(),
		st.Label.Render("Order     ") + safetext.Line(order.Ref),
		st.Label.Render("Payment   ") + safetext.Line(paymentID),
	}
	if pay != nil {
		lines = append(lines,
			st.Label.Render("Amount    ")+pay.Amount.String()+" ("+safetext.Line(pay.Method)+")",
			st.Label.Render("Status    ")+st.StatusText(pay.Status)+st.Faint.Render(" "+safetext.Line(pay.ProviderStatus)))
	}
	lines = append(lines, "", st.StatusWarn.Render("The payment becomes unusable. This cannot be undone."))
	key := newActionKeys(c).For(canonicalRequest("cancel_payment", order.ID, paymentID))
	cs := newConfirmScreen(c, "Cancel payment "+safetext.Line(paymentID), lines, confirmWord(paymentID))
	cs.renew = func() { key = newActionKeys(c).For(canonicalRequest("cancel_payment", order.ID, paymentID)) }
	cs.send = func(ctx context.Context) (ActionDone, error) {
		np, err := p.CancelPayment(ctx, order.ID, paymentID, api.CancelRequest{IdempotencyKey: key})
		if err != nil {
			return ActionDone{}, err
		}
		// The provider's own outcome word: Moyasar voids, Forage cancels.
		done := "canceled"
		if np != nil && np.Status == model.StatusVoided {
			done = "voided"
		}
		return ActionDone{Payment: np, Message: fmt.Sprintf("Payment %s %s.", safetext.Line(paymentID), done)}, nil
	}
	return cs
}
