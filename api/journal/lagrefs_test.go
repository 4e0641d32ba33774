package journal

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"paydesk/api"
	"paydesk/api/audit"
	"paydesk/api/sandbox/faultproxy"
	"paydesk/model"
)

// lagEnv is a Forage whole-order refund through the real client behind a
// faultproxy: refund_all commits, the first answer is a 409, the client's
// retry with the same key gets Forage's answer, and the order's refund list
// hides the new refunds for lag (the provider's list lags).
type lagEnv struct {
	e         *fmEnv
	j         *Journal
	p         api.Provider
	order     *model.Order
	auditPath string
	key       string
}

func newLagEnv(t *testing.T, settle time.Duration) *lagEnv {
	t.Helper()
	e, cleanup, err := newFMEnv("forage")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	o, _, err := e.target(context.Background(), fmWhole)
	if err != nil {
		t.Fatal(err)
	}
	j, path := openWithAuditLog(t, Options{SettleTime: settle})
	return &lagEnv{e: e, j: j, p: Wrap(e.client, j, "alice"), order: o, auditPath: path, key: uuid.NewString()}
}

// refundAll makes the whole-order refund while the list lags for lag.
func (l *lagEnv) refundAll(t *testing.T, lag time.Duration) *api.RefundResult {
	t.Helper()
	l.e.proxy.Arm(faultproxy.Fault{Mode: faultproxy.Conflict409Lag, Times: 1, Lag: lag})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := l.p.RefundOrder(ctx, l.order.ID, api.RefundOrderRequest{IdempotencyKey: l.key,
		Reason: "requested_by_customer", Metadata: model.Metadata{}, Expected: l.order.Refundable()})
	if err != nil {
		t.Fatalf("refund_all: %v", err)
	}
	return res
}

// fresh is the ids of the refunds refund_all made, read at the sandbox
// itself (no proxy, no lag).
func (l *lagEnv) fresh(t *testing.T) []string {
	t.Helper()
	after, err := l.e.clean.GetOrder(context.Background(), l.order.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range after.Refunds {
		if l.order.Refund(r.ID) == nil {
			ids = append(ids, r.ID)
		}
	}
	slices.Sort(ids)
	if len(ids) != 2 {
		t.Fatalf("refund_all made %d refunds, want one per payment (2)", len(ids))
	}
	return ids
}

func (l *lagEnv) intent(t *testing.T) Intent {
	t.Helper()
	ins, err := l.j.intents("forage", l.order.ID)
	if err != nil || len(ins) != 1 {
		t.Fatalf("intents %+v %v, want one", ins, err)
	}
	return ins[0]
}

// succeededLines are the audit log's succeeded lines of the refund.
func (l *lagEnv) succeededLines(t *testing.T) []audit.Entry {
	t.Helper()
	entries, err := readAudit(l.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Verify(l.auditPath); err != nil {
		t.Fatalf("the audit chain: %v", err)
	}
	return slices.DeleteFunc(entries, func(en audit.Entry) bool {
		return en.IdempotencyKey != l.key || en.Outcome != audit.Succeeded
	})
}

func sortedRefs(ids []string) []string {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	return ids
}

// TestForageWholeRefundWaitsForLaggingList: refund_all succeeded but the
// read after it does not show the new refunds yet. The journal keeps
// reading inside its settle window until they show, and the entry and the
// audit line name them.
func TestForageWholeRefundWaitsForLaggingList(t *testing.T) {
	t.Parallel()
	l := newLagEnv(t, 5*time.Second)
	res := l.refundAll(t, time.Second)
	want := l.fresh(t)
	in := l.intent(t)
	if in.State != StateSucceeded || !slices.Equal(sortedRefs(in.RefundIDs), want) || in.RefundRefsPending {
		t.Fatalf("journal: %s refunds %v pending %v (%s), want succeeded naming %v", in.State, in.RefundIDs, in.RefundRefsPending, in.Note, want)
	}
	lines := l.succeededLines(t)
	if len(lines) != 1 || !slices.Equal(sortedRefs(lines[0].RefundRefs), want) || lines[0].ErrorCode != "" {
		t.Fatalf("audit: %+v, want one succeeded line naming %v", lines, want)
	}
	var got []string
	for _, r := range res.Refunds {
		got = append(got, r.ID)
	}
	if !slices.Equal(sortedRefs(got), want) {
		t.Fatalf("the agent is shown refunds %v, want %v", got, want)
	}
}

// TestForageWholeRefundRefsNotKnownYet: the list lags past the settle
// window. The entry and the audit line say plainly that the refund refs
// are not known yet; a later read of the order (or a check of the order)
// fills them in, with one more audit line naming them, once.
func TestForageWholeRefundRefsNotKnownYet(t *testing.T) {
	t.Parallel()
	for _, via := range []string{"read", "resolve"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			const lag = 2500 * time.Millisecond
			l := newLagEnv(t, 300*time.Millisecond)
			start := time.Now()
			l.refundAll(t, lag)
			in := l.intent(t)
			if in.State != StateSucceeded || len(in.RefundIDs) != 0 || !in.RefundRefsPending || !strings.Contains(in.Note, "not known yet") {
				t.Fatalf("journal: %s refunds %v pending %v (%s), want succeeded, refs plainly not known yet", in.State, in.RefundIDs, in.RefundRefsPending, in.Note)
			}
			lines := l.succeededLines(t)
			if len(lines) != 1 || len(lines[0].RefundRefs) != 0 || lines[0].ErrorCode != CodeRefundRefsNotKnown {
				t.Fatalf("audit: %+v, want one succeeded line saying %s", lines, CodeRefundRefsNotKnown)
			}
			want := l.fresh(t)
			time.Sleep(time.Until(start.Add(lag + 200*time.Millisecond)))
			ctx := context.Background()
			for range 2 { // the second read finds nothing new to write
				switch via {
				case "read":
					if _, err := l.p.GetOrder(ctx, l.order.ID); err != nil {
						t.Fatal(err)
					}
				case "resolve":
					if _, err := l.j.ResolveOrder(ctx, l.e.client, l.order.ID, "recover"); err != nil {
						t.Fatal(err)
					}
				}
			}
			in = l.intent(t)
			if !slices.Equal(sortedRefs(in.RefundIDs), want) || in.RefundRefsPending {
				t.Fatalf("journal after the list caught up: refunds %v pending %v (%s), want %v", in.RefundIDs, in.RefundRefsPending, in.Note, want)
			}
			lines = l.succeededLines(t)
			if len(lines) != 2 || !slices.Equal(sortedRefs(lines[1].RefundRefs), want) || lines[1].ErrorCode != CodeRefundRefsFound {
				t.Fatalf("audit after the list caught up: %+v, want a second line naming %v", lines, want)
			}
		})
	}
}
