package pii

import (
	"errors"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestCheckRefuses(t *testing.T) {
	tests := []struct {
		name, value string
		kind        Kind
		reason      string // substring of the message
	}{
		// cards
		{"visa contiguous", "4111111111111111", Card, "passes Luhn"},
		{"visa spaced", "card 4111 1111 1111 1111 thanks", Card, "passes Luhn"},
		{"visa dashed", "4111-1111-1111-1111", Card, "passes Luhn"},
		{"amex 4-6-5", "3782 822463 10005", Card, "passes Luhn"},
		{"visa 13 digits", "4222222222222", Card, "passes Luhn"},
		{"visa 13 grouped 4-4-4-1", "4222 2222 2222 2", Card, "passes Luhn"},
		{"mastercard in text", "customer paid with 5555555555554444 yesterday", Card, "passes Luhn"},
		{"visa test 4000", "4000000000000002", Card, "passes Luhn"},
		{"mastercard 2-series", "2223000048400011", Card, "passes Luhn"},
		{"19 digit", "6011000990139424123", Card, "card"},
		{"forage ebt 16 not luhn", "9999000000000001", Card, "EBT card number"},
		{"forage ebt 18", "999900000000000001", Card, "EBT card number"},
		{"forage ebt 19 spaced", "9999 0000 0000 0000 001", Card, "EBT card number"},
		{"ebt test card", "4333333333333311", Card, "card"},
		{"random 16 not luhn", "1234567812345678", Card, "card-like run of 16 digits"},
		{"random 15 not luhn", "123456781234567", Card, "card-like run of 15 digits"},
		{"glued to letters", "ref4111111111111111x", Card, "passes Luhn"},
		{"very long run", "12345678901234567890123", Card, "run of 23 digits"},
		{"pan plus expiry", "41111111111111111226", Card, "run of 20 digits"},
		{"card after plus and long", "+4111111111111111", Card, "passes Luhn"},
		{"second chain is the card", "order 2026-11-22 card 4111 1111 1111 1111", Card, "passes Luhn"},
		{"ms timestamp that is actually 14 digits", "17638184720001", Card, "card-like"},
		{"unix seconds before 2010 padded", "1234567812345678", Card, "card-like"},
		{"not a date 20 prefix", "20991399999999", Card, "card-like"},

		// SSN
		{"ssn", "123-45-6789", SSN, "social security"},
		{"ssn in text", "ssn: 078-05-1120.", SSN, "social security"},

		// email
		{"email", "jane.doe@example.com", Email, "email"},
		{"email in text", "contact <j+refunds@mail.example.co.uk> please", Email, "email"},
		{"email upper", "JANE@EXAMPLE.ORG", Email, "email"},

		// phones
		{"e164", "+14155552671", Phone, "phone"},
		{"e164 spaced", "+44 20 7946 0958", Phone, "phone"},
		{"e164 saudi", "call +966 50 123 4567", Phone, "phone"},
		{"e164 13 digits", "+8613800138000", Phone, "phone"},
		{"e164 with parens", "+1 (415) 555-2671", Phone, "phone"},
		{"nanp dashes", "415-555-2671", Phone, "phone"},
		{"nanp parens", "(415) 555-2671", Phone, "phone"},
		{"nanp dots", "tel 415.555.2671", Phone, "phone"},
		{"nanp spaces", "415 555 2671", Phone, "phone"},
		{"nanp with 1", "1-800-555-0199", Phone, "phone"},
		{"nanp end of sentence", "call me at 415-555-2671.", Phone, "phone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check("note", tt.value)
			if err == nil {
				t.Fatalf("Check(%q) = nil, want %s refused", tt.value, tt.kind)
			}
			var pe *Error
			if !errors.As(err, &pe) || !errors.Is(err, ErrPII) {
				t.Fatalf("error %v is not a *pii.Error wrapping ErrPII", err)
			}
			if pe.Kind != tt.kind {
				t.Errorf("Check(%q) kind = %s, want %s (%v)", tt.value, pe.Kind, tt.kind, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, `"note"`) {
				t.Errorf("message %q does not name the key", msg)
			}
			if !strings.Contains(msg, tt.reason) {
				t.Errorf("message %q does not say %q", msg, tt.reason)
			}
			if strings.Contains(msg, tt.value) {
				t.Errorf("message %q repeats the value", msg)
			}
		})
	}
}

func TestCheckAllows(t *testing.T) {
	for _, v := range []string{
		"",
		"refund requested by customer",
		"2026-11-22T13:34:32Z",
		"2026-11-22T13:34:32.123456+03:00",
		"2026-11-22 13:34:32",
		"2026-11-01 2026-11-30",
		"22/11/2026 13:34",
		"1763818472",          // unix seconds
		"1763818472000",       // unix ms
		"1763818472000000",    // unix µs
		"1763818472000000000", // unix ns
		"20261122133432",      // compact date-time
		"20261122133432123",   // compact date-time with ms
		"550e8400-e29b-41d4-a716-446655440000",
		"c0a80101-1234-5678-9abc-def012345678",
		"12345678-1234-1234-1234-123456789012",
		"01936f3e-8b7a-7c4d-9e2f-1a2b3c4d5e6f",
		"ORD-2026-000123",
		"ORD-415-555-2671-X",
		"order 1234567890",
		"4155552671",
		"ref 9876543210 and 1234567890",
		"20.00", "1234567.89", "+1234567.89", "-20.00 SAR", "1,234,567,890.12",
		"12 345 678,90 EUR",
		"qty 3 x 12.50",
		"v1.2.3",
		"192.168.100.200",
		"ticket #123456",
		"user@localhost",
		"@handle",
		"000-12-3456", "666-12-3456", "900-12-3456", "123-00-4567", "123-45-0000",
		"123-4567",
		"+1 555",
		"sha e3b0c44298fc1c149afbf4c8996fb924",
		"intent 7f9c2ba4-e88f-4c1c-9a3e-3e2c1d0b9a87 retry 2",
	} {
		if err := Check("note", v); err != nil {
			t.Errorf("Check(%q) = %v, want nil", v, err)
		}
	}
}

func TestCheckKey(t *testing.T) {
	err := Check("jane@example.com", "vip")
	var pe *Error
	if !errors.As(err, &pe) || !pe.InKey || pe.Kind != Email {
		t.Fatalf("Check with an email key = %v", err)
	}
	if strings.Contains(err.Error(), "jane") {
		t.Errorf("message %q repeats the PII key", err)
	}
	if err := Check("customer_ref", "C-1001"); err != nil {
		t.Errorf("clean pair refused: %v", err)
	}
}

func TestLuhn(t *testing.T) {
	for d, want := range map[string]bool{
		"4111111111111111": true, "4111111111111112": false, "79927398713": true,
		"0": false, "": false, "12a4": false, "378282246310005": true,
	} {
		if got := Luhn(d); got != want {
			t.Errorf("Luhn(%q) = %v", d, got)
		}
	}
}

func TestMaskPAN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"4111111111111111", "•••• 1111"},
		{"card 4111 1111 1111 1234 declined", "card •••• 1234 declined"},
		{"4111-1111-1111-1234", "•••• 1234"},
		{"9999000000000001 and 9999 0000 0000 0002", "•••• 0001 and •••• 0002"},
		{"amex 3782 822463 10005.", "amex •••• 0005."},
		{"long 12345678901234567890123", "long •••• 0123"},
		{"4111 1111 1111 1111 1111 1111 1111", "•••• 1111"},
		{"4111111111111234 2026", "•••• 1234"},
		{"ref4111111111111234x", "ref•••• 1234x"},
		// the digits Detect reads: other scripts, full-width, other separators
		{"بطاقة ٤١١١١١١١١١١١١٢٣٤ مرفوضة", "بطاقة •••• 1234 مرفوضة"},
		{"card ４１１１-１１１１-１１１１-１２３４.", "card •••• 1234."},
		{"4111.1111.1111.1234", "•••• 1234"},
		{"4111 ١١١١ １１１１ 1234 x", "•••• 1234 x"},
		{"4111111111111234.5678.9012.3456", "•••• 1234"},
		{"4111 1111 1111 1234٥٥٥", "•••• 1234٥٥٥"}, // a card as written, though not once folded
		// left alone
		{"order 1234567890 on 2026-11-22 13:34", "order 1234567890 on 2026-11-22 13:34"},
		{"550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-446655440000"},
		{"20.00 SAR", "20.00 SAR"},
		{"٢٠٢٦-١١-٢٢ ٢٠٫٠٠ ر.س", "٢٠٢٦-١١-٢٢ ٢٠٫٠٠ ر.س"},
		{"v2026.11.22.1234", "v2026.11.22.1234"},
		{"", ""},
	}
	for _, tt := range tests {
		got := MaskPAN(tt.in)
		if got != tt.want {
			t.Errorf("MaskPAN(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := MaskPAN(got); again != got {
			t.Errorf("MaskPAN not idempotent: %q -> %q", got, again)
		}
	}
	clean := "order ORD-2026-000123 refunded 20.00"
	if n := testing.AllocsPerRun(50, func() { _ = MaskPAN(clean) }); n != 0 {
		t.Errorf("MaskPAN of clean text allocates %.0f times", n)
	}
}

var longDigits = regexp.MustCompile(`[0-9]{13,}`)

func FuzzPII(f *testing.F) {
	for _, s := range []string{
		"4111 1111 1111 1111", "+1 (415) 555-2671", "123-45-6789", "a@b.co",
		"2026-11-22T13:34:32Z", "9999000000000001", "550e8400-e29b-41d4-a716-446655440000",
		"1-2-3-4-5-6-7-8-9-0-1-2-3-4", "12345678901234567890123",
	} {
		f.Add("note", s)
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		err := Check(key, value)
		if err != nil {
			if !errors.Is(err, ErrPII) {
				t.Fatalf("error does not wrap ErrPII: %v", err)
			}
			_ = err.Error()
		}
		m := MaskPAN(value)
		if longDigits.MatchString(m) {
			t.Fatalf("MaskPAN(%q) = %q still has a 13+ digit run", value, m)
		}
		if MaskPAN(m) != m {
			t.Fatalf("MaskPAN not idempotent on %q: %q -> %q", value, m, MaskPAN(m))
		}
		if Check("k", m) != nil {
			var pe *Error
			if errors.As(Check("k", m), &pe) && pe.Kind == Card {
				t.Fatalf("masked text %q still has a card-like run", m)
			}
		}
	})
}

// UUIDs (hex or, worst case, all decimal digits) are never PII: their digit
// groups are 8-4-4-4-12, so no card-shaped window reaches 13 digits.
func TestUUIDsNeverFlagged(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		alphabet := "0123456789abcdef"
		if i%2 == 0 {
			alphabet = "0123456789"
		}
		var b strings.Builder
		for j, n := range []int{8, 4, 4, 4, 12} {
			if j > 0 {
				b.WriteByte('-')
			}
			for range n {
				b.WriteByte(alphabet[r.IntN(len(alphabet))])
			}
		}
		u := b.String()
		if err := Check("paydesk_intent", u); err != nil {
			t.Fatalf("Check(%q) = %v", u, err)
		}
		if m := MaskPAN(u); m != u {
			t.Fatalf("MaskPAN(%q) = %q", u, m)
		}
	}
}
