package journal

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"paydesk/api"
	drsandbox "paydesk/api/sandbox/digitalriver"
	"paydesk/api/sandbox/sandboxtest"
	"paydesk/model"
)

// TestReviewFlappingRefundStateStaysBounded: a hostile or broken provider
// that answers a failed refund as failed, then succeeded, then failed...
// on each read (the live refresh reads it every few seconds while the
// agent looks at it). Each change is written down (journal and audit),
// but the intent's note must not grow with every one: the journal keeps
// the whole intent at each write, so a note growing by a line per read
// makes the journal grow with the square of the reads.
func TestReviewFlappingRefundStateStaysBounded(t *testing.T) {
	clock := sandboxtest.NewClock(time.Now())
	hs := sandboxtest.Serve(t, drsandbox.New(drsandbox.Options{Orders: 60, Seed: 3, RefundLatency: time.Minute, Now: clock.Now, RatePerSecond: -1}))
	up, _ := url.Parse(hs.URL)
	var flip atomic.Int64
	rp := httputil.NewSingleHostReverseProxy(up)
	rp.ModifyResponse = func(r *http.Response) error {
		if r.Request.Method != http.MethodGet || !strings.HasPrefix(r.Request.URL.Path, "/refunds/") {
			return nil
		}
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return err
		}
		if flip.Add(1)%2 == 0 {
			b = bytes.Replace(b, []byte(`"state":"failed"`), []byte(`"state":"succeeded"`), 1)
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		r.Header.Del("Content-Length")
		return nil
	}
	px := httptest.NewServer(rp)
	t.Cleanup(px.Close)
	c, o := drWillFailOrder(t, px.URL, hs.URL)
	ctx := context.Background()
	s := newStateEnv(t)
	p := Wrap(c, s.j, "alice")
	res, err := p.RefundPayment(ctx, o.ID, o.Payments[0].ID, api.RefundPaymentRequest{IdempotencyKey: uuid.NewString(),
		Amount: model.MustParse("1", o.Currency), Reason: "requested_by_customer"})
	if err != nil || len(res.Refunds) != 1 {
		t.Fatalf("refund %+v %v", res, err)
	}
	id := res.Refunds[0].ID
	clock.Advance(2 * time.Minute) // failed at the sandbox
	journalSize := func() int64 {
		var n int64
		filepath.Walk(filepath.Join(filepath.Dir(s.auditPath), "journal"), func(_ string, fi os.FileInfo, err error) error {
			if err == nil && !fi.IsDir() {
				n += fi.Size()
			}
			return nil
		})
		return n
	}
	read := func(n int) {
		for range n {
			if _, err := p.GetRefund(ctx, o.ID, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	read(20)
	ins, _ := s.j.intents("digitalriver", o.ID)
	note20, size20 := len(ins[0].Note), journalSize()
	read(200)
	ins, _ = s.j.intents("digitalriver", o.ID)
	note220, size220 := len(ins[0].Note), journalSize()
	t.Logf("note %d -> %d bytes, journal %d -> %d bytes", note20, note220, size20, size220)
	if note220 > 2*note20+200 {
		t.Errorf("the intent's note grew from %d to %d bytes over 200 more reads of a flapping refund", note20, note220)
	}
	// 10x the reads: the journal may grow ~10x (a line per change), not ~100x.
	if size220 > 30*size20 {
		t.Errorf("the journal grew from %d to %d bytes over 200 more reads of a flapping refund", size20, size220)
	}
}
