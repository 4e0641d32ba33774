package sshserve

import (
	"io"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"
)

// signalWriter tells the benchmark when output arrives.
type signalWriter struct {
	w  io.Writer
	ch chan struct{}
}

func (s *signalWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	select {
	case s.ch <- struct{}{}:
	default:
	}
	return n, err
}

// BenchmarkFiftySessions opens 50 consoles over SSH (50 keys), reports the
// heap each idle session holds, then measures keypress-to-first-output on
// one of them while the other 49 stay connected:
//
//	go test ./ui/sshserve -run '^$' -bench FiftySessions -benchtime 200x
func BenchmarkFiftySessions(b *testing.B) {
	const n = 50
	keys, users := agentKeys(b, n)
	ts := startServer(b, users, nil)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	type conn struct {
		stdin io.Writer
		emu   *vt.SafeEmulator
		out   chan struct{}
	}
	conns := make([]conn, n)
	for i, k := range keys {
		c, err := ts.dial(k, "x")
		if err != nil {
			b.Fatal(err)
		}
		s, err := c.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		if err := s.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
			b.Fatal(err)
		}
		stdin, _ := s.StdinPipe()
		stdout, _ := s.StdoutPipe()
		emu := vt.NewSafeEmulator(80, 24)
		out := make(chan struct{}, 1)
		go func() { _, _ = io.Copy(&signalWriter{w: emu, ch: out}, stdout) }()
		go func() { _, _ = io.Copy(stdin, emu) }()
		if err := s.Shell(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close(); c.Close(); closeEmulator(emu) })
		conns[i] = conn{stdin: stdin, emu: emu, out: out}
	}
	for _, c := range conns {
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(ansi.Strip(c.emu.Render()), "loaded") {
			if time.Now().After(deadline) {
				b.Fatalf("a console never loaded:\n%s", ansi.Strip(c.emu.Render()))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	time.Sleep(200 * time.Millisecond) // let the first frames settle
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// Both ends live in this process: the figure includes the client side
	// (x/crypto/ssh client and the terminal emulator), so it is an upper
	// bound on what the server holds per idle session.
	perSession := float64(after.HeapInuse-before.HeapInuse) / n

	c := conns[0]
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Drain, press, wait for the frame.
		select {
		case <-c.out:
		default:
		}
		k := "j"
		if i%2 == 1 {
			k = "k"
		}
		start := time.Now()
		if _, err := io.WriteString(c.stdin, k); err != nil {
			b.Fatal(err)
		}
		select {
		case <-c.out:
		case <-time.After(5 * time.Second):
			b.Fatal("no frame after a key")
		}
		lat = append(lat, time.Since(start))
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
	b.ReportMetric(perSession/1024, "KiB/idle-session")
}
