package ui

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// The heap bound follows what is live: after a collection the soft limit is
// the live heap plus half of it (at least heapRoomMin) plus the runtime's
// own memory, so a list that grows raises it and the collector never runs
// back to back; an operator's GOMEMLIMIT is left alone.
func TestHeapBoundFollowsTheLiveHeap(t *testing.T) {
	if !rowBoundChecked {
		t.Skip("heap figures mean nothing under the race detector")
	}
	t.Cleanup(stopHeapBound)

	BoundHeap(func(k string) string {
		if k == "GOMEMLIMIT" {
			return "1GiB"
		}
		return ""
	})
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("with GOMEMLIMIT set the console set a limit of %d", got)
	}

	BoundHeap(func(string) string { return "" })
	small := waitLimit(t, func(l int64) bool { return l > 0 })
	if small < heapRoomMin || small > 200<<20 {
		t.Fatalf("limit %d MiB with a small heap", small>>20)
	}
	if got := debug.SetMemoryLimit(-1); got != small {
		t.Fatalf("runtime limit %d, bound says %d", got, small)
	}

	held := make([][]byte, 96) // 96 MiB live, in pieces as rows would be
	for i := range held {
		held[i] = make([]byte, 1<<20)
	}
	big := waitLimit(t, func(l int64) bool { return l > 96<<20 })
	if big < 96<<20+48<<20 {
		t.Fatalf("limit %d MiB with 96 MiB live: under live plus half", big>>20)
	}
	if big > 96<<20+48<<20+small {
		t.Fatalf("limit %d MiB with 96 MiB live: more room than half the live heap", big>>20)
	}
	runtime.KeepAlive(held)
	held = nil
	down := waitLimit(t, func(l int64) bool { return l < 96<<20 })
	t.Logf("limit: %d MiB small, %d MiB with 96 MiB live, %d MiB after it is freed", small>>20, big>>20, down>>20)

	// Lifted, the limit stays lifted through collections; bound again,
	// it follows the heap again (a watcher is armed anew if needed).
	stopHeapBound()
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit %d after the bound was lifted", got)
	}
	heapBound.limit.Store(0)
	BoundHeap(func(string) string { return "" })
	held = make([][]byte, 64)
	for i := range held {
		held[i] = make([]byte, 1<<20)
	}
	again := waitLimit(t, func(l int64) bool { return l > 64<<20 })
	runtime.KeepAlive(held)
	if got := debug.SetMemoryLimit(-1); got != again {
		t.Fatalf("runtime limit %d, bound says %d", got, again)
	}
}

// waitLimit collects until the bound's limit satisfies ok.
func waitLimit(t *testing.T, ok func(int64) bool) int64 {
	t.Helper()
	for range 100 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the finalizer goroutine sets it
		if l := heapBound.limit.Load(); ok(l) {
			return l
		}
	}
	t.Fatalf("limit stayed %d", heapBound.limit.Load())
	return 0
}

func TestHeapLimitRoom(t *testing.T) {
	for _, c := range []struct {
		live, other uint64
		want        int64
	}{
		{0, 0, heapRoomMin},
		{4 << 20, 2 << 20, 4<<20 + heapRoomMin + 2<<20},
		{64 << 20, 3 << 20, 64<<20 + 32<<20 + 3<<20},
		{math.MaxUint64 / 2, math.MaxUint64 / 2, math.MaxInt64 / 2},
	} {
		if got := heapLimit(c.live, c.other); got != c.want {
			t.Errorf("heapLimit(%d, %d) = %d, want %d", c.live, c.other, got, c.want)
		}
	}
}
