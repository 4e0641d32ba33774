package pg_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/api/audit"
	fclient "paydesk/api/forage"
	"paydesk/api/journal"
	fsandbox "paydesk/api/sandbox/forage"
	"paydesk/api/store"
	"paydesk/api/store/pg"
	"paydesk/api/store/pg/pgtest"
	"paydesk/model"
)

func openIntent(id, account, order string, a journal.Action) *journal.Intent {
	now := time.Now().UTC()
	return &journal.Intent{ID: id, Provider: "forage", Account: account, Action: a, OrderID: order,
		IdempotencyKey: "k" + id, Actor: "alice", State: journal.StateSent, CreatedAt: now, UpdatedAt: now}
}

// The partial unique index: a second open money intent on one order of one
// account is never recorded (so never sent); other accounts, metadata
// updates and resolved intents are not held back.
func TestOneOpenMoneyIntentPerOrder(t *testing.T) {
	a, b := openTwo(t)
	if err := a.Journal().Append(openIntent("i1", "m1", "o1", journal.ActionRefundPayment)); err != nil {
		t.Fatal(err)
	}
	err := b.Journal().Append(openIntent("i2", "m1", "o1", journal.ActionRefundOrder))
	if !errors.Is(err, journal.ErrUnresolved) {
		t.Fatalf("second open intent: %v, want refused as unresolved", err)
	}
	for _, in := range []*journal.Intent{
		openIntent("i3", "m2", "o1", journal.ActionRefundPayment),
		openIntent("i4", "m1", "o1", journal.ActionUpdatePayment),
	} {
		if err := b.Journal().Append(in); err != nil {
			t.Fatalf("%s: %v", in.ID, err)
		}
	}
	done := openIntent("i1", "m1", "o1", journal.ActionRefundPayment)
	done.State = journal.StateSucceeded
	if err := a.Journal().Append(done); err != nil {
		t.Fatal(err)
	}
	if err := b.Journal().Append(openIntent("i5", "m1", "o1", journal.ActionRefundPayment)); err != nil {
		t.Fatalf("after the first resolved: %v", err)
	}
}

func appendN(t *testing.T, s store.Store, n int) {
	for i := range n {
		if err := s.Audit().Append(audit.Entry{Actor: "alice", Provider: "forage", Action: "refund_payment",
			OrderRef: fmt.Sprintf("o%d", i+1), Amount: "1.00", Currency: "USD", Outcome: audit.Succeeded}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditTableRefusesUpdateAndDelete(t *testing.T) {
	a, _ := openTwo(t)
	appendN(t, a, 3)
	ctx := context.Background()
	for _, sql := range []string{
		`UPDATE paydesk_audit SET line = line WHERE seq = 2`,
		`DELETE FROM paydesk_audit WHERE seq = 3`,
		`TRUNCATE paydesk_audit`,
	} {
		if _, err := a.Pool().Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want refused by the trigger", sql, err)
		}
	}
	if n, _, err := a.Audit().Verify(ctx, audit.Anchor{}); err != nil || n != 3 {
		t.Fatalf("verify: %d, %v", n, err)
	}
}

// A superuser who disables the trigger and edits a row with psql is caught
// by verify, which names the row.
func TestAuditRowEditedWithPsqlNamesTheRow(t *testing.T) {
	a, _ := openTwo(t)
	appendN(t, a, 5)
	ctx := context.Background()
	n, head, err := a.Audit().Verify(ctx, audit.Anchor{})
	if err != nil || n != 5 {
		t.Fatalf("before: %d %v", n, err)
	}
	edit := `ALTER TABLE paydesk_audit DISABLE TRIGGER paydesk_audit_no_update_delete;
UPDATE paydesk_audit SET line = replace(line, '"amount":"1.00"', '"amount":"9.00"') WHERE seq = 3;
ALTER TABLE paydesk_audit ENABLE TRIGGER paydesk_audit_no_update_delete;`
	url := a.Pool().Config().ConnConfig.ConnString()
	if psql, err := exec.LookPath("psql"); err == nil {
		out, err := exec.Command(psql, url, "-v", "ON_ERROR_STOP=1", "-c", edit).CombinedOutput()
		if err != nil {
			t.Fatalf("psql: %v\n%s", err, out)
		}
	} else if psql := filepath.Join(filepath.Dir(pgBin()), "psql"); pgBin() != "" {
		out, err := exec.Command(psql, url, "-v", "ON_ERROR_STOP=1", "-c", edit).CombinedOutput()
		if err != nil {
			t.Fatalf("psql: %v\n%s", err, out)
		}
	} else if _, err := a.Pool().Exec(ctx, edit); err != nil {
		t.Fatal(err)
	}
	_, _, err = a.Audit().Verify(ctx, audit.Anchor{})
	var ve *audit.VerifyError
	if !errors.As(err, &ve) || ve.Line != 3 || !strings.Contains(err.Error(), "row seq 3") {
		t.Fatalf("verify after the edit: %v, want row seq 3 named", err)
	}
	if _, _, err := a.Audit().Verify(ctx, head); err == nil {
		t.Fatal("anchored verify passed after the edit")
	}
	// Nothing is chained after a damaged chain's head only if the head is
	// damaged; the middle edit is for verify to find. Appends go on.
	appendN(t, a, 1)
}

func pgBin() string {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/psql")
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}

// proxy is a TCP front of the database that can be cut and restored, to
// play the database going away mid-session.
type proxy struct {
	ln     net.Listener
	target string
	down   atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if p.down.Load() {
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
	return p
}

// proxyURL fronts the database at url with a proxy and returns it with url
// rewritten to go through it, so a test can cut one store's connection
// while another store (opened on url) keeps the database.
func proxyURL(t *testing.T, url string) (*proxy, string) {
	cfg, err := pg.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)
	px := newProxy(t, addr)
	return px, strings.Replace(url, addr, px.ln.Addr().String(), 1)
}

// cut drops every connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.down.Store(true)
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
}

func (p *proxy) restore() { p.down.Store(false) }

// The database goes away mid-session: money actions are refused with a
// message saying why and that reads still work, nothing reaches the
// provider, reads from the provider go on; once it is back, the next action
// works without a restart.
func TestDatabaseGoneBlocksMoneyActionsThenReconnects(t *testing.T) {
	url := pgtest.URL(t)
	px, purl := proxyURL(t, url)
	st, err := pg.Open(context.Background(), purl, pg.Options{Host: "host-a"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var posts atomic.Int64
	sb := fsandbox.New(fsandbox.Options{Orders: 5, Seed: 7, RefundLatency: -1, RateLimit: 1 << 30})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "refund") {
			posts.Add(1)
		}
		sb.ServeHTTP(w, r)
	}))
	defer hs.Close()
	c, err := fclient.New(fclient.Config{BaseURL: hs.URL, ClientID: "demo-client", ClientSecret: api.NewSecret("demo-secret"),
		MerchantAccount: "9000055", Limiter: rate.NewLimiter(rate.Inf, 0)})
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(journal.Options{Backend: st.Journal(), Auditor: journal.AuditTo(st.Audit())})
	if err != nil {
		t.Fatal(err)
	}
	p := journal.Wrap(c, j, "alice")
	ctx := context.Background()
	req, _ := http.NewRequest("POST", hs.URL+"/sandbox/orders/", strings.NewReader(`{"snap_total":"100.00","ebt_cash_total":"50.00"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Ref string `json:"ref"`
	}
	err = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	o, err := p.GetOrder(ctx, created.Ref)
	if err != nil {
		t.Fatal(err)
	}
	refund := func() error {
		_, err := p.RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{Amount: model.MustParse("0.01", o.Payments[0].Amount.Currency), Reason: "outage"})
		return err
	}

	px.cut()
	start := time.Now()
	err = refund()
	if !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, journal.ErrAuditUnavailable) {
		t.Fatalf("refund with the database gone: %v, want refused as unavailable", err)
	}
	t.Logf("refused with: %v", err)
	if msg := err.Error(); !strings.Contains(msg, "nothing sent") || strings.Contains(msg, "secret") {
		t.Fatalf("message %q should say nothing was sent", msg)
	}
	if took := time.Since(start); took > 15*time.Second {
		t.Fatalf("refusal took %s", took)
	}
	if posts.Load() != 0 {
		t.Fatalf("%d refund requests reached the provider while the journal could not be written", posts.Load())
	}
	if _, err := p.GetOrder(ctx, o.ID); err != nil {
		t.Fatalf("reading from the provider with the database gone: %v", err)
	}

	px.restore()
	deadline := time.Now().Add(15 * time.Second)
	for err = refund(); err != nil && time.Now().Before(deadline); err = refund() {
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after the database came back: %v", err)
	}
	if posts.Load() != 1 {
		t.Fatalf("%d refund requests, want 1", posts.Load())
	}
}

// A password in the URL never shows in an error.
func TestPasswordNotInErrors(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	const pw = "s3cret-pw-0f8e"
	for _, url := range []string{
		"postgres://paydesk:" + pw + "@" + addr + "/x?connect_timeout=2",
		"postgres://paydesk:" + pw + "@" + addr + "/x?sslmode=bogus",
	} {
		_, err := pg.Open(context.Background(), url, pg.Options{})
		if err == nil {
			t.Fatalf("%s opened", addr)
		}
		if strings.Contains(err.Error(), pw) {
			t.Fatalf("error shows the password: %v", err)
		}
	}
}

// A subscriber whose connection is killed reconnects by itself and gets
// the events published meanwhile, in order, none twice.
func TestSubscriberCatchesUpAfterReconnect(t *testing.T) {
	a, b := openTwo(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := b.Events().Subscribe(ctx, 0)
	if _, err := a.Events().Publish(store.Event{Kind: store.KindIntent, OrderID: "first"}); err != nil {
		t.Fatal(err)
	}
	if e := <-sub; e.OrderID != "first" {
		t.Fatalf("first event %+v", e)
	}
	var killed int
	if err := a.Pool().QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'paydesk-listen' AND datname = current_database()`).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("killed %d listeners, %v", killed, err)
	}
	for i := range 5 {
		if _, err := a.Events().Publish(store.Event{Kind: store.KindIntent, OrderID: fmt.Sprint("missed-", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		select {
		case e := <-sub:
			if e.OrderID != fmt.Sprint("missed-", i) || e.Seq != int64(i+2) {
				t.Fatalf("after reconnect got %+v, want missed-%d at seq %d", e, i, i+2)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d not delivered after the listener was killed", i)
		}
	}
	select {
	case e := <-sub:
		t.Fatalf("extra event %+v", e)
	case <-time.After(300 * time.Millisecond):
	}
}
