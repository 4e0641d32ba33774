package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/api/audit"
	"paydesk/api/journal"
	"paydesk/api/store"
)

// Bench runs the store's figures as benchmarks: audit appends, lock
// acquisition across two instances, and notification latency from one
// instance to the other.
func Bench(b *testing.B, open func(b *testing.B) (a, c store.Store)) {
	b.Run("AuditAppend", func(b *testing.B) {
		a, _ := open(b)
		e := audit.Entry{Actor: "alice", Provider: "forage", Action: "refund_payment", OrderRef: "o1",
			Amount: "1.00", Currency: "USD", Outcome: audit.Succeeded}
		b.ResetTimer()
		for b.Loop() {
			if err := a.Audit().Append(e); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	})
	b.Run("AuditAppendTwoInstances", func(b *testing.B) {
		a, c := open(b)
		e := audit.Entry{Actor: "alice", Provider: "forage", Action: "refund_payment", OrderRef: "o1",
			Amount: "1.00", Currency: "USD", Outcome: audit.Succeeded}
		b.ResetTimer()
		done := make(chan error, 1)
		half := b.N / 2
		go func() {
			for range half {
				if err := c.Audit().Append(e); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for range b.N - half {
			if err := a.Audit().Append(e); err != nil {
				b.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
		if n, _, err := a.Audit().Verify(context.Background(), audit.Anchor{}); err != nil || n != b.N {
			b.Fatalf("chain: %d of %d, %v", n, b.N, err)
		}
	})
	b.Run("LockAcquireAlternating", func(b *testing.B) {
		// Each op: instance A takes and releases the order's lock, then
		// instance B does: the cost of a lock handed between two servers.
		a, c := open(b)
		k := journal.Key{Provider: "forage", Account: "acct", OrderID: "o-bench"}
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			s := a
			if i%2 == 1 {
				s = c
			}
			l, err := s.Journal().Lock(k, "desk")
			if err != nil {
				b.Fatal(err)
			}
			l.Unlock()
		}
	})
	b.Run("LockBusyAnswer", func(b *testing.B) {
		// A holds the lock; B is told who holds it.
		a, c := open(b)
		k := journal.Key{Provider: "forage", Account: "acct", OrderID: "o-busy"}
		l, err := a.Journal().Lock(k, "desk-1")
		if err != nil {
			b.Fatal(err)
		}
		defer l.Unlock()
		b.ResetTimer()
		for b.Loop() {
			if _, err := c.Journal().Lock(k, "desk-2"); err == nil {
				b.Fatal("second holder")
			}
		}
	})
	b.Run("NotifyLatency", func(b *testing.B) {
		a, c := open(b)
		head, err := c.Events().Head()
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sub := c.Events().Subscribe(ctx, head)
		// One event to know the subscriber is live.
		if _, err := a.Events().Publish(store.Event{Kind: store.KindIntent, OrderID: "warm"}); err != nil {
			b.Fatal(err)
		}
		<-sub
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			if _, err := a.Events().Publish(store.Event{Kind: store.KindIntent, OrderID: fmt.Sprint(i)}); err != nil {
				b.Fatal(err)
			}
			select {
			case <-sub:
			case <-time.After(10 * time.Second):
				b.Fatal("event not delivered")
			}
		}
	})
	// A journal step recorded on one host until a session's bus on the
	// other host hears it: what an agent on host B waits to see a refund
	// made on host A (the re-read of the order comes on top).
	b.Run("BridgeHostToHost", func(b *testing.B) {
		a, c := open(b)
		ctx, cancel := context.WithCancel(context.Background())
		bus := api.NewBus()
		done, err := store.Bridge(ctx, c.Events(), bus, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer func() { cancel(); <-done }()
		sub, end := bus.Subscribe()
		defer end()
		var lat []time.Duration
		for i := 0; b.Loop(); i++ {
			in := &journal.Intent{ID: fmt.Sprint("bridge-", i), Provider: "forage", Account: "acct", Action: journal.ActionRefundPayment,
				OrderID: fmt.Sprint("o-", i), PaymentID: "p1", Amount: "1.00", Currency: "USD", IdempotencyKey: fmt.Sprint("k-", i),
				Actor: "alice", State: journal.StateSucceeded, CreatedAt: time.Now(), UpdatedAt: time.Now()}
			t0 := time.Now()
			if err := a.Journal().Append(in); err != nil {
				b.Fatal(err)
			}
			for {
				select {
				case e := <-sub:
					if e.OrderID != in.OrderID {
						continue
					}
				case <-time.After(10 * time.Second):
					b.Fatal("event not bridged")
				}
				break
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		if len(lat) > 0 {
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-us")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-us")
		}
	})
}
