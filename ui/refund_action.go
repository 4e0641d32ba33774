package ui

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/x/ansi"

	"paydesk/api"
	"paydesk/model"
	"paydesk/model/safetext"
)

// formHeadLines is what View draws above the form (title, context, blank);
// formFootLines is kept free below it for huh's validation message.
const (
	formHeadLines = 3
	formFootLines = 3
)

// refundFormScreen asks what a refund needs (the amount first for a partial
// refund, then the reason, optional metadata and external order id) and then
// pushes the typed confirmation. esc closes it; after an error or going back
// from the confirmation every value the agent typed is still there.
type refundFormScreen struct {
	base
	provider  int
	order     *model.Order
	paymentID string // "" refunds the entire order (or part of it, with orderPart)
	// orderPart is a partial refund taken from the order, not one payment:
	// the provider (Digital River) takes an order id and an amount and
	// spreads it over the order's charges itself.
	orderPart bool
	keys      actionKeys
	form      *huh.Form

	amount, reason, metaLine, extID string
	// refused holds the provider's last complaints about named fields,
	// shown beside those fields until the agent submits again.
	refused []api.FieldError
	// fieldErr is each field's own validation message, drawn under the
	// field's description (beside the field, not at the foot of the form).
	fieldErr map[string]*fieldMsg
}

// fieldMsg is one field's validation message, twice: bind is what huh
// hashes, on the program's goroutine (where validators run too), to know
// when to re-read the description; text is what the description reads, in
// a command on another goroutine, under mu.
type fieldMsg struct {
	bind *string
	mu   sync.Mutex
	text string
}

func (m *fieldMsg) set(t string) {
	*m.bind = t
	m.mu.Lock()
	m.text = t
	m.mu.Unlock()
}

func (m *fieldMsg) get() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.text
}

// besideField is a field's description with its error under it. The
// error is set by the field's validator; huh re-reads the description
// when it changes.
func (s *refundFormScreen) besideField(field, base string, validate func(string) error) (func() string, *string, func(string) error) {
	if s.fieldErr == nil {
		s.fieldErr = map[string]*fieldMsg{}
	}
	msg := s.fieldErr[field]
	if msg == nil {
		msg = &fieldMsg{bind: new(string)}
		s.fieldErr[field] = msg
	}
	desc := func() string {
		if t := msg.get(); t != "" {
			return base + "\n✗ " + t
		}
		return base
	}
	check := func(v string) error {
		err := validate(v)
		if err != nil {
			msg.set(err.Error())
		} else {
			msg.set("")
		}
		return err
	}
	return desc, msg.bind, check
}

func newRefundOrderScreen(c *Context, provider int, order *model.Order) Screen {
	s := &refundFormScreen{base: newBase(c), provider: provider, order: order, keys: newActionKeys(c)}
	s.form = s.buildForm()
	return s
}

func newRefundPaymentScreen(c *Context, provider int, order *model.Order, paymentID string) Screen {
	s := &refundFormScreen{base: newBase(c), provider: provider, order: order, paymentID: paymentID, keys: newActionKeys(c)}
	s.form = s.buildForm()
	return s
}

// newRefundOrderPartScreen is an order-level partial refund, for providers
// whose partial refunds name the order only (Capabilities.PartialRefundOnOrder).
func newRefundOrderPartScreen(c *Context, provider int, order *model.Order) Screen {
	s := &refundFormScreen{base: newBase(c), provider: provider, order: order, orderPart: true, keys: newActionKeys(c)}
	s.form = s.buildForm()
	return s
}

func (s *refundFormScreen) prov() api.Provider { return s.c.Providers[s.provider] }
func (s *refundFormScreen) caps() api.Capabilities {
	return s.prov().Capabilities()
}

func (s *refundFormScreen) partial() bool { return s.paymentID != "" || s.orderPart }

// refundable is the ceiling for a partial refund: the payment's remainder,
// or the order's when the provider refunds orders rather than payments.
func (s *refundFormScreen) refundable() model.Money { return s.refundableIn(s.order) }

func (s *refundFormScreen) refundableIn(o *model.Order) model.Money {
	if p := o.Payment(s.paymentID); p != nil && !s.orderPart && !s.caps().PartialRefundOnOrder {
		return o.RefundableOn(p)
	}
	return o.Refundable()
}

func (s *refundFormScreen) buildForm() *huh.Form {
	caps := s.caps()
	var fields []huh.Field
	if s.partial() {
		left := s.refundable()
		desc := "Still refundable: " + left.String()
		if caps.MinorUnits {
			if minor, err := left.Minor(); err == nil {
				desc += fmt.Sprintf(" (%d in minor units)", minor)
			}
		}
		d, e, check := s.besideField("amount", desc+s.complaint("amount"), func(v string) error {
			if _, fe := validateAmountInput(v, left); fe != nil {
				return fe
			}
			return nil
		})
		fields = append(fields, huh.NewInput().Title("Amount ("+left.Currency+")").
			Description(d()).DescriptionFunc(d, e).Value(&s.amount).CharLimit(32).Validate(check))
	}
	reasonDesc := "Required; stored with the refund as typed"
	if !caps.RefundReason {
		reasonDesc = "Required; " + s.prov().Name() + " stores no reason, so it is kept in paydesk's journal only"
	}
	if caps.ReasonMaxLen > 0 {
		reasonDesc += fmt.Sprintf(" (at most %d characters)", caps.ReasonMaxLen)
	}
	d, e, check := s.besideField("reason", reasonDesc+s.complaint("reason"), func(v string) error {
		if fe := model.ValidateReason(v, caps.ReasonMaxLen); fe != nil {
			return fe
		}
		return nil
	})
	fields = append(fields,
		huh.NewInput().Title("Reason").Description(d()).DescriptionFunc(d, e).Value(&s.reason).CharLimit(500).Validate(check))
	if caps.RefundMetadata {
		d, e, check := s.besideField("metadata", "key=value; key=value — no personal data"+s.complaint("metadata"), func(v string) error {
			_, err := parseMetadataLine(v)
			return err
		})
		fields = append(fields, huh.NewInput().Title("Metadata (optional)").Description(d()).DescriptionFunc(d, e).
			Placeholder("e.g. ticket=CS-1182").Value(&s.metaLine).CharLimit(2000).Validate(check))
	}
	if caps.RefundExternalID {
		d, e, check := s.besideField("external_order_id", "At most 64 characters"+s.complaint("external_order_id"), func(v string) error {
			if fe := model.ValidateExternalOrderID(v); fe != nil {
				return fe
			}
			return nil
		})
		fields = append(fields, huh.NewInput().Title("External order id (optional)").
			Description(d()).DescriptionFunc(d, e).Value(&s.extID).CharLimit(200).Validate(check))
	}
	// huh sizes a group's viewport before it knows the width; wrapped
	// descriptions would then push the last field out of sight. The body
	// height (less the form's own header lines) is the honest size.
	f := huh.NewForm(huh.NewGroup(fields...)).WithTheme(formTheme(s.c.Styles.R)).WithShowHelp(false).WithShowErrors(false).
		WithWidth(min(max(s.width-2, 40), 76)).WithHeight(max(s.height-formHeadLines-formFootLines, 8))
	return f
}

// Init refuses at once when nothing is left to refund, rather than asking
// the agent to fill in a form that can only fail.
func (s *refundFormScreen) Init() tea.Cmd {
	if !s.refundableNow().IsPositive() {
		what := "this order"
		if s.partial() && !s.orderPart {
			what = "this payment"
		}
		why := "nothing is left to refund on " + what
		if s.order.HasRefundInFlight() {
			why += " (refunds still processing hold the rest)"
		}
		return tea.Batch(s.pop(nil), Status("No refund: "+why+"."))
	}
	return s.form.Init()
}

func (s *refundFormScreen) refundableNow() model.Money {
	if s.partial() {
		return s.refundable()
	}
	return s.order.Refundable()
}

func (s *refundFormScreen) Title() string {
	if s.orderPart {
		return "Refund part of " + s.order.Ref
	}
	if s.partial() {
		return "Refund part of " + s.paymentID
	}
	return "Refund order"
}

func (s *refundFormScreen) Typing() bool { return true }
func (s *refundFormScreen) Suspend()     {}

// Resume rebuilds the form when the agent comes back from the confirmation:
// huh forms are single-use, but the values live in this screen.
func (s *refundFormScreen) Resume() tea.Cmd {
	s.resume()
	if s.form.State != huh.StateNormal {
		s.form = s.buildForm()
		return s.form.Init()
	}
	return nil
}

func (s *refundFormScreen) SetSize(w, h int) {
	s.base.SetSize(w, h)
	s.form = s.form.WithWidth(min(max(w-2, 40), 76)).WithHeight(max(h-formHeadLines-formFootLines, 8))
}

func (s *refundFormScreen) Help() []key.Binding { return actionHelp(s.actions()) }

// actions are the form's keys. huh moves between the fields (enter,
// shift+tab), so those two are listed for help and left to it.
func (s *refundFormScreen) actions() []action {
	k := s.c.Keys
	huhDoes := action{enabled: never, shown: always}
	next, prev := huhDoes, huhDoes
	next.key, prev.key = relabel(k.Enter, "next field"), k.Form.PrevField
	return []action{next, prev, {key: relabel(k.Back, "close without refunding"), run: do(s.back)}}
}

func (s *refundFormScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case PoppedMsg:
		switch r := msg.Result.(type) {
		case confirmed:
			return s, s.pop(r.done)
		case refused:
			s.refused = r.fields
			s.form = s.buildForm() // Resume built it before the refusal arrived
			return s, s.form.Init()
		}
		return s, nil
	case tea.KeyMsg:
		if cmd, ok := runAction(s.actions(), msg); ok {
			return s, cmd
		}
	}
	m, cmd := s.form.Update(msg)
	s.form = m.(*huh.Form)
	if s.form.State == huh.StateCompleted {
		s.refused = nil
		return s, tea.Batch(cmd, s.review())
	}
	return s, cmd
}

// complaint is the provider's refusal of a field, for its description.
func (s *refundFormScreen) complaint(field string) string {
	for _, f := range s.refused {
		if fieldIs(f.Field, field) {
			return "\n✗ " + s.prov().Name() + ": " + safetext.Line(f.Message)
		}
	}
	return ""
}

// review builds the confirmation for what the form holds.
func (s *refundFormScreen) review() tea.Cmd {
	md, _ := parseMetadataLine(s.metaLine) // validated by the form
	reason := strings.TrimSpace(s.reason)
	ext := strings.TrimSpace(s.extID)
	// The confirmation shows agent-typed text verbatim, never masked for
	// display: the form refuses personal data and anything the screen would
	// draw differently (model.ValidateReason), so what is shown is exactly
	// what is sent. Checked again here so no path can skip the form's rule.
	if fe := model.ValidateReason(reason, s.caps().ReasonMaxLen); fe != nil {
		return StatusErr(fe)
	}
	if fe := model.ValidateExternalOrderID(ext); fe != nil {
		return StatusErr(fe)
	}
	if s.partial() {
		amt, fe := validateAmountInput(s.amount, s.refundable())
		if fe != nil {
			return StatusErr(fe)
		}
		return s.push(s.partialConfirm(amt, reason, md, ext))
	}
	return s.push(s.wholeConfirm(reason, md, ext))
}

func (s *refundFormScreen) wholeConfirm(reason string, md model.Metadata, ext string) Screen {
	p := s.prov()
	order := s.order
	total := order.Refundable()
	var key string
	mint := func() {
		key = s.keys.For(canonicalRequest("refund_order", order.ID, total.Fixed(), total.Currency, reason, metadataCanon(md), ext))
	}
	mint()
	cs := s.confirmation("Confirm refund of order "+safetext.Line(order.Ref), s.planLines(order, reason, md, ext), mint,
		func(fresh *model.Order) ([]string, bool) {
			if c, err := fresh.Refundable().Cmp(total); err != nil || c != 0 {
				order, total = fresh, fresh.Refundable()
				mint()
				return s.planLines(fresh, reason, md, ext), true
			}
			return nil, false
		})
	cs.send = func(ctx context.Context) (ActionDone, error) {
		res, err := p.RefundOrder(ctx, order.ID, api.RefundOrderRequest{
			IdempotencyKey: key, Reason: reason, Metadata: md, ExternalOrderID: ext, Expected: total,
		})
		if err != nil {
			return ActionDone{}, err
		}
		them := "them"
		if len(res.Refunds) == 1 {
			them = "it"
		}
		return ActionDone{Order: res.Order, Refunds: res.Refunds,
			Message: fmt.Sprintf("Refund of %s requested on order %s: %s created; watching %s settle.",
				total, safetext.Line(order.Ref), plural(len(res.Refunds), "refund", "refunds"), them)}, nil
	}
	return cs
}

// confirmation is the typed confirmation of one of this form's refunds
// (the word is the order's ref). A refusal of a field returns to the form;
// a send that failed for sure mints a new key (mint), as a new attempt.
// Before sending it re-reads the order and asks changed whether what the
// agent confirmed still holds (new lines, true when it does not). recheck
// runs in a command: it touches only this flow's own variables, which
// nothing else reads until the confirmation is sent.
func (s *refundFormScreen) confirmation(title string, lines []string, mint func(), changed func(fresh *model.Order) ([]string, bool)) *confirmScreen {
	p, id := s.prov(), s.order.ID
	cs := newConfirmScreen(s.c, title, lines, confirmWord(s.order.Ref))
	cs.fromForm = true
	cs.renew = func() { s.keys = newActionKeys(s.c); mint() }
	cs.recheck = func(ctx context.Context) ([]string, bool, error) {
		fresh, err := p.GetOrder(ctx, id)
		if err != nil {
			return nil, false, err
		}
		l, ch := changed(fresh)
		return l, ch, nil
	}
	return cs
}

// planLines lists each payment and exactly what will come back from it.
func (s *refundFormScreen) planLines(o *model.Order, reason string, md model.Metadata, ext string) []string {
	st := s.c.Styles
	lines := []string{
		st.Label.Render("Provider  ") + s.prov().Name(),
		st.Label.Render("Order     ") + safetext.Line(o.Ref),
		st.Label.Render("Reason    ") + safetext.Line(reason),
	}
	if len(md) > 0 {
		lines = append(lines, st.Label.Render("Metadata  ")+metadataText(md))
	}
	if ext != "" { // sent with the refund, so shown before it is confirmed
		lines = append(lines, st.Label.Render("Ext. id   ")+safetext.Line(ext))
	}
	lines = append(lines, "",
		st.TableHeader.Render(fmt.Sprintf("%-14s %-14s %14s %14s", "Payment", "Method", "Paid", "Refund now")))
	for _, pr := range o.RefundPlan() {
		// The id keeps its tail (the end tells long ids apart); cells are
		// padded by display width ("•" is one cell, three bytes).
		id := fitID(pr.Payment.ID, 14)
		method := safetext.Truncate(safetext.Line(pr.Payment.Method), 14)
		lines = append(lines, fmt.Sprintf("%s %s %14s %14s",
			padRight(id, ansi.StringWidth(id), 14), padRight(method, ansi.StringWidth(method), 14),
			pr.Payment.Amount.Fixed(), pr.Amount.Fixed()))
	}
	total := o.Refundable()
	lines = append(lines, st.Bold.Render(fmt.Sprintf("%-29s %14s %14s %s", "Total", "", total.Fixed(), total.Currency)))
	if o.HasRefundInFlight() {
		lines = append(lines, "", st.StatusWarn.Render("Some refunds on this order are still processing; the provider may refuse until they settle."))
	}
	if !total.IsPositive() {
		lines = append(lines, "", st.StatusWarn.Render("Nothing is left to refund on this order."))
	}
	return lines
}

func (s *refundFormScreen) partialConfirm(amt model.Money, reason string, md model.Metadata, ext string) Screen {
	p := s.prov()
	order := s.order
	pay := order.Payment(s.paymentID)
	st := s.c.Styles
	var key string
	mint := func() {
		key = s.keys.For(canonicalRequest("refund_payment", order.ID, s.paymentID, amt.Fixed(), amt.Currency, reason, metadataCanon(md), ext))
	}
	mint()
	left := s.refundable()
	after, _ := left.Sub(amt)
	amountLine := st.Bold.Render(amt.String())
	if s.caps().MinorUnits {
		if minor, err := amt.Minor(); err == nil {
			amountLine += st.Faint.Render(fmt.Sprintf("  (sent as %d minor units)", minor))
		}
	}
	method := ""
	if pay != nil {
		method = " (" + safetext.Line(pay.Method) + ")"
	}
	from := st.Label.Render("Payment     ") + safetext.Line(s.paymentID) + method
	if s.orderPart {
		from = st.Label.Render("Taken from  ") + "the order: " + p.Name() + " spreads it over the captured charges"
	}
	lines := []string{
		st.Label.Render("Provider    ") + p.Name(),
		st.Label.Render("Order       ") + safetext.Line(order.Ref),
		from,
		st.Label.Render("Refund      ") + amountLine,
		st.Label.Render("Refundable  ") + left.String() + st.Faint.Render(" → "+after.String()+" after this refund"),
		st.Label.Render("Reason      ") + safetext.Line(reason),
	}
	if len(md) > 0 {
		lines = append(lines, st.Label.Render("Metadata    ")+metadataText(md))
	}
	if ext != "" {
		lines = append(lines, st.Label.Render("External id ")+safetext.Line(ext))
	}
	cs := s.confirmation("Confirm partial refund", lines, mint, func(fresh *model.Order) ([]string, bool) {
		now := s.refundableIn(fresh)
		if c, err := amt.Cmp(now); err != nil || c > 0 {
			return append(lines, "", st.StatusErr.Render("Only "+now.String()+" is refundable now: go back (esc) and change the amount.")), true
		}
		return nil, false
	})
	cs.send = func(ctx context.Context) (ActionDone, error) {
		res, err := p.RefundPayment(ctx, order.ID, s.paymentID, api.RefundPaymentRequest{
			IdempotencyKey: key, Amount: amt, Reason: reason, Metadata: md, ExternalOrderID: ext,
		})
		if err != nil {
			return ActionDone{}, err
		}
		from := "payment " + safetext.Line(s.paymentID)
		if s.orderPart {
			from = "order " + safetext.Line(order.Ref)
		}
		return ActionDone{Order: res.Order, Refunds: res.Refunds,
			Message: fmt.Sprintf("Refund of %s requested from %s; watching it settle.", amt, from)}, nil
	}
	return cs
}

func (s *refundFormScreen) View() string {
	st := s.c.Styles
	var head []string
	if s.orderPart {
		head = append(head, st.Title.Render("Refund part of order "+safetext.Line(s.order.Ref)),
			st.Faint.Render(wrapText(s.prov().Name()+" refunds orders, not charges: the amount comes off the order ("+s.order.Refundable().String()+" refundable)", s.width)))
	} else if s.partial() {
		head = append(head, st.Title.Render("Refund part of payment "+safetext.Line(s.paymentID)))
		if p := s.order.Payment(s.paymentID); p != nil {
			head = append(head, st.Faint.Render(fmt.Sprintf("Order %s · %s · paid %s", safetext.Line(s.order.Ref), safetext.Line(p.Method), p.Amount)))
		}
	} else {
		total := s.order.Refundable()
		head = append(head, st.Title.Render("Refund the entire order "+safetext.Line(s.order.Ref)),
			st.Faint.Render(plural(len(s.order.RefundPlan()), "payment", "payments")+" · "+total.String()+" will be refunded, net of refunds already made"))
	}
	return strings.Join(head, "\n") + "\n\n" + s.form.View()
}
