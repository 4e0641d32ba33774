package journal

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"paydesk/api"
	"paydesk/api/sandbox/faultproxy"
	"paydesk/model"
)

// TestLaggingRefsReadsMeetAHostileProvider: refund_all committed (a 409,
// then Forage's answer to the same key), and the reads that wait for its
// refunds to show in the lagging list are answered 401, 429, 302, 5xx,
// garbage, or not at all. The refund stays succeeded, never failed or
// unknown: a read that fails proves nothing about money that moved. Once
// the reads answer again the refs are found; reads that never answer cost the
// wait its window, no more, and the refs are plainly not known yet.
func TestLaggingRefsReadsMeetAHostileProvider(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode  faultproxy.Mode
		times int // 0: every read until the test ends
	}{
		{faultproxy.Unauthorized401, 2}, {faultproxy.TooMany429, 2}, {faultproxy.Found302, 2},
		{faultproxy.Status5xx, 2}, {faultproxy.Garbage2xx, 2}, {faultproxy.Hang, 0},
	} {
		mode := tc.mode
		t.Run(string(mode)+"x"+strconv.Itoa(tc.times), func(t *testing.T) {
			t.Parallel()
			e, cleanup, err := newFMEnv("forage")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cleanup)
			o, _, err := e.target(context.Background(), fmWhole)
			if err != nil {
				t.Fatal(err)
			}
			const settle = 3 * time.Second
			j, _ := openWithAuditLog(t, Options{SettleTime: settle, StepHook: func(step string) {
				if step == "after_call" { // the money committed; now the reads turn hostile
					e.proxy.Arm(faultproxy.Fault{Mode: mode, Target: faultproxy.Reads, Times: tc.times})
				}
			}})
			p := Wrap(e.client, j, "alice")
			e.proxy.Arm(faultproxy.Fault{Mode: faultproxy.Conflict409Lag, Times: 1, Lag: 1500 * time.Millisecond})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			res, err := p.RefundOrder(ctx, o.ID, api.RefundOrderRequest{IdempotencyKey: uuid.NewString(),
				Reason: "requested_by_customer", Metadata: model.Metadata{}, Expected: o.Refundable()})
			took := time.Since(start)
			if err != nil {
				t.Fatalf("refund_all with hostile reads after it: %v", err)
			}
			ins, err := j.intents("forage", o.ID)
			if err != nil || len(ins) != 1 {
				t.Fatalf("intents %+v %v, want one", ins, err)
			}
			in := ins[0]
			if in.State != StateSucceeded {
				t.Fatalf("journal says %s (%s), want succeeded", in.State, in.Note)
			}
			// The wait is bounded by the settle window (plus one read's
			// own deadline and the retries inside it).
			if took > settle+10*time.Second {
				t.Fatalf("the refund call took %v", took)
			}
			if tc.times == 0 {
				if !in.RefundRefsPending || in.ErrorCode != CodeRefundRefsNotKnown {
					t.Fatalf("reads hang: pending %v code %q (%s), want refs plainly not known yet", in.RefundRefsPending, in.ErrorCode, in.Note)
				}
				return
			}
			if in.RefundRefsPending || len(in.RefundIDs) != 2 || len(res.Refunds) != 2 {
				t.Fatalf("after %s reads: refs %v pending %v, shown %d refunds (%s), want the 2 refunds found",
					mode, in.RefundIDs, in.RefundRefsPending, len(res.Refunds), in.Note)
			}
			var shown []string
			for _, r := range res.Refunds {
				shown = append(shown, r.ID)
			}
			if !slices.Equal(sortedRefs(shown), sortedRefs(in.RefundIDs)) {
				t.Fatalf("the agent is shown %v, the journal names %v", shown, in.RefundIDs)
			}
		})
	}
}
