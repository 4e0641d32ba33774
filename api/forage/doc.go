// Package forage is paydesk's client for the Forage Payments API (EBT SNAP
// and EBT Cash): Orders, OrderPayments, OrderRefunds, refund_all and the
// Order Report. It implements api.Provider over api.Transport, which does
// every retry, backoff, Retry-After, rate limit and the one token refresh
// on 401; this package only builds requests and reads answers.
//
// Decisions on points the reference marks inferred [I] or disputed [X]:
//
//   - Idempotency keys live 24 hours in the current docs and 10 minutes in
//     an older copy [X]. Capabilities.KeyWindow is 10 minutes: if the short
//     window is the real one, a retry after 10 minutes would be taken as a
//     new request and refund twice; assuming the short window only costs a
//     reconciling read when the long one is real.
//   - The Order Report's rows carry only ref, status, the eligible totals,
//     remaining_total, sales_tax_applied and the paid amounts (JSON numbers,
//     null unless the order succeeded or failed): no date, no external id.
//     ListOrders therefore asks one Pacific day at a time, so each row's day
//     is the day asked (shown as a date, never with a made-up time), and
//     fills external id and refund state only for orders already opened.
//     Amount columns show SNAP, EBT Cash and credit/debit paid, "not known"
//     while null; Total is the paid sum, or the eligible totals while unpaid.
//     Request cost: one report request per day of the range (30 for the
//     default 30 days) plus one per extra page of a day with more rows than
//     a page holds; scrolling reads each day once; no per-row reads. Reading
//     each visible order instead would cost 3 requests a row (order,
//     payments, refunds), 60 for one 20-row screen, against a budget of 900
//     per 5 minutes shared by every agent behind the same IP.
//   - Report dates are calendar dates: a From/To the caller gives is sent
//     as its own date (not converted between zones); the default range is
//     the 30 days ending today in Pacific time, the report's day boundary.
//   - The next page cursor is the query of the absolute "next" URL, kept
//     whole (cursor, dates, limit), and only ever sent to the configured
//     base URL: a host in "next" is never followed.
//   - refund_all's "refunds" lists every refund ref on the order in at
//     least the sandbox's reading [I]. RefundOrder therefore reads the
//     order first and reports as created the refunds in the answer's list
//     that were not on the order before, or are still in flight (refund_all
//     refuses while any refund is processing, so an in-flight one is new).
//   - A partial refund names its payment with the key PartialRefundPaymentKey,
//     "payment_ref": an inference [I]. The public docs do not show the key
//     legibly (the OrderRefund object's field is "payment"); if Forage
//     refuses it, this one constant is what to change.
//   - API-Version is pinned to DefaultAPIVersion unless FORAGE_API_VERSION
//     says otherwise.
//   - Update uses PATCH (API 2024-03-05) and falls back to the legacy POST
//     to the same path when the server answers 405.
//   - last_processing_error is read as a string or an object [X]; errors as
//     the documented envelope, {detail}, a source list [C] or DRF's
//     {field: [messages]}.
package forage
