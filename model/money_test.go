package model

import (
	"math/rand/v2"
	"strings"
	"testing"
	"testing/quick"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

func TestParseAmountAccepts(t *testing.T) {
	for _, tc := range []struct{ in, cur, want string }{
		{"20.00", "USD", "20.00 USD"},
		{"20", "USD", "20.00 USD"},
		{"0.01", "USD", "0.01 USD"},
		{"20.5", "USD", "20.50 USD"},
		{"1.234", "KWD", "1.234 KWD"},
		{"7", "JPY", "7 JPY"},
		{"0007.10", "SAR", "7.10 SAR"},
	} {
		m, err := ParseAmount(tc.in, tc.cur)
		if err != nil {
			t.Errorf("ParseAmount(%q, %s): %v", tc.in, tc.cur, err)
			continue
		}
		if m.String() != tc.want {
			t.Errorf("ParseAmount(%q, %s) = %s, want %s", tc.in, tc.cur, m, tc.want)
		}
	}
}

func TestParseAmountRefuses(t *testing.T) {
	for _, tc := range []struct{ in, cur, why string }{
		{"", "USD", "required"},
		{"NaN", "USD", "digits"},
		{"1e3", "USD", "digits"},
		{"1E-2", "USD", "digits"},
		{"-1.00", "USD", "digits"},
		{"−1.00", "USD", "digits"}, // Unicode minus U+2212
		{"+1.00", "USD", "digits"},
		{"1,000.00", "USD", "digits"},
		{" 1.00", "USD", "digits"},
		{".5", "USD", "digits"},
		{"5.", "USD", "digits"},
		{"1.001", "USD", "at most 2 decimals"},
		{"1.000", "USD", "at most 2 decimals"},
		{"1.0001", "KWD", "at most 3 decimals"},
		{"1.5", "JPY", "whole amounts only"},
		{"١٢", "SAR", "digits"}, // Arabic-Indic digits
		{"Infinity", "USD", "digits"},
		{strings.Repeat("9", 40), "USD", "too long"},
		{"1000000000000000", "KWD", "too large"},
	} {
		_, err := ParseAmount(tc.in, tc.cur)
		if err == nil || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("ParseAmount(%q, %s) = %v, want an error saying %q", tc.in, tc.cur, err, tc.why)
		}
	}
	if _, err := ParseAmount("1.00", "XYZ"); err == nil {
		t.Error("unknown currency accepted")
	}
}

func TestParseJSONAmount(t *testing.T) {
	for in, want := range map[string]string{`"20.00"`: "20.00", `20.00`: "20.00", `5.95`: "5.95", `20`: "20.00", ` "1.5" `: "1.50"} {
		m, err := ParseJSONAmount([]byte(in), "USD")
		if err != nil || m.Fixed() != want {
			t.Errorf("ParseJSONAmount(%s) = %v, %v; want %s", in, m, err, want)
		}
	}
	for _, in := range []string{`null`, ``, `"NaN"`, `1e2`, `"1e2"`, `-1`, `"−1"`, `true`, `{}`, `"20.001"`} {
		if m, err := ParseJSONAmount([]byte(in), "USD"); err == nil {
			t.Errorf("ParseJSONAmount(%s) = %v, want an error", in, m)
		}
	}
}

// Minor and major units round-trip exactly for 0-, 2- and 3-decimal currencies.
func TestMinorRoundTrip(t *testing.T) {
	for _, cur := range []string{"JPY", "USD", "SAR", "KWD", "BHD", "OMR"} {
		f := func(minor int64) bool {
			// Every amount a provider can hold: up to 15 major digits.
			minor = (minor%1e15 + 1e15) % 1e15
			m, err := FromMinor(minor, cur)
			if err != nil {
				return false
			}
			back, err := m.Minor()
			if err != nil || back != minor {
				return false
			}
			// major text -> parse -> minor agrees too
			p, err := ParseAmount(m.Fixed(), cur)
			if err != nil {
				return false
			}
			again, err := p.Minor()
			return err == nil && again == minor
		}
		if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
			t.Errorf("%s: %v", cur, err)
		}
	}
	m, _ := FromMinor(1250, "KWD")
	if m.Fixed() != "1.250" {
		t.Errorf("1250 fils = %s, want 1.250", m.Fixed())
	}
	j, _ := FromMinor(1250, "JPY")
	if j.Fixed() != "1250" {
		t.Errorf("1250 yen = %s", j.Fixed())
	}
}

func TestMinorRefusesFractions(t *testing.T) {
	m := Money{Amount: decimal.RequireFromString("1.005"), Currency: "USD"}
	if _, err := m.Minor(); err == nil {
		t.Error("1.005 USD converted to minor units without an error")
	}
}

func TestCurrencyMismatch(t *testing.T) {
	if _, err := MustParse("1", "USD").Add(MustParse("1", "EUR")); err == nil {
		t.Error("USD + EUR did not fail")
	}
	sum, err := Money{}.Add(MustParse("1.50", "SAR"))
	if err != nil || sum.String() != "1.50 SAR" {
		t.Errorf("zero Money does not adapt: %v %v", sum, err)
	}
}

// Property: however an agent splits refunds, what the model says is
// refundable never lets the total refunded exceed what was paid.
func TestRefundsNeverExceedRefundable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, cur := range []string{"USD", "KWD", "JPY"} {
		for trial := 0; trial < 500; trial++ {
			o := &Order{Currency: cur}
			for i := 0; i < 1+rng.IntN(3); i++ {
				amt, _ := FromMinor(int64(1+rng.IntN(50000)), cur)
				st := StatusSucceeded
				if rng.IntN(5) == 0 {
					st = StatusFailed
				}
				o.Payments = append(o.Payments, Payment{ID: string(rune('a' + i)), Amount: amt, Status: st})
			}
			for step := 0; step < 20; step++ {
				p := &o.Payments[rng.IntN(len(o.Payments))]
				left := o.RefundableOn(p)
				want, _ := FromMinor(int64(rng.IntN(30000)), cur)
				if _, fe := ValidateRefundAmount(want.Fixed(), left); fe != nil {
					continue // the form refuses it; nothing is sent
				}
				status := []Status{StatusSucceeded, StatusProcessing, StatusFailed, StatusUnknown}[rng.IntN(4)]
				o.Refunds = append(o.Refunds, Refund{PaymentID: p.ID, Amount: want, Status: status})
			}
			for i := range o.Payments {
				p := &o.Payments[i]
				held := o.heldOn(p.ID)
				if c, _ := held.Cmp(p.Amount); c > 0 && p.Status == StatusSucceeded {
					t.Fatalf("%s: payment %s paid %s but %s refunded", cur, p.ID, p.Amount, held)
				}
				if p.Status != StatusSucceeded && held.IsPositive() {
					t.Fatalf("refunds accepted on a %s payment", p.Status)
				}
			}
			plan := Zero(cur)
			for _, pr := range o.RefundPlan() {
				plan, _ = plan.Add(pr.Amount)
			}
			if c, _ := plan.Cmp(o.Refundable()); c != 0 {
				t.Fatalf("refund plan %s != refundable %s", plan, o.Refundable())
			}
		}
	}
}

func TestSettled(t *testing.T) {
	r := &Refund{Status: StatusProcessing}
	if r.Settled(nil) {
		t.Error("processing refund settled")
	}
	done := &Refund{Status: StatusSucceeded}
	if !done.Settled(nil) {
		t.Error("succeeded refund without a balance is not settled")
	}
	at := func(sec int64) *Refund {
		return &Refund{Status: StatusSucceeded, Receipt: &Receipt{Balance: &Balance{Updated: time.Unix(sec, 0)}}}
	}
	if at(10).Settled(nil) {
		t.Error("a balance seen once is settled: Forage says wait until it stops changing")
	}
	if at(20).Settled(at(10)) {
		t.Error("a balance that moved since the last poll is settled")
	}
	if !at(20).Settled(at(20)) {
		t.Error("a balance unchanged between two polls is not settled")
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"20.00", "1e3", "NaN", "−1", "0.001", "99999999999999999999", "1.", ".1", "00.10"} {
		f.Add(s, "USD")
		f.Add(s, "KWD")
		f.Add(s, "JPY")
	}
	f.Fuzz(func(t *testing.T, s, cur string) {
		m, err := ParseAmount(s, cur)
		if err != nil {
			return
		}
		if !utf8.ValidString(s) || m.Amount.IsNegative() {
			t.Fatalf("accepted %q as %v", s, m)
		}
		// Anything accepted converts to minor units exactly and back.
		minor, err := m.Minor()
		if err != nil {
			t.Fatalf("accepted %q but Minor failed: %v", s, err)
		}
		back, _ := FromMinor(minor, cur)
		if !back.Amount.Equal(m.Amount) {
			t.Fatalf("%q: minor round trip %v != %v", s, back, m)
		}
		// The canonical text parses to the same amount.
		again, err := ParseAmount(m.Fixed(), cur)
		if err != nil || !again.Amount.Equal(m.Amount) {
			t.Fatalf("%q: Fixed %q does not re-parse: %v", s, m.Fixed(), err)
		}
	})
}

func FuzzParseJSONAmount(f *testing.F) {
	for _, s := range []string{`"20.00"`, `20.00`, `null`, `"NaN"`, `1e2`, `"−1"`, `5.95`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseJSONAmount(b, "USD")
		if err == nil && (m.Amount.IsNegative() || m.Currency != "USD") {
			t.Fatalf("%q -> %v", b, m)
		}
	})
}

// A refund in another currency makes the arithmetic meaningless: nothing is
// offered for refund rather than an overstated amount.
func TestMixedCurrencyRefundOffersNothing(t *testing.T) {
	o := &Order{Currency: "USD",
		Payments: []Payment{{ID: "p", Amount: MustParse("50.00", "USD"), Status: StatusSucceeded}},
		Refunds: []Refund{
			{PaymentID: "p", Amount: MustParse("10.00", "USD"), Status: StatusSucceeded},
			{PaymentID: "p", Amount: MustParse("30.00", "EUR"), Status: StatusProcessing},
		}}
	if r := o.RefundableOn(&o.Payments[0]); !r.IsZero() {
		t.Fatalf("refundable with a EUR refund on a USD payment = %s, want 0", r)
	}
	if r := o.Refundable(); !r.IsZero() {
		t.Fatalf("order refundable = %s, want 0", r)
	}
}
