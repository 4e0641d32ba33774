package store

import (
	"context"

	"paydesk/api"
)

// Bridge delivers to bus, the sessions of this process, the events other
// processes publish in the store: with PostgreSQL, a refund made on host A
// appears live on host B, and an approval requested on A is in B's badge.
// Events this process published itself (same Origin) are skipped: its own
// sessions heard them on the bus already, so nothing is delivered twice.
//
// forget (may be nil) is called first with the provider and order of every
// event from elsewhere, so a read cache shared by this process's sessions
// does not answer the refresh the event prompts with what it read before.
//
// It subscribes from the store's head (older events concern screens nobody
// has open); after a lost connection the store's subscription catches up
// on what was published meanwhile. It runs until ctx ends; the returned
// channel is closed once it has stopped.
func Bridge(ctx context.Context, ev Events, bus *api.Bus, forget func(provider, orderID string)) (<-chan struct{}, error) {
	head, err := ev.Head()
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	me := ev.Origin()
	sub := ev.Subscribe(ctx, head)
	go func() {
		defer close(done)
		for e := range sub {
			if e.Origin == me {
				continue
			}
			out, ok := toBus(e)
			if !ok {
				continue
			}
			if forget != nil && e.OrderID != "" {
				forget(e.Provider, e.OrderID)
			}
			bus.Publish(out)
		}
	}()
	return done, nil
}

// toBus is the session-side form of a store event: an intent that changed
// state is a money event on its order, an approval transition an approval
// event.
func toBus(e Event) (api.Event, bool) {
	switch e.Kind {
	case KindIntent:
		return api.Event{Kind: api.EventMoney, Provider: e.Provider, OrderID: e.OrderID, State: e.State}, true
	case KindApproval:
		return api.Event{Kind: api.EventApproval, Provider: e.Provider, OrderID: e.OrderID, ApprovalID: e.ApprovalID, State: e.State}, true
	}
	return api.Event{}, false
}
