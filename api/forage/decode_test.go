package forage

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"paydesk/model"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func usd(s string) model.Money { return model.MustParse(s, "USD") }

func sameMoney(t *testing.T, what string, got, want model.Money) {
	t.Helper()
	if got.Currency != want.Currency || !got.Amount.Equal(want.Amount) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func fieldValue(fs []model.Field, name string) (string, bool) {
	for _, f := range fs {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// Every example in the seeds and forage-api.md (testdata/*.json) decodes with
// the decoder its name says.
func TestDecodeAllExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		raw := readTestdata(t, name)
		t.Run(name, func(t *testing.T) {
			switch {
			case strings.HasPrefix(name, "order_"):
				o, _, err := decodeOrderObject(raw)
				if err != nil {
					t.Fatal(err)
				}
				if len(o.Fields) == 0 || o.Fields[0].Name != "ref" {
					t.Errorf("fields start %v", o.Fields)
				}
			case strings.HasPrefix(name, "payment_"):
				p, _, err := decodePayment(raw)
				if err != nil {
					t.Fatal(err)
				}
				if p.Amount.Currency != "USD" || !p.Amount.IsPositive() {
					t.Errorf("amount %v", p.Amount)
				}
			case strings.HasPrefix(name, "refund_"):
				r, err := decodeRefund(raw)
				if err != nil {
					t.Fatal(err)
				}
				if r.Amount.Currency != "USD" || !r.Amount.IsPositive() {
					t.Errorf("amount %v", r.Amount)
				}
			case strings.HasPrefix(name, "report_"):
				var w wireReport
				if err := json.Unmarshal(raw, &w); err != nil {
					t.Fatal(err)
				}
				for _, row := range w.Results {
					if _, err := decodeReportRow(row); err != nil {
						t.Fatal(err)
					}
				}
			case strings.HasPrefix(name, "error_"):
				e := decodeError(400, nil, raw)
				if e.Code == "" && e.Message == "" {
					t.Errorf("nothing decoded: %+v", e)
				}
			default:
				t.Fatalf("no decoder for %s", name)
			}
		})
	}
}

func TestDecodeOrderDocExample(t *testing.T) {
	o, w, err := decodeOrderObject(readTestdata(t, "order_doc.json"))
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "e0f7607d5f" || o.Status != model.StatusDraft || o.ProviderStatus != "draft" || o.Currency != "USD" {
		t.Errorf("order %+v", o)
	}
	sameMoney(t, "total", o.Total, usd("19.00"))
	if want := time.Date(2023, 9, 29, 18, 3, 28, 315051000, time.UTC); !o.Created.Equal(want) {
		t.Errorf("created %v, want expires_at-30m %v", o.Created, want)
	}
	if o.CustomerID != "abc123" || o.ExternalOrderID != "" || len(w.Payments) != 0 {
		t.Errorf("order %+v", o)
	}
	// Every wire field, in documented order, nested objects dotted.
	var names []string
	for _, f := range o.Fields {
		names = append(names, f.Name)
	}
	want := "ref snap_total ebt_cash_total remaining_total product_list status delivery_address.city " +
		"delivery_address.country delivery_address.line1 delivery_address.line2 delivery_address.state " +
		"delivery_address.zipcode is_delivery success_redirect_url cancel_redirect_url supported_benefits " +
		"success_date receipt customer_id is_commercial_shipping expires_at psp_customer_id external_order_id " +
		"payments refunds previous_errors"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("field order\n got %s\nwant %s", got, want)
	}
	if v, _ := fieldValue(o.Fields, "supported_benefits"); v != "snap, ebt_cash, non_ebt" {
		t.Errorf("supported_benefits %q", v)
	}
}

func TestDecodeOrderReceiptAndAssemble(t *testing.T) {
	o, w, err := decodeOrderObject(readTestdata(t, "order_succeeded_receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	// No totals (API 2025-08-04 shape): the receipt's.
	sameMoney(t, "total", o.Total, usd("20.00"))
	if len(w.Payments) != 1 || w.Payments[0] != "5fa6e45620" || len(w.Refunds) != 1 {
		t.Errorf("refs %v %v", w.Payments, w.Refunds)
	}
	if v, _ := fieldValue(o.Fields, "receipt.balance.non_snap"); v != "100.00" {
		t.Errorf("receipt.balance.non_snap = %q", v)
	}
	if v, _ := fieldValue(o.Fields, "product_list[0].name"); v != "Apples" {
		t.Errorf("product_list[0].name = %q", v)
	}
	p, _, err := decodePayment([]byte(`{"ref":"5fa6e45620","amount":"20.00","status":"succeeded","funding_type":"ebt_snap","order":"3ee466e0ef"}`))
	if err != nil {
		t.Fatal(err)
	}
	part, err := decodeRefund(readTestdata(t, "refund_processing.json"))
	if err != nil {
		t.Fatal(err)
	}
	if part.LastError != nil {
		t.Errorf("empty last_processing_error object should read as none: %+v", part.LastError)
	}
	// A processing refund does not make the order partly refunded yet.
	o1 := *o
	assemble(&o1, []model.Payment{*p}, []model.Refund{*part})
	if o1.Status != model.StatusSucceeded {
		t.Errorf("status %v with a processing refund", o1.Status)
	}
	done := *part
	done.Status = model.StatusSucceeded
	o2 := *o
	assemble(&o2, []model.Payment{*p}, []model.Refund{done})
	if o2.Status != model.StatusPartlyRefunded || o2.ProviderStatus != "succeeded" {
		t.Errorf("status %v/%s, want partly refunded", o2.Status, o2.ProviderStatus)
	}
	all := done
	all.Amount = usd("15.00")
	o3 := *o
	assemble(&o3, []model.Payment{*p}, []model.Refund{done, all})
	if o3.Status != model.StatusRefunded {
		t.Errorf("status %v, want refunded", o3.Status)
	}
}

func TestDecodeOrderVariants(t *testing.T) {
	o, w, err := decodeOrderObject(readTestdata(t, "order_2025_no_totals.json"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != model.StatusCanceled || o.ProviderStatus != "cancelled" {
		t.Errorf("status %v %q", o.Status, o.ProviderStatus)
	}
	if len(w.Payments) != 1 || w.Payments[0] != "6ae6a45ff1" || w.Refunds != nil {
		t.Errorf("refs %v %v", w.Payments, w.Refunds)
	}
	if o.Total.Currency != "" {
		t.Errorf("total %v before assemble", o.Total)
	}
	assemble(o, nil, nil)
	sameMoney(t, "total", o.Total, usd("0"))
}

func TestDecodePaymentSeed004(t *testing.T) {
	p, meta, err := decodePayment(readTestdata(t, "payment_seed004.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "93c7dad6b5" || p.OrderID != "dee3c3045e" || p.Method != "EBT SNAP" || p.FundingType != "ebt_snap" ||
		p.Status != model.StatusRequiresAction || p.PaymentMethod != "485dffb5b0" || p.Description != "EBT SNAP payment" ||
		p.CustomerID != "abc123" || p.LastError != nil || p.SuccessDate != nil || p.Receipt != nil {
		t.Errorf("payment %+v", p)
	}
	sameMoney(t, "amount", p.Amount, usd("20.00"))
	if want := time.Date(2023, 10, 6, 0, 38, 26, 698516000, time.UTC); !p.Created.Equal(want) {
		t.Errorf("created %v, want %v", p.Created, want)
	}
	if len(meta) != 0 || len(p.Metadata) != 0 {
		t.Errorf("metadata %v", p.Metadata)
	}
	var names []string
	for _, f := range p.Fields {
		names = append(names, f.Name)
	}
	want := "ref funding_type amount description metadata payment_method created updated status " +
		"last_processing_error success_date tpp_lookup_id customer_id external_order_id refunds order"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("fields\n got %s\nwant %s", got, want)
	}
	if v, _ := fieldValue(p.Fields, "created"); v != "2023-10-05T17:38:26.698516-07:00" {
		t.Errorf("created shown as %q, want verbatim", v)
	}
	caps := (&Client{}).Capabilities()
	if !caps.CanCancel(p) {
		t.Error("requires_confirmation should be cancelable")
	}
	ef := caps.EditableFields(p)
	if len(ef) != 2 || !ef[0].Enabled || ef[1].Enabled || ef[1].Why == "" {
		t.Errorf("editable fields %+v", ef)
	}
}

func TestDecodePaymentVariants(t *testing.T) {
	p, meta, err := decodePayment(readTestdata(t, "payment_failed_lpe_object.json"))
	if err != nil {
		t.Fatal(err)
	}
	sameMoney(t, "number amount", p.Amount, usd("9.50"))
	if p.Method != "EBT Cash" || p.Status != model.StatusFailed {
		t.Errorf("payment %+v", p)
	}
	if p.LastError == nil || p.LastError.Code != "ebt_error_51" || !strings.HasPrefix(p.LastError.Message, "Insufficient funds") {
		t.Errorf("last error %+v", p.LastError)
	}
	if p.Metadata["batch"] != "7" || p.Metadata["flag"] != "true" || p.Metadata["note"] != "call back" ||
		p.Metadata["nested"] != `{"a":[1,2]}` {
		t.Errorf("metadata %v", p.Metadata)
	}
	if p.Receipt == nil || p.Receipt.Balance != nil || p.Receipt.Message != "Insufficient funds" || p.Card == nil || p.Card.Last4 != "4451" {
		t.Errorf("receipt %+v card %+v", p.Receipt, p.Card)
	}
	if v, _ := fieldValue(p.Fields, "merchant_fixed_settlement"); v != "5.95" {
		t.Errorf("merchant_fixed_settlement %q", v)
	}
	if p.Fields[len(p.Fields)-1].Name != "receipt.created" {
		t.Errorf("receipt should come last: %v", p.Fields[len(p.Fields)-1])
	}
	caps := (&Client{}).Capabilities()
	if ef := caps.EditableFields(p); !ef[1].Enabled {
		t.Errorf("payment_method should be editable when failed: %+v", ef)
	}
	if !caps.CanCancel(p) {
		t.Error("failed should be cancelable")
	}
	// Untouched non-string values go back with their JSON type; edited ones
	// as strings; keys sorted.
	m := p.Metadata.Clone()
	m["flag"] = "false"
	m["new"] = "x"
	got := string(encodeMetadata(m, meta))
	want := `{"batch":7,"flag":"false","nested":{"a":[1,2]},"new":"x","note":"call back"}`
	if got != want {
		t.Errorf("metadata body\n got %s\nwant %s", got, want)
	}
	if got := string(encodeMetadata(nil, nil)); got != "{}" {
		t.Errorf("nil metadata = %s", got)
	}

	p, _, err = decodePayment(readTestdata(t, "payment_succeeded_lpe_string.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.LastError == nil || p.LastError.Code != "" || p.LastError.Message != "Previous attempt timed out" {
		t.Errorf("string last error %+v", p.LastError)
	}
	if p.Method != "Card (TPP)" || p.SuccessDate == nil || len(p.RefundIDs) != 2 {
		t.Errorf("payment %+v", p)
	}
	caps = (&Client{}).Capabilities()
	if caps.CanCancel(p) {
		t.Error("succeeded must not be cancelable")
	}
}

func TestDecodeRefunds(t *testing.T) {
	r, err := decodeRefund(readTestdata(t, "refund_doc.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.ID != "1ccabfg754" || r.OrderID != "e0f7607d5f" || r.PaymentID != "f587edf124" ||
		r.Status != model.StatusRequiresAction || r.Reason != "Order could not be delivered." || r.Receipt != nil {
		t.Errorf("refund %+v", r)
	}
	if r.Status.Final() {
		t.Error("requires_confirmation must count as in flight")
	}
	var names []string
	for _, f := range r.Fields {
		names = append(names, f.Name)
	}
	want := "ref order payment merchant funding_type amount merchant_fixed_settlement platform_fixed_settlement " +
		"reason metadata created updated status last_processing_error receipt tpp_lookup_id refund_errors"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("fields\n got %s\nwant %s", got, want)
	}

	r, err = decodeRefund(readTestdata(t, "refund_failed_receipt.json"))
	if err != nil {
		t.Fatal(err)
	}
	sameMoney(t, "amount", r.Amount, usd("4.25"))
	if r.Status != model.StatusFailed || r.FailureReason != "Return exceeds benefit authorization" {
		t.Errorf("failed refund %+v", r)
	}
	if b := r.Receipt.Balance; b == nil || b.Snap != nil || b.Cash == nil || b.Cash.Fixed() != "100.00" {
		t.Errorf("balance %+v", b)
	}
	if v, ok := fieldValue(r.Fields, "receipt.sequence_number"); !ok || v != "12" {
		t.Errorf("undocumented receipt field not shown: %q", v)
	}
	if v, _ := fieldValue(r.Fields, "refund_errors[0].code"); v != "ebt_error_61" {
		t.Errorf("refund_errors[0].code %q", v)
	}
}

func TestDecodeReport(t *testing.T) {
	var w wireReport
	if err := json.Unmarshal(readTestdata(t, "report_page.json"), &w); err != nil {
		t.Fatal(err)
	}
	paid, err := decodeReportRow(w.Results[0])
	if err != nil {
		t.Fatal(err)
	}
	// The report has no date and no external id: the row says neither.
	if paid.ID != "3ee466e0ef" || paid.Status != model.StatusSucceeded || paid.Reference != "" || !paid.Created.IsZero() {
		t.Errorf("row %+v", paid)
	}
	sameMoney(t, "snap", paid.Amounts[0], usd("10.00"))
	sameMoney(t, "cash", paid.Amounts[1], usd("10.00"))
	sameMoney(t, "card", paid.Amounts[2], usd("2.50"))
	sameMoney(t, "total", paid.Total, usd("22.50"))
	draft, err := decodeReportRow(w.Results[1])
	if err != nil {
		t.Fatal(err)
	}
	// An unpaid order's paid amounts are null: not known, never 0.00; its
	// total is still what it is for.
	for i, a := range draft.Amounts {
		if a != (model.Money{}) {
			t.Errorf("unpaid amount %d = %v, want not known", i, a)
		}
	}
	sameMoney(t, "eligible total", draft.Total, usd("19.00"))
}

func TestDecodeRefusesBadAmounts(t *testing.T) {
	for _, body := range []string{
		`{"ref":"93c7dad6b5","amount":null}`,
		`{"ref":"93c7dad6b5"}`,
		`{"ref":"93c7dad6b5","amount":"-1.00"}`,
		`{"ref":"93c7dad6b5","amount":"1e3"}`,
		`{"ref":"93c7dad6b5","amount":"1.005"}`,
		`{"ref":"93c7dad6b5","amount":"NaN"}`,
		`{"ref":"93c7dad6b5","amount":true}`,
		`{"ref":"../../o/token","amount":"1.00"}`,
		`{"ref":"","amount":"1.00"}`,
		`[]`,
	} {
		if _, _, err := decodePayment([]byte(body)); err == nil {
			t.Errorf("payment %s decoded", body)
		}
		if _, err := decodeRefund([]byte(body)); err == nil {
			t.Errorf("refund %s decoded", body)
		}
	}
}

func TestTimestamps(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2023-10-05T17:38:26.698516-07:00": time.Date(2023, 10, 6, 0, 38, 26, 698516000, time.UTC),
		"2024-06-01T10:00:00Z":             time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC),
		"2024-06-01T10:00:00.5+0000":       time.Date(2024, 6, 1, 10, 0, 0, 500000000, time.UTC),
		"2024-06-01":                       time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC),
		"yesterday":                        {},
	} {
		if got := parseTime(in); !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, want %v", in, got, want)
		}
	}
}
