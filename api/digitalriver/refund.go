package digitalriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"paydesk/api"
	"paydesk/model"
)

// reconcileTimeout bounds the read that settles an unknown outcome when the
// caller's own deadline is what ran out.
const reconcileTimeout = 10 * time.Second

// RefundOrder implements api.Provider: one refund of the order's
// availableToRefundAmount, which must equal the total the agent confirmed
// (r.Expected); if it moved in between, nothing is sent.
func (c *Client) RefundOrder(ctx context.Context, orderID string, r api.RefundOrderRequest) (*api.RefundResult, error) {
	op := "refund order " + orderID
	w, refunds, err := c.order(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if res, err := c.already(w, refunds, r.IdempotencyKey); res != nil || err != nil {
		return res, err
	}
	avail, err := money(w.AvailableToRefundAmount, w.Currency, "availableToRefundAmount")
	if err != nil {
		return nil, err
	}
	if !avail.IsPositive() {
		return nil, c.refused(op, "nothing_to_refund", "amount", "nothing is left to refund on this order")
	}
	if r.Expected.Currency == "" || !r.Expected.IsPositive() {
		return nil, c.refused(op, "no_confirmed_amount", "amount", "the confirmed total is missing")
	}
	if cmp, err := r.Expected.Cmp(avail); err != nil || cmp != 0 {
		return nil, c.refused(op, "amount_changed", "amount",
			fmt.Sprintf("the order now has %s left to refund, not the confirmed %s; review and confirm again", avail, r.Expected))
	}
	return c.create(ctx, op, w, avail, r.Reason, r.Metadata, r.IdempotencyKey)
}

// RefundPayment implements api.Provider. Digital River refunds are
// order-level: POST /refunds takes the order id and an amount, never a
// charge, and Digital River spreads the amount over the order's captured
// charges itself. So this is an order-level partial refund bounded by the
// order's availableToRefundAmount. paymentID "" is the honest call (the
// console makes it from the order screen); a non-empty paymentID must still
// name a charge of the order, so a stale screen cannot refund the wrong
// order, but it does not pick the charge the money comes from.
func (c *Client) RefundPayment(ctx context.Context, orderID, paymentID string, r api.RefundPaymentRequest) (*api.RefundResult, error) {
	op := "refund order " + orderID
	w, refunds, err := c.order(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if res, err := c.already(w, refunds, r.IdempotencyKey); res != nil || err != nil {
		return res, err
	}
	if paymentID != "" {
		found := false
		for _, ch := range w.charges() {
			found = found || ch.ID == paymentID
		}
		if !found {
			return nil, c.refused(op, "not_found", "paymentId", "order "+orderID+" has no charge "+paymentID)
		}
	}
	if r.Amount.Currency != w.Currency {
		return nil, c.refused(op, "currency_mismatch", "amount", fmt.Sprintf("amount is in %q, the order in %s", r.Amount.Currency, w.Currency))
	}
	if !r.Amount.IsPositive() {
		return nil, c.refused(op, "invalid_amount", "amount", "amount must be more than zero")
	}
	avail, err := money(w.AvailableToRefundAmount, w.Currency, "availableToRefundAmount")
	if err != nil {
		return nil, err
	}
	if !avail.IsPositive() {
		return nil, c.refused(op, "nothing_to_refund", "amount", "nothing is left to refund on this order (no complete capture, or all refunded)")
	}
	if cmp, _ := r.Amount.Cmp(avail); cmp > 0 {
		return nil, c.refused(op, "amount_too_large", "amount", fmt.Sprintf("only %s is left to refund on the order", avail))
	}
	return c.create(ctx, op, w, r.Amount, r.Reason, r.Metadata, r.IdempotencyKey)
}

// refused is a client-side refusal: nothing was sent.
func (c *Client) refused(op, code, fieldName, msg string) *api.Error {
	return &api.Error{Provider: c.t.Provider, Op: op, Code: code, Message: msg,
		Fields: []api.FieldError{{Field: fieldName, Code: code, Message: msg}}}
}

// already returns the refunds an earlier attempt of this intent created, if
// any: an intent is sent at most once per absence seen by reading.
func (c *Client) already(w *wireOrder, refunds []wireRefund, key string) (*api.RefundResult, error) {
	if key == "" {
		return nil, errors.New("digitalriver: a refund needs an idempotency key (it becomes the paydesk_intent marker)")
	}
	found, err := matching(refunds, key)
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return &api.RefundResult{Refunds: found}, nil
}

// matching lists the refunds whose metadata carries the intent key.
func matching(refunds []wireRefund, key string) ([]model.Refund, error) {
	var out []model.Refund
	for i := range refunds {
		if v, ok := refunds[i].Metadata[IntentKey].(string); ok && v == key {
			r, err := refunds[i].toModel()
			if err != nil {
				return nil, err
			}
			out = append(out, *r)
		}
	}
	return out, nil
}

// FindIntent lists the refunds of an order that carry the intent marker key.
// The console calls it to settle an intent whose outcome is unknown (after a
// restart, say) before it lets anyone refund that order again.
func (c *Client) FindIntent(ctx context.Context, orderID, key string) ([]model.Refund, error) {
	refunds, err := c.orderRefunds(ctx, orderID)
	if err != nil {
		return nil, err
	}
	return matching(refunds, key)
}

// create sends POST /refunds once. Digital River has no idempotency key, so
// the request is never re-sent by the transport after it may have arrived.
// When the outcome is unknown the order's refunds are read for the marker:
// found, it is the result; not found, the error stays "outcome unknown" and
// the next attempt with the same key reads again before sending.
func (c *Client) create(ctx context.Context, op string, w *wireOrder, amount model.Money, reason string,
	md model.Metadata, key string) (*api.RefundResult, error) {
	if fe := model.ValidateReason(reason, 64); fe != nil {
		return nil, c.refused(op, "invalid_parameter", "reason", fe.Rule)
	}
	if errs := model.ValidateMetadata(md); len(errs) > 0 {
		return nil, api.Invalid(ProviderID, op, errs)
	}
	meta := md.Clone()
	meta[IntentKey] = key
	body, err := json.Marshal(createBody{
		OrderID:  w.ID,
		Currency: w.Currency,
		Amount:   json.Number(amount.Fixed()),
		Reason:   reason,
		Metadata: meta,
	})
	if err != nil {
		return nil, err
	}
	resp, err := c.t.Do(ctx, api.Request{
		Op: op, Method: http.MethodPost, Path: "/refunds", Body: body,
		Mutating: true, Replayable: false,
	})
	if err == nil {
		r, derr := decodeRefund(resp.Body)
		if derr == nil {
			return &api.RefundResult{Refunds: []model.Refund{*r}}, nil
		}
		// Created (2xx) but unreadable: read it back by its marker.
		err = &api.Error{Provider: c.t.Provider, Op: op, HTTPStatus: resp.Status,
			Message: "the refund was accepted but the answer was unreadable", Unknown: true, Err: derr}
	}
	if !api.IsOutcomeUnknown(err) {
		return nil, requestFields(err)
	}
	return c.reconcile(ctx, op, w.ID, key, err)
}

// requestFields renames the parameters Digital River names in its answers to
// the request fields they complain about: an over-refund is reported on
// "amountRequested", which is the body's "amount", and the console shows a
// provider's complaint beside the field the agent typed.
func requestFields(err error) error {
	e, ok := api.AsError(err)
	if !ok {
		return err
	}
	for i := range e.Fields {
		if e.Fields[i].Field == "amountRequested" {
			e.Fields[i].Field = "amount"
		}
	}
	return err
}

// reconcile reads the order's refunds once for the intent marker after an
// unknown outcome: found, it is the result; not found, the send error stays.
func (c *Client) reconcile(ctx context.Context, op, orderID, key string, sendErr error) (*api.RefundResult, error) {
	if errors.Is(ctx.Err(), context.Canceled) {
		return nil, sendErr // the agent gave up; the next action reconciles first
	}
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), reconcileTimeout)
		defer cancel()
	}
	found, err := c.FindIntent(ctx, orderID, key)
	if err != nil {
		return nil, sendErr
	}
	if len(found) > 0 {
		return &api.RefundResult{Refunds: found}, nil
	}
	// Not found yet is not "not made": a 409 or 5xx after the POST was sent
	// stays unknown, and whoever holds the intent (the journal) reads again
	// until the provider's settle window has passed.
	return nil, sendErr
}
