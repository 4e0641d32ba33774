// Package digitalriver is a fake Digital River API (Refunds resource, API
// version 2021-03-23, plus the read side of Orders) served over real HTTP for
// the paydesk sandbox. It is the other side of the wire: it shares no code with
// the paydesk client and imports only the standard library,
// shopspring/decimal and google/uuid.
//
// Endpoints (all need "Authorization: Bearer <APIKey>"):
//
//	GET  /orders            cursor pages, filters createdTime[..], state, currency, ids, upstreamIds
//	GET  /orders/{id}       one order
//	GET  /refunds           cursor pages, filters orderId, state, reason, failureReason, ids, createdTime[..]
//	GET  /refunds/{id}      one refund
//	POST /refunds           create a refund: 201, state "pending"
//	POST /refunds/{id}      update metadata only: 200
//
// Sandbox-only extras live under /sandbox/ (same auth, not rate limited):
//
//	GET  /sandbox/scenarios  order ids grouped by seeded scenario (not_captured,
//	                         cancelled, refund_will_fail, pending_information,
//	                         hostile_metadata, multi_charge, pending_at_start,
//	                         partly_refunded, fully_refunded, failed_charge,
//	                         currency_XXX, and "refundable": captured orders with
//	                         money left whose refunds will succeed)
//	POST /sandbox/faults     {"kind": K, "count": N, "delayMs": D} arms the next N
//	                         POST /refunds with a fault: "error_after_commit" (the
//	                         refund is created, the answer is a 500),
//	                         "reset_after_commit" (created, then the TCP connection
//	                         is reset), "hang_after_commit" (created, the answer is
//	                         held for delayMs, default 10s, or until the client
//	                         gives up), "unavailable" (503, nothing created).
//	DELETE /sandbox/faults   disarm all faults.
//
// Confirmed behaviour ([C] in shared/reference/moyasar-pg-and-digitalriver.md
// section 2): Bearer secret key; money as JSON numbers in major units; camelCase
// fields; cursor pages {hasMore, data} with startingAfter/endingBefore/limit
// (1-100, default 10); refund states pending_information, pending, succeeded,
// failed, expired; charge-level refund states pending, complete, failed;
// create needs orderId or invoiceId, currency, exactly one of amount, percent
// (0.01-100) or items; reason at most 64 characters; update accepts metadata
// only; refunds need a complete capture; the ceiling is availableToRefundAmount
// = captured - (completed + pending refunds); errors
// {type, errors:[{code, parameter, message}]}; 429 with integer-seconds
// Retry-After; there is no idempotency key. API version 2021-03-23 shape
// (DigitalRiver/digital-river-php lib/Model/Order.php, Payments.php,
// OrderRefund.php, Charge.php): an order's charges live under
// payment.charges beside payment.sources and payment.session (no top-level
// charges); the refund object has no updatedTime; charge states include
// pending; refund types are shipping, tax, duty, importer_tax; an
// over-refund is 400 invalid_parameter on amountRequested and a currency that
// is not the order's is 400 invalid_parameter on currency.
//
// Inferred decisions ([I], chosen here because the sources do not say):
//
//   - Lists are newest first by createdTime, ties broken by id descending. A
//     cursor must name an existing object of the listed kind (else 400 on that
//     parameter); the page holds the filtered objects strictly older
//     (startingAfter) or strictly newer (endingBefore) than the cursor. With
//     endingBefore, the page is the `limit` objects closest to the cursor, still
//     newest first, and hasMore says whether still newer objects exist. Giving
//     both cursors is a 400.
//   - ids and upstreamIds filters accept `name`, `name[]`, repeated or comma separated.
//     createdTime accepts an exact RFC 3339 value or [gt], [gte], [lt], [lte],
//     [eq]; a bad value is a 400 on that parameter.
//   - Error codes: invalid_parameter, missing_parameter, not_found,
//     unauthorized, conflict ("no complete capture", 409), too_many_requests,
//     internal_server_error, service_unavailable. An unknown orderId on create
//     is a 400 invalid_parameter on orderId (the docs list no 404 for create);
//     invoiceId is accepted as a parameter but no invoices exist, so it is a 400.
//     Unknown body fields are a 400 invalid_parameter naming the field.
//   - Amounts may not have more decimals than the currency allows (JPY 0, others
//     2). A percent refund is percent of capturedAmount, truncated to the
//     currency's decimals. The type field (shipping, tax, duty, importer_tax)
//     is validated but refunds of every type draw on the same order-level
//     availableToRefundAmount (tax and shipping are not modelled separately).
//   - payment.sources holds one creditCard source per charge (no clientSecret:
//     nothing the console needs); payment.session is complete with the whole
//     total contributed, its id derived from the order id.
//   - An items refund names items by itemId or skuId; its amount defaults to the
//     unit price times quantity; item availableToRefundAmount is the item amount
//     minus its item refunds, capped by the order's availableToRefundAmount.
//   - A refund is split across the order's complete charges in charge order, up
//     to each charge's captured amount less its non-failed refunds; a charge's
//     refunded flag is true once any non-failed refund is allocated to it.
//   - Lifecycle is computed lazily from the clock: pending until
//     createdTime + RefundLatency, then succeeded, or failed with failureReason
//     "expired_or_canceled_card" when the order is one of the seeded
//     refund_will_fail orders (their card source expired). Two seeded refunds
//     are pending_information (customer must supply bank details): one whose
//     expiresTime passed (now expired) and one still open. pending_information
//     counts as pending against availableToRefundAmount; failed and expired do
//     not. New refunds are never pending_information.
//   - refundedAmount on a refund is its amount once succeeded, else 0; on the
//     order it is the sum of succeeded refunds. An order whose refundedAmount
//     equals capturedAmount reports state "returned".
//   - Refund metadata update replaces the whole metadata object and stores it
//     exactly as sent (a JSON object or null, at most 8 KiB); reason may be any
//     text up to 64 characters (runes).
//   - Rate limit: a token bucket per API key holding RatePerSecond tokens and
//     refilled at RatePerSecond per wall-clock second (not the injected clock);
//     a negative RatePerSecond disables it. Unauthenticated requests get 401
//     before the limiter.
//   - No PII: orders carry no email, names or addresses; sourceId is an opaque
//     uuid. Under 5% of orders (every 25th) carry a hostile terminal string
//     (from shared/hostile-strings.jsonl, embedded) in metadata.note.
//   - Seed data is a pure function of Options.Seed, Options.Orders and Now() at
//     New(); refunds created later get random ids.
package digitalriver
