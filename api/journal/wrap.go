package journal

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"paydesk/api"
	"paydesk/model"
)

var (
	// ErrUnresolved: an earlier money action on the order has an unknown
	// outcome, so nothing new was sent.
	ErrUnresolved = errors.New("an earlier action on this order has an unknown outcome")
	// ErrEarlierSucceeded: an earlier action whose outcome was unknown turned
	// out to have happened while this one was being prepared, so this one
	// was not sent; the agent looks again and confirms once more.
	ErrEarlierSucceeded = errors.New("an earlier action on this order turned out to have succeeded")
	// ErrAlreadyFailed: the idempotency key belongs to an action that already
	// failed; a new attempt needs a new confirmation (and key).
	ErrAlreadyFailed = errors.New("this action already failed")
	// ErrKeyReused: the idempotency key belongs to a different request.
	ErrKeyReused = errors.New("idempotency key already used for a different request")
	// ErrAuditUnavailable: the audit log could not take a line, so nothing
	// was sent (see AuditError).
	ErrAuditUnavailable = errors.New("the audit log cannot be written")
)

// AuditError says an action was not sent because its audit line (or an
// earlier outcome's line still owed) could not be written. paydesk moves no
// money without an audit line.
type AuditError struct {
	Action string // what was not sent ("refund_payment 12.50 USD on order o1")
	Err    error  // the audit log's error
}

// storeDown is implemented by errors that say the shared store (PostgreSQL)
// is unreachable: disk advice would send the agent the wrong way.
type storeDown interface{ StoreUnavailable() bool }

func (e *AuditError) Error() string {
	var sd storeDown
	if errors.As(e.Err, &sd) && sd.StoreUnavailable() {
		return fmt.Sprintf("nothing sent: the audit log could not record %s (%v). paydesk moves no money without an audit line: "+
			"confirm again once the shared store is back (paydesk reconnects by itself)", e.Action, e.Err)
	}
	return fmt.Sprintf("nothing sent: the audit log could not record %s (%v). paydesk moves no money without an audit line: "+
		"free disk space, or run `paydesk audit verify` and repair or restore the audit log as it says, then confirm again", e.Action, e.Err)
}

func (e *AuditError) Unwrap() []error { return []error{ErrAuditUnavailable, e.Err} }

// IntentError ties an error to the intent it is about. Its message is written
// for the agent; errors.Is sees both the sentinel (ErrUnresolved, ...) and,
// for the current action's own unknown outcome, api.ErrOutcomeUnknown.
type IntentError struct {
	Intent Intent
	Kind   error // ErrUnresolved, ErrEarlierSucceeded, ErrAlreadyFailed, ErrKeyReused or nil
	Err    error // the provider's or the check's error, if any
}

func (e *IntentError) Error() string {
	in := &e.Intent
	when := in.CreatedAt.UTC().Format("15:04:05 UTC")
	if in.LastSentAt != nil {
		when = in.LastSentAt.UTC().Format("15:04:05 UTC")
	}
	var msg string
	switch e.Kind {
	case ErrUnresolved:
		msg = fmt.Sprintf("nothing sent: the earlier %s (sent %s by %s) has an unknown outcome; it may have happened. Check the order at the provider before anything else", in.Describe(), when, in.Actor)
	case ErrEarlierSucceeded:
		msg = fmt.Sprintf("nothing sent: the earlier %s (by %s), whose outcome was unknown, did happen. Look at the order again and confirm once more if this action is still wanted", in.Describe(), in.Actor)
	case ErrAlreadyFailed:
		msg = fmt.Sprintf("%s already failed (%s); confirm it again to make a new attempt", in.Describe(), in.ErrorCode)
	case ErrKeyReused:
		msg = fmt.Sprintf("idempotency key %s already belongs to %s; nothing sent", in.IdempotencyKey, in.Describe())
	default:
		if in.State == StateUnknown {
			msg = fmt.Sprintf("%s: outcome unknown, it may have happened. Do not repeat it by hand: paydesk checks it with the provider before anything else on this order", in.Describe())
		} else {
			msg = in.Describe() + ": " + string(in.State)
		}
	}
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg
}

func (e *IntentError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
		if e.Kind == ErrAlreadyFailed {
			// The caller's own key failed: whoever holds it (an approval
			// request) can close what it was for.
			errs = append(errs, api.ErrKeyFailed)
		}
	} else {
		// Only the current action's own error is in the chain: an earlier
		// intent's unknown outcome must not read as this action's.
		if e.Err != nil {
			errs = append(errs, e.Err)
		}
		if e.Intent.State == StateUnknown {
			// Whatever the client returned, the journal says unknown.
			errs = append(errs, api.ErrOutcomeUnknown)
		}
	}
	return errs
}

// Outcome is what resolving one intent came to.
type Outcome struct {
	Intent Intent
	// Err says why the intent is still unresolved (or could not be looked
	// at): provider unreachable, order busy, not configured.
	Err error
}

// Resolved reports whether the intent reached a final state.
func (o Outcome) Resolved() bool { return o.Intent.State.Resolved() }

// ErrNoProvider: the journal holds intents for a provider not configured now.
var ErrNoProvider = errors.New("provider not configured")

// ResolveOrder resolves the order's unresolved intents (under its lock) and
// returns what became of each. The UI calls it when it opens an order that
// has Pending intents.
func (j *Journal) ResolveOrder(ctx context.Context, p api.Provider, orderID, actor string) ([]Outcome, error) {
	lk, err := j.lock(p.ID(), orderID, actor)
	if err != nil {
		return nil, err
	}
	defer lk.unlock()
	ins, err := j.load(p.ID(), orderID)
	if err != nil {
		return nil, err
	}
	var out []Outcome
	for _, in := range ins {
		if in.State.Resolved() {
			continue
		}
		err := j.resolve(ctx, p, in, ins)
		j.auditSeen(in, actor, nil)
		out = append(out, Outcome{Intent: *in, Err: err})
	}
	j.catchUp(ctx, p, ins, actor)
	return out, nil
}

// catchUp reads the order once when any of its succeeded refunds still has
// refs not known yet, and writes down what the read shows. The caller holds
// the order's lock. A read that fails leaves them for the next one.
func (j *Journal) catchUp(ctx context.Context, p api.Provider, ins []*Intent, actor string) {
	if !slices.ContainsFunc(ins, func(in *Intent) bool { return in.State == StateSucceeded && in.RefundRefsPending }) {
		return
	}
	o, err := p.GetOrder(ctx, ins[0].OrderID)
	if err != nil {
		return
	}
	j.apply(o, o.Refunds, ins, actor)
}

// apply writes down, for each of the order's intents, what a read shows
// that the journal does not know yet: the refs of a succeeded refund that
// were not known yet (from the order o, when the read was of the order),
// and the final state of a journaled refund that differs from the one
// recorded (from rs). The caller holds the order's lock.
func (j *Journal) apply(o *model.Order, rs []model.Refund, ins []*Intent, actor string) {
	for _, in := range ins {
		if in.fillRefs(o) && j.append(in) == nil {
			j.audit(in, actor, nil)
		}
		j.noteStates(in, rs, actor)
	}
}

// news reports whether a read (the order o, or nil, and the refunds rs it
// showed) tells any of the intents something apply would write down.
func news(o *model.Order, rs []model.Refund, ins []*Intent) bool {
	return slices.ContainsFunc(ins, func(in *Intent) bool {
		c := *in // fillRefs changes its intent; this only asks
		return c.fillRefs(o) || len(in.stateChanges(rs)) > 0
	})
}

// onRead brings the journal up to date with a read made through Wrap (the
// agent opening or refreshing an order or a refund): o is the order read,
// or nil when only refunds rs were. Nothing to write costs one load of the
// order's journal; otherwise it takes the order's lock without waiting,
// and when another action holds it leaves the news to the next read.
func (j *Journal) onRead(provider, orderID string, o *model.Order, rs []model.Refund, actor string) {
	ins, err := j.load(provider, orderID)
	if err != nil || !news(o, rs, ins) {
		return
	}
	lk, err := j.lock(provider, orderID, actor)
	if err != nil {
		return
	}
	defer lk.unlock()
	if ins, err = j.load(provider, orderID); err == nil {
		j.apply(o, rs, ins, actor)
	}
}

// auditSeen writes an intent's outcome line, then one line for each of its
// refunds that the call or read behind that outcome showed in a final
// state other than the one recorded (noteStates).
func (j *Journal) auditSeen(in *Intent, actor string, before model.Metadata) {
	j.audit(in, actor, before)
	seen := in.seen
	in.seen = nil
	j.noteStates(in, seen, actor)
}

// Recover resolves every unresolved intent in the journal and waits for
// it; providers is keyed by Provider.ID(). Orders another process holds are
// reported busy and left to it. The console uses StartRecover instead, so it
// is up while the checks run.
func (j *Journal) Recover(ctx context.Context, providers map[string]api.Provider) []Outcome {
	var out []Outcome
	_, wait := j.StartRecover(ctx, providers, func(p RecoveryProgress) {
		if p.Done {
			out = p.Outcomes
		}
	})
	wait()
	return out
}

// RecoveryProgress is what StartRecover reports: once per order checked and
// once more, with Done and every Outcome, at the end.
type RecoveryProgress struct {
	Total    int // earlier actions left unresolved, found at the start
	Checked  int // of those, how many have been checked so far
	Open     int // of those checked, how many are still unresolved
	Done     bool
	Outcomes []Outcome // set when Done
}

// ErrRecovering: the order has an earlier action that start-up recovery is
// still checking, so nothing was sent (see RecoveringError).
var ErrRecovering = errors.New("earlier actions are still being checked")

// RecoveringError refuses an action on an order whose earlier actions
// start-up recovery has not checked yet.
type RecoveringError struct {
	OrderID string
	Total   int // earlier actions being checked in all
}

func (e *RecoveringError) Error() string {
	return fmt.Sprintf("nothing sent: paydesk is checking %d earlier %s an earlier session left unresolved, "+
		"including one on order %s; wait until the status line says the check is done, then try again",
		e.Total, pluralWord(e.Total, "action", "actions"), e.OrderID)
}

func (e *RecoveringError) Unwrap() error { return ErrRecovering }

// pluralWord is the word alone ("action" or "actions"); ui.plural puts the
// count in front. Different names for different contracts.
func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

type orderKey struct{ provider, order string }

// recovering reports whether start-up recovery has yet to finish with the
// order, and how many actions it is checking in all.
func (j *Journal) recovering(provider, orderID string) (bool, int) {
	j.recMu.Lock()
	defer j.recMu.Unlock()
	return j.recOrders[orderKey{provider, orderID}], j.recTotal
}

// StartRecover resolves every unresolved intent in the journal in the
// background and returns at once with how many there are, and a wait
// function that returns when recovery is over. Until an order has been
// checked, money actions on it through Wrap are refused with a
// *RecoveringError; report (which may be nil) gets a RecoveryProgress after
// each order and a final one with Done set. Each order's check is bounded by
// Options.ResolveTimeout; cancel ctx to stop early (unchecked intents stay
// unresolved and are resolved before the next action on their order).
func (j *Journal) StartRecover(ctx context.Context, providers map[string]api.Provider, report func(RecoveryProgress)) (int, func()) {
	if report == nil {
		report = func(RecoveryProgress) {}
	}
	// Lines an earlier process owed the audit log go in first; one the log
	// still refuses stays owed, and the next money action is refused until
	// it is written (auditBefore).
	j.auditMu.Lock()
	_ = j.drainOwed()
	j.auditMu.Unlock()
	uns, err := j.Unresolved()
	if err != nil {
		report(RecoveryProgress{Done: true, Outcomes: []Outcome{{Err: err}}})
		return 0, func() {}
	}
	var (
		keys  []orderKey
		byKey = map[orderKey][]Intent{}
	)
	for _, in := range uns {
		k := orderKey{in.Provider, in.OrderID}
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], in)
	}
	j.recMu.Lock()
	if j.recOrders == nil {
		j.recOrders = map[orderKey]bool{}
	}
	for _, k := range keys {
		j.recOrders[k] = true
	}
	j.recTotal = len(uns)
	j.recMu.Unlock()

	var (
		mu      sync.Mutex
		results = make([][]Outcome, len(keys))
		prog    = RecoveryProgress{Total: len(uns)}
	)
	finish := func(i int, k orderKey, res []Outcome) {
		j.recMu.Lock()
		delete(j.recOrders, k)
		j.recMu.Unlock()
		mu.Lock()
		results[i] = res
		for _, o := range res {
			prog.Checked++
			if !o.Resolved() {
				prog.Open++
			}
		}
		p := prog
		mu.Unlock()
		report(p)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Orders are independent (each has its own lock and file): resolve a
		// few at once so one slow provider call does not hold up the rest.
		sem := make(chan struct{}, recoverParallel)
		var wg sync.WaitGroup
		for i, k := range keys {
			p := providers[k.provider]
			other := ""
			for _, in := range byKey[k] {
				if in.Account != "" && in.Account != j.account(k.provider) {
					other = in.Account
				}
			}
			if p == nil || other != "" {
				// An intent made on another account of the provider is
				// not this configuration's to resolve: the paydesk set up
				// for that account resolves it.
				var res []Outcome
				for _, in := range byKey[k] {
					err := fmt.Errorf("%w: %s", ErrNoProvider, k.provider)
					if in.Account != "" && in.Account != j.account(k.provider) {
						err = fmt.Errorf("%w: %s account %s", ErrNoProvider, k.provider, in.Account)
					}
					res = append(res, Outcome{Intent: in, Err: err})
				}
				finish(i, k, res)
				continue
			}
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				octx, cancel := context.WithTimeout(ctx, j.opts.ResolveTimeout)
				defer cancel()
				res, err := j.ResolveOrder(octx, p, k.order, "recover")
				if err != nil {
					for _, in := range byKey[k] {
						res = append(res, Outcome{Intent: in, Err: err})
					}
				}
				finish(i, k, res)
			})
		}
		wg.Wait()
		j.recMu.Lock()
		j.recTotal = 0
		j.recMu.Unlock()
		var out []Outcome
		for _, r := range results {
			out = append(out, r...)
		}
		mu.Lock()
		p := prog
		mu.Unlock()
		p.Done, p.Outcomes = true, out
		report(p)
	}()
	return len(uns), func() { <-done }
}

// recoverParallel is how many orders Recover resolves at once.
const recoverParallel = 4

// MarkChecked records what an agent found at the provider for an intent that
// could not be resolved automatically: succeeded (the refund is there) or
// failed (it is not). It is the manual way out of StateUnknown.
func (j *Journal) MarkChecked(provider, orderID, intentID string, s State, actor, note string) error {
	if s != StateSucceeded && s != StateFailed {
		return fmt.Errorf("journal: an agent can mark an intent succeeded or failed, not %s", s)
	}
	lk, err := j.lock(provider, orderID, actor)
	if err != nil {
		return err
	}
	defer lk.unlock()
	ins, err := j.load(provider, orderID)
	if err != nil {
		return err
	}
	for _, in := range ins {
		if in.ID != intentID {
			continue
		}
		if in.State.Resolved() {
			return fmt.Errorf("journal: %s is already %s", in.Describe(), in.State)
		}
		in.State, in.ErrorCode = s, ""
		if s == StateFailed {
			in.ErrorCode = "checked_by_agent"
		}
		in.Note = fmt.Sprintf("checked at the provider by %s: %s", actor, note)
		if err := j.append(in); err != nil {
			return err
		}
		j.audit(in, actor, nil)
		return nil
	}
	return fmt.Errorf("journal: no intent %s on order %s", intentID, orderID)
}

// Wrap puts the journal in front of p: every refund, cancel and payment
// update is written down before it is sent, one at a time per order across
// processes, and resolved after a crash. Reads pass straight through. actor
// is who the journal and audit log name (the agent's login).
func Wrap(p api.Provider, j *Journal, actor string) api.Provider {
	return &wrapped{p: p, j: j, actor: actor}
}

// wrapped writes every method out instead of embedding api.Provider: a
// method added to Provider later must fail to compile here until someone
// decides whether it goes through the journal (TestDecoratorsImplementEveryMethod
// checks this by reflection).
type wrapped struct {
	p     api.Provider
	j     *Journal
	actor string
}

// Reads and descriptions pass straight through: they move no money.

func (w *wrapped) ID() string                     { return w.p.ID() }
func (w *wrapped) Name() string                   { return w.p.Name() }
func (w *wrapped) Capabilities() api.Capabilities { return w.p.Capabilities() }

func (w *wrapped) ListOrders(ctx context.Context, q api.OrderQuery) (api.OrderPage, error) {
	return w.p.ListOrders(ctx, q)
}

func (w *wrapped) GetOrder(ctx context.Context, orderID string) (*model.Order, error) {
	o, err := w.p.GetOrder(ctx, orderID)
	if err == nil && o != nil {
		w.j.onRead(w.p.ID(), orderID, o, o.Refunds, w.actor)
	}
	return o, err
}

func (w *wrapped) GetRefund(ctx context.Context, orderID, refundID string) (*model.Refund, error) {
	r, err := w.p.GetRefund(ctx, orderID, refundID)
	if err == nil && r != nil {
		// The live refresh of a refund: a journaled refund that failed
		// after the provider accepted it gets its audit line here.
		w.j.onRead(w.p.ID(), orderID, nil, []model.Refund{*r}, w.actor)
	}
	return r, err
}

func (w *wrapped) RefundOrder(ctx context.Context, orderID string, r api.RefundOrderRequest) (*api.RefundResult, error) {
	in := &Intent{
		Action: ActionRefundOrder, OrderID: orderID, Reason: r.Reason,
		Metadata: r.Metadata, ExternalOrderID: r.ExternalOrderID, IdempotencyKey: r.IdempotencyKey,
	}
	if r.Expected.Currency != "" {
		in.Amount, in.Currency = r.Expected.Fixed(), r.Expected.Currency
	}
	res, err := w.do(ctx, in)
	return res.refund, err
}

func (w *wrapped) RefundPayment(ctx context.Context, orderID, paymentID string, r api.RefundPaymentRequest) (*api.RefundResult, error) {
	in := &Intent{
		Action: ActionRefundPayment, OrderID: orderID, PaymentID: paymentID,
		Amount: r.Amount.Fixed(), Currency: r.Amount.Currency, Reason: r.Reason,
		Metadata: r.Metadata, ExternalOrderID: r.ExternalOrderID, IdempotencyKey: r.IdempotencyKey,
	}
	res, err := w.do(ctx, in)
	return res.refund, err
}

func (w *wrapped) CancelPayment(ctx context.Context, orderID, paymentID string, r api.CancelRequest) (*model.Payment, error) {
	res, err := w.do(ctx, &Intent{Action: ActionCancelPayment, OrderID: orderID, PaymentID: paymentID, IdempotencyKey: r.IdempotencyKey})
	return res.payment, err
}

func (w *wrapped) UpdatePayment(ctx context.Context, orderID, paymentID string, u api.PaymentUpdate) (*model.Payment, error) {
	res, err := w.do(ctx, &Intent{
		Action: ActionUpdatePayment, OrderID: orderID, PaymentID: paymentID, Metadata: u.Metadata,
		SetExternalOrderID: u.ExternalOrderID, SetPaymentMethod: u.PaymentMethod, IdempotencyKey: u.IdempotencyKey,
	})
	return res.payment, err
}

func (w *wrapped) UpdateRefund(ctx context.Context, orderID, refundID string, u api.RefundUpdate) (*model.Refund, error) {
	rec := AuditRecord{
		Time: w.j.now(), Actor: w.actor, Provider: w.p.ID(), Action: "update_refund",
		OrderID: orderID, RefundIDs: []string{refundID}, IdempotencyKey: u.IdempotencyKey,
		Outcome: StatePrepared, MetadataKeys: u.Metadata.Keys(),
	}
	// Not money, but audited like money: its line goes in before the change.
	if err := w.j.auditBefore(rec, rec.Action+" on order "+orderID); err != nil {
		return nil, err
	}
	r, err := w.p.UpdateRefund(ctx, orderID, refundID, u)
	rec.Time, rec.Outcome = w.j.now(), StateSucceeded
	if err != nil {
		rec.Outcome, rec.ErrorCode = StateFailed, errorCode(err)
		if !definite(err) {
			rec.Outcome = StateUnknown
		}
	}
	w.j.auditAfter(rec)
	return r, err
}

// do runs one action through the journal and audits a refusal (busy order,
// unresolved earlier action, reused key) that never became an intent.
func (w *wrapped) do(ctx context.Context, draft *Intent) (result, error) {
	res, err := w.run(ctx, draft)
	var be *BusyError
	var ie *IntentError
	code := ""
	switch {
	case errors.As(err, &be):
		code = "order_busy"
	case errors.Is(err, ErrRecovering):
		code = "earlier_being_checked"
	case errors.As(err, &ie) && ie.Kind != nil:
		code = map[error]string{ErrUnresolved: "earlier_unresolved", ErrEarlierSucceeded: "earlier_succeeded",
			ErrAlreadyFailed: "already_failed", ErrKeyReused: "key_reused"}[ie.Kind]
	}
	if code != "" {
		w.j.auditAfter(AuditRecord{
			Time: w.j.now(), Actor: w.actor, Provider: draft.Provider, Action: string(draft.Action),
			OrderID: draft.OrderID, PaymentID: draft.PaymentID, Amount: draft.Amount, Currency: draft.Currency,
			IdempotencyKey: draft.IdempotencyKey, Outcome: StateRefused, ErrorCode: code,
		})
	}
	return res, err
}

func (w *wrapped) run(ctx context.Context, draft *Intent) (result, error) {
	j := w.j
	draft.Provider, draft.Actor = w.p.ID(), w.actor
	// Refuse what cannot be written canonically before anything is recorded.
	if m, err := draft.Money(); err != nil {
		return result{}, err
	} else if draft.Action == ActionRefundPayment && !m.IsPositive() {
		return result{}, &model.AmountError{Input: draft.Amount, Rule: "must be more than zero"}
	}
	if api.IsReadOnly(w.p) {
		return result{}, api.ErrReadOnly
	}
	draft.Provider, draft.Account = w.p.ID(), j.account(w.p.ID())
	if busy, total := j.recovering(draft.Provider, draft.OrderID); busy {
		return result{}, &RecoveringError{OrderID: draft.OrderID, Total: total}
	}
	lk, err := j.lock(draft.Provider, draft.OrderID, w.actor)
	if err != nil {
		return result{}, err
	}
	defer lk.unlock()
	ins, err := j.load(draft.Provider, draft.OrderID)
	if err != nil {
		return result{}, err
	}
	if draft.IdempotencyKey != "" {
		for _, prev := range ins {
			if prev.IdempotencyKey == draft.IdempotencyKey {
				return w.again(ctx, prev, draft, ins)
			}
		}
	}
	var turnedOut *Intent
	for _, in := range ins {
		if in.State.Resolved() {
			continue
		}
		rerr := j.resolve(ctx, w.p, in, ins)
		j.auditSeen(in, w.actor, nil)
		if !in.Action.movesMoney() || !draft.Action.movesMoney() {
			continue
		}
		if !in.State.Resolved() {
			return result{}, &IntentError{Intent: *in, Kind: ErrUnresolved, Err: rerr}
		}
		if in.State == StateSucceeded {
			turnedOut = in
		}
	}
	if turnedOut != nil {
		return result{}, &IntentError{Intent: *turnedOut, Kind: ErrEarlierSucceeded}
	}
	j.catchUp(ctx, w.p, ins, w.actor)

	var before model.Metadata
	if draft.Action == ActionUpdatePayment && j.opts.Auditor != nil && draft.Metadata != nil {
		// Only the names of changed keys are audited; they need the old set.
		if o, err := w.p.GetOrder(ctx, draft.OrderID); err == nil {
			if pm := o.Payment(draft.PaymentID); pm != nil {
				before = pm.Metadata.Clone()
			}
		}
	}
	draft.ID = newID()
	if draft.IdempotencyKey == "" {
		draft.IdempotencyKey = newID()
	}
	if draft.Action == ActionRefundOrder || draft.Action == ActionRefundPayment {
		draft.Metadata = draft.Metadata.Clone()
		draft.Metadata[MarkerKey] = draft.ID
	} else {
		draft.Metadata = maps.Clone(draft.Metadata)
	}
	draft.State = StatePrepared
	draft.CreatedAt = j.now()
	// The audit line goes in before anything is recorded or sent: if the
	// log cannot take it, nothing is sent and the agent is told why.
	if err := j.auditBefore(j.record(draft, w.actor, before), draft.Describe()); err != nil {
		return result{}, err
	}
	if err := j.append(draft); err != nil {
		return result{}, fmt.Errorf("nothing sent: %w", err)
	}
	j.hook("prepared")
	res, err := j.send(ctx, w.p, draft, false)
	j.auditSeen(draft, w.actor, before)
	if err != nil && draft.State == StateUnknown {
		return res, &IntentError{Intent: *draft, Err: err}
	}
	return res, err
}

// again handles a call whose idempotency key the journal already holds: the
// same logical action, retried by the caller. It is never sent twice.
func (w *wrapped) again(ctx context.Context, prev, draft *Intent, ins []*Intent) (result, error) {
	if !sameRequest(prev, draft) {
		return result{}, &IntentError{Intent: *prev, Kind: ErrKeyReused}
	}
	var rerr error
	if !prev.State.Resolved() {
		rerr = w.j.resolve(ctx, w.p, prev, ins)
		w.j.auditSeen(prev, w.actor, nil)
	}
	switch prev.State {
	case StateSucceeded:
		return w.resultOf(ctx, prev), nil
	case StateFailed, StateCanceled:
		return result{}, &IntentError{Intent: *prev, Kind: ErrAlreadyFailed}
	}
	return result{}, &IntentError{Intent: *prev, Err: rerr}
}

// resultOf rebuilds what a succeeded intent returned, from the order as the
// provider shows it now (or just the refund ids if it cannot be read).
func (w *wrapped) resultOf(ctx context.Context, in *Intent) result {
	o, err := w.p.GetOrder(ctx, in.OrderID)
	if err != nil {
		rr := &api.RefundResult{}
		for _, id := range in.RefundIDs {
			rr.Refunds = append(rr.Refunds, model.Refund{Provider: in.Provider, ID: id, OrderID: in.OrderID, PaymentID: in.PaymentID})
		}
		return result{refund: rr, payment: &model.Payment{Provider: in.Provider, ID: in.PaymentID, OrderID: in.OrderID}}
	}
	rr := &api.RefundResult{Order: o}
	for _, id := range in.RefundIDs {
		if r := o.Refund(id); r != nil {
			rr.Refunds = append(rr.Refunds, *r)
		}
	}
	return result{refund: rr, payment: o.Payment(in.PaymentID)}
}

func sameRequest(prev, draft *Intent) bool {
	pm := maps.Clone(prev.Metadata)
	if prev.Action == ActionRefundOrder || prev.Action == ActionRefundPayment {
		delete(pm, MarkerKey)
		if len(pm) == 0 {
			pm = nil
		}
	}
	dm := draft.Metadata
	if len(dm) == 0 && prev.Action != ActionUpdatePayment {
		dm = nil
	}
	return prev.Action == draft.Action && prev.PaymentID == draft.PaymentID &&
		prev.Amount == draft.Amount && prev.Currency == draft.Currency &&
		prev.Reason == draft.Reason && prev.ExternalOrderID == draft.ExternalOrderID &&
		maps.Equal(pm, dm) && (pm == nil) == (dm == nil) &&
		eqPtr(prev.SetExternalOrderID, draft.SetExternalOrderID) &&
		eqPtr(prev.SetPaymentMethod, draft.SetPaymentMethod)
}

func eqPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// AuditRecord is one action outcome for the audit log: who did what to which
// refs, for how much, and how it ended. Metadata values are never included,
// only key names (for update_payment, the changed ones).
type AuditRecord struct {
	Time           time.Time
	Actor          string
	Provider       string
	Action         string
	IntentID       string
	OrderID        string
	PaymentID      string
	RefundIDs      []string
	Amount         string // fixed scale
	Currency       string
	IdempotencyKey string
	Outcome        State
	ErrorCode      string
	MetadataKeys   []string
	Note           string
}

// Auditor receives one AuditRecord per action outcome (and per resolution
// of an unresolved intent). Set it in Options.Auditor.
type Auditor interface {
	Audit(AuditRecord) error
}

// AuditorFunc adapts a function to Auditor.
type AuditorFunc func(AuditRecord) error

func (f AuditorFunc) Audit(r AuditRecord) error { return f(r) }

// record is the audit record of an intent as it stands.
func (j *Journal) record(in *Intent, actor string, before model.Metadata) AuditRecord {
	rec := AuditRecord{
		Time: j.now(), Actor: actor, Provider: in.Provider, Action: string(in.Action), IntentID: in.ID,
		OrderID: in.OrderID, PaymentID: in.PaymentID, RefundIDs: in.RefundIDs, Amount: in.Amount,
		Currency: in.Currency, IdempotencyKey: in.IdempotencyKey, Outcome: in.State,
		ErrorCode: in.ErrorCode, Note: in.Note,
	}
	if in.Action == ActionUpdatePayment && before != nil {
		for _, c := range before.Diff(in.Metadata) {
			rec.MetadataKeys = append(rec.MetadataKeys, c.Key)
		}
	} else {
		rec.MetadataKeys = in.Metadata.Keys()
	}
	return rec
}

// audit writes an intent's outcome (see auditAfter).
func (j *Journal) audit(in *Intent, actor string, before model.Metadata) {
	j.auditAfter(j.record(in, actor, before))
}

// auditAfter writes an outcome line. The action has already happened (or
// not), so a failure cannot stop it: the record is kept as owed, and
// auditBefore writes it before the next action, or refuses that action.
func (j *Journal) auditAfter(rec AuditRecord) {
	if j.opts.Auditor == nil {
		return
	}
	j.auditMu.Lock()
	defer j.auditMu.Unlock()
	if len(j.owed) == 0 {
		if err := j.opts.Auditor.Audit(rec); err == nil {
			return
		}
	}
	j.owed = append(j.owed, rec)
	j.saveOwed()
}

// auditBefore writes the lines still owed, then rec, before an action is
// sent. Any failure refuses the action with an *AuditError.
func (j *Journal) auditBefore(rec AuditRecord, what string) error {
	if j.opts.Auditor == nil {
		return nil
	}
	j.auditMu.Lock()
	defer j.auditMu.Unlock()
	if err := j.drainOwed(); err != nil {
		return &AuditError{Action: what, Err: err}
	}
	if err := j.opts.Auditor.Audit(rec); err != nil {
		return &AuditError{Action: what, Err: err}
	}
	return nil
}

// owedAudit is how many outcome lines could not be written to the audit log
// yet; they are written before the next action (which is refused until they
// are).
func (j *Journal) owedAudit() int {
	j.auditMu.Lock()
	defer j.auditMu.Unlock()
	return len(j.owed)
}
