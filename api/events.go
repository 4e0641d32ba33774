package api

import "sync"

// Event kinds.
const (
	// EventMoney: a money action or metadata change on an order finished
	// (whatever its outcome): sessions showing the order read it again.
	EventMoney = "money"
	// EventApproval: an approval request was made or changed state.
	EventApproval = "approval"
)

// Event tells every session of a process that something changed. It names
// what changed, never how much or by whom beyond the actor's name: a
// session reads the rest through its own guarded provider.
type Event struct {
	Kind       string
	Provider   string
	OrderID    string
	ApprovalID string
	State      string
}

// Bus fans events out to every session of one process. Publish never
// blocks: a subscriber that is behind misses events rather than holding up
// a money action, and each event only prompts a fresh read, so the next
// one (or the next refresh) catches it up.
type Bus struct {
	mu   sync.Mutex
	next int
	subs map[int]chan Event
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[int]chan Event{}} }

// busBuffer is how many events a subscriber may be behind before it
// misses some.
const busBuffer = 64

// Publish hands e to every subscriber that has room for it.
func (b *Bus) Publish(e Event) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

// Subscribe returns a channel of events and the function that ends the
// subscription (and closes the channel); call it once the session ends.
func (b *Bus) Subscribe() (<-chan Event, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	ch := make(chan Event, busBuffer)
	b.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			delete(b.subs, id)
			close(ch)
		})
	}
}

// Subscribers is how many subscriptions are open (tests check that a
// closed session leaves none behind).
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
