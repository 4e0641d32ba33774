package ui

import (
	"maps"
	"slices"
	"strings"

	"paydesk/api"
	"paydesk/model"
)

// ActionDone is what a finished action flow (edit, refund, cancel) pops back
// with: the order afterwards when known, the refunds it created (shown at once
// and then polled), and a line for the status bar.
type ActionDone struct {
	Order   *model.Order
	Refunds []model.Refund
	Payment *model.Payment
	Refund  *model.Refund
	Message string
}

// refused is what a confirmation pops back to its form with when the
// provider refused named fields; the form shows each beside its field.
type refused struct{ fields []api.FieldError }

// formFields are the refund form's fields, by the names providers use.
var formFields = []string{"amount", "reason", "metadata", "external_order_id"}

// namesFormField reports whether a provider refused one of the form's own
// fields (a refusal of the order as a whole stays on the confirmation).
func namesFormField(fs []api.FieldError) bool {
	for _, f := range fs {
		for _, name := range formFields {
			if fieldIs(f.Field, name) {
				return true
			}
		}
	}
	return false
}

// fieldIs reports whether a provider's field name ("metadata.ticket") is
// about the form field name ("metadata").
func fieldIs(providerField, name string) bool {
	return providerField == name || strings.HasPrefix(providerField, name+".")
}

// confirmed is what a confirmation pops back to its form with on success.
type confirmed struct{ done ActionDone }

// mergeRefunds puts fresh refunds into an order at once (replacing by id,
// appending new ones), so a refund just created shows before the reload.
func mergeRefunds(o *model.Order, rs []model.Refund) {
	for _, r := range rs {
		if i := slices.IndexFunc(o.Refunds, func(x model.Refund) bool { return x.ID == r.ID }); i >= 0 {
			o.Refunds[i] = r
		} else {
			o.Refunds = append(o.Refunds, r)
		}
	}
}

// mergeDone applies what an action flow popped back with to a copy of the
// order: the order itself when the provider returned it, then the payment,
// refund and refunds it created.
func mergeDone(o *model.Order, d ActionDone) *model.Order {
	var n model.Order
	switch {
	case d.Order != nil:
		n = *d.Order
	case o != nil:
		n = *o
	default:
		return nil
	}
	n.Payments = slices.Clone(n.Payments)
	n.Refunds = slices.Clone(n.Refunds)
	if d.Payment != nil {
		if i := slices.IndexFunc(n.Payments, func(p model.Payment) bool { return p.ID == d.Payment.ID }); i >= 0 {
			n.Payments[i] = *d.Payment
		}
	}
	if d.Refund != nil {
		mergeRefunds(&n, []model.Refund{*d.Refund})
	}
	mergeRefunds(&n, d.Refunds)
	return &n
}

// remember adds the refunds an action created to the pending set.
func remember(pending map[string]model.Refund, d ActionDone) map[string]model.Refund {
	add := d.Refunds
	if d.Refund != nil {
		add = append(slices.Clone(add), *d.Refund)
	}
	for _, r := range add {
		if pending == nil {
			pending = map[string]model.Refund{}
		}
		pending[r.ID] = r
	}
	return pending
}

// watch adds the refunds an action created (ActionDone.Refunds; an edited
// refund comes back as ActionDone.Refund and is not watched) to the set
// whose outcome the status line will report.
func watch(ids map[string]bool, d ActionDone) map[string]bool {
	for _, r := range d.Refunds {
		if ids == nil {
			ids = map[string]bool{}
		}
		ids[r.ID] = true
	}
	return ids
}

// withPending adds to a fresh reading the pending refunds it does not show
// yet, and forgets the ones it does.
func withPending(o *model.Order, pending map[string]model.Refund) *model.Order {
	for _, id := range slices.Sorted(maps.Keys(pending)) {
		if o.Refund(id) != nil {
			delete(pending, id)
			continue
		}
		o.Refunds = append(o.Refunds, pending[id])
	}
	return o
}
