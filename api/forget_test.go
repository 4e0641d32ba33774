package api

import (
	"context"
	"testing"
	"time"

	"paydesk/api/sandbox/sandboxtest"
)

// Another host's refund cannot pass through this process's shared cache,
// so the bridge forgets the order: the refresh the event prompts reads the
// provider instead of answering with the read from before the refund.
func TestForgetMakesTheNextReadGoToTheProvider(t *testing.T) {
	inner := &slowProvider{}
	clock := sandboxtest.NewClock(time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC))
	s := Shared(inner, time.Minute, clock.Now)
	ctx := context.Background()
	for range 2 {
		if _, err := s.GetOrder(ctx, "o1"); err != nil {
			t.Fatal(err)
		}
	}
	if n := inner.orders.Load(); n != 1 {
		t.Fatalf("%d requests for two reads within maxAge, want 1", n)
	}
	Forget(s, "o1")
	if _, err := s.GetOrder(ctx, "o1"); err != nil {
		t.Fatal(err)
	}
	if n := inner.orders.Load(); n != 2 {
		t.Fatalf("%d requests after Forget, want 2: the cached read was reused", n)
	}
	Forget(inner, "o1") // not a shared provider: nothing cached, nothing to do
}
