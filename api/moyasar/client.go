package moyasar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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

const (
	maxRequestAmount = 100_000_000
	// maxPageSize is the most orders MPG sends a page ("items", 1-100): the
	// console asks for that many, so a 30-day list costs a quarter of the
	// requests the server's default page (~25) would.
	maxPageSize = 100
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
	PageSize     int           // orders per page when a query gives no Limit; default (and most) 100
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
		// is gentle. It is one budget per account for the whole process, so
		// under paydesk serve every SSH session draws from it (api.Shared
		// coalesces their reads first).
		lim = api.SharedLimiter("moyasar "+base, 100*time.Millisecond, 10)
	}
	size := cfg.PageSize
	if size <= 0 || size > maxPageSize {
		size = maxPageSize
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
	items = min(items, maxPageSize)
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

// orderCurrency reads the order's currency.
func (c *Client) orderCurrency(ctx context.Context, orderID string) (string, error) {
	v, err := c.getView(ctx, orderID)
	if err != nil {
		return "", err
	}
	return v.Currency, nil
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
	if kind == typeRefund {
		// MPG's body carries minor units only: an amount in another
		// currency would be refunded as that many of the order's minor
		// units (30.000 KWD as 300.00 SAR). Only this client knows the
		// order's currency, so it reads it.
		cur, err := c.orderCurrency(ctx, orderID)
		if err != nil {
			return nil, txnID, err
		}
		if amount.Currency != cur {
			return fail("amount", fmt.Sprintf("must be in the order's currency, %s, not %s", cur, amount.Currency))
		}
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

// short is the tail of a long id, as the console shows it.
func short(id string) string {
	id = strings.TrimSpace(id)
	if len(id) > 10 {
		return id[len(id)-10:]
	}
	return id
}
