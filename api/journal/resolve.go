package journal

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"paydesk/api"
	"paydesk/model"
)

// result is what one call produced, whichever method it was.
type result struct {
	refund  *api.RefundResult
	payment *model.Payment
}

// call performs the intent at p. The request is built from the journal record
// alone, so the first send, a retry and a replay after a restart are the
// same request: same key, same canonical amount, same metadata.
func call(ctx context.Context, p api.Provider, in *Intent) (result, error) {
	money, err := in.Money()
	if err != nil {
		return result{}, err
	}
	switch in.Action {
	case ActionRefundOrder:
		r, err := p.RefundOrder(ctx, in.OrderID, api.RefundOrderRequest{
			IdempotencyKey:  in.IdempotencyKey,
			Reason:          in.Reason,
			Metadata:        maps.Clone(in.Metadata),
			ExternalOrderID: in.ExternalOrderID,
			Expected:        money,
		})
		return result{refund: r}, err
	case ActionRefundPayment:
		r, err := p.RefundPayment(ctx, in.OrderID, in.PaymentID, api.RefundPaymentRequest{
			IdempotencyKey:  in.IdempotencyKey,
			Amount:          money,
			Reason:          in.Reason,
			Metadata:        maps.Clone(in.Metadata),
			ExternalOrderID: in.ExternalOrderID,
		})
		return result{refund: r}, err
	case ActionCancelPayment:
		pm, err := p.CancelPayment(ctx, in.OrderID, in.PaymentID, api.CancelRequest{IdempotencyKey: in.IdempotencyKey})
		return result{payment: pm}, err
	case ActionUpdatePayment:
		pm, err := p.UpdatePayment(ctx, in.OrderID, in.PaymentID, api.PaymentUpdate{
			Metadata:        maps.Clone(in.Metadata),
			ExternalOrderID: in.SetExternalOrderID,
			PaymentMethod:   in.SetPaymentMethod,
			IdempotencyKey:  in.IdempotencyKey,
		})
		return result{payment: pm}, err
	}
	return result{}, fmt.Errorf("journal: unknown action %q", in.Action)
}

// definite reports whether err proves the request did not take effect.
// Refusals made before sending count (read-only, unsupported, bad amount,
// the client's own checks, a transport failure before the request left),
// and of the provider's answers only a status that refuses the request as
// such (400, 403, 404, 422, ...). Everything else may have happened, whatever
// the client concluded: an Unknown error; any 1xx, 2xx (unreadable), 3xx (a
// POST/redirect/GET after the provider committed) or 5xx; 401 (a token that
// expired after the request was handled, or a proxy's answer), 408, 409
// (Digital River answers conflicts after committing, and its refund list can
// lag, so one early read proves nothing), 425 and 429. Those are settled by
// replaying with the same key or by reading, never recorded as failed.
func definite(err error) bool {
	if err == nil || api.IsOutcomeUnknown(err) {
		return false
	}
	if e, ok := api.AsError(err); ok {
		if e.Unknown {
			return false
		}
		if e.HTTPStatus == 0 {
			// No answer from the provider and not flagged unknown: the
			// request never left (client-side refusal, transport error
			// before sending, canceled before sending).
			return true
		}
		return refusalStatus(e.HTTPStatus)
	}
	var ae *model.AmountError
	var ve model.ValidationError
	return errors.Is(err, api.ErrReadOnly) || errors.Is(err, api.ErrNotSupported) ||
		errors.Is(err, model.ErrUnknownCurrency) || errors.As(err, &ae) || errors.As(err, &ve)
}

// refusalStatus reports whether a provider's status refuses a request
// without having acted on it.
func refusalStatus(s int) bool {
	if s < 400 || s >= 500 {
		return false
	}
	switch s {
	case http.StatusUnauthorized, http.StatusProxyAuthRequired, http.StatusRequestTimeout,
		http.StatusConflict, http.StatusMisdirectedRequest, http.StatusLocked,
		http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return true
}

func errorCode(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, api.ErrReadOnly):
		return "read_only"
	case errors.Is(err, api.ErrNotSupported):
		return "not_supported"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	if c := api.CodeOf(err); c != "" {
		return c
	}
	if s := api.StatusOf(err); s != 0 {
		return "http_" + strconv.Itoa(s)
	}
	if api.IsOutcomeUnknown(err) {
		return "no_answer" // reset, EOF, timeout after sending
	}
	if e, ok := api.AsError(err); ok && e.Err != nil {
		return "not_sent" // the transport failed before the request left
	}
	return "error"
}

// send writes sent (fsync), calls the provider and writes the outcome. When
// replay is set a definite refusal is written as unknown: a refused replay
// does not prove the first send failed, and the caller goes on to read.
func (j *Journal) send(ctx context.Context, p api.Provider, in *Intent, replay bool) (result, error) {
	if err := ctx.Err(); err != nil && in.State == StatePrepared {
		j.settle(in, StateCanceled, err, "not sent: abandoned before sending")
		return result{}, err
	}
	prev := *in
	now := j.now()
	in.State, in.Sends, in.LastSentAt = StateSent, in.Sends+1, &now
	if in.FirstSentAt == nil {
		in.FirstSentAt = &now
	}
	if err := j.append(in); err != nil {
		// Nothing left the machine; say so if the disk still lets us.
		*in = prev
		if prev.State == StatePrepared {
			j.settle(in, StateCanceled, err, "not sent: the journal could not record the send")
		}
		return result{}, fmt.Errorf("not sent: %w", err)
	}
	j.hook("sent")
	res, err := call(ctx, p, in)
	j.hook("after_call")
	in.Error, in.ErrorCode = "", ""
	switch {
	case err == nil:
		in.State = StateSucceeded
		in.RefundIDs, in.RefundRefsPending = refundIDs(res, in), false
		if in.Action.refunds() && len(in.RefundIDs) == 0 {
			// Accepted, but the answer named no refund (Forage's
			// refund_all reads the order back, and its list can lag).
			j.awaitRefunds(ctx, p, in, &res)
		}
		in.Note = "accepted by the provider"
		if replay {
			in.Note = "replayed with the same key: accepted"
		}
		if moved, ok := movedOtherThanAsked(res, in); ok {
			// The money moved, so it succeeded; but the line must not
			// read as if the confirmed amount were what moved.
			in.ErrorCode = "amount_differs"
			in.Note += fmt.Sprintf("; the provider's refund is %s, not the %s %s confirmed", moved, in.Amount, in.Currency)
		}
		if res.refund != nil {
			in.seen = res.refund.Refunds
		}
		if in.RefundRefsPending {
			in.ErrorCode = CodeRefundRefsNotKnown
			in.Note += refsPendingNote
		}
	case definite(err) && !replay:
		in.State, in.ErrorCode, in.Error = StateFailed, errorCode(err), err.Error()
		in.Note = "refused by the provider"
	default:
		in.State, in.ErrorCode, in.Error = StateUnknown, errorCode(err), err.Error()
		in.Note = "sent, no clear answer: it may have happened"
		if s := api.StatusOf(err); s != 0 {
			in.Note = fmt.Sprintf("sent, answered %d, which does not say it was refused: it may have happened", s)
		}
		if replay && definite(err) {
			// This send provably did nothing: the settle time still
			// runs from the send that may have.
			in.LastSentAt = prev.LastSentAt
			in.Note = "replay refused; checking the order"
		}
	}
	if aerr := j.append(in); aerr != nil && err == nil {
		// The money moved; the journal still says sent and the next
		// resolution finds the refund by replaying or reading.
		return res, nil
	}
	return res, err
}

// refsPendingNote ends the note of a succeeded refund whose refs are not
// known yet; fillRefs replaces it once they are.
const refsPendingNote = "; its refund refs are not known yet (the provider's refund list does not show them yet): the next read of the order fills them in"

// refsWaitMax bounds how long a refund call waits for its refunds to show
// in the provider's list: the agent is looking at a spinner for a refund
// that has already happened, and a later read fills the refs in anyway.
const refsWaitMax = 10 * time.Second

// awaitRefunds reads the order until the refunds a succeeded refund made
// show in it (marked with the intent), as reads repeat for an unknown
// outcome: inside the settle window of the send, and leaving the caller a
// quarter of its time to show the result. What it finds becomes the
// intent's refs and the call's result; if nothing shows, the intent says
// its refs are not known yet (RefundRefsPending).
func (j *Journal) awaitRefunds(ctx context.Context, p api.Provider, in *Intent, res *result) {
	last := j.now()
	if in.LastSentAt != nil {
		last = *in.LastSentAt
	}
	// The window is judged on the journal's clock; the waiting is real time.
	end := time.Now().Add(min(last.Add(j.opts.SettleTime).Sub(j.now()), refsWaitMax))
	if dl, ok := ctx.Deadline(); ok {
		end = minTime(end, dl.Add(-time.Until(dl)/4))
	}
	wait := 200 * time.Millisecond
	for time.Now().Before(end) {
		rctx, cancel := context.WithDeadline(ctx, end)
		o, err := p.GetOrder(rctx, in.OrderID)
		cancel()
		if err == nil {
			if ids := markedRefunds(o, in); len(ids) > 0 {
				in.RefundIDs = ids
				rr := &api.RefundResult{Order: o}
				for _, id := range ids {
					rr.Refunds = append(rr.Refunds, *o.Refund(id))
				}
				res.refund = rr
				return
			}
		}
		if ctx.Err() != nil || !time.Now().Add(wait).Before(end) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
	in.RefundRefsPending = true
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// fillRefs gives a succeeded refund whose refs were not known yet the refs
// of the refunds o shows marked with it, and reports whether it did.
func (in *Intent) fillRefs(o *model.Order) bool {
	if in.State != StateSucceeded || !in.RefundRefsPending || o == nil {
		return false
	}
	ids := markedRefunds(o, in)
	if len(ids) == 0 {
		return false
	}
	in.RefundIDs, in.RefundRefsPending = ids, false
	in.ErrorCode = CodeRefundRefsFound
	in.Note = strings.Replace(in.Note, refsPendingNote, "", 1) + "; its refund refs were found by a later read of the order"
	return true
}

// movedOtherThanAsked reports the total of the refunds a successful refund
// call answered with when it is not the intent's amount. Answers that list
// no refund, or one without an amount, say nothing either way.
func movedOtherThanAsked(r result, in *Intent) (model.Money, bool) {
	if r.refund == nil || len(r.refund.Refunds) == 0 || (in.Action != ActionRefundPayment && in.Action != ActionRefundOrder) {
		return model.Money{}, false
	}
	want, err := in.Money()
	if err != nil {
		return model.Money{}, false
	}
	var sum model.Money
	for _, rf := range r.refund.Refunds {
		if rf.Amount.Currency == "" {
			return model.Money{}, false
		}
		if sum, err = sum.Add(rf.Amount); err != nil {
			return rf.Amount, true // refunds in two currencies: not what was confirmed
		}
	}
	if c, err := sum.Cmp(want); err != nil || c != 0 {
		return sum, true
	}
	return model.Money{}, false
}

// settle writes a final or unknown state with an error and a note.
func (j *Journal) settle(in *Intent, s State, err error, note string) {
	in.State, in.Note = s, note
	in.ErrorCode, in.Error = errorCode(err), ""
	if err != nil {
		in.Error = err.Error()
	}
	_ = j.append(in)
}

// refundIDs are the refunds a call made: those it returned, else (a replay
// of a whole-order refund may list none as new) those on the returned order
// that carry the intent's marker.
func refundIDs(r result, in *Intent) []string {
	if r.refund == nil {
		return nil
	}
	var ids []string
	for _, rf := range r.refund.Refunds {
		if rf.ID != "" {
			ids = append(ids, rf.ID)
		}
	}
	if len(ids) == 0 && r.refund.Order != nil {
		for _, rf := range r.refund.Order.Refunds {
			if in.marks(rf.Metadata[MarkerKey]) {
				ids = append(ids, rf.ID)
			}
		}
	}
	return ids
}

// replayMargin is how far inside the provider's key window a replay must
// finish: clocks differ and the window is not measured from our send.
func replayMargin(window time.Duration) time.Duration { return min(window/10, time.Minute) }

// resolve drives one unresolved intent towards a final state, following the
// rules in the package documentation. siblings are the order's other intents
// (their refunds are not this one's). The returned error says why the intent
// is still unresolved, when it is.
func (j *Journal) resolve(ctx context.Context, p api.Provider, in *Intent, siblings []*Intent) error {
	switch in.State {
	case StatePrepared:
		j.settle(in, StateCanceled, nil, "never sent (stopped before sending): nothing happened")
		return nil
	case StateSent, StateUnknown:
	default:
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	caps := p.Capabilities()
	if in.Action != ActionUpdatePayment && caps.Idempotency != api.IdempotencyNone &&
		caps.KeyWindow > 0 && in.FirstSentAt != nil {
		// FirstSentAt is the sending host's clock and now() this one's;
		// each may be off from the provider by the Skew allowed, so they
		// may differ by twice that (a shared journal resolved on another
		// host). A replay the provider no longer recognises is a second
		// refund; past this point the order is read instead.
		end := in.FirstSentAt.Add(caps.KeyWindow - replayMargin(caps.KeyWindow) - 2*j.opts.Skew)
		if j.now().Before(end) {
			rctx, cancel := context.WithDeadline(ctx, end)
			_, err := j.send(rctx, p, in, true)
			cancel()
			if in.State == StateSucceeded {
				return nil
			}
			if !definite(err) {
				return fmt.Errorf("%s: replayed, outcome still unknown: %w", in.Describe(), err)
			}
		}
	}
	return j.reconcile(ctx, p, in, siblings)
}

// reconcile reads the order and decides from what the provider shows.
func (j *Journal) reconcile(ctx context.Context, p api.Provider, in *Intent, siblings []*Intent) error {
	// The settle window is judged by when the read began: a slow read that
	// started inside the window proves nothing about the provider after it.
	readAt := j.now()
	o, err := p.GetOrder(ctx, in.OrderID)
	if err != nil {
		in.State = StateUnknown
		in.Note = "could not read the order to check: " + errorCode(err)
		_ = j.append(in)
		return fmt.Errorf("checking %s: %w", in.Describe(), err)
	}
	found := false
	switch in.Action {
	case ActionRefundOrder, ActionRefundPayment:
		if ids := j.matchRefunds(o, in, siblings); len(ids) > 0 {
			in.RefundIDs, found = ids, true
		}
	case ActionCancelPayment:
		pm := o.Payment(in.PaymentID)
		found = pm != nil && (pm.Status == model.StatusCanceled || pm.Status == model.StatusVoided)
	case ActionUpdatePayment:
		found = applied(o.Payment(in.PaymentID), in)
	}
	if found {
		in.State, in.ErrorCode, in.Error = StateSucceeded, "", ""
		in.Note = "found at the provider by reading the order"
		in.seen = o.Refunds
		if err := j.append(in); err != nil {
			return err
		}
		return nil
	}
	last := in.CreatedAt
	if in.LastSentAt != nil {
		last = *in.LastSentAt
	}
	if settled := last.Add(j.opts.SettleTime); readAt.Before(settled) {
		in.State = StateUnknown
		in.Note = "not at the provider yet; checked again after " + settled.Format("15:04:05 UTC")
		_ = j.append(in)
		return fmt.Errorf("%s: not found at the provider yet, outcome still unknown until %s", in.Describe(), settled.Format("15:04:05 UTC"))
	}
	in.State, in.ErrorCode, in.Error = StateFailed, "not_found_at_provider", ""
	in.Note = fmt.Sprintf("not found at the provider %s after the last send", j.opts.SettleTime)
	return j.append(in)
}

// matchRefunds finds the refunds an intent made: marked with its id, else
// unmarked ones that fit (see the package documentation).
func (j *Journal) matchRefunds(o *model.Order, in *Intent, siblings []*Intent) []string {
	if ids := markedRefunds(o, in); len(ids) > 0 {
		return ids
	}
	var ids []string
	claimed := map[string]bool{}
	for _, s := range siblings {
		if s.ID != in.ID {
			for _, id := range s.RefundIDs {
				claimed[id] = true
			}
		}
	}
	want, _ := in.Money()
	cutoff := in.CreatedAt.Add(-j.opts.Skew)
	for _, r := range o.Refunds {
		if claimed[r.ID] || r.Metadata[MarkerKey] != "" || (!r.Created.IsZero() && r.Created.Before(cutoff)) {
			continue
		}
		if in.Action == ActionRefundPayment {
			if r.PaymentID != "" && in.PaymentID != "" && r.PaymentID != in.PaymentID {
				continue
			}
			if c, err := r.Amount.Cmp(want); err != nil || c != 0 {
				continue
			}
			return []string{r.ID}
		}
		ids = append(ids, r.ID)
	}
	return ids
}

// markedRefunds are the refunds on o that carry the intent's marker (or,
// at Moyasar, its key as their id): provably the intent's own.
func markedRefunds(o *model.Order, in *Intent) []string {
	var ids []string
	for _, r := range o.Refunds {
		// Moyasar names the refund by the transaction_id the client derived
		// from the key: a refund with the key as its id is ours too.
		if in.marks(r.Metadata[MarkerKey]) || (r.ID != "" && r.ID == in.IdempotencyKey) {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

func applied(pm *model.Payment, in *Intent) bool {
	if pm == nil {
		return false
	}
	if in.Metadata != nil && !maps.Equal(withoutEmpty(pm.Metadata), withoutEmpty(in.Metadata)) {
		return false
	}
	if in.SetExternalOrderID != nil && pm.ExternalOrderID != *in.SetExternalOrderID {
		return false
	}
	if in.SetPaymentMethod != nil && pm.PaymentMethod != *in.SetPaymentMethod {
		return false
	}
	return true
}

func withoutEmpty(m model.Metadata) model.Metadata {
	if len(m) == 0 {
		return nil
	}
	return m
}

// marks reports whether a refund's marker value names this intent. Wrap
// writes the intent id; a client may write its own (the Digital River client
// overwrites the marker with the idempotency key), and both are unique to
// one intent.
func (in *Intent) marks(v string) bool {
	return v != "" && (v == in.ID || v == in.IdempotencyKey)
}

// refundState is the journal state a refund's final status amounts to:
// succeeded, or failed for a refund that did not return the money
// (declined, reversed, canceled, expired). ok is false while the refund is
// not final (processing, or a timeout the provider may still settle).
func refundState(st model.Status) (s State, ok bool) {
	switch st {
	case model.StatusSucceeded:
		return StateSucceeded, true
	case model.StatusFailed, model.StatusCanceled, model.StatusVoided, model.StatusExpired:
		return StateFailed, true
	}
	return "", false
}

// stateChanges are the refunds in rs that this succeeded refund intent made
// whose final state differs from the one last recorded for them (the
// intent's own state, until a change is recorded in RefundStates).
func (in *Intent) stateChanges(rs []model.Refund) []model.Refund {
	if in.State != StateSucceeded || !in.Action.refunds() {
		return nil
	}
	var out []model.Refund
	for _, r := range rs {
		s, final := refundState(r.Status)
		if !final || !slices.Contains(in.RefundIDs, r.ID) || slices.ContainsFunc(out, func(x model.Refund) bool { return x.ID == r.ID }) {
			continue
		}
		was := in.State
		if v, ok := in.RefundStates[r.ID]; ok {
			was = v
		}
		if s != was {
			out = append(out, r)
		}
	}
	return out
}

// refundNowNote is note saying refund r's state now, in place of what it
// said of r before: a provider whose answer flaps between two states must
// not grow the note (the journal keeps it whole at each write) a line per
// read. The audit lines keep every change.
func refundNowNote(note string, r model.Refund) string {
	const tail = " at the provider"
	head := fmt.Sprintf("; refund %s is now ", r.ID)
	if i := strings.Index(note, head); i >= 0 {
		if j := strings.Index(note[i+len(head):], tail); j >= 0 {
			note = note[:i] + note[i+len(head)+j+len(tail):]
		}
	}
	return note + head + string(r.Status) + tail
}

// noteStates records, for each refund in rs whose final state differs from
// what the intent last recorded, the new state in the journal and one more
// audit line (outcome the new state, error code refund_now_<status>): a
// "succeeded" line means the provider accepted the refund, and a refund it
// then declined or reversed must not stay "succeeded" in the audit log.
// Earlier lines are never rewritten (the log is a hash chain). The caller
// holds the order's lock. A snapshot that cannot be written leaves the
// lines unwritten too, so the next read tries again rather than twice.
func (j *Journal) noteStates(in *Intent, rs []model.Refund, actor string) {
	changes := in.stateChanges(rs)
	if len(changes) == 0 {
		return
	}
	states := maps.Clone(in.RefundStates)
	if states == nil {
		states = map[string]State{}
	}
	var recs []AuditRecord
	for _, r := range changes {
		s, _ := refundState(r.Status)
		states[r.ID] = s
		in.Note = refundNowNote(in.Note, r)
		rec := j.record(in, actor, nil)
		rec.RefundIDs, rec.Outcome, rec.ErrorCode, rec.MetadataKeys = []string{r.ID}, s, "refund_now_"+string(r.Status), nil
		rec.Note = fmt.Sprintf("refund %s, accepted by the provider, is now %s there", r.ID, r.Status)
		if r.Amount.Currency != "" {
			rec.Amount, rec.Currency = r.Amount.Fixed(), r.Amount.Currency
		}
		if r.PaymentID != "" {
			rec.PaymentID = r.PaymentID
		}
		recs = append(recs, rec)
	}
	in.RefundStates = states
	if err := j.append(in); err != nil {
		return
	}
	for _, rec := range recs {
		j.auditAfter(rec)
	}
}
