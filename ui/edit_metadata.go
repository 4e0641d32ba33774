package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"paydesk/api"
	"paydesk/model"
	"paydesk/model/safetext"
)

// editMetadataScreen is the key/value editor for a payment's (or a refund's)
// metadata, plus the payment fields the provider lets change in its current
// status; the others are shown switched off with the reason. enter validates
// (PII guard included) and shows the changes; enter again saves. Errors keep
// every value typed.
type editMetadataScreen struct {
	base
	provider  int
	order     *model.Order
	paymentID string
	refundID  string
	original  model.Metadata
	keys      actionKeys

	rows []kvRow
	// locked are paydesk's own markers (intentKey): shown, never edited,
	// sent back as they were.
	locked model.Metadata
	extras []extraField
	focus  int // index into inputs(): row keys and values, then extras
	review bool
	// shown is what the review lists: read once when the agent asked for
	// the review, not re-validated on every frame.
	shownMD     model.Metadata
	shownUpdate api.PaymentUpdate
	saving      bool
	errs        model.ValidationError
	err         error
	// refusal, when set, is why this set cannot be edited here: Init
	// closes the editor at once with it (no rows are ever built for it).
	refusal string
}

// kvRow is one metadata row. The inputs hold terminal-safe text; origKey and
// origVal keep the provider's exact bytes, which are sent back for a row the
// agent did not touch (so saving one key never rewrites another).
type kvRow struct {
	k, v               textinput.Model
	origKey, origVal   string
	shownKey, shownVal string // what the inputs held when loaded
	loaded             bool
}

// key and value return what the row means: the original bytes while the
// input still holds what it was loaded with, else what was typed.
func (r kvRow) key() string {
	if r.loaded && r.k.Value() == r.shownKey {
		return r.origKey
	}
	return strings.TrimSpace(r.k.Value())
}

func (r kvRow) value() string {
	if r.loaded && r.v.Value() == r.shownVal {
		return r.origVal
	}
	return r.v.Value()
}

type extraField struct {
	api.EditableField
	input    textinput.Model
	original string
	shown    string // what the input held when loaded
}

type savedMsg struct {
	done ActionDone
	err  error
}

func newEditPaymentScreen(c *Context, provider int, order *model.Order, paymentID string) Screen {
	s := newEditor(c, provider, order, paymentID, "")
	p := order.Payment(paymentID)
	if p == nil || !s.open(p.Metadata, p.MetadataTotal) {
		return s
	}
	caps := c.Providers[provider].Capabilities()
	if caps.EditableFields != nil {
		for _, f := range caps.EditableFields(p) {
			cur := ""
			switch f.Name {
			case "external_order_id":
				cur = p.ExternalOrderID
			case "payment_method":
				cur = p.PaymentMethod
			}
			in := newInput(c.Styles.R, f.Label, safetext.Line(cur), 200)
			s.extras = append(s.extras, extraField{EditableField: f, input: in, original: cur, shown: in.Value()})
		}
	}
	s.loadRows()
	return s
}

func newEditRefundScreen(c *Context, provider int, order *model.Order, refundID string) Screen {
	s := newEditor(c, provider, order, "", refundID)
	if r := order.Refund(refundID); r != nil && s.open(r.Metadata, r.MetadataTotal) {
		s.loadRows()
	}
	return s
}

// newEditor is the editor of a payment's (or, with refundID, a refund's)
// metadata; it says so when the order no longer has it.
func newEditor(c *Context, provider int, order *model.Order, paymentID, refundID string) *editMetadataScreen {
	s := &editMetadataScreen{base: newBase(c), provider: provider, order: order, paymentID: paymentID, refundID: refundID, keys: newActionKeys(c)}
	if _, ok := currentMetadata(order, paymentID, refundID); !ok {
		what, id := "payment", paymentID
		if refundID != "" {
			what, id = "refund", refundID
		}
		s.err = fmt.Errorf("%s %s is not on order %s", what, id, order.Ref)
	}
	return s
}

// open takes the set to edit, unless refuse turns it down.
func (s *editMetadataScreen) open(md model.Metadata, total int) bool {
	if s.refuse(md, total) {
		return false
	}
	s.original = md.Clone()
	return true
}

// intentKey is the metadata key paydesk writes on a refund it creates
// where the provider has no idempotency key (Digital River): deleting it
// in the editor would be undone by the next read, and a retry could then
// miss the refund it marks. It is shown read-only.
const intentKey = "paydesk_intent"

// refuse decides whether the editor can take this set. Saving writes the
// whole set back, so a set cut at decode (total > kept) cannot be edited
// without deleting what was cut; and each key costs a row of two inputs,
// so a set larger than model.MaxEditableMetadataKeys is not opened (one of
// a million keys once got the console killed for want of memory).
func (s *editMetadataScreen) refuse(md model.Metadata, total int) bool {
	switch {
	case total > len(md):
		// Short: the status line is one line, and the last words say what to do.
		s.refusal = fmt.Sprintf("Not editable: %d of %d metadata keys read; edit it at the provider.", len(md), total)
	case len(md) > model.MaxEditableMetadataKeys:
		s.refusal = fmt.Sprintf("Not editable: %d metadata keys (editor max %d); edit it at the provider.", len(md), model.MaxEditableMetadataKeys)
	default:
		return false
	}
	return true
}

func newInput(r *lipgloss.Renderer, placeholder, value string, limit int) textinput.Model {
	in := newTextInput(r)
	in.Prompt = ""
	in.Placeholder = placeholder
	in.CharLimit = limit
	in.SetValue(value)
	return in
}

func (s *editMetadataScreen) loadRows() {
	for _, k := range s.original.Keys() {
		v := s.original[k]
		if k == intentKey {
			if s.locked == nil {
				s.locked = model.Metadata{}
			}
			s.locked[k] = v
			continue
		}
		r := kvRow{
			k: newInput(s.c.Styles.R, "", safetext.Line(k), model.MaxMetadataKeyLen*2), v: newInput(s.c.Styles.R, "", safetext.Line(v), model.MaxMetadataValueLen*2),
			origKey: k, origVal: v, loaded: true,
		}
		r.shownKey, r.shownVal = r.k.Value(), r.v.Value()
		s.rows = append(s.rows, r)
	}
	if len(s.rows) == 0 {
		s.addRow()
	}
	s.setFocus(0)
}

func (s *editMetadataScreen) addRow() {
	// No placeholder: a faint "key" reads like a key called "key".
	s.rows = append(s.rows, kvRow{k: newInput(s.c.Styles.R, "", "", model.MaxMetadataKeyLen*2), v: newInput(s.c.Styles.R, "", "", model.MaxMetadataValueLen*2)})
}

// inputs lists the focusable inputs in order; disabled extras are skipped.
func (s *editMetadataScreen) inputs() []*textinput.Model {
	var out []*textinput.Model
	for i := range s.rows {
		out = append(out, &s.rows[i].k, &s.rows[i].v)
	}
	for i := range s.extras {
		if s.extras[i].Enabled {
			out = append(out, &s.extras[i].input)
		}
	}
	return out
}

func (s *editMetadataScreen) setFocus(i int) tea.Cmd {
	ins := s.inputs()
	if len(ins) == 0 {
		return nil
	}
	s.focus = (i + len(ins)) % len(ins)
	for j, in := range ins {
		if j != s.focus {
			in.Blur()
			in.Prompt = "  "
		}
	}
	// A glyph marks the cell being edited: under NO_COLOR the cursor's
	// reverse video is gone, and with it any sign of where typing goes.
	ins[s.focus].Prompt = "› "
	return ins[s.focus].Focus()
}

func (s *editMetadataScreen) Init() tea.Cmd {
	if s.refusal != "" {
		return tea.Batch(s.pop(nil), StatusErr(errors.New(s.refusal)))
	}
	return textinput.Blink
}

func (s *editMetadataScreen) Title() string {
	if s.refundID != "" {
		return "Edit refund " + s.refundID
	}
	return "Edit payment " + s.paymentID
}

// Typing is true throughout: in review esc goes back to editing, not out.
func (s *editMetadataScreen) Typing() bool { return true }
func (s *editMetadataScreen) Busy() bool   { return s.saving }
func (s *editMetadataScreen) Suspend()     {}
func (s *editMetadataScreen) Resume() tea.Cmd {
	s.resume()
	return nil
}

// Help lists the editor's keys; review has its own two.
func (s *editMetadataScreen) Help() []key.Binding { return actionHelp(s.actions()) }

// actions are the editor's keys, in the order help lists them. Keys none
// of them takes are typed into the focused cell.
func (s *editMetadataScreen) actions() []action {
	k := s.c.Keys
	if s.review {
		return []action{
			{key: relabel(k.Enter, "save"), run: do(s.save)},
			{key: relabel(k.Back, "keep editing"), run: do(func() tea.Cmd { s.review = false; return nil })},
		}
	}
	f := k.Form
	return []action{
		{key: f.NextCell, run: do(func() tea.Cmd { return s.setFocus(s.focus + 1) })},
		{key: f.RowDown, run: do(s.rowDown)},
		{key: f.AddRow, run: do(func() tea.Cmd {
			s.addRow()
			return s.setFocus(2 * (len(s.rows) - 1))
		})},
		{key: f.DeleteRow, run: do(s.deleteRow)},
		{key: relabel(k.Enter, "review changes"), run: do(s.toReview)},
		{key: relabel(k.Back, "close without saving"), run: do(s.back)},
		{key: f.PrevField, shown: never, run: do(func() tea.Cmd { return s.setFocus(s.focus - 1) })},
		{key: f.RowUp, shown: never, run: do(s.rowUp)},
	}
}

// values reads the editor: the new metadata set, the changed extras, and
// every field error found (duplicates, blanks, limits, PII).
func (s *editMetadataScreen) values() (model.Metadata, api.PaymentUpdate, model.ValidationError) {
	md := model.Metadata{}
	for k, v := range s.locked {
		md[k] = v
	}
	var errs model.ValidationError
	for i, r := range s.rows {
		k := r.key()
		v := r.value()
		if k == "" {
			if v != "" {
				errs = append(errs, model.FieldError{Field: fmt.Sprintf("row %d key", i+1), Rule: "is blank but the row has a value"})
			}
			continue
		}
		if _, dup := md[k]; dup {
			rule := "key appears twice"
			if _, mine := s.locked[k]; mine {
				rule = "is paydesk's own marker (read-only): choose another key"
			}
			errs = append(errs, model.FieldError{Field: "metadata." + k, Rule: rule})
			continue
		}
		md[k] = v
	}
	// Only what the agent wrote is validated: a value the provider already
	// holds (odd characters and all) goes back as it was, untouched.
	written := model.Metadata{}
	for _, ch := range s.original.Diff(md) {
		if ch.Kind != model.Removed {
			written[ch.Key] = ch.New
		}
	}
	errs = append(errs, model.ValidateMetadata(written)...)
	if len(md) > model.MaxMetadataKeys {
		errs = append(errs, model.FieldError{Field: "metadata", Rule: fmt.Sprintf("at most %d keys (has %d)", model.MaxMetadataKeys, len(md))})
	}
	var u api.PaymentUpdate
	for i := range s.extras {
		x := &s.extras[i]
		if !x.Enabled || x.input.Value() == x.shown {
			continue
		}
		v := strings.TrimSpace(x.input.Value())
		switch x.Name {
		case "external_order_id":
			if fe := model.ValidateExternalOrderID(v); fe != nil {
				errs = append(errs, *fe)
			}
			u.ExternalOrderID = &v
		case "payment_method":
			if v == "" {
				errs = append(errs, model.FieldError{Field: "payment method", Rule: "is required to retry the payment"})
			}
			u.PaymentMethod = &v
		}
	}
	return md, u, errs
}

func (s *editMetadataScreen) Update(msg tea.Msg) (Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case savedMsg:
		s.saving = false
		if msg.err != nil {
			s.err = msg.err
			s.review = false // back to the editor, values intact
			if !api.IsOutcomeUnknown(msg.err) {
				s.keys = newActionKeys(s.c) // saving again is a new attempt
			}
			return s, StatusErr(msg.err)
		}
		return s, s.pop(msg.done)
	case tea.KeyMsg:
		return s, s.key(msg)
	}
	return s, nil
}

func (s *editMetadataScreen) key(msg tea.KeyMsg) tea.Cmd {
	if s.saving {
		return nil
	}
	cmd := s.editKey(msg)
	// Errors on screen follow the rows: fixed or deleted, they go.
	if len(s.errs) > 0 && !s.review {
		_, _, s.errs = s.values()
	}
	return cmd
}

func (s *editMetadataScreen) editKey(msg tea.KeyMsg) tea.Cmd {
	if cmd, ok := runAction(s.actions(), msg); ok || s.review {
		return cmd // review takes no typing
	}
	ins := s.inputs()
	if len(ins) == 0 {
		return nil
	}
	var cmd tea.Cmd
	*ins[s.focus], cmd = ins[s.focus].Update(msg)
	return cmd
}

// toReview is enter: the changes are checked and, when all are good,
// shown for a last look before they are saved.
func (s *editMetadataScreen) toReview() tea.Cmd {
	if s.err != nil && len(s.inputs()) == 0 {
		return nil
	}
	md, u, errs := s.values()
	s.errs = errs
	if len(errs) == 0 {
		s.err = nil
		s.review = true
		s.shownMD, s.shownUpdate = md, u
	}
	return nil
}

// rowDown is the cell below: same column in the next row, then the fields
// under the table; it stops at the last.
func (s *editMetadataScreen) rowDown() tea.Cmd {
	n, last := 2*len(s.rows), len(s.inputs())-1
	switch {
	case s.focus+2 < n:
		return s.setFocus(s.focus + 2)
	case s.focus < n && n <= last:
		return s.setFocus(n)
	case s.focus >= n && s.focus < last:
		return s.setFocus(s.focus + 1)
	}
	return nil
}

func (s *editMetadataScreen) rowUp() tea.Cmd {
	n := 2 * len(s.rows)
	switch {
	case s.focus >= 2 && s.focus < n:
		return s.setFocus(s.focus - 2)
	case s.focus == n:
		return s.setFocus(n - 2)
	case s.focus > n:
		return s.setFocus(s.focus - 1)
	}
	return nil
}

func (s *editMetadataScreen) deleteRow() tea.Cmd {
	if row := s.focus / 2; s.focus < 2*len(s.rows) {
		s.rows = append(s.rows[:row], s.rows[row+1:]...)
		if len(s.rows) == 0 {
			s.addRow()
		}
		return s.setFocus(min(s.focus, 2*len(s.rows)-1))
	}
	return nil
}

func (s *editMetadataScreen) save() tea.Cmd {
	md, u, errs := s.values()
	if len(errs) > 0 {
		s.errs, s.review = errs, false
		return nil
	}
	s.saving = true
	p := s.c.Providers[s.provider]
	orderID, paymentID, refundID := s.order.ID, s.paymentID, s.refundID
	ext, method := "", ""
	if u.ExternalOrderID != nil {
		ext = *u.ExternalOrderID
	}
	if u.PaymentMethod != nil {
		method = *u.PaymentMethod
	}
	diff := s.original.Diff(md)
	changes := len(diff)
	keys := s.keys
	return Routed(s.id, Call(context.Background(), moneyTimeout, func(ctx context.Context) (ActionDone, error) {
		// The update sends the whole metadata set. Apply only the reviewed
		// changes to what the provider holds now, so a key someone else
		// wrote since the editor opened is kept, not silently deleted.
		fresh, err := p.GetOrder(ctx, orderID)
		if err != nil {
			return ActionDone{}, err
		}
		md := md
		if cur, ok := currentMetadata(fresh, paymentID, refundID); ok {
			md = applyChanges(cur, diff)
		}
		key := keys.For(canonicalRequest("update", orderID, paymentID, refundID, metadataCanon(md), ext, method))
		if refundID != "" {
			r, err := p.UpdateRefund(ctx, orderID, refundID, api.RefundUpdate{Metadata: md, IdempotencyKey: key})
			if err != nil {
				return ActionDone{}, err
			}
			return ActionDone{Refund: r, Message: fmt.Sprintf("Saved %s on refund %s.", plural(changes, "metadata change", "metadata changes"), safetext.Line(refundID))}, nil
		}
		u.Metadata, u.IdempotencyKey = md, key
		pay, err := p.UpdatePayment(ctx, orderID, paymentID, u)
		if err != nil {
			return ActionDone{}, err
		}
		return ActionDone{Payment: pay, Message: fmt.Sprintf("Saved %s on payment %s.", plural(changes, "metadata change", "metadata changes"), safetext.Line(paymentID))}, nil
	}, func(d ActionDone, err error) tea.Msg { return savedMsg{done: d, err: err} }))
}

// currentMetadata is the metadata the provider holds now on the payment or
// refund being edited.
func currentMetadata(o *model.Order, paymentID, refundID string) (model.Metadata, bool) {
	if refundID != "" {
		if r := o.Refund(refundID); r != nil {
			return r.Metadata, true
		}
		return nil, false
	}
	if p := o.Payment(paymentID); p != nil {
		return p.Metadata, true
	}
	return nil, false
}

// applyChanges applies the reviewed changes to base.
func applyChanges(base model.Metadata, diff []model.MetadataChange) model.Metadata {
	out := base.Clone()
	for _, ch := range diff {
		if ch.Kind == model.Removed {
			delete(out, ch.Key)
		} else {
			out[ch.Key] = ch.New
		}
	}
	return out
}

func (s *editMetadataScreen) View() string {
	st := s.c.Styles
	var b strings.Builder
	b.WriteString(st.Title.Render(safetext.Line(s.Title())) + st.Faint.Render("  order "+safetext.Line(s.order.Ref)) + "\n\n")
	if s.review {
		return b.String() + s.reviewView()
	}
	kw := min(24, max(12, (s.width-8)/3))
	vw := max(s.width-kw-8, 16)
	// Marker (2) and each input's prompt (2) come before the text.
	b.WriteString(st.TableHeader.Render(fmt.Sprintf("    %-*s    %s", kw-2, "Key", "Value")) + "\n")
	for _, k := range s.locked.Keys() {
		line := fmt.Sprintf("    %-*s    %s", kw-2, safetext.Line(k), safetext.Line(s.locked[k]))
		b.WriteString(st.Faint.Render(safetext.Truncate(line+"  (set by paydesk, read-only)", s.width)) + "\n")
	}
	ins := s.inputs()
	for i := range s.rows {
		marker := "  "
		if s.focus/2 == i && s.focus < 2*len(s.rows) {
			marker = "▸ "
		}
		s.rows[i].k.Width, s.rows[i].v.Width = kw-3, vw-3 // the prompt ("› ") takes 2
		kv := s.rows[i].k.View()
		b.WriteString(marker + padRight(kv, lipgloss.Width(kv), kw) + "  " + s.rows[i].v.View() + "\n")
	}
	b.WriteString(st.Faint.Render("  ctrl+n adds a row · ctrl+d deletes the selected row") + "\n")
	if len(s.extras) > 0 {
		b.WriteString("\n")
	}
	n := 2 * len(s.rows)
	for i := range s.extras {
		x := &s.extras[i]
		label := fmt.Sprintf("  %-*s  ", kw, x.Label)
		if !x.Enabled {
			b.WriteString(st.Faint.Render(safetext.Truncate(label+"⊘ "+safetext.Line(x.original)+"  ("+x.Why+")", s.width)) + "\n")
			continue
		}
		marker := label
		if n < len(ins) && ins[n] == &x.input && s.focus == n {
			marker = "▸" + label[1:]
		}
		x.input.Width = vw - 3
		b.WriteString(marker + x.input.View() + "\n")
		n++
	}
	if s.err != nil {
		b.WriteString(st.StatusErr.Render("✗ "+DescribeError(s.err)) + "\n")
	}
	// Errors, wrapped, not cut: the rule's end says why (no personal
	// data). What does not fit below the fields is counted, never cut
	// mid-sentence; fixing the ones shown brings the next up.
	room := s.height - strings.Count(b.String(), "\n")
	for i, e := range s.errs {
		msg := st.FieldErr.Render(wrapText("✗ "+safetext.Line(e.Field)+": "+safetext.Line(e.Rule), s.width))
		n := strings.Count(msg, "\n") + 1
		left := len(s.errs) - i
		if left > 1 && n+1 > room || n > room {
			b.WriteString(st.FieldErr.Render(fmt.Sprintf("✗ … and %d more (fix the ones above)", left)) + "\n")
			break
		}
		b.WriteString(msg + "\n")
		room -= n
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (s *editMetadataScreen) reviewView() string {
	st := s.c.Styles
	md, u := s.shownMD, s.shownUpdate
	var b strings.Builder
	b.WriteString(st.Bold.Render("Changes to save") + "\n\n")
	changes := s.original.Diff(md)
	for _, ch := range changes {
		k := safetext.Truncate(safetext.Line(ch.Key), 24)
		switch ch.Kind {
		case model.Added:
			b.WriteString(st.Good.Render("+ "+k) + " = " + safetext.Truncate(safetext.Line(ch.New), s.width-32) + "\n")
		case model.Removed:
			b.WriteString(st.Bad.Render("- "+k) + st.Faint.Render(" (was "+safetext.Truncate(safetext.Line(ch.Old), s.width-40)+")") + "\n")
		case model.Changed:
			b.WriteString(st.Pending.Render("~ "+k) + " " + safetext.Truncate(safetext.Line(ch.Old), 24) + " → " + safetext.Truncate(safetext.Line(ch.New), s.width-60) + "\n")
		}
	}
	if u.ExternalOrderID != nil {
		b.WriteString(st.Pending.Render("~ external order id") + " → " + safetext.Line(*u.ExternalOrderID) + "\n")
	}
	if u.PaymentMethod != nil {
		b.WriteString(st.Pending.Render("~ payment method") + " → " + safetext.Line(*u.PaymentMethod) + "\n")
	}
	if len(changes) == 0 && u.ExternalOrderID == nil && u.PaymentMethod == nil {
		b.WriteString(st.Faint.Render("No changes. enter saves anyway (harmless); esc goes back.") + "\n")
	}
	if s.saving {
		b.WriteString("\n" + st.StatusWarn.Render("Saving…"))
	} else {
		b.WriteString("\n" + st.Bold.Render("enter") + " saves · " + st.Bold.Render("esc") + " keeps editing")
	}
	return b.String()
}
