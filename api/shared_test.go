package api

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// slowProvider answers reads after a delay and counts them: it stands in
// for a client so the test can count requests; the clients themselves are
// tested against the sandboxes.
type slowProvider struct {
	countingProvider
	delay   time.Duration
	orders  atomic.Int64
	refunds atomic.Int64
	fail    atomic.Bool
}

func (p *slowProvider) GetOrder(ctx context.Context, id string) (*model.Order, error) {
	p.orders.Add(1)
	select {
	case <-time.After(p.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if p.fail.Load() {
		return nil, errors.New("boom")
	}
	return &model.Order{ID: id, Metadata: model.Metadata{"k": "v"}, Refunds: []model.Refund{{ID: "r1"}}}, nil
}

func (p *slowProvider) GetRefund(ctx context.Context, orderID, refundID string) (*model.Refund, error) {
	p.refunds.Add(1)
	time.Sleep(p.delay)
	return &model.Refund{ID: refundID, OrderID: orderID}, nil
}

func TestSharedCoalescesAndReuses(t *testing.T) {
	inner := &slowProvider{delay: 50 * time.Millisecond}
	clock := sandboxtest.NewClock(time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC))
	s := Shared(inner, 2*time.Second, clock.Now)
	ctx := context.Background()

	// 50 sessions open the same order at once: one request.
	var wg sync.WaitGroup
	got := make([]*model.Order, 50)
	for i := range got {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			o, err := s.GetOrder(ctx, "o1")
			if err != nil {
				t.Error(err)
			}
			got[i] = o
		}(i)
	}
	wg.Wait()
	if n := inner.orders.Load(); n != 1 {
		t.Fatalf("%d requests for 50 overlapping reads, want 1", n)
	}
	// Each got its own copy.
	got[0].Metadata["k"] = "changed"
	got[0].Refunds[0].ID = "changed"
	if got[1].Metadata["k"] != "v" || got[1].Refunds[0].ID != "r1" {
		t.Fatal("sessions share one order value")
	}
	// Within maxAge: no request. After: one.
	clock.Advance(time.Second)
	if _, err := s.GetOrder(ctx, "o1"); err != nil || inner.orders.Load() != 1 {
		t.Fatalf("fresh read went out: %v, %d", err, inner.orders.Load())
	}
	clock.Advance(1500 * time.Millisecond)
	if _, err := s.GetOrder(ctx, "o1"); err != nil || inner.orders.Load() != 2 {
		t.Fatalf("stale read reused: %v, %d", err, inner.orders.Load())
	}
	// A change through the wrapper forgets the order at once.
	if _, err := s.RefundPayment(ctx, "o1", "p1", RefundPaymentRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetOrder(ctx, "o1"); err != nil || inner.orders.Load() != 3 {
		t.Fatalf("read after a refund was served from before it: %d", inner.orders.Load())
	}
	// Refunds are shared the same way, per refund.
	for i := 0; i < 3; i++ {
		if _, err := s.GetRefund(ctx, "o1", "r1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := inner.refunds.Load(); n != 1 {
		t.Fatalf("%d refund requests, want 1", n)
	}
	// Another order is another read.
	if _, err := s.GetOrder(ctx, "o2"); err != nil || inner.orders.Load() != 4 {
		t.Fatalf("orders mixed up: %d", inner.orders.Load())
	}
}

func TestSharedNeverReusesErrorsOrAbandonedReads(t *testing.T) {
	inner := &slowProvider{delay: 100 * time.Millisecond}
	s := Shared(inner, time.Hour, nil)
	inner.fail.Store(true)
	if _, err := s.GetOrder(context.Background(), "o"); err == nil {
		t.Fatal("want the error")
	}
	inner.fail.Store(false)
	if _, err := s.GetOrder(context.Background(), "o"); err != nil {
		t.Fatalf("an error was reused: %v", err)
	}

	// The leader's agent leaves the screen (its context ends) while another
	// session waits on the same read: the other still gets the order.
	inner2 := &slowProvider{delay: 100 * time.Millisecond}
	s2 := Shared(inner2, time.Hour, nil)
	leaderCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s2.GetOrder(leaderCtx, "o")
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	waiter := make(chan error, 1)
	go func() {
		_, err := s2.GetOrder(context.Background(), "o")
		waiter <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader: %v", err)
	}
	if err := <-waiter; err != nil {
		t.Fatalf("a waiting session got the leader's cancellation: %v", err)
	}
}

// fill sets every exported field reachable from v to something non-zero,
// so a field added to the model later is covered without editing this test.
func fill(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Pointer:
		if depth > 6 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0), depth+1)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Func:
		// no funcs in the model
	}
}

// shared reports the first pointer, slice or map that a and b share.
func sharedRef(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		if !a.IsNil() && a.UnsafePointer() == b.UnsafePointer() {
			return path
		}
	}
	switch a.Kind() {
	case reflect.Pointer:
		if !a.IsNil() {
			return sharedRef(a.Elem(), b.Elem(), path)
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if a.Type().Field(i).IsExported() {
				if p := sharedRef(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
					return p
				}
			}
		}
	case reflect.Slice:
		for i := 0; i < a.Len(); i++ {
			if p := sharedRef(a.Index(i), b.Index(i), path+"[]"); p != "" {
				return p
			}
		}
	}
	return ""
}

func TestCloneSharesNothing(t *testing.T) {
	var o model.Order
	fill(reflect.ValueOf(&o).Elem(), 0)
	c := cloneOrder(&o)
	if !reflect.DeepEqual(&o, c) {
		t.Fatal("the copy differs from the original")
	}
	if p := sharedRef(reflect.ValueOf(&o).Elem(), reflect.ValueOf(c).Elem(), "Order"); p != "" {
		t.Errorf("the copy shares %s with the original: a new model field needs copying in cloneOrder", p)
	}
	var r model.Refund
	fill(reflect.ValueOf(&r).Elem(), 0)
	if p := sharedRef(reflect.ValueOf(&r).Elem(), reflect.ValueOf(cloneRefund(&r)).Elem(), "Refund"); p != "" {
		t.Errorf("the refund copy shares %s", p)
	}
}

// Fifty sessions poll one settling refund every refresh interval, each at
// its own phase: the provider sees about one request per interval.
func TestFiftyPollersCostOneRequestPerInterval(t *testing.T) {
	const (
		sessions  = 50
		interval  = 100 * time.Millisecond
		intervals = 6
	)
	inner := &slowProvider{delay: 2 * time.Millisecond}
	s := Shared(inner, interval, nil)
	var wg sync.WaitGroup
	stop := time.Now().Add(intervals * interval)
	for i := 0; i < sessions; i++ {
		wg.Add(1)
		go func(phase time.Duration) {
			defer wg.Done()
			time.Sleep(phase)
			for time.Now().Before(stop) {
				if _, err := s.GetRefund(context.Background(), "o", "r"); err != nil {
					t.Error(err)
					return
				}
				time.Sleep(interval)
			}
		}(time.Duration(i) * interval / sessions)
	}
	wg.Wait()
	n := inner.refunds.Load()
	t.Logf("%d sessions, %d intervals: %d provider requests (%.2f per interval)", sessions, intervals, n, float64(n)/intervals)
	if n > intervals+1 {
		t.Errorf("%d requests in %d intervals: want about one per interval", n, intervals)
	}
}

type listingProvider struct {
	slowProvider
	lists atomic.Int64
}

func (p *listingProvider) ListOrders(ctx context.Context, q OrderQuery) (OrderPage, error) {
	p.lists.Add(1)
	time.Sleep(p.delay)
	return OrderPage{Orders: []model.OrderSummary{{ID: "o1", Amounts: []model.Money{model.MustParse("1.00", "USD")}}}, Next: q.Cursor + "+"}, nil
}

func TestSharedListPages(t *testing.T) {
	inner := &listingProvider{slowProvider: slowProvider{delay: 30 * time.Millisecond}}
	s := Shared(inner, time.Hour, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	pages := make([]OrderPage, 20)
	for i := range pages {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p, err := s.ListOrders(ctx, OrderQuery{})
			if err != nil {
				t.Error(err)
			}
			pages[i] = p
		}(i)
	}
	wg.Wait()
	if n := inner.lists.Load(); n != 1 {
		t.Fatalf("%d list requests for 20 consoles opening at once, want 1", n)
	}
	pages[0].Orders[0].Amounts[0] = model.MustParse("9.99", "USD")
	if pages[1].Orders[0].Amounts[0].String() != model.MustParse("1.00", "USD").String() {
		t.Fatal("consoles share one page value")
	}
	// Another query (the next page, a filter) is another read.
	if _, err := s.ListOrders(ctx, OrderQuery{Cursor: "+"}); err != nil || inner.lists.Load() != 2 {
		t.Fatalf("pages mixed up: %d", inner.lists.Load())
	}
	// A change to any order forgets every page (a row's status moved).
	if _, err := s.UpdatePayment(ctx, "o9", "p", PaymentUpdate{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListOrders(ctx, OrderQuery{}); err != nil || inner.lists.Load() != 3 {
		t.Fatalf("a page from before a change was reused: %d", inner.lists.Load())
	}
}

// Every field of OrderQuery must change the key: a field left out would
// hand one agent's filtered page to another.
func TestQueryKeyCoversEveryField(t *testing.T) {
	base := queryKey(OrderQuery{}, time.Second)
	typ := reflect.TypeFor[OrderQuery]()
	for i := 0; i < typ.NumField(); i++ {
		var q OrderQuery
		f := reflect.ValueOf(&q).Elem().Field(i)
		switch f.Interface().(type) {
		case time.Time:
			f.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)))
		case *model.Money:
			m := model.MustParse("5.00", "USD")
			f.Set(reflect.ValueOf(&m))
		default:
			fill(f, 0)
		}
		if queryKey(q, time.Second) == base {
			t.Errorf("OrderQuery.%s does not change the shared-list key", typ.Field(i).Name)
		}
	}
}

// Two consoles whose default ranges end at their own "now", a moment
// apart, ask the same question.
func TestQueryKeyBucketsTheRange(t *testing.T) {
	now := time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC)
	a := OrderQuery{From: now.Add(-30 * 24 * time.Hour), To: now}
	b := OrderQuery{From: a.From.Add(300 * time.Millisecond), To: a.To.Add(300 * time.Millisecond)}
	if queryKey(a, 2*time.Second) != queryKey(b, 2*time.Second) {
		t.Error("ranges 300ms apart do not share a 2s bucket")
	}
	c := OrderQuery{From: a.From.Add(3 * time.Second), To: a.To.Add(3 * time.Second)}
	if queryKey(a, 2*time.Second) == queryKey(c, 2*time.Second) {
		t.Error("ranges 3s apart share a 2s bucket")
	}
}
