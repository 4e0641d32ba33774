package api

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"paydesk/model"
)

// Shared wraps one provider client for every session of a process (paydesk
// serve): reads of the same order, refund or list page that overlap are
// coalesced into one request, and a result is reused for maxAge, so fifty agents watching
// one settling refund cost one request per interval, and opening an order
// another session just loaded costs none. Any change made through it
// forgets that order at once, before and after the change, so nobody reads
// their own action stale. Each caller gets its own copy of the result.
// Errors are never reused.
func Shared(p Provider, maxAge time.Duration, now func() time.Time) Provider {
	if now == nil {
		now = time.Now
	}
	return &shared{p: p, maxAge: maxAge, now: now, orders: map[string]*orderEntries{}}
}

type shared struct {
	p      Provider
	maxAge time.Duration
	now    func() time.Time

	mu     sync.Mutex
	orders map[string]*orderEntries
}

// orderEntries is what is known of one order: its reads (key "" is the
// order itself, any other key a refund id), and a generation bumped by
// every change to the order.
type orderEntries struct {
	gen   uint64
	reads map[string]*readEntry
}

// readEntry is one read, in flight (done open) or finished: val is the
// read's result (*model.Order, *model.Refund or OrderPage, by its key).
type readEntry struct {
	done chan struct{}
	at   time.Time
	gen  uint64
	val  any
	err  error
}

func (s *shared) entries(orderID string) *orderEntries {
	e := s.orders[orderID]
	if e == nil {
		e = &orderEntries{reads: map[string]*readEntry{}}
		s.orders[orderID] = e
	}
	return e
}

// read returns the entry to wait for: a fresh or in-flight one, or a new
// one this caller must fill (lead == true).
func (s *shared) read(orderID, key string) (re *readEntry, lead bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	oe := s.entries(orderID)
	if cur := oe.reads[key]; cur != nil {
		select {
		case <-cur.done:
			if cur.err == nil && cur.gen == oe.gen && s.now().Sub(cur.at) < s.maxAge {
				return cur, false
			}
		default:
			return cur, false // in flight: wait for it
		}
	}
	re = &readEntry{done: make(chan struct{}), gen: oe.gen}
	oe.reads[key] = re
	return re, true
}

// finish publishes a read; a failed or outdated read is not kept.
func (s *shared) finish(orderID, key string, re *readEntry) {
	s.mu.Lock()
	re.at = s.now()
	oe := s.entries(orderID)
	if oe.reads[key] == re && (re.err != nil || re.gen != oe.gen) {
		delete(oe.reads, key)
	}
	s.mu.Unlock()
	close(re.done)
}

// forget drops everything known of an order and outdates reads in flight.
func (s *shared) forget(orderID string) {
	s.mu.Lock()
	for _, id := range []string{orderID, listsID} {
		oe := s.entries(id)
		oe.gen++
		oe.reads = map[string]*readEntry{}
	}
	s.mu.Unlock()
}

// wait waits for a read this caller does not lead. retry is true when the
// leader's own context ended while this caller's has not.
func wait(ctx context.Context, re *readEntry) (retry bool, err error) {
	select {
	case <-re.done:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	if re.err != nil && isCallerGone(re.err) && ctx.Err() == nil {
		return true, nil
	}
	return false, re.err
}

// coalesce is one read through the cache: the caller leads a new read with
// fetch, or waits for the one in flight or fresh, and gets its own copy
// (clone) either way. A read whose leader gave up is led again by a caller
// still waiting; an error is the leader's result alone, never reused.
func coalesce[T any](ctx context.Context, s *shared, id, key string, fetch func() (T, error), clone func(T) T) (T, error) {
	for {
		re, lead := s.read(id, key)
		if lead {
			v, err := fetch()
			re.val, re.err = v, err
			s.finish(id, key, re)
			return clone(v), err
		}
		retry, err := wait(ctx, re)
		if retry {
			continue // the leader gave up; this caller has not
		}
		if err != nil {
			var zero T
			return zero, err
		}
		return clone(re.val.(T)), nil
	}
}

// isCallerGone is an error that belongs to the caller that made the
// request (its context ended), not to the read itself.
func isCallerGone(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (s *shared) ID() string                 { return s.p.ID() }
func (s *shared) Name() string               { return s.p.Name() }
func (s *shared) Capabilities() Capabilities { return s.p.Capabilities() }

// listsID is where list pages are kept: not an order, so any change to any
// order forgets them all (a refund changes a row's status).
const listsID = "\x00lists"

// ListOrders shares pages read with the same query: every console opening
// its list asks for the same first pages (Forage takes about 30 requests
// for one console's first screen), so a room of agents starting at once
// would otherwise spend the provider's whole budget.
func (s *shared) ListOrders(ctx context.Context, q OrderQuery) (OrderPage, error) {
	return coalesce(ctx, s, listsID, queryKey(q, s.maxAge),
		func() (OrderPage, error) { return s.p.ListOrders(ctx, q) }, clonePage)
}

// queryKey is the whole query as text: two queries share a page only when
// every field is the same (a test fails when a new field is left out),
// except that From and To count as the same within one maxAge bucket. A
// console's default range ends at its own "now", so no two consoles would
// otherwise ever ask the same question; a page whose range ends up to
// maxAge earlier is as stale as a reused order, and no staler.
func queryKey(q OrderQuery, bucket time.Duration) string {
	t := func(v time.Time) string {
		if v.IsZero() {
			return ""
		}
		if bucket > 0 {
			v = v.Truncate(bucket)
		}
		return v.UTC().Format(time.RFC3339Nano)
	}
	m := func(v *model.Money) string {
		if v == nil {
			return "-"
		}
		return v.Amount.String() + " " + v.Currency
	}
	return fmt.Sprintf("%s|%s|%q|%d|%q|%q|%q|%q|%s|%s|%q|%t", t(q.From), t(q.To), q.Cursor, q.Limit,
		q.Currency, q.UpstreamID, q.CardScheme, q.CardLast4, m(q.AmountMin), m(q.AmountMax), q.SortBy, q.Ascending)
}

func clonePage(p OrderPage) OrderPage {
	c := p
	if p.Orders != nil {
		c.Orders = make([]model.OrderSummary, len(p.Orders))
		for i, o := range p.Orders {
			o.Amounts = cloneSlice(o.Amounts)
			c.Orders[i] = o
		}
	}
	return c
}

func (s *shared) GetOrder(ctx context.Context, orderID string) (*model.Order, error) {
	return coalesce(ctx, s, orderID, "",
		func() (*model.Order, error) { return s.p.GetOrder(ctx, orderID) }, cloneOrder)
}

func (s *shared) GetRefund(ctx context.Context, orderID, refundID string) (*model.Refund, error) {
	key := "refund:" + refundID // never "", the order's own key
	return coalesce(ctx, s, orderID, key,
		func() (*model.Refund, error) { return s.p.GetRefund(ctx, orderID, refundID) }, cloneRefund)
}

func (s *shared) UpdatePayment(ctx context.Context, orderID, paymentID string, u PaymentUpdate) (*model.Payment, error) {
	return changing(s, orderID, func() (*model.Payment, error) { return s.p.UpdatePayment(ctx, orderID, paymentID, u) })
}

func (s *shared) UpdateRefund(ctx context.Context, orderID, refundID string, u RefundUpdate) (*model.Refund, error) {
	return changing(s, orderID, func() (*model.Refund, error) { return s.p.UpdateRefund(ctx, orderID, refundID, u) })
}

func (s *shared) RefundOrder(ctx context.Context, orderID string, r RefundOrderRequest) (*RefundResult, error) {
	return changing(s, orderID, func() (*RefundResult, error) { return s.p.RefundOrder(ctx, orderID, r) })
}

func (s *shared) RefundPayment(ctx context.Context, orderID, paymentID string, r RefundPaymentRequest) (*RefundResult, error) {
	return changing(s, orderID, func() (*RefundResult, error) { return s.p.RefundPayment(ctx, orderID, paymentID, r) })
}

func (s *shared) CancelPayment(ctx context.Context, orderID, paymentID string, r CancelRequest) (*model.Payment, error) {
	return changing(s, orderID, func() (*model.Payment, error) { return s.p.CancelPayment(ctx, orderID, paymentID, r) })
}

// changing runs a change to an order with everything known of it forgotten
// before (no read starts from the old state meanwhile) and after (a read in
// flight during the change is not kept), so nobody reads their own action
// stale.
func changing[T any](s *shared, orderID string, change func() (T, error)) (T, error) {
	s.forget(orderID)
	defer s.forget(orderID)
	return change()
}

// cloneOrder copies everything a caller could change: sessions share the
// read, never the value.
func cloneOrder(o *model.Order) *model.Order {
	if o == nil {
		return nil
	}
	c := *o
	c.SuccessDate = clonePtr(o.SuccessDate)
	c.Metadata = cloneMetadata(o.Metadata)
	c.AvailableToRefund = clonePtr(o.AvailableToRefund)
	c.Fields = cloneSlice(o.Fields)
	if o.Payments != nil {
		c.Payments = make([]model.Payment, len(o.Payments))
		for i := range o.Payments {
			c.Payments[i] = clonePayment(o.Payments[i])
		}
	}
	if o.Refunds != nil {
		c.Refunds = make([]model.Refund, len(o.Refunds))
		for i := range o.Refunds {
			c.Refunds[i] = *cloneRefund(&o.Refunds[i])
		}
	}
	return &c
}

func clonePayment(p model.Payment) model.Payment {
	c := p
	c.Metadata = cloneMetadata(p.Metadata)
	c.SuccessDate = clonePtr(p.SuccessDate)
	c.LastError = clonePtr(p.LastError)
	c.Receipt = cloneReceipt(p.Receipt)
	c.RefundIDs = cloneSlice(p.RefundIDs)
	c.Card = clonePtr(p.Card)
	c.Fields = cloneSlice(p.Fields)
	return c
}

func cloneRefund(r *model.Refund) *model.Refund {
	if r == nil {
		return nil
	}
	c := *r
	c.Metadata = cloneMetadata(r.Metadata)
	c.LastError = clonePtr(r.LastError)
	c.Receipt = cloneReceipt(r.Receipt)
	c.Fields = cloneSlice(r.Fields)
	return &c
}

func cloneReceipt(r *model.Receipt) *model.Receipt {
	if r == nil {
		return nil
	}
	c := *r
	if r.Balance != nil {
		b := *r.Balance
		b.Snap, b.Cash = clonePtr(r.Balance.Snap), clonePtr(r.Balance.Cash)
		c.Balance = &b
	}
	return &c
}

// cloneMetadata keeps nil nil (model.Metadata.Clone makes it empty).
func cloneMetadata(m model.Metadata) model.Metadata {
	if m == nil {
		return nil
	}
	return maps.Clone(m)
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append([]T(nil), s...)
}
