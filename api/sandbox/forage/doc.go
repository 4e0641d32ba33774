// Package forage is a fake Forage Payments API (Orders, OrderPayments,
// OrderRefunds, refund_all, the Order Report and OAuth tokens) served over
// real HTTP. It is the other side of the wire from paydesk/api/forage and
// deliberately shares no code with it: only the standard library,
// shopspring/decimal and google/uuid are imported.
//
// Wire shapes follow /work/shared/reference/forage-api.md. Where the
// reference marks behaviour as inferred ([I]) or conflicting ([X]) this
// sandbox picks the following documented defaults:
//
// Authentication and headers
//   - POST /o/token/ takes client credentials by HTTP Basic or, as a
//     fallback, as client_id/client_secret form fields. grant_type must be
//     client_credentials (400 unsupported_grant_type otherwise). scope
//     defaults to "hosted_checkout"; expiration (seconds) defaults to 604800
//     and must be 1..2592000 (short values such as the SDK's 60 are allowed).
//     The answer is {access_token, expires_in, token_type:"Bearer", scope};
//     tokens are "sandbox_" + 30 alphanumerics. Bad credentials give 401 with
//     the error envelope, code invalid_client, resource OAuth_Access_Tokens.
//   - /api/ and /reporting/ need "Authorization: Bearer <token>". A missing
//     header gives 401 {"detail":"Authentication credentials were not
//     provided."}; an unknown or expired token gives 401 invalid_token
//     ("Incorrect authentication credentials.", resource Authentication_Token).
//     Expired tokens are 401, not 403.
//   - /api/ paths need Merchant-Account equal to Options.MerchantAccount.
//     Missing or different: 400 missing_merchant_account, resource
//     Merchant_Account_Header. /reporting/ accepts it but does not need it.
//   - API-Version (YYYY-MM-DD) is honoured for refund receipts: from
//     2024-01-08 the OrderRefund endpoints return receipt data; before it,
//     receipt is null and a new OrderRefund answers requires_confirmation
//     (the docs' OrderRefund example). Without the header (or with
//     "default") the version is Options.DashboardAPIVersion, default the
//     original unversioned release, as a merchant's dashboard would be.
//   - Paths must end in "/". Anything else, or an unknown path, is 404
//     not_found. Unknown order/payment/refund refs are 404
//     resource_not_found with source resource Orders / Payments / Refunds.
//     A known path with the wrong method is 405 method_not_allowed.
//   - Routing (404/405) is decided before authentication.
//
// Validation errors
//   - Field problems (missing reason, bad amount, external_order_id over 64
//     characters, metadata not an object, ...) are 400 with code
//     invalid_input_data and message "<field>: <problem>". An unparsable
//     body is 400 cannot_parse_request_body. Business-rule violations are
//     400 with the documented codes.
//
// OrderPayments
//   - The OrderPayment carries "receipt" (transaction_type "Payment") once it
//     succeeded or failed (a failed payment's receipt.message explains the
//     decline); it is null otherwise. last_processing_error is an object
//     {code, message} or null.
//   - Update (PATCH, or the legacy POST, same semantics) is a partial
//     update: only fields present in the body are considered. In
//     processing/canceled/succeeded only metadata and external_order_id
//     change, everything else is silently ignored; failed additionally
//     accepts payment_method (the sandbox records it but does not re-run the
//     capture: the payment stays failed); requires_confirmation accepts
//     description, amount, funding_type, payment_method, customer_id,
//     external_order_id, external_location_id, metadata and the fixed
//     settlements. Idempotency-Key is optional on updates (honoured when
//     sent), required on every create (refunds, refund_all, cancel).
//   - metadata is stored exactly as sent (any JSON values inside the
//     object, hostile strings included) and echoed back unmodified.
//   - Cancel needs status requires_confirmation or failed, else 400
//     cannot_cancel_payment. It does not change the order's status.
//
// OrderRefunds and refund_all
//   - The partial refund body names the payment with "payment_ref".
//     amount may be a JSON string or number; metadata is required (object);
//     external_order_id defaults to the order's. The refundable amount of a
//     payment is its amount minus its processing and succeeded refunds.
//     Checks, in order: body fields, payment exists (404), order succeeded
//     (order_not_succeeded), payment succeeded (payment_not_succeeded),
//     payment success older than 90 days (cannot_refund_after_90_days),
//     amount over what is left (refund_exceeds_order_total). Success is
//     always 201 with the refund in status processing.
//   - refund_all: 400 order_not_succeeded for orders that are not
//     succeeded, 400 wait_for_batch_refund while any refund of the order is
//     processing, one refund per succeeded payment for what is left on it
//     (payments older than 90 days are skipped), 400 order_already_refunded
//     when nothing is left. Answers 200 with the Order; its "refunds" lists
//     every refund ref on the order, old and new.
//   - Refunds resolve lazily from the clock (no goroutines): processing
//     until created+RefundLatency, then succeeded, or failed with
//     last_processing_error ebt_error_91 when the order was paid with card
//     ...3311 (EBT Cash refunds fail) or ...3309 (SNAP refunds fail), the
//     documented failing test cards. Failed refunds do not count against the
//     refundable amount.
//   - A refund receipt (transaction_type "Refund") exists from creation.
//     Its balance starts as the card balance before the refund; after
//     success balance.updated moves twice more, at created+2*latency (the
//     refunded amount is credited) and created+3*latency (re-confirmed,
//     same amounts), then settles. The refund's "updated" follows the
//     latest of these changes. Each order pays with one EBT card, so refunds
//     of one order credit the same balance.
//
// Idempotency
//   - Keys are scoped by merchant account, method and path. Bodies are
//     compared as canonical JSON (decoded and re-encoded, so key order and
//     whitespace do not matter; non-JSON bodies are compared byte-for-byte
//     after trimming whitespace). Same key and body replays the stored
//     status and body without side effects; a different body is 400
//     cannot_change_request (resource Idempotency_Key). Only 2xx answers
//     are stored (like Stripe): a rejected request can be retried with the
//     same key. Entries live Options.IdempotencyTTL. A duplicate that
//     arrives while the first is in flight waits on a per-key mutex and
//     then replays. A missing key on a create is 400
//     missing_idempotency_key, resource Idempotency_Key.
//
// Rate limit
//   - Options.RateLimit requests per fixed Options.RateWindow per source IP
//     (as Forage documents; token requests count too).
//     Over the limit: 429 too_many_requests with Retry-After in seconds.
//     /sandbox/ paths are not limited.
//
// Order Report
//   - GET /reporting/orders/ needs start_date and end_date (YYYY-MM-DD,
//     inclusive, Pacific-time days); limit defaults to 100, 1..1000. With
//     status=succeeded only succeeded orders are listed, by success_date.
//     Rows are newest first. Cursors are opaque keyset positions, so pages
//     stay stable while new orders appear. next/previous are absolute URLs
//     built from the request's Host. Rows carry only the documented columns
//     (ref, status, snap_eligible_total, ebt_cash_eligible_total,
//     remaining_total, sales_tax_applied, snap_paid, ebt_cash_paid,
//     credit_debit_paid): no created, success_date, external_order_id or
//     customer_id, which the real report does not send either.
//
// Seeded data
//   - Options.Orders orders over the last 90 days, deterministic from
//     Options.Seed and Now() at New(): mostly succeeded orders with one to
//     three EBT payments, some partly refunded, some fully refunded, failed
//     orders with last_processing_error (ebt_error_51/54/55/14), canceled
//     orders, a few draft orders with requires_confirmation payments, a few
//     refunds still processing at start, orders paid with the failing test
//     cards ...3311 and ...3309, and about 3% of orders carrying hostile
//     strings (OSC 52, bidi override, CR overwrite, CSI, newlines) in
//     metadata, descriptions, refund reasons, ids or product names.
//     Timestamps are RFC 3339 UTC with microseconds; refs are 10 lowercase
//     hex characters.
//
// Not served (405 or 404): creating Orders, Sessions or OrderPayments,
// PATCH/cancel of an Order, refund_by_product, token revocation, webhooks.
// New captured orders come from the sandbox-only POST /sandbox/orders/.
//
// Sandbox-only extensions live under /sandbox/ and need no token:
// GET /sandbox/health/ and POST /sandbox/orders/ (create a captured order
// for a demo; see handleSandboxCreateOrder).
package forage
