package digitalriver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/model"
)

// ProviderID is the stable provider name used in the journal and audit log.
const ProviderID = "digitalriver"

// IntentKey is the metadata key every refund this client creates carries: its
// value is the caller's idempotency key, so an unknown outcome can be
// reconciled by reading the order's refunds.
const IntentKey = "paydesk_intent"

// Config configures a Client.
type Config struct {
	BaseURL string     // https://api.digitalriver.com, or the sandbox
	APIKey  api.Secret // secret key: sk_test_... or sk_...
	// RoundTripper carries the connections (tests wrap it); nil =
	// api.DefaultRoundTripper. The transport owns the client around it, so
	// no configuration can make this client follow a redirect.
	RoundTripper http.RoundTripper
	Retry        api.RetryPolicy
	// Limiter paces requests; nil = the process-wide limiter for this key,
	// kept under Digital River's 25 req/s (test keys) or 250 req/s (live)
	// and shared by every SSH session of paydesk serve.
	Limiter *rate.Limiter
	// ListLimit is the page size for order lists when the query gives none
	// (default, and most, 100: the Orders list's "limit" is 1-100).
	ListLimit int
}

// maxListLimit is the most a Digital River list sends a page ("limit",
// 1-100, default 10). The console asks for that many: a 30-day list costs a
// tenth of the requests of the default page.
const maxListLimit = 100

// Client is the Digital River implementation of api.Provider.
type Client struct {
	t         *api.Transport
	listLimit int
}

var _ api.Provider = (*Client)(nil)

// New checks the configuration and builds a client.
func New(cfg Config) (*Client, error) {
	if cfg.APIKey.IsZero() {
		return nil, errors.New("digitalriver: no API key (DIGITALRIVER_API_KEY)")
	}
	if _, err := api.ParseBaseURL("digitalriver", cfg.BaseURL); err != nil {
		return nil, err
	}
	lim := cfg.Limiter
	if lim == nil {
		every, burst := 5*time.Millisecond, 50 // live keys: 200/s, under 250/s
		if strings.HasPrefix(cfg.APIKey.Reveal(), "sk_test_") {
			every, burst = 50*time.Millisecond, 10 // test keys: 20/s, under 25/s
		}
		sum := sha256.Sum256([]byte(cfg.APIKey.Reveal()))
		lim = api.SharedLimiter("digitalriver "+strings.TrimRight(cfg.BaseURL, "/")+" "+hex.EncodeToString(sum[:6]), every, burst)
	}
	ll := cfg.ListLimit
	if ll <= 0 || ll > maxListLimit {
		ll = maxListLimit
	}
	return &Client{
		t: &api.Transport{
			Provider:       "Digital River",
			Name:           "Digital River",
			BaseURLSetting: "DIGITALRIVER_BASE_URL",
			BaseURL:        strings.TrimRight(cfg.BaseURL, "/"),
			RoundTripper:   cfg.RoundTripper,
			Auth:           api.Bearer{Key: cfg.APIKey},
			Limiter:        lim,
			Retry:          cfg.Retry,
			DecodeError:    advised(decodeError),
		},
		listLimit: ll,
	}, nil
}

// ID implements api.Provider.
func (c *Client) ID() string { return ProviderID }

// Name implements api.Provider.
func (c *Client) Name() string { return "Digital River" }

// Capabilities implements api.Provider.
func (c *Client) Capabilities() api.Capabilities {
	return api.Capabilities{
		RefundOrder:          true,
		RefundReason:         true,
		RefundMetadata:       true,
		RefundPayment:        true,
		UpdateRefund:         true,
		OrderRange:           true,
		Filters:              api.OrderFilters{Currency: true, Upstream: true},
		PartialRefundOnOrder: true,
		Idempotency:          api.IdempotencyNone,
		AmountColumns:        []string{"Captured", "Refunded"},
		ReferenceColumn:      "Upstream id",
		ReasonMaxLen:         64,
		EditableFields:       func(*model.Payment) []api.EditableField { return nil },
		CanCancel:            func(*model.Payment) bool { return false },
	}
}

func (c *Client) get(ctx context.Context, op, path string, q url.Values, out any) error {
	resp, err := c.t.Do(ctx, api.Request{Op: op, Method: http.MethodGet, Path: path, Query: q})
	if err != nil {
		return err
	}
	// A list or object longer than paydesk reads is refused before any
	// decoding (api.CheckBounds).
	if err := api.CheckBounds(resp.Body); err != nil {
		return &api.Error{Provider: c.t.Provider, Op: op, Message: "unreadable answer: " + err.Error(), Err: err}
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return &api.Error{Provider: c.t.Provider, Op: op, Message: "unreadable answer", Err: err}
	}
	return nil
}

// ListOrders implements api.Provider: one cursor page, newest first. The
// cursor is the id of the last order of the previous page.
func (c *Client) ListOrders(ctx context.Context, q api.OrderQuery) (api.OrderPage, error) {
	v := url.Values{}
	limit := q.Limit
	if limit <= 0 {
		limit = c.listLimit
	}
	v.Set("limit", strconv.Itoa(min(limit, maxListLimit)))
	if q.UpstreamID != "" {
		v.Set("upstreamIds[]", q.UpstreamID) // [C] Orders list filter
	}
	if !q.From.IsZero() {
		v.Set("createdTime[gte]", ts(q.From))
	}
	if !q.To.IsZero() {
		v.Set("createdTime[lte]", ts(q.To))
	}
	if q.Currency != "" {
		v.Set("currency", strings.ToUpper(q.Currency))
	}
	if q.Cursor != "" {
		v.Set("startingAfter", q.Cursor)
	}
	var l wireList[wireOrder]
	if err := c.get(ctx, "list orders", "/orders", v, &l); err != nil {
		return api.OrderPage{}, err
	}
	page := api.OrderPage{Orders: make([]model.OrderSummary, 0, len(l.Data))}
	for i := range l.Data {
		// Only orders that carry the upstream id asked for: a provider
		// that ignored the filter would otherwise answer with strangers,
		// and every caller would have to know to drop them.
		if q.UpstreamID != "" && !strings.EqualFold(l.Data[i].UpstreamID, q.UpstreamID) {
			continue
		}
		s, err := l.Data[i].summary()
		if err != nil {
			return api.OrderPage{}, err
		}
		page.Orders = append(page.Orders, s)
	}
	// The cursor is the provider's page's, kept or not: the next page may
	// hold the match.
	if l.HasMore && len(l.Data) > 0 {
		page.Next = l.Data[len(l.Data)-1].ID
	}
	return page, nil
}

// maxRefundPages bounds how far the refunds of one order are followed.
const maxRefundPages = 50

// orderRefunds lists every refund of an order, newest first.
func (c *Client) orderRefunds(ctx context.Context, orderID string) ([]wireRefund, error) {
	var all []wireRefund
	after := ""
	for range maxRefundPages {
		v := url.Values{"orderId": {orderID}, "limit": {"100"}}
		if after != "" {
			v.Set("startingAfter", after)
		}
		var l wireList[wireRefund]
		if err := c.get(ctx, "list refunds of order "+orderID, "/refunds", v, &l); err != nil {
			return nil, err
		}
		all = append(all, l.Data...)
		// The bounds of one answer (api.CheckBounds) hold for the pages
		// together: one order's refunds are one list.
		if len(all) > api.MaxListLen {
			be := &api.BoundsError{Field: "refunds of order " + orderID, List: true, Max: api.MaxListLen}
			return nil, &api.Error{Provider: c.t.Provider, Op: "list refunds of order " + orderID, Message: "unreadable answer: " + be.Error(), Err: be}
		}
		if keys := metadataKeys(all); keys > api.MaxAnswerMetadataKeys {
			be := &api.BoundsError{Field: "refunds of order " + orderID, Max: api.MaxAnswerMetadataKeys, Metadata: true}
			return nil, &api.Error{Provider: c.t.Provider, Op: "list refunds of order " + orderID, Message: "unreadable answer: " + be.Error(), Err: be}
		}
		if !l.HasMore || len(l.Data) == 0 {
			return all, nil
		}
		after = l.Data[len(l.Data)-1].ID
	}
	return all, nil
}

// metadataKeys counts the metadata keys kept on a list of refunds.
func metadataKeys(rs []wireRefund) int {
	n := 0
	for i := range rs {
		n += len(rs[i].Metadata)
	}
	return n
}

func (c *Client) order(ctx context.Context, orderID string) (*wireOrder, []wireRefund, error) {
	if orderID == "" {
		return nil, nil, errors.New("digitalriver: no order id")
	}
	var w wireOrder
	if err := c.get(ctx, "get order "+orderID, "/orders/"+url.PathEscape(orderID), nil, &w); err != nil {
		return nil, nil, err
	}
	refunds, err := c.orderRefunds(ctx, w.ID)
	if err != nil {
		return nil, nil, err
	}
	return &w, refunds, nil
}

// GetOrder implements api.Provider: the order, then its refunds
// (GET /refunds?orderId=), since Digital River keeps them apart.
func (c *Client) GetOrder(ctx context.Context, orderID string) (*model.Order, error) {
	w, refunds, err := c.order(ctx, orderID)
	if err != nil {
		return nil, err
	}
	return w.toModel(refunds)
}

// GetRefund implements api.Provider.
func (c *Client) GetRefund(ctx context.Context, orderID, refundID string) (*model.Refund, error) {
	var w wireRefund
	if err := c.get(ctx, "get refund "+refundID, "/refunds/"+url.PathEscape(refundID), nil, &w); err != nil {
		return nil, err
	}
	if orderID != "" && w.OrderID != "" && w.OrderID != orderID {
		return nil, fmt.Errorf("digitalriver: refund %s belongs to order %s, not %s", refundID, w.OrderID, orderID)
	}
	return w.toModel()
}

// UpdatePayment is not offered: Digital River charges have no editable
// metadata through the Refunds or Orders resources the console uses.
func (c *Client) UpdatePayment(context.Context, string, string, api.PaymentUpdate) (*model.Payment, error) {
	return nil, api.ErrNotSupported
}

// CancelPayment is not offered: cancelling goes through fulfillments.
func (c *Client) CancelPayment(context.Context, string, string, api.CancelRequest) (*model.Payment, error) {
	return nil, api.ErrNotSupported
}

// UpdateRefund implements api.Provider: POST /refunds/{id} with the complete
// new metadata. Setting metadata to a given value is naturally idempotent, so
// the request may be replayed. If the refund carries the paydesk_intent marker
// and the new set drops it, the marker is kept: reconciliation depends on it.
func (c *Client) UpdateRefund(ctx context.Context, orderID, refundID string, u api.RefundUpdate) (*model.Refund, error) {
	// No validation of the whole set here: values the refund already carries
	// go back as they were (the console validates what the agent wrote).
	md := u.Metadata.Clone()
	if _, ok := md[IntentKey]; !ok {
		cur, err := c.GetRefund(ctx, orderID, refundID)
		if err != nil {
			return nil, err
		}
		if v, ok := cur.Metadata[IntentKey]; ok {
			md[IntentKey] = v
		}
	}
	body, err := json.Marshal(struct {
		Metadata model.Metadata `json:"metadata"`
	}{md})
	if err != nil {
		return nil, err
	}
	resp, err := c.t.Do(ctx, api.Request{
		Op: "update refund " + refundID, Method: http.MethodPost,
		Path: "/refunds/" + url.PathEscape(refundID), Body: body,
		Mutating: true, Replayable: true,
	})
	if err != nil {
		return nil, err
	}
	return decodeRefund(resp.Body)
}

// Environment variables that point the console at a Digital River account.
const (
	EnvBaseURL = "DIGITALRIVER_BASE_URL"
	EnvAPIKey  = "DIGITALRIVER_API_KEY"
)

// ConfigFromEnv reads DIGITALRIVER_BASE_URL and DIGITALRIVER_API_KEY. ok is
// false when no base URL is set (the provider is not configured); a base URL
// without a key is an error that names the missing variable.
func ConfigFromEnv(getenv func(string) string) (cfg Config, ok bool, err error) {
	base := strings.TrimSpace(getenv(EnvBaseURL))
	if base == "" {
		return Config{}, false, nil
	}
	key := strings.TrimSpace(getenv(EnvAPIKey))
	if key == "" {
		return Config{}, true, fmt.Errorf("digitalriver: %s is set but %s is not", EnvBaseURL, EnvAPIKey)
	}
	return Config{BaseURL: base, APIKey: api.NewSecret(key)}, true, nil
}
