package ui

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"paydesk/api"
	forageclient "paydesk/api/forage"
	foragesandbox "paydesk/api/sandbox/forage"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
	"paydesk/ui/testdata/hostile/hugemeta"
)

// vmHWM is the process's peak resident set (Linux), or "" elsewhere.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return ""
}

// A provider answering an order's payments with a million metadata keys
// (a 13 MB answer) leaves the console usable: the order and payment
// screens render, the payment screen marks the metadata truncated, and the
// editor refuses the set with a message instead of building a million rows.
// Run alone to read the figures:
//
//	go test ./ui -run TestMillionMetadataKeysStayBounded -v
func TestMillionMetadataKeysStayBounded(t *testing.T) {
	clock := sandboxtest.NewClock(testStart)
	sb := foragesandbox.New(foragesandbox.Options{Orders: 60, Seed: 7, RefundLatency: flowLatency, Now: clock.Now})
	plain := sandboxtest.Serve(t, sb)
	h := &harness{t: t, clock: clock, srv: plain}
	cl, err := forageclient.New(forageclient.Config{
		BaseURL: plain.URL, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", Now: clock.Now, Limiter: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.prov = cl
	ref := h.findOrder(func(o *model.Order) bool { return len(o.Payments) > 0 && plainOrder(o) })

	huge := hugemeta.Keys(1_000_000)
	hostile := sandboxtest.Serve(t, hugemeta.OnPayments(sb, func(path string) bool {
		return strings.Contains(path, "/orders/"+ref+"/payments/")
	}, huge))
	cl, err = forageclient.New(forageclient.Config{
		BaseURL: hostile.URL, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", Now: clock.Now, Limiter: rate.NewLimiter(rate.Inf, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.prov = cl
	huge = nil

	s := h.run(80, 24, harnessOpts{})
	v := s.openOrder(ref)
	fitsWidth(t, v, 80)
	s.keys("enter")
	v = s.waitText("Last processing error")
	fitsWidth(t, v, 80)
	if !strings.Contains(v, fmt.Sprintf("Metadata (%d)", model.MaxReadMetadataKeys)) || !strings.Contains(v, "truncated: the provider sent 1000000 keys") {
		t.Fatalf("the payment screen does not mark the metadata truncated:\n%s", v)
	}
	s.keys("e")
	v = s.waitText("Not editable: 1000 of 1000000 metadata keys read; edit it at the provider.")
	if !strings.Contains(v, "Last processing error") {
		t.Fatalf("the refused editor did not leave the payment screen in place:\n%s", v)
	}
	// The screen still answers keys at once.
	s.keys("esc")
	s.waitText("Payments (")

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("after the hostile answer: heap in use %d MB, obtained from the OS %d MB, peak RSS %s",
		ms.HeapInuse>>20, ms.Sys>>20, vmHWM())
	if ms.HeapInuse > 100<<20 {
		t.Errorf("heap in use %d MB after the screens rendered", ms.HeapInuse>>20)
	}
}

// The editor opens no set larger than model.MaxEditableMetadataKeys (each
// key is a row of two inputs) and no set cut at decode (saving writes the
// whole set back, so it would delete what was not read); it builds no rows
// for either.
func TestEditorRefusesSetsItCannotHandle(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	c := h.context(80, 24, harnessOpts{})
	big := model.Metadata{}
	for i := range model.MaxEditableMetadataKeys + 1 {
		big[fmt.Sprintf("k%03d", i)] = "v"
	}
	small := model.Metadata{"ticket": "CS-1"}
	order := &model.Order{ID: "o1", Ref: "o1", Currency: "USD",
		Payments: []model.Payment{{ID: "p1", Metadata: big}, {ID: "p2", Metadata: small, MetadataTotal: 5000}, {ID: "p3", Metadata: small}},
		Refunds:  []model.Refund{{ID: "r1", Metadata: big}}}
	for _, c := range []struct {
		s    *editMetadataScreen
		want string
	}{
		{newEditPaymentScreen(c, 0, order, "p1").(*editMetadataScreen), fmt.Sprintf("%d metadata keys (editor max %d)", len(big), model.MaxEditableMetadataKeys)},
		{newEditPaymentScreen(c, 0, order, "p2").(*editMetadataScreen), "1 of 5000 metadata keys read"},
		{newEditRefundScreen(c, 0, order, "r1").(*editMetadataScreen), "editor max"},
	} {
		if !strings.Contains(c.s.refusal, c.want) || len(c.s.rows) != 0 {
			t.Errorf("%s: refusal %q with %d rows, want %q and none", c.s.Title(), c.s.refusal, len(c.s.rows), c.want)
		}
	}
	if s := newEditPaymentScreen(c, 0, order, "p3").(*editMetadataScreen); s.refusal != "" || len(s.rows) != 1 {
		t.Errorf("a one-key set: refusal %q, %d rows", s.refusal, len(s.rows))
	}
}
