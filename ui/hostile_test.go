package ui

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"paydesk/api"
	"paydesk/model"
)

type hostileCase struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// hostileCorpus is the embedded copy of /work/shared/hostile-strings.jsonl.
func hostileCorpus(t *testing.T) []hostileCase {
	t.Helper()
	f, err := os.Open("../model/safetext/testdata/hostile-strings.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []hostileCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var c hostileCase
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("corpus line %q: %v", sc.Text(), err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 30 {
		t.Fatalf("the corpus has only %d lines", len(out))
	}
	return out
}

// assertSafe fails when a screen could drive the terminal (see safeProblem).
func assertSafe(t *testing.T, where, v string) {
	t.Helper()
	if p := safeProblem(v); p != "" {
		t.Fatalf("%s: %s", where, p)
	}
}

// safeProblem describes the first thing in v a terminal would act on: an
// ESC byte, a C1 control (U+0080-U+009F, or a raw 0x9B/0x9D byte, which is
// invalid UTF-8), any C0 control but the newline, DEL, a bidi control, a
// format character (zero-width, bidi marks) or a line/paragraph separator.
func safeProblem(v string) string {
	if i := strings.IndexByte(v, 0x1b); i >= 0 {
		return fmt.Sprintf("ESC at byte %d: %q", i, around(v, i))
	}
	for i := 0; i < len(v); {
		r, n := utf8.DecodeRuneInString(v[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Sprintf("invalid UTF-8 byte 0x%02X at %d (a raw C1 control?): %q", v[i], i, around(v, i))
		}
		i += n
	}
	for i, r := range v {
		bad := ""
		switch {
		case r == '\n':
		case r < 0x20 || r == 0x7f:
			bad = "C0 control"
		case r >= 0x80 && r < 0xa0:
			bad = "C1 control"
		case unicode.Is(unicode.Bidi_Control, r):
			bad = "bidi control"
		case unicode.Is(unicode.Cf, r):
			bad = "format (zero-width) character"
		case r == 0x2028 || r == 0x2029:
			bad = "line/paragraph separator"
		}
		if bad != "" {
			return fmt.Sprintf("%s U+%04X at byte %d: %q", bad, r, i, around(v, i))
		}
	}
	return ""
}

// The check itself catches the corpus raw (else passing proves nothing).
func TestSafeProblemCatchesTheCorpus(t *testing.T) {
	t.Parallel()
	caught := 0
	for _, c := range hostileCorpus(t) {
		if safeProblem(c.Value) != "" {
			caught++
		}
	}
	if caught < 20 {
		t.Fatalf("the check flags only %d raw corpus lines", caught)
	}
	for _, raw := range []string{"a\x9bb", "\u202eabc", "x\u200by", "\x1b[2J", "a\rb", "\u009d0;t\u009c"} {
		if safeProblem(raw) == "" {
			t.Errorf("not flagged: %q", raw)
		}
	}
}

func around(v string, i int) string {
	lo, hi := max(i-40, 0), min(i+40, len(v))
	return v[lo:hi]
}

// pages returns the screen and, after each pgdown, the screen again, until
// nothing new shows (at most n pages), every one checked with assertSafe.
func (s *session) pages(t *testing.T, where string, n int) string {
	t.Helper()
	var all []string
	prev := ""
	for i := range n {
		v := s.view()
		assertSafe(t, where+" page "+strconv.Itoa(i+1), v)
		if v == prev {
			break
		}
		all = append(all, v)
		prev = v
		s.keys("pgdown")
	}
	s.keys("home")
	return strings.Join(all, "\n")
}

func TestHostileCorpusOnEveryScreen(t *testing.T) {
	t.Parallel()
	corpus := hostileCorpus(t)
	h, _ := newForageHarness(t, harnessOpts{})
	ref := h.findOrder(func(o *model.Order) bool {
		return refundable(o) && len(o.Refunds) == 0 && goodCard(o) && plainOrder(o) &&
			o.RefundableOn(&o.Payments[0]).Amount.GreaterThan(decimal.NewFromInt(1))
	})
	o := readOrder(t, h.prov, ref)
	pay := o.Payments[0]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Every line into the payment's metadata (key = the line's name).
	md := model.Metadata{}
	for _, c := range corpus {
		md[c.Name] = c.Value
	}
	if _, err := h.prov.UpdatePayment(ctx, o.ID, pay.ID, api.PaymentUpdate{Metadata: md, IdempotencyKey: "hostile-metadata"}); err != nil {
		t.Fatalf("writing the corpus into metadata: %v", err)
	}
	// And every line as the reason of a one-cent refund. The client refuses
	// to send a reason with control characters (model.ValidateReason), so
	// the ones it refuses go to the sandbox raw, the way another system
	// writing to the same account would leave them.
	byRefund := map[string]string{}
	raw := newForageRaw(t, h.srv.URL)
	for i, c := range corpus {
		req := api.RefundPaymentRequest{
			IdempotencyKey: "hostile-refund-" + strconv.Itoa(i),
			Amount:         model.Money{Amount: decimal.RequireFromString("0.01"), Currency: o.Currency},
			Reason:         c.Value,
			Metadata:       model.Metadata{"case": c.Name, "echo": c.Value},
		}
		res, err := h.prov.RefundPayment(ctx, o.ID, pay.ID, req)
		if err != nil {
			if model.ValidateReason(c.Value, 0) == nil {
				t.Fatalf("refund with reason %s: %v", c.Name, err)
			}
			byRefund[raw.refund(o.ID, pay.ID, req)] = c.Name
			continue
		}
		for _, r := range res.Refunds {
			byRefund[r.ID] = c.Name
		}
	}
	if len(byRefund) != len(corpus) {
		t.Fatalf("%d refunds for %d corpus lines", len(byRefund), len(corpus))
	}
	// The sandbox really holds the raw strings (else this proves nothing).
	back := readOrder(t, h.prov, ref)
	if got := back.Payment(pay.ID).Metadata["osc52-clipboard-bel"]; got != md["osc52-clipboard-bel"] {
		t.Fatalf("the sandbox did not keep the raw value: %q", got)
	}

	for _, sz := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		name := strconv.Itoa(sz.w) + "x" + strconv.Itoa(sz.h)
		s := h.run(sz.w, sz.h, harnessOpts{})
		s.waitText("loaded")
		s.pages(t, "orders list "+name, 4)
		s.openOrder(ref)
		s.waitText("Refunds (" + strconv.Itoa(len(corpus)) + ")")
		orderText := s.pages(t, "order "+name, 1)

		s.keys("enter")
		s.waitText("Last processing error")
		payText := s.pages(t, "payment "+name, 30)
		if !strings.Contains(payText, "Metadata ("+strconv.Itoa(len(corpus))+")") {
			t.Fatalf("payment %s: the metadata never showed:\n%s", name, payText)
		}
		for _, want := range []string{"after", "click me", "fake screen", "FAILED!!!", "refund", "0001 DRS"} {
			if !strings.Contains(payText, want) {
				t.Errorf("payment %s: the harmless text %q is not visible:\n%s", name, want, payText)
			}
		}
		s.keys("esc")
		s.waitText("Payments (")

		// Every refund's own screen, reached from the refunds table.
		s.keys("right")
		seen := map[string]bool{}
		for i := range len(corpus) {
			s.keys("enter")
			v := s.waitFor("the refund screen", func(v string) bool {
				return strings.Contains(crumb(v), "› Refund ")
			})
			c0 := crumb(v)
			id := c0[strings.LastIndex(c0, "Refund ")+len("Refund "):]
			if _, ok := byRefund[id]; !ok {
				t.Fatalf("refund screen %d names no refund made here:\n%s", i, v)
			}
			c := byRefund[id]
			seen[c] = true
			text := s.pages(t, "refund "+c+" "+name, 6)
			switch c {
			case "osc52-clipboard-bel", "osc52-clipboard-st":
				if !strings.Contains(text, "after") {
					t.Errorf("refund %s %s: “after” is not visible:\n%s", c, name, text)
				}
			case "osc8-hyperlink":
				if !strings.Contains(text, "click me") {
					t.Errorf("refund %s %s: “click me” is not visible:\n%s", c, name, text)
				}
			}
			s.keys("esc")
			s.waitFor("the order screen", func(v string) bool { return !strings.Contains(crumb(v), "› Refund ") })
			s.keys("down")
		}
		if len(seen) != len(corpus) {
			t.Errorf("%s: visited %d of %d hostile refunds", name, len(seen), len(corpus))
		}
		if !strings.Contains(orderText, "Refunds (") {
			t.Fatalf("not the order screen:\n%s", orderText)
		}
	}
}

// hostileText: any string of the order a terminal could act on.
func hostileText(o *model.Order) bool {
	bad := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool {
			return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == utf8.RuneError || r == 0x2028 || r == 0x2029 ||
				unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Bidi_Control, r)
		})
	}
	md := func(m model.Metadata) bool {
		for k, v := range m {
			if bad(k) || bad(v) {
				return true
			}
		}
		return false
	}
	fields := func(fs []model.Field) bool {
		for _, f := range fs {
			if bad(f.Name) || bad(f.Value) {
				return true
			}
		}
		return false
	}
	if bad(o.Ref) || bad(o.CustomerID) || bad(o.ExternalOrderID) || bad(o.Description) || bad(o.ProviderStatus) || md(o.Metadata) || fields(o.Fields) {
		return true
	}
	for _, p := range o.Payments {
		if bad(p.ID) || bad(p.Method) || bad(p.Description) || bad(p.CustomerID) || bad(p.ExternalOrderID) || md(p.Metadata) || fields(p.Fields) ||
			p.LastError != nil && (bad(p.LastError.Code) || bad(p.LastError.Message)) {
			return true
		}
	}
	for _, r := range o.Refunds {
		if bad(r.ID) || bad(r.Reason) || bad(r.FailureReason) || md(r.Metadata) || fields(r.Fields) {
			return true
		}
	}
	return false
}

// TestSeededHostileOrdersRenderSafely opens every order the three sandboxes
// seeded with hostile text, and every payment and refund on it.
func TestSeededHostileOrdersRenderSafely(t *testing.T) {
	t.Parallel()
	o := harnessOpts{orders: 120} // Forage at 200 orders: TestHostileStringsStaySafe
	m := newMultiHarness(t, o)
	s := m.run(120, 40, o)
	s.waitText("loaded")
	for i, p := range m.provs {
		orders := m.scan(i, hostileText, false)
		if len(orders) == 0 {
			t.Errorf("%s seeded no hostile order", p.Name())
			continue
		}
		t.Logf("%s: %d orders seeded with hostile text", p.Name(), len(orders))
		if i > 0 {
			s.switchTo(m, 1, i)
		}
		s.pages(t, p.Name()+" orders list", 10)
		for _, ord := range orders {
			where := p.Name() + " order " + ord.ID
			s.keys("g")
			s.waitText("Find:")
			s.typeText(ord.ID)
			s.keys("enter")
			s.waitText("Payments (")
			s.pages(t, where, 1)
			for j := range ord.Payments {
				s.keys("enter")
				s.waitFor("the payment screen", func(v string) bool { return strings.Contains(crumb(v), "› Payment ") })
				s.pages(t, where+" payment "+strconv.Itoa(j), 8)
				s.keys("esc")
				s.waitFor("the order screen", func(v string) bool { return !strings.Contains(crumb(v), "› Payment ") })
				s.keys("down")
			}
			if len(ord.Refunds) > 0 {
				s.keys("right")
				for j := range ord.Refunds {
					s.keys("enter")
					s.waitFor("the refund screen", func(v string) bool { return strings.Contains(crumb(v), "› Refund ") })
					s.pages(t, where+" refund "+strconv.Itoa(j), 8)
					s.keys("esc")
					s.waitFor("the order screen", func(v string) bool { return !strings.Contains(crumb(v), "› Refund ") })
					s.keys("down")
				}
			}
			s.keys("esc")
			s.waitFor("the orders list", func(v string) bool { return crumb(v) == "Orders" })
		}
	}
}

// crumb is the breadcrumb line.
func crumb(v string) string {
	if lines := strings.Split(v, "\n"); len(lines) > 1 {
		return strings.TrimSpace(lines[1])
	}
	return ""
}

// forageRaw talks to the Forage sandbox without the client's checks.
type forageRaw struct {
	t     *testing.T
	url   string
	token string
}

func newForageRaw(t *testing.T, url string) *forageRaw {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url+"/o/token/", strings.NewReader("grant_type=client_credentials"))
	req.SetBasicAuth("demo-client", "demo-secret")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := doJSON(req, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("sandbox token: %v", err)
	}
	return &forageRaw{t: t, url: url, token: tok.AccessToken}
}

// refund posts a partial refund as is and returns its ref.
func (f *forageRaw) refund(orderID, paymentID string, r api.RefundPaymentRequest) string {
	f.t.Helper()
	body, _ := json.Marshal(map[string]any{
		"payment_ref": paymentID, "amount": r.Amount.Fixed(), "reason": r.Reason, "metadata": r.Metadata,
	})
	req, _ := http.NewRequest(http.MethodPost, f.url+"/api/orders/"+orderID+"/refunds/", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Merchant-Account", "9000055")
	req.Header.Set("Idempotency-Key", r.IdempotencyKey)
	req.Header.Set("Content-Type", "application/json")
	var out struct {
		Ref string `json:"ref"`
	}
	if err := doJSON(req, &out); err != nil || out.Ref == "" {
		f.t.Fatalf("raw refund with reason %q: %v", r.Reason, err)
	}
	return out.Ref
}

func doJSON(req *http.Request, out any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	return json.Unmarshal(b, out)
}
