package ui

import (
	"context"
	"flag"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
	"golang.org/x/time/rate"

	"paydesk/api"
	forageclient "paydesk/api/forage"
	foragesandbox "paydesk/api/sandbox/forage"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// testStart is the fixed "now" of every UI test.
var testStart = time.Date(2026, 11, 20, 14, 3, 0, 0, time.UTC)

type harnessOpts struct {
	orders   int
	latency  time.Duration
	refresh  time.Duration
	readOnly bool
	// limiter is the client's rate budget (nil: none).
	limiter *rate.Limiter
}

// harness is the real Forage sandbox on loopback, the real Forage client in
// front of it, and a Context built like main builds it, with a fixed clock
// and the Ascii colour profile set on the renderer the styles come from.
type harness struct {
	t      *testing.T
	clock  *sandboxtest.Clock
	srv    *httptest.Server
	prov   api.Provider
	copied []string
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	if o.orders == 0 {
		o.orders = 60
	}
	if o.latency == 0 {
		o.latency = 3 * time.Second
	}
	clock := sandboxtest.NewClock(testStart)
	sb := foragesandbox.New(foragesandbox.Options{Orders: o.orders, Seed: 7, RefundLatency: o.latency, Now: clock.Now})
	srv := sandboxtest.Serve(t, sb)
	lim := o.limiter
	if lim == nil {
		lim = rate.NewLimiter(rate.Inf, 1) // tests read many orders at once
	}
	cl, err := forageclient.New(forageclient.Config{
		BaseURL: srv.URL, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", Now: clock.Now, Limiter: lim,
	})
	if err != nil {
		t.Fatal(err)
	}
	var p api.Provider = &countingProvider{Provider: cl}
	if o.readOnly {
		p = api.ReadOnly(p)
	}
	return &harness{t: t, clock: clock, srv: srv, prov: p}
}

func testStyles() *Styles {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return NewStyles(r)
}

// context builds the shared Context at a terminal size.
func (h *harness) context(w, ht int, o harnessOpts) *Context {
	refresh := o.refresh
	if refresh == 0 {
		refresh = time.Hour // goldens: no poll fires while the test looks
	}
	return &Context{
		Width: w, Height: ht,
		Styles:    testStyles(),
		Keys:      DefaultKeys(o.readOnly),
		Providers: []api.Provider{h.prov},
		Sandbox:   true,
		ReadOnly:  o.readOnly,
		Actor:     "test",
		Refresh:   refresh,
		Timeout:   5 * time.Second,
		Now:       h.clock.Now,
		Copy: func(s string) tea.Cmd {
			h.copied = append(h.copied, s)
			return Status("Copied " + s)
		},
		NewKey: func() string { return "test-key" },
	}
}

// snapMsg asks the probe for the current View, from inside the program.
type snapMsg struct{ out chan string }

// probe wraps the App so a test can read View() on the program's own
// goroutine (reading the model from the test would race).
type probe struct{ app *App }

func (p probe) Init() tea.Cmd { return p.app.Init() }
func (p probe) View() string  { return p.app.View() }
func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m, ok := msg.(snapMsg); ok {
		m.out <- p.app.View()
		return p, nil
	}
	_, cmd := p.app.Update(msg)
	return p, cmd
}

// run starts the console over the harness at a terminal size.
func (h *harness) run(w, ht int, o harnessOpts) *session {
	h.t.Helper()
	c := h.context(w, ht, o)
	app := NewApp(c, newOrdersScreen)
	tm := teatest.NewTestModel(h.t, probe{app: app}, teatest.WithInitialTermSize(w, ht))
	s := &session{t: h.t, tm: tm, h: h}
	h.t.Cleanup(func() { _ = tm.Quit() })
	return s
}

// session is one running console.
type session struct {
	t  *testing.T
	tm *teatest.TestModel
	h  *harness
}

// view returns the current View().
func (s *session) view() string {
	s.t.Helper()
	out := make(chan string, 1)
	s.tm.Send(snapMsg{out: out})
	select {
	case v := <-out:
		return v
	case <-time.After(5 * time.Second):
		s.t.Fatal("the program did not answer a snapshot")
	}
	return ""
}

// waitFor polls View() until cond holds, and dumps the screen on failure.
func (s *session) waitFor(what string, cond func(v string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var v string
	for time.Now().Before(deadline) {
		v = s.view()
		if cond(v) {
			return v
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("timed out waiting for %s; screen:\n%s", what, v)
	return ""
}

func (s *session) waitText(text string) string {
	s.t.Helper()
	return s.waitFor("“"+text+"”", func(v string) bool { return strings.Contains(v, text) })
}

func (s *session) keys(ks ...string) {
	for _, k := range ks {
		s.tm.Send(keyMsg(k))
	}
}

func (s *session) resize(w, h int) { s.tm.Send(tea.WindowSizeMsg{Width: w, Height: h}) }

func keyMsg(k string) tea.KeyMsg {
	switch k {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "pgup":
		return tea.KeyMsg{Type: tea.KeyPgUp}
	case "home":
		return tea.KeyMsg{Type: tea.KeyHome}
	case "end":
		return tea.KeyMsg{Type: tea.KeyEnd}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// typeText sends each rune as its own key, the way a person types.
func (s *session) typeText(text string) {
	for _, r := range text {
		s.tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// checkGolden compares got with testdata/<name>.golden; go test -update
// rewrites it (the flag is registered by x/exp/golden through teatest).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./ui -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file.\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}

// findOrder lists the sandbox's orders through the client and returns the
// first one that matches.
func (h *harness) findOrder(match func(o *model.Order) bool) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	q := api.OrderQuery{From: h.clock.Now().Add(-90 * 24 * time.Hour), To: h.clock.Now()}
	for {
		pg, err := h.prov.ListOrders(ctx, q)
		if err != nil {
			h.t.Fatal(err)
		}
		for _, sum := range pg.Orders {
			o, err := h.prov.GetOrder(ctx, sum.ID)
			if err != nil {
				h.t.Fatal(err)
			}
			if match(o) {
				return sum.Ref
			}
		}
		if pg.Next == "" {
			h.t.Fatal("no sandbox order matches")
		}
		q.Cursor = pg.Next
	}
}

// countingProvider counts reads, so tests can see polling start and stop.
type countingProvider struct {
	api.Provider
	getOrder, getRefund atomic.Int64
}

func (p *countingProvider) GetOrder(ctx context.Context, id string) (*model.Order, error) {
	p.getOrder.Add(1)
	return p.Provider.GetOrder(ctx, id)
}

func (p *countingProvider) GetRefund(ctx context.Context, orderID, refundID string) (*model.Refund, error) {
	p.getRefund.Add(1)
	return p.Provider.GetRefund(ctx, orderID, refundID)
}

func (h *harness) counter() *countingProvider {
	if c, ok := h.prov.(*countingProvider); ok {
		return c
	}
	h.t.Fatal("the provider is wrapped (read-only)")
	return nil
}
