package sandboxtest

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Advance from many goroutines adds up, and Now reads under the same lock
// (go test -race checks the second).
func TestClockAdvances(t *testing.T) {
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	c := NewClock(start)
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Advance(time.Second)
			_ = c.Now()
		}()
	}
	wg.Wait()
	if got := c.Now().Sub(start); got != 50*time.Second {
		t.Fatalf("clock moved %s, want 50s", got)
	}
}

// Serve answers on loopback during the test; the cleanup closes it.
func TestServeOnLoopback(t *testing.T) {
	var url string
	t.Run("serve", func(t *testing.T) {
		srv := Serve(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
		url = srv.URL
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "ok" || !strings.HasPrefix(srv.Listener.Addr().String(), "127.0.0.1:") {
			t.Fatalf("answer %q from %s", body, srv.Listener.Addr())
		}
	})
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Fatal("still serving after the test that started it ended")
	}
}
