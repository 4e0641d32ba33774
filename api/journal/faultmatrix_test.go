package journal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/audit"
	"paydesk/api/digitalriver"
	fclient "paydesk/api/forage"
	"paydesk/api/moyasar"
	drsandbox "paydesk/api/sandbox/digitalriver"
	"paydesk/api/sandbox/faultproxy"
	fsandbox "paydesk/api/sandbox/forage"
	msandbox "paydesk/api/sandbox/moyasar"
	"paydesk/model"

	"paydesk/api/sandbox/sandboxtest"
)

// The fault matrix: every provider x fault mode x money action, each cell
// against its own sandbox behind a faultproxy, through the real client
// wrapped in the journal as main.go wires it, with the audit log attached.
// The proxy lets the money request reach the sandbox (the money moves) and
// then answers badly, or refuses while echoing the credentials, or
// redirects reads to a port that records what it is sent. The network then
// heals and the journal settles the way the console does at start-up
// (Recover, repeated until nothing is unresolved or the settle window has
// passed). Each cell then checks, against the sandbox itself:
//
//   - at most one money effect per intent (a second refund is a double);
//   - the journal does not say failed while the provider has the refund
//     (or the canceled payment);
//   - no 8-byte run of any credential, or of its base64, is in the error
//     the agent saw, the journal files, the audit log or the log output,
//     and no credential was sent to the recorder's port;
//   - every refund at the provider has an audit line naming it.

// Timings: short, so the whole matrix runs in seconds.
const (
	fmSettle    = 2 * time.Second          // Options.SettleTime
	fmLag       = time.Second              // how long the 409 list lags (< fmSettle)
	fmGiveUp    = time.Second              // a hung answer: the agent gives up
	fmActionTTL = 6 * time.Second          // the console's deadline for one action
	fmSettleMax = fmSettle + 3*time.Second // how long the journal gets to settle
	fmParallel  = 16                       // cells at once (they mostly wait)
)

type fmAction string

const (
	fmPartial fmAction = "partial refund"
	fmWhole   fmAction = "whole-order refund"
	fmCancel  fmAction = "cancel/void"
)

type fmMode struct {
	name  string
	fault faultproxy.Fault
	// auditDown: no network fault; the audit log refuses every line while
	// the agent confirms (a full disk, a deleted file). Nothing may move.
	auditDown bool
}

func fmModes(provider string) []fmMode {
	var ms []fmMode
	for _, m := range []faultproxy.Mode{
		faultproxy.Status5xx, faultproxy.Reset, faultproxy.HalfBody, faultproxy.Garbage2xx,
		faultproxy.Found302, faultproxy.SeeOther303, faultproxy.Unauthorized401, faultproxy.TooMany429,
		faultproxy.Conflict409Lag, faultproxy.Hang,
		faultproxy.EchoCode, faultproxy.EchoMessage, faultproxy.EchoFieldName, faultproxy.EchoFieldMessage, faultproxy.EchoText,
	} {
		ms = append(ms, fmMode{name: string(m), fault: faultproxy.Fault{Mode: m, Times: 1, Lag: fmLag}})
	}
	ms = append(ms, fmMode{name: "redirect_reads", fault: faultproxy.Fault{Mode: faultproxy.RedirectReads, Target: faultproxy.Reads}})
	ms = append(ms, fmMode{name: "audit_down", auditDown: true})
	if provider == "forage" {
		// Forage's token endpoint sees the Basic credentials (id:secret).
		ms = append(ms,
			fmMode{name: "echo_token_json", fault: faultproxy.Fault{Mode: faultproxy.EchoAll, Target: faultproxy.Token, Times: 1}},
			fmMode{name: "echo_token_text", fault: faultproxy.Fault{Mode: faultproxy.EchoText, Target: faultproxy.Token, Times: 1}})
	}
	return ms
}

// fmRow is one cell's line in the printed matrix.
type fmRow struct {
	provider, mode string
	action         fmAction
	recorded       string // journal state right after the action -> after settling
	effects        int
	leaks          int
	unaudited      int
	double         bool
	failedButMoved bool
	problems       []string
	notes          []string // printed, not failures
}

func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault matrix takes several seconds")
	}
	// Everything the product logs, through either logger, is checked for
	// credentials too.
	logs := &sandboxtest.LogBuffer{}
	prevOut, prevFlags, prevSlog := log.Writer(), log.Flags(), slog.Default()
	log.SetOutput(logs)
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		log.SetOutput(prevOut)
		log.SetFlags(prevFlags)
		slog.SetDefault(prevSlog)
	})

	type cell struct {
		provider string
		mode     fmMode
		action   fmAction
	}
	var cells []cell
	for _, p := range []string{"forage", "moyasar", "digitalriver"} {
		actions := []fmAction{fmPartial, fmWhole, fmCancel}
		if p == "digitalriver" {
			actions = actions[:2] // Digital River has no cancel (api.ErrNotSupported)
		}
		for _, m := range fmModes(p) {
			for _, a := range actions {
				cells = append(cells, cell{p, m, a})
			}
		}
	}

	start := time.Now()
	rows := make([]*fmRow, len(cells))
	secrets := make([][]string, len(cells))
	sem := make(chan struct{}, fmParallel)
	var wg sync.WaitGroup
	for i, c := range cells {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			rows[i], secrets[i] = runCell(t, c.provider, c.mode, c.action)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Log output is shared by all cells; each cell's credentials are its own.
	logText := logs.String()
	for i, r := range rows {
		if n := countLeaks(logText, secrets[i]); n > 0 {
			r.leaks += n
			r.problems = append(r.problems, fmt.Sprintf("%d credential run(s) in the log output", n))
		}
	}

	var (
		tb                             strings.Builder
		doubles, leaked, unaudited, fm int
	)
	w := tabwriter.NewWriter(&tb, 0, 0, 1, ' ', 0)
	fmt.Fprintln(w, "provider\tmode\taction\toutcome recorded\teffects at provider\tleaks\tunaudited\t")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t\n", r.provider, r.mode, r.action, r.recorded, r.effects, r.leaks, r.unaudited)
		if r.double {
			doubles++
		}
		if r.failedButMoved {
			fm++
		}
		leaked += r.leaks
		unaudited += r.unaudited
	}
	w.Flush()
	t.Logf("fault matrix (%v):\n%s", elapsed.Round(time.Millisecond), tb.String())
	t.Logf("cases run: %d, double refunds: %d, failed while the provider has it: %d, secrets leaked: %d, unaudited refunds: %d",
		len(rows), doubles, fm, leaked, unaudited)

	// One subtest per cell, so a failure names its cell.
	for _, r := range rows {
		t.Run(r.provider+"/"+r.mode+"/"+strings.ReplaceAll(string(r.action), " ", "_"), func(t *testing.T) {
			for _, p := range r.problems {
				t.Error(p)
			}
		})
	}
}

// fmEnv is one cell's world: a sandbox, the proxy in front of it, the
// client under test (through the proxy) and a clean client that reads the
// sandbox directly.
type fmEnv struct {
	provider   string
	sandbox    string // the sandbox's own URL
	proxy      *faultproxy.Proxy
	client     api.Provider
	clean      api.Provider
	configured []string // the credentials the cell configured
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newFMEnv(provider string) (*fmEnv, func(), error) {
	var (
		h       http.Handler
		flavor  faultproxy.Flavor
		secret  string
		closers []func()
	)
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	switch provider {
	case "forage":
		secret = "fs-" + randHex(12)
		h = fsandbox.New(fsandbox.Options{Orders: 24, Seed: 7, RefundLatency: -1, RateLimit: 1 << 30,
			ClientID: "demo-client", ClientSecret: secret, MerchantAccount: "9000055"})
		flavor = faultproxy.Forage
	case "moyasar":
		secret = "mk_" + randHex(12)
		h = msandbox.New(msandbox.Options{Orders: 40, Seed: 5, RefundLatency: -1, APIKey: secret})
		flavor = faultproxy.Moyasar
	case "digitalriver":
		secret = "sk_test_" + randHex(12)
		h = drsandbox.New(drsandbox.Options{Orders: 30, Seed: 3, RefundLatency: -1, RatePerSecond: -1, APIKey: secret})
		flavor = faultproxy.DigitalRiver
	}
	hs := httptest.NewServer(h)
	closers = append(closers, hs.Close)
	px, err := faultproxy.New(faultproxy.Config{Upstream: hs.URL, Flavor: flavor})
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	closers = append(closers, px.Close)
	e := &fmEnv{provider: provider, sandbox: hs.URL, proxy: px, configured: []string{secret}}
	// The clients are built as main.go builds them (providers.Configure); only
	// the limiter is unbounded, so cells do not wait on each other's budget.
	build := func(base string) (api.Provider, error) {
		lim := rate.NewLimiter(rate.Inf, 0)
		switch provider {
		case "forage":
			return fclient.New(fclient.Config{BaseURL: base, ClientID: "demo-client",
				ClientSecret: api.NewSecret(secret), MerchantAccount: "9000055", Limiter: lim})
		case "moyasar":
			return moyasar.New(moyasar.Config{BaseURL: base, APIKey: api.NewSecret(secret), Limiter: lim})
		default:
			return digitalriver.New(digitalriver.Config{BaseURL: base, APIKey: api.NewSecret(secret), Limiter: lim})
		}
	}
	if e.client, err = build(px.URL); err == nil {
		e.clean, err = build(hs.URL)
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return e, cleanup, nil
}

// target finds an order (and payment) the action can be made on, by reading
// the sandbox directly.
func (e *fmEnv) target(ctx context.Context, a fmAction) (*model.Order, *model.Payment, error) {
	caps := e.clean.Capabilities()
	if e.provider == "forage" && a != fmCancel {
		// A fresh captured order (SNAP 100.00, EBT Cash 50.00).
		req, _ := http.NewRequestWithContext(ctx, "POST", e.sandbox+"/sandbox/orders/", strings.NewReader(`{"snap_total":"100.00","ebt_cash_total":"50.00"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, nil, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ref := between(string(b), `"ref":"`, `"`)
		if resp.StatusCode != 201 || ref == "" {
			return nil, nil, fmt.Errorf("create order: %d %s", resp.StatusCode, b)
		}
		o, err := e.clean.GetOrder(ctx, ref)
		if err != nil {
			return nil, nil, err
		}
		return o, &o.Payments[0], nil
	}
	q := api.OrderQuery{Limit: 50}
	for range 10 {
		page, err := e.clean.ListOrders(ctx, q)
		if err != nil {
			return nil, nil, err
		}
		for _, s := range page.Orders {
			o, err := e.clean.GetOrder(ctx, s.ID)
			if err != nil {
				continue // a hostile seeded order the client refuses: not this test's subject
			}
			for i := range o.Payments {
				p := &o.Payments[i]
				switch {
				case a == fmCancel && caps.CanCancel != nil && caps.CanCancel(p):
					return o, p, nil
				case a != fmCancel && p.Status == model.StatusSucceeded && !o.HasRefundInFlight() &&
					o.RefundableOn(p).Amount.GreaterThanOrEqual(model.MustParse("2", o.Currency).Amount) &&
					o.Refundable().Amount.GreaterThanOrEqual(model.MustParse("5", o.Currency).Amount):
					return o, p, nil
				}
			}
		}
		if q.Cursor = page.Next; q.Cursor == "" {
			break
		}
	}
	return nil, nil, fmt.Errorf("%s: no order to try %s on", e.provider, a)
}

func between(s, a, b string) string {
	_, rest, ok := strings.Cut(s, a)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, b)
	return v
}

// runCell runs one provider x mode x action and checks it. It returns the
// cell's row and every credential the cell used (for the shared log check).
func runCell(t *testing.T, provider string, mode fmMode, action fmAction) (*fmRow, []string) {
	row := &fmRow{provider: provider, mode: mode.name, action: action}
	fail := func(format string, args ...any) {
		row.problems = append(row.problems, fmt.Sprintf(format, args...))
	}
	e, cleanup, err := newFMEnv(provider)
	if err != nil {
		fail("setup: %v", err)
		row.recorded = "setup failed"
		return row, nil
	}
	defer cleanup()
	bg := context.Background()
	o, pay, err := e.target(bg, action)
	if err != nil {
		fail("setup: %v", err)
		row.recorded = "setup failed"
		return row, e.configured
	}
	baseline := map[string]bool{}
	for _, r := range o.Refunds {
		baseline[r.ID] = true
	}

	dir, err := os.MkdirTemp(t.TempDir(), "cell-")
	if err != nil {
		fail("setup: %v", err)
		return row, e.configured
	}
	auditPath := filepath.Join(dir, "audit.jsonl")
	alog, err := audit.Open(auditPath)
	if err != nil {
		fail("setup: %v", err)
		return row, e.configured
	}
	defer alog.Close()
	var auditDown atomic.Bool
	logAudit := AuditLog(alog)
	auditor := AuditorFunc(func(r AuditRecord) error {
		if auditDown.Load() {
			return errors.New("write audit.jsonl: no space left on device")
		}
		return logAudit.Audit(r)
	})
	j, err := Open(Options{Dir: filepath.Join(dir, "journal"), SettleTime: fmSettle, ResolveTimeout: 3 * time.Second, Auditor: auditor})
	if err != nil {
		fail("setup: %v", err)
		return row, e.configured
	}
	p := Wrap(e.client, j, "agent")

	// The action, as the console makes it: one confirmation, one key.
	if mode.fault.Mode != "" {
		e.proxy.Arm(mode.fault)
	}
	auditDown.Store(mode.auditDown)
	ttl := fmActionTTL
	if mode.fault.Mode == faultproxy.Hang {
		ttl = fmGiveUp
	}
	ctx, cancel := context.WithTimeout(bg, ttl)
	key := uuid.NewString()
	var intended model.Money
	switch action {
	case fmPartial:
		intended = model.MustParse("1", o.Currency)
		_, err = p.RefundPayment(ctx, o.ID, pay.ID, api.RefundPaymentRequest{IdempotencyKey: key, Amount: intended,
			Reason: "requested_by_customer", Metadata: model.Metadata{}})
	case fmWhole:
		intended = o.Refundable()
		_, err = p.RefundOrder(ctx, o.ID, api.RefundOrderRequest{IdempotencyKey: key, Reason: "requested_by_customer",
			Metadata: model.Metadata{}, Expected: intended})
	case fmCancel:
		_, err = p.CancelPayment(ctx, o.ID, pay.ID, api.CancelRequest{IdempotencyKey: key})
	}
	cancel()
	actionErr := err
	var shown []string // what the agent is shown
	if err != nil {
		shown = append(shown, err.Error())
	}
	first := "-"
	if ins, _ := j.intents(provider, o.ID); len(ins) > 0 {
		first = string(ins[0].State)
	}

	// The network heals; the journal settles as the console does.
	e.proxy.Heal()
	auditDown.Store(false)
	deadline := time.Now().Add(fmSettleMax)
	for {
		open := 0
		for _, out := range j.Recover(bg, map[string]api.Provider{provider: e.client}) {
			if out.Err != nil {
				shown = append(shown, out.Err.Error())
			}
			if !out.Resolved() {
				open++
			}
		}
		if open == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}

	ins, err := j.intents(provider, o.ID)
	if err != nil {
		fail("journal: %v", err)
	}
	var in *Intent
	if len(ins) > 0 {
		in = &ins[0]
	}
	if len(ins) > 1 {
		fail("one confirmation made %d intents", len(ins))
	}
	row.recorded = first + " -> no intent"
	if errors.Is(actionErr, ErrAuditUnavailable) {
		row.recorded = "not sent: audit log down"
	}
	if in != nil {
		row.recorded = first + " -> " + string(in.State)
		if in.ErrorCode != "" {
			row.recorded += " (" + in.ErrorCode + ")"
		}
	}
	defer func() {
		// The table shows what was recorded, not the credentials in it.
		row.recorded = mask(row.recorded, append(slices.Clone(e.configured), e.proxy.Credentials()...))
		if len(row.notes) > 0 {
			row.recorded += "; " + strings.Join(slices.Compact(row.notes), "; ")
		}
	}()

	// What the provider has now.
	after, err := e.clean.GetOrder(bg, o.ID)
	if err != nil {
		fail("reading the order at the sandbox: %v", err)
		return row, e.configured
	}
	var fresh []model.Refund
	for _, r := range after.Refunds {
		if !baseline[r.ID] {
			fresh = append(fresh, r)
		}
	}
	moved := false
	switch action {
	case fmCancel:
		row.effects = distinctCommitted(e.proxy.Commits())
		if pm := after.Payment(pay.ID); pm != nil && (pm.Status == model.StatusCanceled || pm.Status == model.StatusVoided) {
			moved = true
		}
	default:
		row.effects = len(fresh)
		if provider == "forage" && action == fmWhole {
			// refund_all makes one refund per payment: one effect is one
			// refund on each payment.
			per := map[string]int{}
			row.effects = 0
			for _, r := range fresh {
				per[r.PaymentID]++
				row.effects = max(row.effects, per[r.PaymentID])
			}
		}
		moved = len(fresh) > 0
		total := model.Zero(o.Currency)
		for _, r := range fresh {
			if s, err := total.Add(r.Amount); err == nil {
				total = s
			}
		}
		if row.effects > 1 || total.Amount.GreaterThan(intended.Amount) {
			row.double = true
			fail("double refund: one confirmation of %s made %d refunds totalling %s at the provider (%s)", intended, len(fresh), total, refundIDs2(fresh))
		}
	}
	if mode.auditDown {
		if moved {
			fail("money moved while the audit log could not take a line")
		}
		if !errors.Is(actionErr, ErrAuditUnavailable) {
			fail("the agent was not told the audit log is down: %v", actionErr)
		}
	}
	if in != nil && in.State == StateFailed && moved {
		row.failedButMoved = true
		fail("the journal says failed (%s: %s) but the provider has it", in.ErrorCode, in.Note)
	}
	if in != nil && !in.State.Resolved() && moved {
		fail("still %s %v after the network healed and the settle window passed, while the provider has it", in.State, fmSettleMax)
	}

	// The audit log must name every refund the provider has.
	entries, aerr := readAudit(auditPath)
	if aerr != nil {
		fail("audit log: %v", aerr)
	}
	if action == fmCancel {
		if moved && !slices.ContainsFunc(entries, func(en audit.Entry) bool {
			return en.Action == string(ActionCancelPayment) && en.PaymentRef == pay.ID && en.Outcome == audit.Succeeded
		}) {
			row.unaudited++
			fail("the payment was canceled at the provider but no audit line says so")
		}
	}
	for _, r := range fresh {
		if slices.ContainsFunc(entries, func(en audit.Entry) bool { return slices.Contains(en.RefundRefs, r.ID) }) {
			continue
		}
		// A refund the journal could not name yet (the provider's list
		// still hid it when the settle window ended) is covered by its
		// intent's succeeded line when that line names no refund and says
		// plainly the refs are not known yet; a line naming another refund
		// covers only that one, so a second refund of one intent stays
		// unaudited.
		ours := in != nil && (in.marks(r.Metadata[MarkerKey]) || r.ID == in.IdempotencyKey)
		if ours && slices.ContainsFunc(entries, func(en audit.Entry) bool {
			return en.IdempotencyKey == in.IdempotencyKey && en.Outcome == audit.Succeeded && len(en.RefundRefs) == 0 &&
				en.ErrorCode == CodeRefundRefsNotKnown
		}) {
			row.notes = append(row.notes, "audited without its refund id")
			continue
		}
		row.unaudited++
		fail("refund %s (%s) at the provider has no audit line", r.ID, r.Amount)
	}

	// Credentials: the ones configured, and every one the proxy saw on the
	// wire (Forage's bearer tokens, the Basic value).
	creds := append(slices.Clone(e.configured), e.proxy.Credentials()...)
	texts := map[string]string{"the error shown": strings.Join(shown, "\n"), "the audit log": readAll(auditPath)}
	jtext := &strings.Builder{}
	_ = filepath.WalkDir(filepath.Join(dir, "journal"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			jtext.WriteString(readAll(path))
		}
		return nil
	})
	texts["the journal"] = jtext.String()
	for _, where := range []string{"the error shown", "the journal", "the audit log"} {
		if n := countLeaks(texts[where], creds); n > 0 {
			row.leaks += n
			fail("%d credential run(s) in %s: %q", n, where, excerpt(texts[where], creds))
		}
	}
	for _, got := range e.proxy.Recorder.Received() {
		if got.Authorization != "" || countLeaks(got.Body, creds) > 0 {
			row.leaks++
			fail("a credential was sent to another port: %s %s (Authorization %d bytes)", got.Method, got.Path, len(got.Authorization))
		}
	}
	return row, creds
}

// distinctCommitted counts the money requests the sandbox accepted (2xx),
// one per idempotency key: the keyed providers never act twice on one key.
func distinctCommitted(cs []faultproxy.Commit) int {
	seen := map[string]bool{}
	n := 0
	for _, c := range cs {
		if c.Status/100 != 2 {
			continue
		}
		if c.Token == "" || !seen[c.Token] {
			n++
		}
		seen[c.Token] = true
	}
	return n
}

func refundIDs2(rs []model.Refund) string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID+" "+r.Amount.String())
	}
	return strings.Join(ids, ", ")
}

func readAll(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func readAudit(path string) ([]audit.Entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []audit.Entry
	for _, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		en, err := audit.ParseLine(line)
		if err != nil {
			return out, err
		}
		out = append(out, en)
	}
	return out, nil
}

// leakForms are the strings whose 8-byte runs must never appear: each
// credential as is, and in standard and URL base64 at all three alignments
// (so the credential inside a longer base64 value, such as Basic
// base64(id:secret), is caught too).
func leakForms(creds []string) []string {
	var out []string
	for _, c := range creds {
		if c == "" {
			continue
		}
		out = append(out, c)
		for pad := range 3 {
			src := strings.Repeat("\x00", pad) + c
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				s := strings.TrimRight(enc.EncodeToString([]byte(src)), "=")
				// Drop the characters that also encode the padding or
				// the unknown byte after the credential.
				lo, hi := (pad*4+2)/3, len(s)-1
				if lo < hi {
					out = append(out, s[lo:hi])
				}
			}
		}
	}
	return out
}

// countLeaks counts the 8-byte runs (the whole form when shorter) of any
// form of any credential found in text.
func countLeaks(text string, creds []string) int {
	if text == "" {
		return 0
	}
	n := 0
	for _, f := range leakForms(creds) {
		if len(f) < 8 {
			if strings.Contains(text, f) && len(f) >= 4 {
				n++
			}
			continue
		}
		for i := 0; i+8 <= len(f); i++ {
			if strings.Contains(text, f[i:i+8]) {
				n++
				break // one form counts once
			}
		}
	}
	return n
}

// excerpt shows where the first leaked run sits, for the failure message.
func excerpt(text string, creds []string) string {
	for _, f := range leakForms(creds) {
		for i := 0; i+8 <= len(f); i++ {
			if k := strings.Index(text, f[i:i+8]); k >= 0 {
				return mask(text[max(0, k-60):min(len(text), k+40)], creds)
			}
		}
	}
	return ""
}

// mask replaces whole credentials (in any form) in text shown by the test;
// partial runs stay visible, so the output still shows what leaked.
func mask(text string, creds []string) string {
	for _, f := range leakForms(creds) {
		if len(f) >= 8 {
			text = strings.ReplaceAll(text, f, "<CREDENTIAL>")
		}
	}
	return text
}
