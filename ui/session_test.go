package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"paydesk/api"
	"paydesk/api/journal"
	"paydesk/model"
)

// Under go test stdout is no terminal, so lipgloss's default renderer draws
// without colour: anything coloured here came from the session's renderer.
func colourRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	return r
}

func TestFormThemeDrawsWithTheSessionRenderer(t *testing.T) {
	if lipgloss.ColorProfile() != termenv.Ascii {
		t.Skip("the default renderer has colour here; the test cannot tell the renderers apart")
	}
	th := formTheme(colourRenderer())
	if out := th.Focused.TextInput.Placeholder.Render("x"); !strings.Contains(out, "\x1b[") {
		t.Errorf("huh placeholder drawn without the session's colours: %q", out)
	}
	if out := th.Focused.FocusedButton.Render("ok"); !strings.Contains(out, "\x1b[") {
		t.Errorf("huh button drawn without the session's colours: %q", out)
	}
	plain := formTheme(testStyles().R)
	if out := plain.Focused.FocusedButton.Render("ok"); strings.Contains(out, "\x1b[") {
		t.Errorf("an Ascii session got colours: %q", out)
	}
}

func TestTextInputDrawsWithTheSessionRenderer(t *testing.T) {
	if lipgloss.ColorProfile() != termenv.Ascii {
		t.Skip("the default renderer has colour here; the test cannot tell the renderers apart")
	}
	in := newTextInput(colourRenderer())
	in.Placeholder = "ref"
	if out := in.View(); !strings.Contains(out, "\x1b[") {
		t.Errorf("placeholder drawn without the session's colours: %q", out)
	}
	h := newHelp(colourRenderer())
	if out := h.Styles.ShortKey.Render("q"); !strings.Contains(out, "\x1b[") {
		t.Errorf("help drawn without the session's colours: %q", out)
	}
}

// Two sessions in one process keep their own colours and identities.
func TestNewSessionIsSelfContained(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	d := Deps{Providers: []api.Provider{h.prov}, Sandbox: true, Refresh: time.Hour, Timeout: time.Second,
		Now: h.clock.Now, NewKey: func() string { return "k" }}
	a := NewSession(d, colourRenderer(), Identity{Name: "desk-1", Role: api.RoleViewer, Fingerprint: "SHA256:abc"}, io.Discard)
	b := NewSession(d, testStyles().R, Identity{Name: "desk-2"}, io.Discard)
	if a.Context.Actor != "desk-1 role=viewer key=SHA256:abc" || b.Context.Actor != "desk-2" {
		t.Errorf("actors %q, %q", a.Context.Actor, b.Context.Actor)
	}
	if !strings.Contains(a.Context.Styles.Title.Render("t"), "\x1b[") {
		t.Error("session a lost its colour profile")
	}
	if strings.Contains(b.Context.Styles.Title.Render("t"), "\x1b[") {
		t.Error("session b took session a's colour profile")
	}
	if !a.Context.ReadOnly || b.Context.ReadOnly {
		t.Error("a viewer's session must be read-only, and only theirs")
	}
	if _, err := a.Context.Providers[0].RefundPayment(context.Background(), "o", "p", api.RefundPaymentRequest{}); err == nil {
		t.Error("a viewer's provider accepted a refund")
	}
}

// Every action a session takes reaches the audit log under the session's
// identity: name, role and key fingerprint.
func TestSessionActionsAreAuditedWithIdentity(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	var mu sync.Mutex
	var recs []journal.AuditRecord
	j, err := journal.Open(journal.Options{Dir: t.TempDir(), Now: h.clock.Now, Auditor: journal.AuditorFunc(func(r journal.AuditRecord) error {
		mu.Lock()
		recs = append(recs, r)
		mu.Unlock()
		return nil
	})})
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{Providers: []api.Provider{h.prov}, Journal: j, Sandbox: true, Refresh: time.Hour, Timeout: 5 * time.Second,
		Now: h.clock.Now, NewKey: func() string { return "k" }, RefundLimits: api.DefaultRefundLimits()}
	s := NewSession(d, testStyles().R, Identity{Name: "desk-1", Role: api.RoleAgent, Fingerprint: "SHA256:abc"}, io.Discard)
	p := s.Context.Providers[0]
	ctx := context.Background()
	page, err := p.ListOrders(ctx, api.OrderQuery{})
	if err != nil || len(page.Orders) == 0 {
		t.Fatalf("orders: %v", err)
	}
	o, err := p.GetOrder(ctx, page.Orders[0].ID)
	if err != nil || len(o.Payments) == 0 {
		t.Fatalf("order: %v", err)
	}
	if _, err := p.UpdatePayment(ctx, o.ID, o.Payments[0].ID, api.PaymentUpdate{Metadata: model.Metadata{"note": "checked"}, IdempotencyKey: "k1"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(recs) == 0 {
		t.Fatal("no audit record")
	}
	for _, r := range recs {
		if r.Actor != "desk-1 role=agent key=SHA256:abc" {
			t.Errorf("audit actor %q", r.Actor)
		}
	}
}

// Two agents in two sessions of one process confirm a whole-order refund
// of the same order at the same moment: the shared journal's per-order
// lock lets one through, and the order is refunded once.
func TestTwoSessionsRefundingOneOrderMakeOneRefund(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	j, err := journal.Open(journal.Options{Dir: t.TempDir(), Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	lim := api.DefaultRefundLimits()
	lim.Default = lim.Default.Mul(lim.Default) // 10000: the test is about the lock, not the limit
	n := 0
	d := Deps{Providers: []api.Provider{h.prov}, Journal: j, Sandbox: true, Refresh: time.Hour, Timeout: 5 * time.Second,
		Now: h.clock.Now, NewKey: func() string { n++; return fmt.Sprintf("key-%d", n) }, RefundLimits: lim}
	one := NewSession(d, testStyles().R, Identity{Name: "desk-1", Role: api.RoleAgent, Fingerprint: "SHA256:one"}, io.Discard)
	two := NewSession(d, testStyles().R, Identity{Name: "desk-2", Role: api.RoleAgent, Fingerprint: "SHA256:two"}, io.Discard)
	ctx := context.Background()
	page, err := h.prov.ListOrders(ctx, api.OrderQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var o *model.Order
	for _, s := range page.Orders {
		full, err := h.prov.GetOrder(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if full.Refundable().IsPositive() && !full.HasRefundInFlight() {
			o = full
			break
		}
	}
	if o == nil {
		t.Fatal("no refundable order in the sandbox")
	}
	before := len(o.Refunds)
	expected := o.Refundable()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []*Session{one, two} {
		wg.Add(1)
		go func(i int, p api.Provider, key string) {
			defer wg.Done()
			_, errs[i] = p.RefundOrder(ctx, o.ID, api.RefundOrderRequest{IdempotencyKey: key, Reason: "customer asked", Expected: expected})
		}(i, s.Context.Providers[0], fmt.Sprintf("race-%d", i))
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		var busy *journal.BusyError
		if errors.As(err, &busy) && !strings.HasPrefix(busy.Actor, "desk-") {
			t.Errorf("busy error does not name the other agent: %+v", busy)
		}
		t.Logf("the other agent got: %v", err)
	}
	if ok != 1 {
		t.Fatalf("%d refunds went through (errors %v), want exactly 1", ok, errs)
	}
	after, err := h.prov.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(after.Refunds) - before; got < 1 {
		t.Fatalf("no refund on the order")
	}
	if after.Refundable().IsPositive() && !after.HasRefundInFlight() {
		t.Errorf("order still has %s refundable after a whole-order refund", after.Refundable())
	}
}
