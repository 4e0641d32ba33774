// Package moyasar is a fake Moyasar Payment Gateway (MPG) merchant API for the
// paydesk sandbox: the other side of the wire for paydesk/api/moyasar. It
// imports only the standard library and google/uuid and shares no types with
// the client, so a mismatch in field names shows up as a test failure.
//
// Routes (all but /sandbox/ need "Authorization: Bearer <APIKey>"):
//
//	GET  /v1/orders                     page pagination + filters
//	GET  /v1/orders/:id                 order with all transactions
//	GET  /v1/orders/:id/transactions    {transactions, meta}; status[], type[], sort
//	POST /v1/orders/:id/refund          {amount, transaction_id?} -> 200 full order
//	POST /v1/orders/:id/void            {amount, transaction_id?} -> 200 full order
//	GET  /sandbox/health                {"ok":true} (no auth)
//
// Behaviour that the MPG docs confirm is followed as documented; the rest are
// decisions made here (the reference tags them [I]):
//
//   - Auth: a missing or non-Bearer Authorization header is 401 "Missing
//     authentication information"; an unknown key is 401 "Unauthorized". The
//     optional Options.ReadOnlyAPIKey may read; its POSTs get 403
//     "Unauthorized" (the documented "key lacks permission" answer).
//   - Pagination: the page-number parameter is "page" (default 1, must be >= 1);
//     "items" is 1..100 (default 25). Bad values are 422 "Data validation
//     failed" with errors keyed by the parameter name. A page past the end is an
//     empty list with next_page null. No totals are returned ("countless").
//   - Order filters: created_at[gte|lte], updated_at[gte|lte] (RFC 3339, a
//     zone-less timestamp taken as UTC, or a plain date; a plain date as an
//     upper bound means the end of that day), amount[gte|lte] (minor units,
//     on the original amount), and repeatable id, currency, scheme,
//     last_digits, first_digits (prefix match either way), source_type (card
//     source type); "key[]" is the same as "key". sort[field] is one of
//     created_at, updated_at, amount, captured_amount, refunded_amount,
//     currency, merchant_id; sort[dir] asc|desc, default created_at desc; ties
//     are broken by id. Unknown parameters are ignored.
//   - Order totals are derived from the transactions on every read:
//     captured_amount = approved purchase + capture, refunded_amount = approved
//     refunds only, voided_amount = approved voids. Approved refunds are also
//     shown as refunded_amount on the purchase/capture transactions, filled in
//     order, each up to its own amount.
//   - Refund rules: amount is an integer 1..100000000 (422 errors.amount
//     otherwise, also for a missing or non-integer amount). An order with no
//     approved capture is 400 "Order has no captured amount to refund.". An
//     amount above captured - (approved + initiated refunds) is 422
//     errors.amount ["The value must be less than or equal to N."] (422 rather
//     than 400: it is a field-level check the client can show next to the
//     amount). Failed, timeout and system_error refunds do not use up the
//     refundable amount. A malformed JSON body is 400.
//   - Refund lifecycle is computed lazily from the clock: a new refund is
//     "initiated" (message and response_code null) until created_at +
//     RefundLatency, then settles. It settles "approved" (APPROVED/00) unless
//     the order's card ends in LastDigitsRefundDeclined (0002: failed,
//     DECLINED/05), LastDigitsRefundTimeout (0003: timeout, TIMEOUT/null) or
//     LastDigitsRefundSystemError (0004: system_error, SYSTEM_ERROR/96).
//     updated_at moves to the settle time. On a card ending in
//     LastDigitsRefundReversed (0005) the refund times out, and one more
//     RefundLatency later the gateway appends an approved "reversal"
//     transaction (reversed_transaction_id = the refund, reverse_reason
//     request_timeout, same amount): the refund never moved money.
//   - Seeded transaction types besides purchase, authorize, capture, refund
//     and void: every other seeded timed-out refund has its reversal (card
//     0005); the first stored-credential order starts with a zero-amount
//     approved "verify"; the first uncaptured authorization has a zero-amount
//     approved "extension". Other orders are drawn exactly as before.
//   - transaction_id is the idempotency key (UUID of any version, stored
//     lower-case; the seed's own example uses a v4). Ids are global: reusing
//     one on another order, for another kind of transaction (including the ids
//     of seeded transactions), or with a different amount is 422
//     errors.transaction_id. A repeat with the same order, kind and amount is
//     400 "Initial request is still processing." while the first request is
//     still being handled (Options.ProcessingDelay) or within
//     Options.ProcessingWindow of it by the clock (default 1s); after that it
//     returns 200 with the order, which holds the one existing transaction.
//     Without transaction_id the server makes a UUIDv7 and nothing is
//     idempotent.
//   - While a request holds an order (ProcessingDelay > 0), other refunds and
//     voids for that order wait up to 2s, then get the same 400.
//   - Void: only for orders with an approved authorization and no capture;
//     amount <= authorized - voided (422 otherwise); the void is approved at
//     once. A captured order is 400.
//   - Unknown order ids and paths are 404 {"message":"Not found"}; a wrong
//     method is 405.
//
// Seed data is a pure function of Options.Seed, Options.Orders and Now() at
// New: orders over the last 90 days from five merchants (SAR mostly, KWD and
// BHD with 3-decimal minor units), with purchases, authorize+capture (some
// partial), open and voided authorizations, declined purchases, partial and
// full refunds, and failed/timed-out/system-error refunds on the magic cards.
// Two recent orders start with a refund in flight that settles RefundLatency
// after New. About 3% of descriptions are terminal-hostile strings (escape
// sequences, bidi controls, very long text cut to 1024 runes). Ids are
// UUIDv7 whose time part is the object's created_at. Cards show only BIN
// (6-8 digits) and last four.
package moyasar
