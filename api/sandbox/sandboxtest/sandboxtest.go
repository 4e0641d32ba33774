// Package sandboxtest holds what tests of the clients, the journal, the
// sandboxes and the console share: a fake clock both a sandbox and the code
// under test can read, a sandbox served on loopback for the length of one
// test, a log buffer read while it is written, and the many-keys metadata
// object of the body-bound tests. Only _test.go files import it. It imports no client and no
// sandbox, so the clients and the sandboxes still share no production code
// and every sandbox's own tests can use it too.
package sandboxtest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Clock is a settable clock, safe for concurrent use: pass its Now to a
// sandbox (refunds settle by it) and to the code under test, and move both
// forward together with Advance.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock standing at start.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Serve serves h (a sandbox, or a sandbox behind a test's wrapper) over real
// HTTP on loopback until the test ends. The server's URL is the base URL
// a client is configured with.
func Serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// LogBuffer is a log (a server's, or a child process's stderr) that a test
// reads while the code under test is still writing it. A bare bytes.Buffer
// races there; the journal's fault matrix, the SSH server's tests and the
// end-to-end test of the binary each had their own copy of this lock.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ManyKeys is the JSON object {"k0000000":"",...} with n members, 13 bytes
// each, so a million fit inside the transport's 16 MB body cap. It is the
// hostile metadata the body-bound tests of the transport and each client
// feed in; one builder keeps their sizes the same.
func ManyKeys(n int) []byte {
	var b bytes.Buffer
	b.Grow(n*14 + 2)
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%07d":""`, i)
	}
	b.WriteByte('}')
	return b.Bytes()
}
