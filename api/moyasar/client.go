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

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/model"
)

// ProviderID is the stable short name used in the journal and audit log.
const ProviderID = "moyasar"

// CodeStillProcessing is the api.Error Code of MPG's 400 "Initial request is
// still processing.": the first request with this transaction_id may still
// happen. Re-read the order; retry later with the same idempotency key.
const CodeStillProcessing = "initial_request_processing"

const (
	msgStillProcessing = "Initial request is still processing."
	maxRequestAmount   = 100_000_000
	defaultPageSize    = 25
)

// Environment variables that point the console at an MPG account.
const (
	EnvBaseURL = "MOYASAR_BASE_URL"
	EnvAPIKey  = "MOYASAR_API_KEY"
)

// ConfigFromEnv reads MOYASAR_BASE_URL and MOYASAR_API_KEY. ok is false when
// no base URL is set (the provider is not configured); a base URL without a
// key is an error.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	base := strings.TrimSpace(getenv(EnvBaseURL))
	if base == "" {
		return Config{}, false, nil
	}
	key := strings.TrimSpace(getenv(EnvAPIKey))
	if key == "" {
		return Config{}, true, fmt.Errorf("moyasar: %s is set but %s is not", EnvBaseURL, EnvAPIKey)
	}
	return Config{BaseURL: base, APIKey: api.NewSecret(key)}, true, nil
}

// Config configures a Client.
type Config struct {
	BaseURL string     // MOYASAR_BASE_URL, e.g. https://pg.moyasar.com
	APIKey  api.Secret // MOYASAR_API_KEY, sent as a Bearer token
	// RoundTripper carries the connections (tests wrap it); nil =
	// api.DefaultRoundTripper. The transport owns the client around it.
	RoundTripper http.RoundTripper
	Retry        api.RetryPolicy
	Limiter      *rate.Limiter // nil = one shared limiter per base URL
	PageSize     int           // orders per page when a query gives no Limit; default 25
}

// Client talks to one MPG merchant account.
type Client struct {
	t        *api.Transport
	pageSize int
}

var _ api.Provider = (*Client)(nil)

// New checks cfg and builds a client. It makes no request.
func New(cfg Config) (*Client, error) {
	u, err := api.ParseBaseURL("moyasar", cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	if cfg.APIKey.IsZero() {
		return nil, errors.New("moyasar: API key is required")
	}
	base := strings.TrimRight(u.String(), "/")
	lim := cfg.Limiter
	if lim == nil {
		// MPG publishes no rate limit; 10 requests a second with a burst of 10
		// is gentle and still fast for one console.
		lim = api.SharedLimiter("moyasar "+base, 100*time.Millisecond, 10)
	}
	size := cfg.PageSize
	if size <= 0 || size > 100 {
		size = defaultPageSize
	}
	return &Client{
		t: &api.Transport{
			Provider:       ProviderID,
			Name:           "Moyasar",
			BaseURLSetting: EnvBaseURL,
			BaseURL:        base,
			RoundTripper:   cfg.RoundTripper,
			Auth:           api.Bearer{Key: cfg.APIKey},
			Limiter:        lim,
			Retry:          cfg.Retry,
			DecodeError:    decodeError,
		},
		pageSize: size,
	}, nil
}

func (c *Client) ID() string   { return ProviderID }
func (c *Client) Name() string { return "Moyasar PG" }

// Capabilities: refunds (whole or partial, both taken from the order), voids
// of open authorizations; nothing is editable in MPG.
func (c *Client) Capabilities() api.Capabilities {
	return api.Capabilities{
		RefundOrder:          true,
		RefundPayment:        true,
		CancelPayment:        true,
		OrderRange:           true,
		Filters:              api.OrderFilters{Currency: true, Card: true, Amount: true, Sort: true},
		PartialRefundOnOrder: true,
		Idempotency:          api.IdempotencyBodyID,
		// A transaction_id stays on its transaction, so MPG should recognise
		// it for as long as the order exists; one day is a conservative bound.
		KeyWindow:       24 * time.Hour,
		AmountColumns:   []string{"Captured", "Refunded"},
		ReferenceColumn: "Card",
		MinorUnits:      true,
		EditableFields:  func(*model.Payment) []api.EditableField { return nil },
		CanCancel:       func(p *model.Payment) bool { return p != nil && p.Status == model.StatusRequiresAction },
	}
}

// ListOrders returns one page, newest first. The cursor is MPG's page number.
func (c *Client) ListOrders(ctx context.Context, q api.OrderQuery) (api.OrderPage, error) {
	page := 1
	if q.Cursor != "" {
		n, err := strconv.Atoi(q.Cursor)
		if err != nil || n < 1 {
			return api.OrderPage{}, fmt.Errorf("moyasar: bad page cursor %q", q.Cursor)
		}
		page = n
	}
	items := q.Limit
	if items <= 0 {
		items = c.pageSize
	}
	items = min(items, 100)
	v := url.Values{}
	v.Set("page", strconv.Itoa(page))
	v.Set("items", strconv.Itoa(items))
	field, dir := "created_at", "desc"
	if q.SortBy == api.SortAmount {
		field = "amount"
	}
	if q.SortBy != "" && q.Ascending {
		dir = "asc"
	}
	v.Set("sort[field]", field)
	v.Set("sort[dir]", dir)
	if q.Currency != "" {
		v.Set("currency", strings.ToUpper(q.Currency))
	}
	if q.CardScheme != "" {
		v.Set("scheme", strings.ToLower(q.CardScheme))
	}
	if q.CardLast4 != "" {
		v.Set("last_digits", q.CardLast4)
	}
	for name, m := range map[string]*model.Money{"amount[gte]": q.AmountMin, "amount[lte]": q.AmountMax} {
		if m == nil {
			continue
		}
		minor, err := m.Minor() // MPG filters in minor units, like every amount it takes
		if err != nil {
			return api.OrderPage{}, fmt.Errorf("moyasar: %s: %w", name, err)
		}
		v.Set(name, strconv.FormatInt(minor, 10))
	}
	if !q.From.IsZero() {
		v.Set("created_at[gte]", q.From.UTC().Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		v.Set("created_at[lte]", q.To.UTC().Format(time.RFC3339))
	}
	resp, err := c.t.Do(ctx, api.Request{Op: "list orders", Method: http.MethodGet, Path: "/v1/orders", Query: v})
	if err != nil {
		return api.OrderPage{}, err
	}
	var l wireOrderList
	if err := api.CheckBounds(resp.Body); err != nil {
		return api.OrderPage{}, fmt.Errorf("moyasar: decoding order list: %w", err)
	}
	if err := json.Unmarshal(resp.Body, &l); err != nil {
		return api.OrderPage{}, fmt.Errorf("moyasar: decoding order list: %w", err)
	}
	out := api.OrderPage{Orders: make([]model.OrderSummary, 0, len(l.Orders))}
	for i := range l.Orders {
		out.Orders = append(out.Orders, summary(&l.Orders[i]))
	}
	if l.Meta.NextPage != nil && *l.Meta.NextPage > page {
		out.Next = strconv.Itoa(*l.Meta.NextPage)
	}
	return out, nil
}

// summary maps a list row. An order the client cannot read (say, a currency
// it does not know) still gets a row, marked unknown, so it is not hidden.
func summary(w *wireOrder) model.OrderSummary {
	o, err := toOrder(w)
	if err != nil {
		return model.OrderSummary{Provider: ProviderID, ID: w.ID, Ref: w.ID, Status: model.StatusUnknown,
			ProviderStatus: "unreadable", Created: parseTime(w.CreatedAt), Reference: err.Error()}
	}
	captured, _ := model.FromMinor(w.CapturedAmount, o.Currency)
	refunded, _ := model.FromMinor(w.RefundedAmount, o.Currency)
	s := model.OrderSummary{
		Provider: ProviderID, ID: o.ID, Ref: o.Ref, Status: o.Status, ProviderStatus: o.ProviderStatus,
		Created: o.Created, Amounts: []model.Money{captured, refunded}, Total: o.Total,
	}
	if c := cardOf(w.Source); c != nil {
		// Last four first: a narrow column must not cut what agents match on.
		s.Reference = strings.TrimSpace("•••• " + c.Last4 + " " + c.Scheme)
	}
	return s
}

// GetOrder reads one order with all its transactions.
func (c *Client) GetOrder(ctx context.Context, orderID string) (*model.Order, error) {
	v, err := c.getView(ctx, orderID)
	if err != nil {
		return nil, err
	}
	return v.Order, nil
}

func (c *Client) getView(ctx context.Context, orderID string) (*orderView, error) {
	orderID = strings.TrimSpace(orderID)
	if orderID == "" {
		return nil, errors.New("moyasar: order id is required")
	}
	resp, err := c.t.Do(ctx, api.Request{Op: "get order " + short(orderID), Method: http.MethodGet,
		Path: "/v1/orders/" + url.PathEscape(orderID)})
	if err != nil {
		return nil, err
	}
	return decodeView(resp.Body)
}

func decodeView(body []byte) (*orderView, error) {
	var w wireOrder
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, fmt.Errorf("moyasar: decoding order: %w", err)
	}
	return view(&w)
}

// GetRefund re-reads the order and returns one refund transaction.
func (c *Client) GetRefund(ctx context.Context, orderID, refundID string) (*model.Refund, error) {
	o, err := c.GetOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	for i := range o.Refunds {
		if strings.EqualFold(o.Refunds[i].ID, strings.TrimSpace(refundID)) {
			r := o.Refunds[i]
			return &r, nil
		}
	}
	return nil, &api.Error{Provider: ProviderID, Op: "get refund " + short(refundID), HTTPStatus: http.StatusNotFound,
		Message: "the order has no refund transaction with this id"}
}

// UpdatePayment: MPG has no metadata and nothing editable.
func (c *Client) UpdatePayment(context.Context, string, string, api.PaymentUpdate) (*model.Payment, error) {
	return nil, api.ErrNotSupported
}

// UpdateRefund: MPG refunds are transactions with nothing editable.
func (c *Client) UpdateRefund(context.Context, string, string, api.RefundUpdate) (*model.Refund, error) {
	return nil, api.ErrNotSupported
}

// RefundOrder refunds exactly r.Expected, the total the agent confirmed.
func (c *Client) RefundOrder(ctx context.Context, orderID string, r api.RefundOrderRequest) (*api.RefundResult, error) {
	return c.refund(ctx, orderID, r.Expected, r.IdempotencyKey, "refund order "+short(orderID))
}

// RefundPayment refunds r.Amount. MPG refunds the order, so paymentID only
// names the operation; the answer attributes the refund to a payment.
func (c *Client) RefundPayment(ctx context.Context, orderID, paymentID string, r api.RefundPaymentRequest) (*api.RefundResult, error) {
	return c.refund(ctx, orderID, r.Amount, r.IdempotencyKey, "refund payment "+short(paymentID)+" of order "+short(orderID))
}

func (c *Client) refund(ctx context.Context, orderID string, amount model.Money, key, op string) (*api.RefundResult, error) {
	v, txnID, err := c.move(ctx, orderID, typeRefund, amount, key, op)
	if err != nil {
		return nil, err
	}
	if r := v.Refund(txnID); r != nil {
		return &api.RefundResult{Refunds: []model.Refund{*r}, Order: v.Order}, nil
	}
	return nil, &api.Error{Provider: ProviderID, Op: op, Unknown: true,
		Message: "the answer does not show a refund with transaction_id " + txnID}
}

// CancelPayment voids what is left of an open authorization.
func (c *Client) CancelPayment(ctx context.Context, orderID, paymentID string, r api.CancelRequest) (*model.Payment, error) {
	op := "void authorization " + short(paymentID) + " of order " + short(orderID)
	txnID, err := TransactionID(r.IdempotencyKey)
	if err != nil {
		return nil, &api.Error{Provider: ProviderID, Op: op, Err: err}
	}
	v, err := c.getView(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if v.txnIDs[txnID] == typeVoid { // an earlier attempt got there
		return paymentOf(v, paymentID, op)
	}
	p := v.Payment(paymentID)
	if p == nil || p.Status != model.StatusRequiresAction {
		return nil, &api.Error{Provider: ProviderID, Op: op, Message: "only an open authorization can be voided"}
	}
	left, err := model.FromMinor(v.authorized-v.voided, v.Currency)
	if err != nil {
		return nil, &api.Error{Provider: ProviderID, Op: op, Err: err}
	}
	v, _, err = c.move(ctx, orderID, typeVoid, left, r.IdempotencyKey, op)
	if err != nil {
		return nil, err
	}
	return paymentOf(v, paymentID, op)
}

func paymentOf(v *orderView, paymentID, op string) (*model.Payment, error) {
	if p := v.Payment(paymentID); p != nil {
		cp := *p
		return &cp, nil
	}
	return nil, &api.Error{Provider: ProviderID, Op: op, HTTPStatus: http.StatusNotFound, Message: "payment not found on the order"}
}

// move sends a refund or void and decodes the order it answers with.
func (c *Client) move(ctx context.Context, orderID, kind string, amount model.Money, key, op string) (*orderView, string, error) {
	fail := func(field, msg string) (*orderView, string, error) {
		return nil, "", &api.Error{Provider: ProviderID, Op: op, Message: msg,
			Fields: []api.FieldError{{Field: field, Message: msg}}}
	}
	orderID = strings.TrimSpace(orderID)
	if orderID == "" {
		return fail("order", "order id is required")
	}
	txnID, err := TransactionID(key)
	if err != nil {
		return fail("transaction_id", err.Error())
	}
	minor, err := amount.Minor()
	if err != nil {
		return fail("amount", err.Error())
	}
	if minor < 1 || minor > maxRequestAmount {
		return fail("amount", fmt.Sprintf("amount must be between 1 and %d minor units, not %d", maxRequestAmount, minor))
	}
	body, err := json.Marshal(struct {
		Amount        int64  `json:"amount"`
		TransactionID string `json:"transaction_id"`
	}{minor, txnID})
	if err != nil {
		return nil, "", err
	}
	resp, err := c.t.Do(ctx, api.Request{
		Op: op, Method: http.MethodPost, Path: "/v1/orders/" + url.PathEscape(orderID) + "/" + kind,
		Body: body, Mutating: true, Replayable: true,
	})
	if err != nil {
		if e, ok := api.AsError(err); ok && e.Code == CodeStillProcessing {
			e.Retryable, e.Unknown = true, true
		}
		return nil, txnID, err
	}
	v, err := decodeView(resp.Body)
	if err != nil {
		// MPG answered 200, so the request was taken; only the answer is unreadable.
		return nil, txnID, &api.Error{Provider: ProviderID, Op: op, Unknown: true, Err: err}
	}
	return v, txnID, nil
}

// keyNamespace makes name-based transaction ids from keys that are not UUIDs.
var keyNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("paydesk:moyasar:transaction_id"))

// TransactionID turns an idempotency key into the transaction_id sent to MPG:
// the key itself when it is a UUID (canonical lower case), otherwise a
// name-based UUID of it. The same key always gives the same id.
func TransactionID(key string) (string, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return "", errors.New("an idempotency key is required for a money request")
	}
	if len(key) == 36 {
		if u, err := uuid.Parse(key); err == nil {
			return u.String(), nil
		}
	}
	return uuid.NewSHA1(keyNamespace, []byte(key)).String(), nil
}

// IsStillProcessing reports whether err is MPG's "Initial request is still
// processing.": re-read the order and retry later with the same key.
func IsStillProcessing(err error) bool { return api.CodeOf(err) == CodeStillProcessing }

// decodeError reads {message, errors{field: [...]}} and adds advice naming
// what to check. A body that is not that shape is left to the transport
// (nil), which scrubs it of the key and then cuts it, unless there is advice
// to give: then it is kept whole as the message, to the same end.
func decodeError(status int, _ http.Header, body []byte) *api.Error {
	e := &api.Error{Hint: hint(status)}
	var w wireError
	if json.Unmarshal(body, &w) != nil || (w.Message == "" && len(w.Errors) == 0) {
		if e.Hint == "" {
			return nil
		}
		e.Message = string(body)
		return e
	}
	e.Message = w.Message
	if status == http.StatusBadRequest && strings.EqualFold(strings.TrimSpace(w.Message), msgStillProcessing) {
		e.Code, e.Retryable = CodeStillProcessing, true
		e.Hint = "Moyasar is still processing the first request with this key; paydesk reads the order to settle it"
	}
	fields := make([]string, 0, len(w.Errors))
	for f := range w.Errors {
		fields = append(fields, f)
	}
	slices.Sort(fields)
	for _, f := range fields {
		var msgs []string
		if json.Unmarshal(w.Errors[f], &msgs) != nil {
			var one string
			if json.Unmarshal(w.Errors[f], &one) != nil {
				one = strings.TrimSpace(string(w.Errors[f]))
			}
			msgs = []string{one}
		}
		for _, m := range msgs {
			e.Fields = append(e.Fields, api.FieldError{Field: f, Message: m})
		}
	}
	return e
}

// hint is the advice for a status whose meaning is Moyasar's own.
func hint(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "Moyasar refused the API key: check " + EnvAPIKey
	case http.StatusForbidden:
		return "Moyasar refused this API key access: check " + EnvAPIKey + " is the secret key of this account"
	}
	return ""
}

// short is the tail of a long id, as the console shows it.
func short(id string) string {
	id = strings.TrimSpace(id)
	if len(id) > 10 {
		return id[len(id)-10:]
	}
	return id
}
