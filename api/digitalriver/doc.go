// Package digitalriver is the Digital River client: it implements
// api.Provider over Digital River's REST API (Orders read side and the
// Refunds resource, API version 2021-03-23) and maps its wire format to
// paydesk/model.
//
// Wire facts it relies on (shared/reference/moyasar-pg-and-digitalriver.md,
// section 2): "Authorization: Bearer <secret key>"; money as JSON numbers in
// major units; cursor pages {hasMore, data} with startingAfter (next page is
// startingAfter=<id of the last item>); refund states pending_information,
// pending, succeeded, failed, expired; errors {type, errors:[{code, parameter,
// message}]}; 429 with integer-seconds Retry-After; and no idempotency key.
//
// Order shape. Since API version 2021-03-23 (the version this client is built
// against) an order's charges live under order.payment.charges, beside
// payment.sources and payment.session; Digital River's release notes call
// the move breaking. The API version is bound to the secret key in the
// Dashboard, not sent per request, so a key still pinned to an older version
// answers with the old top-level order.charges. Decision: the client reads
// payment.charges, and reads the old top-level charges only when payment is
// absent (a key on an older version), because the charge object itself is
// the same and refusing would show an order with money on it as having no
// payments. It never merges the two. Refunds do not depend on the shape: they
// are created and read by order id.
//
// Mapping:
//
//   - An order's charges are its payments; its refunds come from
//     GET /refunds?orderId= (all pages) because the order does not embed them.
//   - Refund state: pending_information and pending -> processing,
//     succeeded -> succeeded, failed and expired -> failed (the provider status
//     keeps the exact word). A state the client does not know (the docs'
//     example says "created") maps to unknown, never to failed.
//   - The refund object has no updatedTime; a refund's Updated is the newest
//     of its createdTime and its charges' refund entries.
//   - Charge state: capturable -> requires action, pending and processing ->
//     processing,
//     complete -> succeeded, cancelled -> canceled, failed -> failed.
//   - Order state: complete/returned become succeeded, partly refunded or
//     refunded from refundedAmount vs capturedAmount; accepted and dispute ->
//     requires action; pending_payment, in_review, fulfilled -> processing;
//     cancelled -> canceled; blocked -> failed. availableToRefundAmount becomes
//     Order.AvailableToRefund.
//   - Digital River refunds are order-level: POST /refunds takes orderId and
//     an amount, no charge id. A refund whose charges list names exactly one
//     charge gets that charge as PaymentID; otherwise PaymentID is empty.
//     RefundPayment is an order-level partial refund (Capabilities
//     PartialRefundOnOrder): its limit is the order's
//     availableToRefundAmount and Digital River spreads it over the captured
//     charges itself. The console offers it on the order screen, never as
//     "refund part of charge X".
//   - Errors: an over-refund is 400 invalid_parameter on "amountRequested"
//     (reported on the form's amount field), a wrong currency 400
//     invalid_parameter on "currency". Refund types are shipping, tax, duty,
//     importer_tax (builds 2021-10 and later); the client sends none.
//   - RefundOrder refunds availableToRefundAmount as one amount refund, and
//     only if it equals the total the agent confirmed.
//   - Metadata values that are not strings keep their JSON text; the console
//     writes strings.
//
// Duplicate defence (no idempotency key at Digital River): every create
// carries metadata "paydesk_intent" = the caller's idempotency key. Before
// sending, the order's refunds are read and an existing refund with that
// marker is returned instead of creating another. The create is never re-sent
// by the transport once it may have reached Digital River; when its outcome is
// unknown (timeout, reset, 409 or 5xx after sending) the order's refunds are
// listed for the marker: found, that refund is the result; not found, the
// error stays "outcome unknown" (api.IsOutcomeUnknown) and only a later call
// with the same key, which reads first, may send again. A 409 is no
// exception: Digital River answers 409 both when it refuses (no complete
// capture) and when it made the refund but the list lags, so one read that
// finds nothing settles nothing. Metadata updates (POST /refunds/{id}) replace
// the whole set, so they may be replayed; they keep the marker if the new set
// drops it.
//
// Requests are paced by a process-wide limiter per key (20/s for sk_test_
// keys, 200/s otherwise, under Digital River's 25 and 250), and a 429 waits
// for Retry-After. Plain http is allowed only to loopback (the sandbox).
package digitalriver
