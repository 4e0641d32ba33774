package forage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // Pacific report days on hosts without a zoneinfo database

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/model"
)

// ProviderID is the stable id of this provider in journals and audit logs.
const ProviderID = "forage"

// Config is how to reach one Forage merchant account.
type Config struct {
	BaseURL         string // https://api.sandbox.joinforage.app
	ClientID        string
	ClientSecret    api.Secret
	MerchantAccount string // FNS number (9000055) or Forage merchant id
	APIVersion      string // optional YYYY-MM-DD; "" = DefaultAPIVersion
	// RoundTripper carries the connections (tests wrap it); nil =
	// api.DefaultRoundTripper. The transport owns the client around it.
	RoundTripper http.RoundTripper
	Now          func() time.Time // nil = time.Now
	Retry        api.RetryPolicy  // zero = the transport's defaults
	// Limiter is the request budget; nil = the process-wide limiter of this
	// account (900 requests per 5 minutes, burst 30), which every SSH
	// session of paydesk serve shares with the others.
	Limiter *rate.Limiter
}

// DefaultAPIVersion is the Forage API version this client was built and
// tested against, sent as API-Version on every request unless
// FORAGE_API_VERSION (Config.APIVersion) names another. Without the header
// Forage answers in whatever version the merchant's dashboard is set to,
// possibly the original release: no refund receipts (2024-01-08), offset
// report pages (before 2024-02-15), Pacific timestamps (before 2024-05-07).
// 2024-05-07 is the newest version whose every change this client reads.
const DefaultAPIVersion = "2024-05-07"

// PartialRefundPaymentKey is the body key naming the OrderPayment in
// POST /api/orders/{ref}/refunds/. Inferred, not confirmed: the public docs'
// request schema for this field is not legible, and the OrderRefund object
// calls it "payment". Keep it the only place the key is spelled.
const PartialRefundPaymentKey = "payment_ref"

// Environment variables read by ConfigFromEnv.
const (
	EnvBaseURL         = "FORAGE_BASE_URL"
	EnvClientID        = "FORAGE_CLIENT_ID"
	EnvClientSecret    = "FORAGE_CLIENT_SECRET"
	EnvMerchantAccount = "FORAGE_MERCHANT_ACCOUNT"
	EnvAPIVersion      = "FORAGE_API_VERSION"
)

// ConfigFromEnv reads the FORAGE_* variables. ok is false when
// FORAGE_BASE_URL is unset (Forage is not configured); once it is set, a
// missing client id, secret or merchant account is an error naming the
// variable. FORAGE_API_VERSION is optional.
func ConfigFromEnv(getenv func(string) string) (Config, bool, error) {
	base := strings.TrimSpace(getenv(EnvBaseURL))
	if base == "" {
		return Config{}, false, nil
	}
	c := Config{
		BaseURL:         base,
		ClientID:        strings.TrimSpace(getenv(EnvClientID)),
		ClientSecret:    api.NewSecret(getenv(EnvClientSecret)),
		MerchantAccount: strings.TrimSpace(getenv(EnvMerchantAccount)),
		APIVersion:      strings.TrimSpace(getenv(EnvAPIVersion)),
	}
	var missing []string
	if c.ClientID == "" {
		missing = append(missing, EnvClientID)
	}
	if c.ClientSecret.IsZero() {
		missing = append(missing, EnvClientSecret)
	}
	if c.MerchantAccount == "" {
		missing = append(missing, EnvMerchantAccount)
	}
	if len(missing) > 0 {
		return Config{}, true, fmt.Errorf("forage: %s is set but %s is not", EnvBaseURL, strings.Join(missing, ", "))
	}
	return c, true, nil
}

// Client is the Forage api.Provider. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base string
	tr   *api.Transport
	auth *tokenSource
	now  func() time.Time

	// known fills list rows from orders already opened (see ListOrders).
	known knownOrders

	metaMu sync.Mutex
	// meta remembers each payment's metadata as sent, by "order/payment",
	// so an edit writes untouched numbers and booleans back as such.
	meta map[string]map[string]json.RawMessage
}

var _ api.Provider = (*Client)(nil)

// maxMetaCache bounds the remembered metadata sets.
const maxMetaCache = 4096

// New checks c and builds a client. No request is made until the first call.
func New(c Config) (*Client, error) {
	if strings.TrimSpace(c.BaseURL) == "" {
		return nil, errors.New("forage: base URL is required")
	}
	u, err := api.ParseBaseURL("forage", c.BaseURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(c.ClientID) == "" {
		return nil, errors.New("forage: client id is required")
	}
	if strings.ContainsRune(c.ClientID, ':') || hasControl(c.ClientID) {
		return nil, errors.New("forage: client id must not contain ':' or control characters")
	}
	if c.ClientSecret.IsZero() {
		return nil, errors.New("forage: client secret is required")
	}
	if hasControl(c.MerchantAccount) || hasControl(c.APIVersion) {
		return nil, errors.New("forage: merchant account and API version must not contain control characters")
	}
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if _, err := time.Parse(dateLayout, c.APIVersion); err != nil {
		return nil, fmt.Errorf("forage: API version must be a YYYY-MM-DD date (%s)", EnvAPIVersion)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	base := strings.TrimRight(u.String(), "/")
	lim := c.Limiter
	if lim == nil {
		lim = api.SharedLimiter("forage:"+base+c.ClientID, 5*time.Minute/900, 30)
	}
	hdr := http.Header{}
	if c.MerchantAccount != "" {
		hdr.Set("Merchant-Account", c.MerchantAccount)
	}
	if c.APIVersion != "" {
		hdr.Set("API-Version", c.APIVersion)
	}
	// The secret lives only behind the token source's pointer: printing a
	// Client, even by reflection, shows an address there.
	sec := c.ClientSecret
	c.ClientSecret = api.Secret{}
	cl := &Client{cfg: c, base: base, now: c.Now, meta: map[string]map[string]json.RawMessage{}}
	// The token call sends its own Basic header, so its transport is told
	// the credentials to scrub from the token endpoint's answers.
	tokenTr := &api.Transport{
		Provider: ProviderID, Name: "Forage", BaseURL: base, BaseURLSetting: EnvBaseURL, RoundTripper: c.RoundTripper, Limiter: lim, Retry: c.Retry,
		DecodeError: decodeTokenError,
	}
	cl.auth = newTokenSource(c.ClientID, sec, tokenTr, c.Now)
	tokenTr.Secrets = cl.auth
	cl.tr = &api.Transport{
		Provider: ProviderID, Name: "Forage", BaseURL: base, BaseURLSetting: EnvBaseURL, RoundTripper: c.RoundTripper, Auth: cl.auth, Limiter: lim, Retry: c.Retry,
		DecodeError: decodeAPIError, Header: hdr,
	}
	return cl, nil
}

// String and GoString keep the secret and the token out of %v, %+v and %#v
// of a client (its fields are unexported, which fmt prints without asking
// api.Secret how to print itself).
func (c *Client) String() string {
	return fmt.Sprintf("forage.Client{BaseURL: %s, ClientID: %s, MerchantAccount: %s}", c.base, c.cfg.ClientID, c.cfg.MerchantAccount)
}

// GoString is String.
func (c *Client) GoString() string { return c.String() }

// scrub removes every form of the client's credentials from s (for errors
// the client builds itself; the transport scrubs the ones it returns).
func (c *Client) scrub(s string) string {
	return api.NewScrubber(c.auth.Credentials()...).Scrub(s)
}

// ID implements api.Provider.
func (c *Client) ID() string { return ProviderID }

// Name implements api.Provider.
func (c *Client) Name() string { return "Forage" }

// Capabilities implements api.Provider.
func (c *Client) Capabilities() api.Capabilities {
	return api.Capabilities{
		RefundOrder:      true,
		RefundReason:     true,
		RefundMetadata:   true,
		RefundPayment:    true,
		RefundExternalID: true,
		RefundsNotListed: true, // the report carries no refund state (doc.go)
		UpdatePayment:    true,
		UpdateRefund:     false,
		CancelPayment:    true,
		OrderRange:       true,
		Idempotency:      api.IdempotencyHeader,
		// The docs disagree: 24 hours now, 10 minutes in an older copy.
		// Assume the short one: a retry inside it is a safe replay either
		// way, while assuming 24h when 10 minutes is real would refund twice.
		KeyWindow: 10 * time.Minute,
		// EBT Cash, and credit/debit (Fully Hosted card legs); short
		// enough for 80 columns.
		AmountColumns:   []string{"SNAP paid", "Cash paid", "Card paid"},
		ReferenceColumn: "External id",
		ReasonMaxLen:    0,
		EditableFields:  editableFields,
		CanCancel:       canCancel,
	}
}

// editableFields: metadata always; external_order_id in every status
// (seed 001: processing, canceled, succeeded allow metadata and
// external_order_id; failed and requires_confirmation allow more);
// payment_method only once the payment failed, the one status in which
// Forage takes a new one and retries the charge.
func editableFields(p *model.Payment) []api.EditableField {
	failed := p != nil && p.ProviderStatus == "failed"
	pm := api.EditableField{Name: "payment_method", Label: "Payment method", Enabled: failed}
	if !failed {
		pm.Why = "Forage ignores payment_method unless the payment failed"
	}
	return []api.EditableField{
		{Name: "external_order_id", Label: "External order id", Enabled: true},
		pm,
	}
}

// canCancel: Forage cancels an OrderPayment only from requires_confirmation
// or failed (no money has moved in either).
func canCancel(p *model.Payment) bool {
	return p != nil && (p.ProviderStatus == "requires_confirmation" || p.ProviderStatus == "failed")
}

// ---------------------------------------------------------------- reads

// pacific is the Order Report's day boundary.
var pacific = func() *time.Location {
	if l, err := time.LoadLocation("America/Los_Angeles"); err == nil {
		return l
	}
	return time.FixedZone("PST", -8*3600)
}()

const (
	defaultRangeDays = 30
	maxReportLimit   = 1000
	dateLayout       = "2006-01-02"
)

// ListOrders implements api.Provider with the Order Report
// (GET /reporting/orders/): the Payments API has no order list.
//
// The report's rows carry no date, so the range is read one Pacific day at a
// time, newest day first: every row of the answer for start_date=end_date=D
// was created on D, which is the row's date (DateOnly: the time of day is
// not known and is never shown). A page collects whole days (and a day's own
// report pages) until it holds q.Limit rows, or, with no limit, 100 rows or
// a week of days (maxDaysPerPage), or the range ends;
// Next resumes at the day, and the report cursor within it, where it stopped.
// Cost: one request per day of the range, plus one per further report page
// of a day with more rows than fit; scrolling the list reads each day once.
//
// External id and refund state are not in the report. They come from the
// orders an agent opens (GetOrder), remembered per ref, and fill those rows
// on later pages; any other row shows them as not known.
func (c *Client) ListOrders(ctx context.Context, q api.OrderQuery) (api.OrderPage, error) {
	op := "list orders"
	st, err := c.listState(q)
	if err != nil {
		return api.OrderPage{}, err
	}
	want, maxAsks := q.Limit, math.MaxInt
	if want <= 0 {
		want, maxAsks = defaultPageRows, maxDaysPerPage
	}
	page := api.OrderPage{Orders: []model.OrderSummary{}}
	for asked := 0; len(page.Orders) < want && asked < maxAsks; asked++ {
		// A caller's limit is asked for exactly; the console's pages (no
		// limit) ask the report's maximum, so a busy day costs one request
		// per 1000 rows rather than one per 100 (the budget of 900
		// requests per 5 minutes is shared by every agent on the host).
		ask := maxReportLimit
		if q.Limit > 0 {
			ask = min(want-len(page.Orders), maxReportLimit)
		}
		vals := url.Values{"start_date": {st.day}, "end_date": {st.day}, "limit": {strconv.Itoa(ask)}}
		if st.inner != "" {
			vals.Set("cursor", st.inner)
		}
		resp, err := c.do(ctx, api.Request{Op: op, Method: http.MethodGet, Path: "/reporting/orders/", Query: vals})
		if err != nil {
			return api.OrderPage{}, err
		}
		var w wireReport
		if err := json.Unmarshal(resp.Body, &w); err != nil {
			return api.OrderPage{}, c.unreadable(op, resp.Status, decodeErr("order report", err), false)
		}
		dayStart, _ := time.ParseInLocation(dateLayout, st.day, pacific)
		for _, raw := range w.Results {
			s, err := decodeReportRow(raw)
			if err != nil {
				return api.OrderPage{}, c.unreadable(op, resp.Status, err, false)
			}
			s.Created, s.DateOnly = dayStart, true
			c.known.fill(&s)
			page.Orders = append(page.Orders, s)
		}
		sent := st.inner
		st.inner = ""
		if w.Next != "" {
			// Only the cursor of "next" is kept: the dates are ours, and a
			// host in "next" is never followed.
			if u, err := url.Parse(string(w.Next)); err == nil {
				st.inner = u.Query().Get("cursor")
			}
		}
		// A page that names a next page brings rows and moves on; one that
		// does neither would hold this call in a loop of requests, each
		// charged to the budget every agent of the host shares.
		if st.inner != "" && (len(w.Results) == 0 || st.inner == sent) {
			return api.OrderPage{}, c.unreadable(op, resp.Status, errReportStuck, false)
		}
		if st.inner == "" {
			if st.day <= st.from {
				return page, nil // the range is done
			}
			d, _ := time.Parse(dateLayout, st.day)
			st.day = d.AddDate(0, 0, -1).Format(dateLayout)
		}
	}
	page.Next = st.encode()
	return page, nil
}

// errReportStuck: a report page named a next page without bringing rows, or
// named its own cursor again.
var errReportStuck = fmt.Errorf("%w: order report: a page names a next page but brings no rows or repeats its own cursor", errDecode)

// defaultPageRows is how many rows a list page collects before it stops
// asking for more days when the caller names no limit (a day is always read
// whole, up to 1000 rows a request).
const defaultPageRows = 100

// maxDaysPerPage bounds the report requests of one ListOrders call that
// names no limit (the console's), so the first rows show after a week's
// requests rather than a month's; the console asks for the next page (Next)
// as it fills the screen or scrolls, and the total cost is the same.
const maxDaysPerPage = 7

// listState is where a day-by-day list stands: the range's first day, the
// day being read and the report's cursor within that day.
type listState struct {
	from, day, inner string
}

func (s listState) encode() string {
	v := url.Values{"pd_from": {s.from}, "pd_day": {s.day}}
	if s.inner != "" {
		v.Set("cursor", s.inner)
	}
	return v.Encode()
}

// listState reads a cursor this client made, or starts the query's range.
// A bare cursor (not one of ours) is sent to Forage as the report cursor of
// the range's last day, which refuses it if it did not make it.
func (c *Client) listState(q api.OrderQuery) (listState, error) {
	if v, err := url.ParseQuery(q.Cursor); q.Cursor != "" && err == nil && v.Get("pd_day") != "" {
		st := listState{from: v.Get("pd_from"), day: v.Get("pd_day"), inner: v.Get("cursor")}
		for _, d := range []string{st.from, st.day} {
			if _, err := time.Parse(dateLayout, d); err != nil {
				return listState{}, &api.Error{Provider: ProviderID, Op: "list orders", Code: "invalid_cursor",
					Message: "the list cursor is not one paydesk made; reload the list"}
			}
		}
		return st, nil
	}
	from, to := c.reportRange(q.From, q.To)
	return listState{from: from, day: to, inner: q.Cursor}, nil
}

// reportRange is the report's start and end dates (inclusive).
func (c *Client) reportRange(from, to time.Time) (string, string) {
	if to.IsZero() {
		if from.IsZero() {
			to = c.now().In(pacific)
		} else {
			to = c.now().In(pacific)
			if f := from.Format(dateLayout); f > to.Format(dateLayout) {
				to = from
			}
		}
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -(defaultRangeDays - 1))
	}
	return from.Format(dateLayout), to.Format(dateLayout)
}

// GetOrder implements api.Provider: the Order, then its payments and refunds
// (read concurrently).
func (c *Client) GetOrder(ctx context.Context, orderID string) (*model.Order, error) {
	op := "get order " + orderID
	if err := checkRefs(op, orderID); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, api.Request{Op: op, Method: http.MethodGet, Path: orderPath(orderID)})
	if err != nil {
		return nil, err
	}
	o, _, err := decodeOrderObject(resp.Body)
	if err != nil {
		return nil, c.unreadable(op, resp.Status, err, false)
	}
	if err := c.complete(ctx, o); err != nil {
		return nil, err
	}
	c.known.put(o)
	return o, nil
}

// complete reads an order's payments and refunds concurrently and assembles
// the order.
func (c *Client) complete(ctx context.Context, o *model.Order) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		payments []model.Payment
		metas    map[string]map[string]json.RawMessage
		refunds  []model.Refund
		pErr     error
		rErr     error
	)
	wg.Add(2)
	go func() {
		defer wg.Done()
		op := "list payments of order " + o.ID
		resp, err := c.do(ctx, api.Request{Op: op, Method: http.MethodGet, Path: orderPath(o.ID) + "payments/"})
		if err != nil {
			pErr = err
			cancel()
			return
		}
		if payments, metas, err = decodePayments(resp.Body); err != nil {
			pErr = c.unreadable(op, resp.Status, err, false)
			cancel()
		}
	}()
	go func() {
		defer wg.Done()
		op := "list refunds of order " + o.ID
		resp, err := c.do(ctx, api.Request{Op: op, Method: http.MethodGet, Path: orderPath(o.ID) + "refunds/"})
		if err != nil {
			rErr = err
			cancel()
			return
		}
		if refunds, err = decodeRefunds(resp.Body); err != nil {
			rErr = c.unreadable(op, resp.Status, err, false)
			cancel()
		}
	}()
	wg.Wait()
	// Report the failure that caused the other's cancellation, not the
	// cancellation itself.
	first := func(a, b error) error {
		if a != nil && !(api.Canceled(a) && b != nil) {
			return a
		}
		return b
	}
	if err := first(pErr, rErr); err != nil {
		return err
	}
	for id, m := range metas {
		c.remember(o.ID, id, m)
	}
	assemble(o, payments, refunds)
	return nil
}

// GetRefund implements api.Provider.
func (c *Client) GetRefund(ctx context.Context, orderID, refundID string) (*model.Refund, error) {
	op := "get refund " + refundID
	if err := checkRefs(op, orderID, refundID); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, api.Request{Op: op, Method: http.MethodGet, Path: orderPath(orderID) + "refunds/" + refundID + "/"})
	if err != nil {
		return nil, err
	}
	r, err := decodeRefund(resp.Body)
	if err != nil {
		return nil, c.unreadable(op, resp.Status, err, false)
	}
	return r, nil
}

// getPayment reads one OrderPayment.
func (c *Client) getPayment(ctx context.Context, orderID, paymentID string) (*model.Payment, error) {
	op := "get payment " + paymentID
	resp, err := c.do(ctx, api.Request{Op: op, Method: http.MethodGet, Path: paymentPath(orderID, paymentID)})
	if err != nil {
		return nil, err
	}
	return c.readPayment(op, resp, orderID, false)
}

func (c *Client) readPayment(op string, resp *api.Response, orderID string, mutating bool) (*model.Payment, error) {
	p, meta, err := decodePayment(resp.Body)
	if err != nil {
		return nil, c.unreadable(op, resp.Status, err, mutating)
	}
	c.remember(orderID, p.ID, meta)
	return p, nil
}

// ---------------------------------------------------------------- changes

// UpdatePayment implements api.Provider: PATCH with only the fields given,
// or the legacy POST when the server does not take PATCH (405).
func (c *Client) UpdatePayment(ctx context.Context, orderID, paymentID string, u api.PaymentUpdate) (*model.Payment, error) {
	op := "update payment " + paymentID
	if err := checkRefs(op, orderID, paymentID); err != nil {
		return nil, err
	}
	if err := checkKey(op, u.IdempotencyKey, false); err != nil {
		return nil, err
	}
	if u.ExternalOrderID != nil {
		if fe := model.ValidateExternalOrderID(*u.ExternalOrderID); fe != nil {
			return nil, invalid(op, "external_order_id", fe)
		}
	}
	if u.PaymentMethod != nil && !validRef(*u.PaymentMethod) {
		return nil, invalid(op, "payment_method", &model.FieldError{Field: "payment method", Rule: "must be a Forage PaymentMethod ref"})
	}
	if u.Metadata == nil && u.ExternalOrderID == nil && u.PaymentMethod == nil {
		return c.getPayment(ctx, orderID, paymentID) // nothing to change
	}
	// Built once: every attempt, and the legacy fallback, send these bytes.
	body, err := json.Marshal(struct {
		Metadata        json.RawMessage `json:"metadata,omitempty"`
		ExternalOrderID *string         `json:"external_order_id,omitempty"`
		PaymentMethod   *string         `json:"payment_method,omitempty"`
	}{c.metadataJSON(orderID, paymentID, u.Metadata), u.ExternalOrderID, u.PaymentMethod})
	if err != nil {
		return nil, err
	}
	req := api.Request{
		Op: op, Method: http.MethodPatch, Path: paymentPath(orderID, paymentID), Body: body,
		Header: keyHeader(u.IdempotencyKey), Mutating: true, Replayable: u.IdempotencyKey != "",
	}
	resp, err := c.do(ctx, req)
	if api.StatusOf(err) == http.StatusMethodNotAllowed {
		req.Method = http.MethodPost // the legacy update (seed 001)
		resp, err = c.do(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	return c.readPayment(op, resp, orderID, true)
}

// UpdateRefund implements api.Provider: Forage cannot change a refund.
func (c *Client) UpdateRefund(context.Context, string, string, api.RefundUpdate) (*model.Refund, error) {
	return nil, api.ErrNotSupported
}

// RefundOrder implements api.Provider with POST refund_all. Forage decides
// the amounts (what is left on each payment); the order is read first, and
// when Forage would now return more than the agent confirmed (a payment
// succeeded since), nothing is sent.
func (c *Client) RefundOrder(ctx context.Context, orderID string, r api.RefundOrderRequest) (*api.RefundResult, error) {
	op := "refund order " + orderID
	if err := checkRefs(op, orderID); err != nil {
		return nil, err
	}
	if err := checkKey(op, r.IdempotencyKey, true); err != nil {
		return nil, err
	}
	if fe := model.ValidateReason(r.Reason, 0); fe != nil {
		return nil, invalid(op, "reason", fe)
	}
	if fe := model.ValidateExternalOrderID(r.ExternalOrderID); fe != nil {
		return nil, invalid(op, "external_order_id", fe)
	}
	before, err := c.GetOrder(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if r.Expected.IsPositive() && !before.HasRefundInFlight() {
		if now := before.Refundable(); now.Amount.GreaterThan(r.Expected.Amount) {
			return nil, &api.Error{Provider: ProviderID, Op: op, Code: "refund_amount_changed",
				Message: fmt.Sprintf("nothing was sent: Forage would refund up to %s now, but %s was confirmed; reload the order", now, r.Expected)}
		}
	}
	var eoid *string
	if r.ExternalOrderID != "" {
		eoid = &r.ExternalOrderID
	}
	body, err := json.Marshal(struct {
		Reason          string          `json:"reason"`
		Metadata        json.RawMessage `json:"metadata"`
		ExternalOrderID *string         `json:"external_order_id,omitempty"`
	}{r.Reason, encodeMetadata(r.Metadata, nil), eoid})
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, api.Request{
		Op: op, Method: http.MethodPost, Path: orderPath(orderID) + "refund_all/", Body: body,
		Header: keyHeader(r.IdempotencyKey), Mutating: true, Replayable: true,
	})
	if err != nil {
		return nil, err
	}
	o, w, err := decodeOrderObject(resp.Body)
	if err != nil {
		return nil, c.unreadable(op, resp.Status, err, true)
	}
	if err := c.complete(ctx, o); err != nil {
		return nil, acceptedButUnread(op, err)
	}
	listed := map[string]bool{}
	for _, ref := range w.Refunds {
		listed[ref] = true
	}
	res := &api.RefundResult{Order: o}
	for _, rf := range o.Refunds {
		if listed[rf.ID] && (before.Refund(rf.ID) == nil || !rf.Status.Final()) {
			res.Refunds = append(res.Refunds, rf)
		}
	}
	return res, nil
}

// RefundPayment implements api.Provider with POST /orders/{o}/refunds/.
// Forage answers 201 even when the refund failed: the refund's status says.
func (c *Client) RefundPayment(ctx context.Context, orderID, paymentID string, r api.RefundPaymentRequest) (*api.RefundResult, error) {
	op := "refund payment " + paymentID
	if err := checkRefs(op, orderID, paymentID); err != nil {
		return nil, err
	}
	if err := checkKey(op, r.IdempotencyKey, true); err != nil {
		return nil, err
	}
	if r.Amount.Currency != currency {
		return nil, invalid(op, "amount", &model.FieldError{Field: "amount", Rule: "must be in USD"})
	}
	if !r.Amount.IsPositive() {
		return nil, invalid(op, "amount", &model.FieldError{Field: "amount", Rule: "must be more than zero"})
	}
	if _, err := r.Amount.Minor(); err != nil {
		// Fixed() would round a third decimal away: refuse instead.
		return nil, invalid(op, "amount", &model.FieldError{Field: "amount", Rule: "USD allows at most 2 decimals"})
	}
	if fe := model.ValidateReason(r.Reason, 0); fe != nil {
		return nil, invalid(op, "reason", fe)
	}
	if fe := model.ValidateExternalOrderID(r.ExternalOrderID); fe != nil {
		return nil, invalid(op, "external_order_id", fe)
	}
	var eoid *string
	if r.ExternalOrderID != "" {
		eoid = &r.ExternalOrderID
	}
	// A map, so the payment key is the one named constant; json sorts map
	// keys, so the same request is the same bytes on every retry.
	fields := map[string]any{
		PartialRefundPaymentKey: paymentID,
		"amount":                r.Amount.Fixed(),
		"reason":                r.Reason,
		"metadata":              encodeMetadata(r.Metadata, nil),
	}
	if eoid != nil {
		fields["external_order_id"] = *eoid
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, api.Request{
		Op: op, Method: http.MethodPost, Path: orderPath(orderID) + "refunds/", Body: body,
		Header: keyHeader(r.IdempotencyKey), Mutating: true, Replayable: true,
	})
	if err != nil {
		return nil, err
	}
	rf, err := decodeRefund(resp.Body)
	if err != nil {
		return nil, c.unreadable(op, resp.Status, err, true)
	}
	return &api.RefundResult{Refunds: []model.Refund{*rf}}, nil
}

// CancelPayment implements api.Provider with POST .../payments/{p}/cancel/.
func (c *Client) CancelPayment(ctx context.Context, orderID, paymentID string, r api.CancelRequest) (*model.Payment, error) {
	op := "cancel payment " + paymentID
	if err := checkRefs(op, orderID, paymentID); err != nil {
		return nil, err
	}
	if err := checkKey(op, r.IdempotencyKey, true); err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, api.Request{
		Op: op, Method: http.MethodPost, Path: paymentPath(orderID, paymentID) + "cancel/",
		Header: keyHeader(r.IdempotencyKey), Mutating: true, Replayable: true,
	})
	if err != nil {
		return nil, err
	}
	return c.readPayment(op, resp, orderID, true)
}

// ---------------------------------------------------------------- helpers

// do sends r through the transport after making sure a token is at hand. A
// token that cannot be had (bad credentials, Forage down) is reported as the
// token call's own typed error: inside the transport's Authorize it would
// count as a transport failure and be retried to the end.
func (c *Client) do(ctx context.Context, r api.Request) (*api.Response, error) {
	if _, err := c.auth.Token(ctx); err != nil {
		if e, ok := api.AsError(err); ok {
			e2 := *e
			e2.Op = r.Op + ": " + e.Op
			return nil, &e2
		}
		return nil, err
	}
	resp, err := c.tr.Do(ctx, r)
	if err != nil {
		return nil, err
	}
	// A list or object longer than paydesk reads is refused before any
	// decoding (api.CheckBounds); after a change it is an unread answer.
	if err := api.CheckBounds(resp.Body); err != nil {
		return nil, c.unreadable(r.Op, resp.Status, err, r.Method != http.MethodGet)
	}
	return resp, nil
}

func orderPath(orderID string) string { return "/api/orders/" + orderID + "/" }

func paymentPath(orderID, paymentID string) string {
	return orderPath(orderID) + "payments/" + paymentID + "/"
}

func checkRefs(op string, refs ...string) error {
	for _, r := range refs {
		if !validRef(r) {
			return &api.Error{Provider: ProviderID, Op: op, Code: "invalid_ref",
				Message: fmt.Sprintf("%q is not a Forage ref (letters and digits)", clipRunes(r, 20))}
		}
	}
	return nil
}

// checkKey: money requests need the caller's idempotency key; any key must
// be a valid header value (Forage asks for alphanumerics, UUIDs work).
func checkKey(op, key string, required bool) error {
	switch {
	case key == "" && required:
		return &api.Error{Provider: ProviderID, Op: op, Code: "missing_idempotency_key",
			Message: "an idempotency key is required (choose one per logical action)"}
	case len(key) > 255 || strings.IndexFunc(key, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0:
		return &api.Error{Provider: ProviderID, Op: op, Code: "invalid_idempotency_key",
			Message: "the idempotency key must be printable ASCII without spaces, at most 255 characters"}
	}
	return nil
}

func keyHeader(key string) http.Header {
	if key == "" {
		return nil
	}
	return http.Header{"Idempotency-Key": {key}}
}

// invalid is a refused request that never left paydesk. The model's field
// error stays in the chain for errors.As.
func invalid(op, field string, fe *model.FieldError) error {
	return &api.Error{Provider: ProviderID, Op: op, Code: "invalid_input_data", Message: fe.Error(),
		Fields: []api.FieldError{{Field: field, Code: "invalid_input_data", Message: fe.Rule}}, Err: fe}
}

// unreadable reports a 2xx answer paydesk could not read. After a change
// the change happened (or may have): Unknown, so the caller reconciles by
// reading instead of sending again with a new key.
func (c *Client) unreadable(op string, status int, err error, mutating bool) error {
	msg := "the answer could not be read"
	if mutating {
		msg = "Forage accepted the request but its answer could not be read; reload before trying again"
	}
	return &api.Error{Provider: ProviderID, Op: op, HTTPStatus: status, Code: "unreadable_answer",
		Message: msg + ": " + c.scrub(err.Error()), Unknown: mutating, Err: err}
}

// acceptedButUnread: refund_all succeeded but reading the order back failed.
func acceptedButUnread(op string, err error) error {
	e := &api.Error{Provider: ProviderID, Op: op, Unknown: true, Retryable: api.IsTransient(err), Err: err,
		Message: "Forage accepted the refund but reading the order back failed; reload the order"}
	if ae, ok := api.AsError(err); ok {
		e.Code = ae.Code
	}
	return e
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// remember keeps a payment's metadata as sent.
func (c *Client) remember(orderID, paymentID string, raw map[string]json.RawMessage) {
	c.metaMu.Lock()
	defer c.metaMu.Unlock()
	if len(c.meta) >= maxMetaCache {
		clear(c.meta)
	}
	c.meta[orderID+"/"+paymentID] = raw
}

func (c *Client) metadataJSON(orderID, paymentID string, m model.Metadata) json.RawMessage {
	if m == nil {
		return nil
	}
	c.metaMu.Lock()
	raw := c.meta[orderID+"/"+paymentID]
	c.metaMu.Unlock()
	return encodeMetadata(m, raw)
}

// encodeMetadata writes metadata canonically: keys sorted, values strings,
// except a value still equal to how a non-string JSON value that was read
// (raw) displays, which is written back as that JSON value: an edit of one
// key does not turn another key's number into a string. nil is {}.
func encodeMetadata(m model.Metadata, raw map[string]json.RawMessage) json.RawMessage {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		b.Write(kj)
		b.WriteByte(':')
		if rv, ok := raw[k]; ok && !isNull(rv) && !isString(rv) && displayJSON(rv) == m[k] {
			b.WriteString(compact(rv))
			continue
		}
		vj, _ := json.Marshal(m[k])
		b.Write(vj)
	}
	b.WriteByte('}')
	return json.RawMessage(b.String())
}

// refPattern is what paydesk accepts as a Forage ref in a URL path. Real refs
// are 10 lowercase hex characters, doc examples show other alphanumerics;
// anything outside this set (slashes, dots, control characters) is refused
// before it can change which URL is called.
var refPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func validRef(s string) bool { return refPattern.MatchString(s) }

// knownOrders remembers, per ref, what an opened order told that the report
// does not: its external order id and its refund state. Bounded; an entry
// is used only while the report still gives the status it was read with.
type knownOrders struct {
	mu sync.Mutex
	m  map[string]knownOrder
}

type knownOrder struct {
	providerStatus string
	status         model.Status
	externalID     string
}

// maxKnownOrders bounds the remembered orders (a day of a busy merchant).
const maxKnownOrders = 4096

func (k *knownOrders) put(o *model.Order) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]knownOrder{}
	}
	if _, ok := k.m[o.Ref]; !ok && len(k.m) >= maxKnownOrders {
		for ref := range k.m { // drop any one: this is a cache, not a record
			delete(k.m, ref)
			break
		}
	}
	k.m[o.Ref] = knownOrder{providerStatus: o.ProviderStatus, status: o.Status, externalID: o.ExternalOrderID}
}

// fill completes a report row from what the order said when it was opened,
// if the report's status has not moved since.
func (k *knownOrders) fill(s *model.OrderSummary) {
	k.mu.Lock()
	e, ok := k.m[s.Ref]
	k.mu.Unlock()
	if !ok || e.providerStatus != s.ProviderStatus {
		return
	}
	s.Status, s.Reference = e.status, e.externalID
}
