package moyasar

import (
	"os"
	"path/filepath"
	"testing"

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

// The concrete example of the refund page the seed was taken from.
func TestDecodeSeedExample(t *testing.T) {
	o, err := DecodeOrder(readTestdata(t, "seed002_refund_200.json"))
	if err != nil {
		t.Fatal(err)
	}
	if o.ID != "0191f5a7-44a9-76c2-9fec-39709fdbf723" || o.Currency != "SAR" || o.Total.String() != "2623.46 SAR" {
		t.Fatalf("order %s %s %s", o.ID, o.Currency, o.Total)
	}
	if o.Status != model.StatusRefunded || o.ProviderStatus != "refunded" {
		t.Errorf("status %s (%s)", o.Status, o.ProviderStatus)
	}
	if len(o.Payments) != 1 || len(o.Refunds) != 1 {
		t.Fatalf("%d payments, %d refunds", len(o.Payments), len(o.Refunds))
	}
	p, r := o.Payments[0], o.Refunds[0]
	if p.ID != "0191f5a7-44ab-7fbb-ab3c-1e1a98a5166e" || p.Status != model.StatusSucceeded || p.Amount.String() != "2623.46 SAR" {
		t.Errorf("payment %+v", p)
	}
	if p.Card == nil || p.Card.Scheme != "mastercard" || p.Card.BIN != "55555555" || p.Card.Last4 != "4444" || p.Card.Expiry != "12/2026" {
		t.Errorf("card %+v", p.Card)
	}
	if p.Method != "mastercard •••• 4444" || p.Receipt.RefNumber != "886117264145" {
		t.Errorf("method %q receipt %+v", p.Method, p.Receipt)
	}
	// The fixture's refund id is a UUIDv4: ids are opaque to the client.
	if r.ID != "f351a2a3-97c4-4f12-add3-80c1044091f5" || r.Status != model.StatusSucceeded || r.PaymentID != p.ID || r.Amount.String() != "2623.46 SAR" {
		t.Errorf("refund %+v", r)
	}
	if !o.Refundable().IsZero() || !o.AvailableToRefund.IsZero() {
		t.Errorf("refundable %s / %s", o.Refundable(), o.AvailableToRefund)
	}
	if got := field(o.Fields, "sub_merchant.registered_name"); got != "Rolfson-Legros" {
		t.Errorf("sub_merchant field %q", got)
	}
	if got := field(o.Fields, "merchant.arabic_name"); got != "الإسم العربي" {
		t.Errorf("arabic name %q", got)
	}
}

// The example reconstructed in the reference notes (section 1.8).
func TestDecodeReferenceExample(t *testing.T) {
	o, err := DecodeOrder(readTestdata(t, "reference_refund_200.json"))
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != model.StatusPartlyRefunded || o.Total.String() != "100.00 SAR" {
		t.Fatalf("status %s total %s", o.Status, o.Total)
	}
	p := o.Payments[0]
	if p.Card.Masked() != "mada 44655200•• •••• 0001" || p.FundingType != "card" {
		t.Errorf("card %q funding %q", p.Card.Masked(), p.FundingType)
	}
	if got := o.RefundableOn(&p); got.String() != "75.00 SAR" {
		t.Errorf("refundable on payment %s", got)
	}
	if r := o.Refunds[0]; r.Status != model.StatusSucceeded || r.Amount.String() != "25.00 SAR" || r.Receipt.RefNumber != "501212345679" {
		t.Errorf("refund %+v", r)
	}
	if o.Refunded().String() != "25.00 SAR" || o.Paid().String() != "100.00 SAR" {
		t.Errorf("refunded %s paid %s", o.Refunded(), o.Paid())
	}
}

func field(fs []model.Field, name string) string {
	for _, f := range fs {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

const threeDecimalOrder = `{"id":"0192a3b4-0000-7000-8000-000000000009","currency":"KWD","amount":12345,
"captured_amount":12345,"refunded_amount":0,"voided_amount":0,"description":"x",
"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z",
"source":{"type":"apple_pay","scheme":"VISA","first_digits":"4111111111111111","last_digits":"4111111111111111","month":13,"year":2027},
"transactions":[
 {"id":"t1","type":"purchase","status":"approved","amount":12345,"created_at":"2026-01-02T03:04:05Z"},
 {"id":"t2","type":"refund","status":"initiated","amount":5,"created_at":"2026-01-03T03:04:05Z"},
 {"id":"t3","type":"refund","status":"timeout","message":"TIMEOUT","amount":40,"created_at":"2026-01-04T03:04:05Z"},
 {"id":"t4","type":"refund","status":"failed","message":"DECLINED","response_code":"05","amount":300,"created_at":"2026-01-05T03:04:05Z"},
 {"id":"t5","type":"reversal","status":"approved","amount":40,"reversed_transaction_id":"t3","created_at":"2026-01-06T03:04:05Z"}]}`

func TestDecodeThreeDecimalsAndStatuses(t *testing.T) {
	o, err := DecodeOrder([]byte(threeDecimalOrder))
	if err != nil {
		t.Fatal(err)
	}
	if o.Total.String() != "12.345 KWD" {
		t.Fatalf("total %s", o.Total)
	}
	c := o.Payments[0].Card
	if c.BIN != "411111" || c.Last4 != "1111" || c.Expiry != "" || c.Scheme != "visa" {
		t.Errorf("a full PAN must not pass: %+v", c)
	}
	// t3 timed out and the approved reversal t5 undid it: not refunded.
	want := map[string]model.Status{"t2": model.StatusProcessing, "t3": model.StatusFailed, "t4": model.StatusFailed}
	for id, st := range want {
		r := o.Refund(id)
		if r == nil || r.Status != st || r.PaymentID != "t1" {
			t.Errorf("refund %s: %+v", id, r)
		}
	}
	if le := o.Refund("t4").LastError; le == nil || le.Code != "05" || le.Message != "DECLINED" {
		t.Errorf("declined refund error %+v", le)
	}
	if le := o.Refund("t3").LastError; le == nil || o.Refund("t3").ProviderStatus != "reversed" {
		t.Errorf("reversed refund error %+v", le)
	}
	// The processing refund holds money; the declined and reversed ones do not.
	if got := o.Refundable().String(); got != "12.340 KWD" {
		t.Errorf("refundable %s", got)
	}
	if field(o.Fields, "transaction t5") == "" {
		t.Error("reversal transaction not in the fields")
	}
}

func TestDecodeRefusesWhatItCannotRead(t *testing.T) {
	for name, body := range map[string]string{
		"unknown currency": `{"id":"a","currency":"XXX","amount":1}`,
		"negative amount":  `{"id":"a","currency":"SAR","amount":-1}`,
		"fraction":         `{"id":"a","currency":"SAR","amount":1.5}`,
		"no id":            `{"currency":"SAR","amount":1}`,
		"bad txn amount":   `{"id":"a","currency":"SAR","amount":1,"transactions":[{"id":"t","type":"refund","amount":-5}]}`,
		"not json":         `<html>`,
	} {
		if _, err := DecodeOrder([]byte(body)); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func FuzzDecodeOrder(f *testing.F) {
	f.Add(readTestdata(f, "seed002_refund_200.json"))
	f.Add(readTestdata(f, "reference_refund_200.json"))
	f.Add([]byte(threeDecimalOrder))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := DecodeOrder(body)
		if err != nil {
			return
		}
		if o.ID == "" {
			t.Fatal("order without id")
		}
		if _, err := model.Exponent(o.Currency); err != nil {
			t.Fatal(err)
		}
		check := func(what string, m model.Money) {
			if m.Currency != o.Currency || m.Amount.IsNegative() {
				t.Fatalf("%s: %s in a %s order", what, m, o.Currency)
			}
			if _, err := m.Minor(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		check("total", o.Total)
		check("refundable", o.Refundable())
		for _, p := range o.Payments {
			check("payment", p.Amount)
			if c := p.Card; c != nil {
				if n := len(c.BIN); n != 0 && (n < 6 || n > 8) {
					t.Fatalf("BIN %q", c.BIN)
				}
				if n := len(c.Last4); n != 0 && n != 4 {
					t.Fatalf("last4 %q", c.Last4)
				}
			}
		}
		for _, r := range o.Refunds {
			check("refund", r.Amount)
			if r.PaymentID != "" && o.Payment(r.PaymentID) == nil {
				t.Fatalf("refund %s points at no payment", r.ID)
			}
		}
	})
}

func TestNullAmountsAreRefused(t *testing.T) {
	for _, body := range []string{
		`{"id":"o1","currency":"SAR","amount":100,"captured_amount":100,"refunded_amount":null,"voided_amount":0,"created_at":"2025-01-10T09:00:00Z","transactions":[]}`,
		`{"id":"o1","currency":"SAR","amount":100,"captured_amount":100,"refunded_amount":0,"voided_amount":0,"created_at":"2025-01-10T09:00:00Z","transactions":[{"id":"t","type":"refund","status":"approved","amount":null}]}`,
	} {
		if o, err := DecodeOrder([]byte(body)); err == nil {
			t.Errorf("a null amount decoded: %+v", o)
		}
	}
}
