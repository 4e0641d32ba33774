package ui

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"time"
)

// The console's memory (issue: 100k loaded orders in at most 60 MB of
// RSS, while the agent keeps working, not only right after a load).
//
// What the console holds is compact (orders_mem.go, api/index), but Go's
// collector lets the heap grow to twice what is live before it collects
// (GOGC=100), and keeps what it freed for reuse: at 100k loaded rows about
// 31 MB live made 63 MB of heap and 87 MB of RSS while the agent moved,
// sorted, filtered and refreshed. Two things bring RSS down to what is held:
//
//   - BoundHeap (the console only, and only when GOMEMLIMIT is not set)
//     sets the runtime's soft memory limit after every collection to what
//     the runtime used then, plus half the live heap as room to allocate,
//     and never less than heapRoomMin of room. The collector then runs
//     before the heap passes the limit and the scavenger returns the rest
//     to the OS. Because the room is a share of what is live, a bigger list
//     raises the limit with it: the collector never runs back to back.
//   - releaseMemory returns free heap to the OS at once when a large load
//     ends or a large list is dropped.
//
// paydesk serve does not call BoundHeap: many sessions share its heap, and
// its operator sets GOMEMLIMIT/GOGC for the host.

// heapRoomMin is the least room above the live heap: below it a small
// console would collect after every few hundred keystrokes for no gain.
const heapRoomMin = 16 << 20

var heapBound struct {
	mu      sync.Mutex
	on      bool // the bound is wanted
	watched bool // a collection watcher is armed
	// limit is the last limit set, for tests.
	limit atomic.Int64
}

// BoundHeap keeps the console's heap near what it holds (above). getenv
// is the environment: an operator's GOMEMLIMIT wins. It is for the
// single-agent console's process; calling it twice is harmless.
func BoundHeap(getenv func(string) string) {
	if getenv("GOMEMLIMIT") != "" {
		return
	}
	heapBound.mu.Lock()
	heapBound.on = true
	arm := !heapBound.watched
	heapBound.watched = true
	heapBound.mu.Unlock()
	boundHeapNow()
	if arm {
		watchCollections(boundHeapNow)
	}
}

// stopHeapBound lifts the limit (tests); the watcher stops at the next
// collection.
func stopHeapBound() {
	heapBound.mu.Lock()
	defer heapBound.mu.Unlock()
	heapBound.on = false
	debug.SetMemoryLimit(math.MaxInt64)
}

// watchCollections calls f after every garbage collection, on the
// finalizer goroutine, for as long as the bound is on: a finalizer runs
// once its object is found unreachable, that is, after the next cycle,
// and each run sets the next.
func watchCollections(f func()) {
	type sentinel struct{ _ [16]byte } // finalizers need a heap object with a size
	var arm func()
	arm = func() {
		s := &sentinel{}
		runtime.SetFinalizer(s, func(*sentinel) {
			heapBound.mu.Lock()
			on := heapBound.on
			heapBound.watched = on
			heapBound.mu.Unlock()
			if !on {
				return // BoundHeap arms a new watcher if the bound is wanted again
			}
			f()
			arm()
		})
	}
	arm()
}

var heapSamples = []metrics.Sample{
	{Name: "/gc/heap/live:bytes"},
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
}

// boundHeapNow sets the soft limit from the last collection's live heap.
// It holds heapBound.mu throughout, so a limit is never set after
// stopHeapBound lifted it.
func boundHeapNow() {
	heapBound.mu.Lock()
	defer heapBound.mu.Unlock()
	if !heapBound.on {
		return
	}
	metrics.Read(heapSamples)
	var v [6]uint64
	for i, s := range heapSamples {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	live, total := v[0], v[1]
	heap := v[2] + v[3] + v[4] + v[5]
	limit := heapLimit(live, total-min(heap, total))
	heapBound.limit.Store(limit)
	debug.SetMemoryLimit(limit)
}

// heapLimit is the soft limit for a live heap and what the runtime uses
// besides the heap (stacks, its own structures): room to allocate of half
// the live heap, at least heapRoomMin.
func heapLimit(live, runtimeOther uint64) int64 {
	const most = math.MaxInt64 / 2 // sums of three of these cannot wrap
	live, runtimeOther = min(live, most), min(runtimeOther, most)
	room := max(live/2, heapRoomMin)
	return int64(min(live+room+runtimeOther, most))
}

// Returning memory to the OS. Go keeps the heap a load freed (decoded
// pages, the rows of a range the agent left) for reuse, so while a 30-day
// range loads the console's RSS climbs above what it holds. While a large
// list grows, at most once a second, when the range is whole, and when a
// large list is dropped, the list asks the runtime to give the free pages
// back, on its own goroutine (a full collection takes milliseconds to tens
// of them at 100k rows, and keys must not wait for it), one at a time for
// the whole process.

// releaseMin is the row count below which a list's garbage is not worth a
// full collection.
const releaseMin = 10_000

// releaseEvery spaces the releases while pages arrive.
const releaseEvery = time.Second

var releasing atomic.Bool

// releaseDue reports whether rows loaded, since the last release at
// lastRows rows, since ago, are worth a release now.
func releaseDue(lastRows, rows int, since time.Duration) bool {
	return rows >= releaseMin && rows > lastRows && since >= releaseEvery
}

// releaseMemory returns free heap to the OS in the background, unless a
// release is already running.
func releaseMemory() {
	if !releasing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer releasing.Store(false)
		debug.FreeOSMemory()
	}()
}
