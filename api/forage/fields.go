package forage

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"paydesk/api"
	"paydesk/model"
)

// Documented field order of each object, so the detail screens list every
// wire field the way Forage's reference pages do. Fields the docs do not list
// (receipt on an OrderPayment, anything a newer API version adds) follow in
// the order they arrived.
var (
	// orderFieldOrder follows the Order example (forage-api.md 2.4).
	orderFieldOrder = []string{
		"ref", "snap_total", "ebt_cash_total", "remaining_total", "product_list", "status",
		"delivery_address", "is_delivery", "success_redirect_url", "cancel_redirect_url",
		"supported_benefits", "success_date", "receipt", "customer_id", "is_commercial_shipping",
		"expires_at", "psp_customer_id", "external_order_id", "payments", "refunds", "previous_errors",
	}
	// paymentFieldOrder follows seed 004's OrderPayment object and its
	// properties table (optional settlement and location fields last).
	paymentFieldOrder = []string{
		"ref", "funding_type", "amount", "description", "metadata", "payment_method", "created",
		"updated", "status", "last_processing_error", "success_date", "tpp_lookup_id", "customer_id",
		"external_order_id", "refunds", "order", "merchant_fixed_settlement",
		"platform_fixed_settlement", "external_location_id", "receipt",
	}
	// refundFieldOrder follows the OrderRefund example (forage-api.md 4.3).
	refundFieldOrder = []string{
		"ref", "order", "payment", "merchant", "funding_type", "amount", "merchant_fixed_settlement",
		"platform_fixed_settlement", "reason", "metadata", "created", "updated", "status",
		"last_processing_error", "receipt", "tpp_lookup_id", "refund_errors", "external_order_id",
	}
)

// Bounds on what a hostile or broken server can make the screen list.
const (
	maxFields     = 400
	maxFieldDepth = 6
)

type member struct {
	key string
	val json.RawMessage
}

// members reads a JSON object's members in wire order, at most maxFields of
// them (no more can be shown: a million-member metadata object must not be
// decoded here either), as slices of raw. A later duplicate key replaces an
// earlier one, as encoding/json does.
func members(raw []byte) []member {
	ms, _, _ := api.Members(raw, maxFields)
	out := make([]member, len(ms))
	for i, m := range ms {
		out[i] = member{m.Key, m.Value}
	}
	return out
}

// wireFields flattens an object into display fields: documented keys first in
// documented order, then the rest in wire order. Nested objects become
// dotted names ("receipt.balance.snap"), lists of scalars one comma-joined
// value, lists of objects indexed names ("product_list[0].name").
func wireFields(raw []byte, order []string) []model.Field {
	ms := members(raw)
	pos := make(map[string]int, len(order))
	for i, k := range order {
		pos[k] = i
	}
	sorted := make([]member, 0, len(ms))
	for _, k := range order {
		for _, m := range ms {
			if m.key == k {
				sorted = append(sorted, m)
			}
		}
	}
	for _, m := range ms {
		if _, ok := pos[m.key]; !ok {
			sorted = append(sorted, m)
		}
	}
	var f flattener
	for _, m := range sorted {
		f.add(m.key, m.val, 0)
	}
	return f.out
}

type flattener struct {
	out []model.Field
}

func (f *flattener) emit(name, value string) {
	if len(f.out) < maxFields {
		f.out = append(f.out, model.Field{Name: name, Value: value})
	}
}

func (f *flattener) add(name string, v json.RawMessage, depth int) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		f.emit(name, "")
		return
	}
	if depth >= maxFieldDepth {
		f.emit(name, compact(v))
		return
	}
	switch v[0] {
	case '{':
		ms := members(v)
		if len(ms) == 0 {
			f.emit(name, "")
			return
		}
		for _, m := range ms {
			f.add(name+"."+m.key, m.val, depth+1)
		}
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			f.emit(name, compact(v))
			return
		}
		scalars := true
		for _, it := range items {
			if it = bytes.TrimSpace(it); len(it) > 0 && (it[0] == '{' || it[0] == '[') {
				scalars = false
			}
		}
		if scalars {
			parts := make([]string, len(items))
			for i, it := range items {
				parts[i] = displayJSON(it)
			}
			f.emit(name, strings.Join(parts, ", "))
			return
		}
		for i, it := range items {
			f.add(name+"["+strconv.Itoa(i)+"]", it, depth+1)
		}
	default:
		f.emit(name, displayJSON(v))
	}
}
