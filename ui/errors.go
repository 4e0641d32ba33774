package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"paydesk/api"
	"paydesk/model/safetext"
)

// explanations turn the provider codes an agent meets most into what to do
// next. The provider's own code and message are always shown too.
var explanations = map[string]string{
	"wait_for_batch_refund":       "refunds on this order are still processing; refund again once they have settled",
	"order_already_refunded":      "nothing is left to refund on this order",
	"refund_exceeds_order_total":  "the amount is more than is left to refund",
	"cannot_refund_after_90_days": "EBT refunds are impossible more than 90 days after the payment",
	"cannot_change_request":       "this idempotency key was used for a different request; nothing was changed",
	"too_many_requests":           "the provider's rate limit was hit; wait a moment",
	"invalid_token":               "the credentials were refused; check the FORAGE_* settings",
	"missing_merchant_account":    "no merchant account is configured (FORAGE_MERCHANT_ACCOUNT)",
	"cannot_cancel_payment":       "only payments that require confirmation or failed can be canceled",
}

// DescribeError renders an error for the status line: provider, HTTP status,
// the provider's code and message (made terminal-safe), and a plain reading.
func DescribeError(err error) string {
	if err == nil {
		return ""
	}
	switch {
	case errors.Is(err, api.ErrReadOnly):
		return "Refused: this console is read-only (--read-only); nothing was sent."
	case errors.Is(err, api.ErrNotSupported):
		return "Refused: the provider does not support this action."
	}
	e, ok := api.AsError(err)
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) {
			return "Timed out waiting for the provider. " + safetext.Line(err.Error())
		}
		return safetext.Line(err.Error())
	}
	var b strings.Builder
	if api.IsOutcomeUnknown(err) {
		b.WriteString("OUTCOME UNKNOWN — the request was sent but no answer came back; do not retry by hand, paydesk will check. ")
	}
	if e.Provider != "" {
		b.WriteString(e.Provider + " ")
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, "%d ", e.HTTPStatus)
	}
	if e.Code != "" {
		b.WriteString(safetext.Line(e.Code) + ": ")
	}
	switch {
	case e.Message != "":
		b.WriteString(safetext.Line(e.Message))
	case e.Err != nil:
		b.WriteString(safetext.Line(e.Err.Error()))
	}
	for _, f := range e.Fields {
		if f.Message != e.Message {
			fmt.Fprintf(&b, " (%s: %s)", safetext.Line(f.Field), safetext.Line(f.Message))
		}
	}
	if why, ok := explanations[e.Code]; ok {
		b.WriteString(" — " + why)
	}
	return strings.TrimSpace(b.String())
}
