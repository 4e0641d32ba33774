package forage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"paydesk/api"
	"paydesk/model"
)

// This file holds the wire types: the objects and error envelopes as Forage
// sends them, and the primitives they are built from. The primitives accept every shape the Forage
// docs show and every shape on which the docs disagree (see forage-api.md):
//
//   - amounts as JSON strings ("20.00") or numbers (20.0); null only where
//     the field is nullable (a required amount that is null is an error);
//   - timestamps with a UTC offset or Z, with or without fractions;
//   - last_processing_error as a string or an object {code, message};
//   - ref lists as strings or as objects carrying "ref";
//   - optional string fields that are null, missing, or (defensively)
//     numbers or booleans.

// currency is the only currency Forage moves: EBT benefits are USD.
const currency = "USD"

// amount is a nullable money amount. A bad amount is a decode error, never a
// silent zero: a wrongly read amount is a wrongly refunded amount.
type amount struct {
	m *model.Money
}

func (a *amount) UnmarshalJSON(b []byte) error {
	*a = amount{}
	if isNull(b) {
		return nil
	}
	m, err := model.ParseJSONAmount(b, currency)
	if err != nil {
		return err
	}
	a.m = &m
	return nil
}

// required returns the amount or an error naming the field when it is null
// or missing.
func (a amount) required(field string) (model.Money, error) {
	if a.m == nil {
		return model.Money{}, fmt.Errorf("%s: amount is missing (null)", field)
	}
	return *a.m, nil
}

// orZero returns the amount, or zero USD when null or missing.
func (a amount) orZero() model.Money {
	if a.m == nil {
		return model.Zero(currency)
	}
	return *a.m
}

// timestamp is a nullable ISO-8601 time. Forage sends microseconds and either
// a Pacific offset (older API versions) or Z (2024-05-07 and later). A value
// that does not parse reads as the zero time rather than failing the whole
// object: the agent still sees it verbatim in Fields.
type timestamp struct {
	t time.Time
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999", // no zone: read as UTC
	"2006-01-02",
}

func (ts *timestamp) UnmarshalJSON(b []byte) error {
	*ts = timestamp{}
	if isNull(b) {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return nil // a number or object where a time belongs: keep zero
	}
	ts.t = parseTime(s)
	return nil
}

func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func (ts timestamp) ptr() *time.Time {
	if ts.t.IsZero() {
		return nil
	}
	t := ts.t
	return &t
}

// text is an optional string. null and missing read as ""; any other JSON
// value reads as its compact JSON text (refusing a whole order because a
// display field has an unexpected type helps nobody; refs are checked
// separately).
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	*t = ""
	b = bytes.TrimSpace(b)
	switch {
	case isNull(b):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
		return nil
	}
	*t = text(compact(b))
	return nil
}

// refList is a list of refs: ["93c7dad6b5", ...] as documented, or objects
// with a "ref" if an API version expands them. null reads as empty.
type refList []string

func (l *refList) UnmarshalJSON(b []byte) error {
	*l = nil
	if isNull(b) {
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return fmt.Errorf("expected a list of refs, got %s", kindOf(b))
	}
	out := make(refList, 0, len(items))
	for _, it := range items {
		it = bytes.TrimSpace(it)
		if len(it) == 0 || it[0] != '{' {
			var s text
			if err := json.Unmarshal(it, &s); err != nil {
				return err
			}
			out = append(out, string(s))
			continue
		}
		var o struct {
			Ref text `json:"ref"`
		}
		if err := json.Unmarshal(it, &o); err != nil {
			return fmt.Errorf("expected a ref, got %s", kindOf(it))
		}
		out = append(out, string(o.Ref))
	}
	*l = out
	return nil
}

// procError is last_processing_error: null, a string (Forage's SDKs) or an
// object {code, message} (the OrderPayment docs).
type procError struct {
	e *model.ProcessingError
}

func (p *procError) UnmarshalJSON(b []byte) error {
	p.e = nil
	b = bytes.TrimSpace(b)
	switch {
	case isNull(b):
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s != "" {
			p.e = &model.ProcessingError{Message: s}
		}
		return nil
	case len(b) > 0 && b[0] == '{':
		var o struct {
			Code    text `json:"code"`
			Message text `json:"message"`
			// Some error objects use description (the vault) or detail.
			Description text `json:"description"`
			Detail      text `json:"detail"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		msg := firstNonEmpty(string(o.Message), string(o.Description), string(o.Detail))
		if o.Code != "" || msg != "" {
			p.e = &model.ProcessingError{Code: string(o.Code), Message: msg}
		}
		return nil
	}
	// Anything else (a number, a list): keep its text as the message.
	p.e = &model.ProcessingError{Message: compact(b)}
	return nil
}

// metadata is a JSON object of merchant key/values. model.Metadata keeps
// strings as they are and every other JSON value as its compact JSON text;
// raw keeps the values as sent so an edit can write untouched non-string
// values back with their JSON type (see encodeMetadata). null or a
// non-object reads as no metadata (the value is still shown in Fields).
type metadata struct {
	m   model.Metadata
	raw map[string]json.RawMessage
	// total is how many keys were sent when more than
	// model.MaxReadMetadataKeys were (only those are kept); 0 otherwise.
	total int
}

func (md *metadata) UnmarshalJSON(b []byte) error {
	*md = metadata{}
	kept, total, ok := api.ObjectMembers(b)
	if !ok {
		return nil
	}
	md.raw = make(map[string]json.RawMessage, len(kept))
	md.m = make(model.Metadata, len(kept))
	for _, kv := range kept {
		md.raw[kv.Key] = kv.Value
		md.m[kv.Key] = displayJSON(kv.Value)
	}
	if total > len(kept) {
		md.total = total
	}
	return nil
}

// displayJSON is a JSON value as the agent reads it: strings unquoted, null
// empty, anything else compact JSON.
func displayJSON(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	switch {
	case isNull(v):
		return ""
	case len(v) > 0 && v[0] == '"':
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
	}
	return compact(v)
}

func isNull(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

func isString(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '"'
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(bytes.TrimSpace(b))
	}
	return buf.String()
}

func kindOf(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// errDecode marks a 2xx answer whose body paydesk could not read.
var errDecode = errors.New("unreadable answer")

// decodeErr wraps a JSON problem so the caller sees what was being read.
func decodeErr(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", errDecode, what, err)
}

type wireReceipt struct {
	RefNumber       text         `json:"ref_number"`
	IsVoided        bool         `json:"is_voided"`
	SnapAmount      amount       `json:"snap_amount"`
	EBTCashAmount   amount       `json:"ebt_cash_amount"`
	OtherAmount     amount       `json:"other_amount"`
	SalesTaxApplied amount       `json:"sales_tax_applied"`
	Balance         *wireBalance `json:"balance"`
	Last4           text         `json:"last_4"`
	Message         text         `json:"message"`
	TransactionType text         `json:"transaction_type"`
	Created         timestamp    `json:"created"`
}

type wireBalance struct {
	ID      json.RawMessage `json:"id"`
	Snap    amount          `json:"snap"`
	NonSnap amount          `json:"non_snap"`
	Updated timestamp       `json:"updated"`
}

type wireOrder struct {
	Ref             text         `json:"ref"`
	SnapTotal       amount       `json:"snap_total"`      // removed in API 2025-08-04
	EBTCashTotal    amount       `json:"ebt_cash_total"`  // removed in API 2025-08-04
	RemainingTotal  amount       `json:"remaining_total"` // removed in API 2025-08-04
	Status          text         `json:"status"`
	SuccessDate     timestamp    `json:"success_date"`
	Receipt         *wireReceipt `json:"receipt"`
	CustomerID      text         `json:"customer_id"`
	ExpiresAt       timestamp    `json:"expires_at"`
	ExternalOrderID text         `json:"external_order_id"`
	Payments        refList      `json:"payments"`
	Refunds         refList      `json:"refunds"`
}

type wirePayment struct {
	Ref                 text         `json:"ref"`
	FundingType         text         `json:"funding_type"`
	Amount              amount       `json:"amount"`
	Description         text         `json:"description"`
	Metadata            metadata     `json:"metadata"`
	PaymentMethod       text         `json:"payment_method"`
	Created             timestamp    `json:"created"`
	Updated             timestamp    `json:"updated"`
	Status              text         `json:"status"`
	LastProcessingError procError    `json:"last_processing_error"`
	SuccessDate         timestamp    `json:"success_date"`
	CustomerID          text         `json:"customer_id"`
	ExternalOrderID     text         `json:"external_order_id"`
	Refunds             refList      `json:"refunds"`
	Order               text         `json:"order"`
	Receipt             *wireReceipt `json:"receipt"` // not in the docs' example; accepted when sent
}

type wireRefund struct {
	Ref                 text         `json:"ref"`
	Order               text         `json:"order"`
	Payment             text         `json:"payment"`
	FundingType         text         `json:"funding_type"`
	Amount              amount       `json:"amount"`
	Reason              text         `json:"reason"`
	Metadata            metadata     `json:"metadata"`
	Created             timestamp    `json:"created"`
	Updated             timestamp    `json:"updated"`
	Status              text         `json:"status"`
	LastProcessingError procError    `json:"last_processing_error"`
	Receipt             *wireReceipt `json:"receipt"`
}

// wireReportRow is one Order Report row. Its amounts are JSON numbers; the
// paid amounts are null unless the order succeeded or failed.
// wireReportRow is one Order Report row: the documented columns, no more
// (no created, success_date or external_order_id: those are not in it).
type wireReportRow struct {
	Ref                  text   `json:"ref"`
	Status               text   `json:"status"`
	SnapEligibleTotal    amount `json:"snap_eligible_total"`
	EBTCashEligibleTotal amount `json:"ebt_cash_eligible_total"`
	RemainingTotal       amount `json:"remaining_total"`
	SalesTaxApplied      amount `json:"sales_tax_applied"`
	SnapPaid             amount `json:"snap_paid"`
	EBTCashPaid          amount `json:"ebt_cash_paid"`
	CreditDebitPaid      amount `json:"credit_debit_paid"`
}

type wireReport struct {
	Next     text              `json:"next"`
	Previous text              `json:"previous"`
	Results  []json.RawMessage `json:"results"`
}

// Forage's error envelope (forage-api.md 7.1) and the variants a client must
// tolerate:
//
//	{"path": "...", "errors": [{"code", "message", "source": {"resource", "ref"}}]}
//	{"detail": "Authentication credentials were not provided."}   (401/403)
//	source as a list of {resource, ref}                           (an SDK fixture)
//	{"code": 401, "description": "...", "name": "..."}            (the vault)
//
// and, defensively, Django REST framework's {"field": ["message", ...]}.
type wireErrors struct {
	Path        text            `json:"path"`
	Errors      []wireErrorItem `json:"errors"`
	Detail      text            `json:"detail"`
	Code        text            `json:"code"`
	Message     text            `json:"message"`
	Description text            `json:"description"`
	Name        text            `json:"name"`
}

type wireErrorItem struct {
	Code    text
	Message text
	Sources []wireSource
}

type wireSource struct {
	Resource text `json:"resource"`
	Ref      text `json:"ref"`
}

func (it *wireErrorItem) UnmarshalJSON(b []byte) error {
	*it = wireErrorItem{}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		var t text
		if err := json.Unmarshal(b, &t); err != nil {
			return err
		}
		it.Message = t
		return nil
	}
	var o struct {
		Code    text            `json:"code"`
		Message text            `json:"message"`
		Detail  text            `json:"detail"`
		Source  json.RawMessage `json:"source"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	it.Code = o.Code
	it.Message = text(firstNonEmpty(string(o.Message), string(o.Detail)))
	src := bytes.TrimSpace(o.Source)
	switch {
	case len(src) == 0 || isNull(src):
	case src[0] == '[':
		var list []wireSource
		if json.Unmarshal(src, &list) == nil {
			it.Sources = list
		}
	case src[0] == '{':
		var one wireSource
		if json.Unmarshal(src, &one) == nil {
			it.Sources = []wireSource{one}
		}
	}
	return nil
}
