// Package moyasar is paydesk's client for the Moyasar Payment Gateway (MPG)
// merchant API: orders that carry their transactions, refunds and voids in
// integer minor units, and a client-chosen transaction_id as the idempotency
// key. It implements api.Provider over the shared api.Transport.
//
// Mapping decisions (MPG documents no order status and no refund object):
//
//   - Orders: status is derived from the provider's sums: captured and fully
//     refunded -> refunded; partly refunded -> partly_refunded; captured ->
//     succeeded; authorizations all voided -> voided; an open authorization
//     -> requires_action; nothing approved -> failed (declined), processing
//     (initiated) or unknown (timeout/system_error); no transactions -> draft.
//     ProviderStatus carries the same in MPG's words ("captured", ...).
//   - Payments are the purchase and capture transactions. While an order has
//     no capture, its authorizations are shown as payments too (status
//     requires_action, or voided once voids cover them) so an agent can void
//     one with CancelPayment.
//   - Refunds are the refund transactions: initiated -> processing, approved
//     -> succeeded, failed -> failed (LastError = response_code + message),
//     timeout/system_error and anything unknown -> unknown (never failed),
//     until an approved "reversal" transaction names it
//     (reversed_transaction_id; reverse_reason request_timeout,
//     gateway_timeout, response_error or delivery_error): then it is failed
//     with provider status "reversed", not refunded, and frees its amount. A
//     reversed purchase or capture is voided.
//     MPG refunds the order, not a transaction, so each refund is attributed
//     to the succeeded payments oldest first, each up to its amount; that
//     keeps model.Order.RefundableOn right (a capture's own refunded_amount
//     may stay 0 after a full refund, as in the published example, so it is
//     not used). AvailableToRefund is the provider's captured_amount less
//     every refund that may hold money; the order's refunded total is the
//     larger of refunded_amount and its approved, unreversed refunds.
//   - Void, verify (zero-amount card check), extension (authorization
//     extension) and reversal transactions, merchant,
//     sub-merchant, airline and agreement appear in Order.Fields.
//   - Cards show only scheme, BIN (first 6-8 digits; a longer or non-digit
//     value is cut to 6 or dropped) and the last four.
//
// Money requests:
//
//   - amount is Money converted to minor units by the currency exponent,
//     exactly (Money.Minor refuses rather than rounds); 1..100,000,000.
//   - transaction_id comes from the request's IdempotencyKey: a UUID key is
//     sent as is (paydesk mints UUIDv7 keys), any other non-empty key is mapped
//     to a name-based UUID so every retry sends the same id; an empty key is
//     refused, because without it a retry could refund twice.
//   - The request is Mutating and Replayable for the transport: MPG
//     recognises a repeated transaction_id, so lost answers are retried.
//   - 400 "Initial request is still processing." becomes an *api.Error with
//     Code CodeStillProcessing, Retryable and Unknown (IsOutcomeUnknown is
//     true): re-read the order, and retry later with the same key.
//   - Error bodies {message, errors{field:[...]}} become *api.Error with one
//     FieldError per message.
//   - RefundOrder sends exactly Expected (what the agent confirmed);
//     RefundPayment sends Amount for the order (paymentID only labels the
//     operation). Neither reads first: a retry of a refund that already
//     happened must reach MPG to be recognised, not be refused locally.
//   - The refund reason and metadata have no MPG field and are not sent.
package moyasar
