// Package model is paydesk's provider-neutral domain: money, orders, payments,
// refunds, statuses, metadata and the rules that validate what an agent types.
// It knows nothing of HTTP or of the screen; api/ maps each provider's wire
// format into these types and ui/ draws them.
package model

import (
	"errors"
	"fmt"
	"strings"

	"github.com/shopspring/decimal"
)

// exponents holds the ISO 4217 minor-unit exponent of every currency the
// providers are known to use. A currency that is missing here is refused
// rather than guessed: a wrong exponent moves money by a factor of ten.
var exponents = map[string]int32{
	"USD": 2, "EUR": 2, "GBP": 2, "CAD": 2, "AUD": 2, "CHF": 2, "SEK": 2, "NOK": 2, "DKK": 2,
	"SAR": 2, "AED": 2, "QAR": 2, "EGP": 2, "MXN": 2, "BRL": 2, "INR": 2, "SGD": 2, "HKD": 2,
	"NZD": 2, "PLN": 2, "CZK": 2, "ZAR": 2, "TRY": 2, "CNY": 2,
	"KWD": 3, "BHD": 3, "OMR": 3, "JOD": 3, "TND": 3, "LYD": 3, "IQD": 3,
	"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "HUF": 2,
}

// maxIntDigits bounds the major part: 15 digits keeps every accepted amount
// convertible to int64 minor units even with a 3-decimal currency.
const maxIntDigits = 15

// maxAmountLen bounds the text of an amount before it is parsed, so a hostile
// provider cannot make us allocate for "1e-2000000000"-style input.
const maxAmountLen = 32

// ErrUnknownCurrency is returned for a currency code not in the exponent table.
var ErrUnknownCurrency = errors.New("unknown currency")

// Exponent returns the number of minor-unit digits of an ISO 4217 currency.
func Exponent(currency string) (int32, error) {
	e, ok := exponents[currency]
	if !ok {
		return 0, fmt.Errorf("%w %q", ErrUnknownCurrency, currency)
	}
	return e, nil
}

// Money is an exact amount in one currency. The zero value (no currency, zero
// amount) is a neutral element for Add, which makes sums easy to start.
type Money struct {
	Amount   decimal.Decimal
	Currency string
}

// AmountError explains why an amount was refused; Rule is written for the agent.
type AmountError struct {
	Input string
	Rule  string
}

func (e *AmountError) Error() string {
	if e.Input == "" {
		return "amount: " + e.Rule
	}
	return fmt.Sprintf("amount %q: %s", e.Input, e.Rule)
}

// ParseAmount reads a non-negative decimal amount in major units with at most
// as many decimals as the currency allows. The grammar is deliberately narrow:
// digits, an optional point and fraction. No sign, exponent, spaces, thousands
// separators, Unicode minus or NaN: shopspring/decimal accepts several of
// those and each one is a way to refund the wrong amount.
func ParseAmount(s, currency string) (Money, error) {
	exp, err := Exponent(currency)
	if err != nil {
		return Money{}, err
	}
	if s == "" {
		return Money{}, &AmountError{Rule: "is required"}
	}
	if len(s) > maxAmountLen {
		return Money{}, &AmountError{Input: s[:maxAmountLen] + "…", Rule: "is too long"}
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if intPart == "" || !allDigits(intPart) || (hasPoint && (frac == "" || !allDigits(frac))) {
		return Money{}, &AmountError{Input: s, Rule: "must be digits with an optional decimal point, like 12.50"}
	}
	if len(strings.TrimLeft(intPart, "0")) > maxIntDigits {
		return Money{}, &AmountError{Input: s, Rule: fmt.Sprintf("is too large (more than %d digits before the point)", maxIntDigits)}
	}
	if int32(len(frac)) > exp {
		if exp == 0 {
			return Money{}, &AmountError{Input: s, Rule: currency + " has no minor unit: whole amounts only"}
		}
		return Money{}, &AmountError{Input: s, Rule: fmt.Sprintf("%s allows at most %d decimals", currency, exp)}
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Money{}, &AmountError{Input: s, Rule: "is not a number"}
	}
	return Money{Amount: d, Currency: currency}, nil
}

// ParseJSONAmount decodes an amount as providers send it: a JSON string
// ("20.00") or a JSON number (20.0). null, NaN, exponents and the rest of what
// ParseAmount refuses are refused here too.
func ParseJSONAmount(raw []byte, currency string) (Money, error) {
	s := strings.TrimSpace(string(raw))
	switch {
	case s == "" || s == "null":
		return Money{}, &AmountError{Rule: "is missing (null)"}
	case len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"':
		s = s[1 : len(s)-1]
	}
	return ParseAmount(s, currency)
}

// FromMinor converts an integer count of minor units (cents, fils, yen).
func FromMinor(minor int64, currency string) (Money, error) {
	exp, err := Exponent(currency)
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: decimal.New(minor, -exp), Currency: currency}, nil
}

// Minor converts to an integer count of minor units. It fails rather than
// rounds when the amount has more decimals than the currency allows.
func (m Money) Minor() (int64, error) {
	exp, err := Exponent(m.Currency)
	if err != nil {
		return 0, err
	}
	shifted := m.Amount.Shift(exp)
	if !shifted.Equal(shifted.Truncate(0)) {
		return 0, &AmountError{Input: m.Amount.String(), Rule: fmt.Sprintf("%s allows at most %d decimals", m.Currency, exp)}
	}
	if !shifted.BigInt().IsInt64() {
		return 0, &AmountError{Input: m.Amount.String(), Rule: "is too large"}
	}
	return shifted.IntPart(), nil
}

// Fixed formats the amount with exactly the currency's number of decimals, the
// canonical form used in request bodies, confirmations and the journal.
func (m Money) Fixed() string {
	exp, err := Exponent(m.Currency)
	if err != nil {
		return m.Amount.String()
	}
	return m.Amount.StringFixed(exp)
}

// String is "12.50 USD"; an empty currency prints the bare amount.
func (m Money) String() string {
	if m.Currency == "" {
		return m.Amount.String()
	}
	return m.Fixed() + " " + m.Currency
}

// IsZero reports whether the amount is zero.
func (m Money) IsZero() bool { return m.Amount.IsZero() }

// IsPositive reports whether the amount is above zero.
func (m Money) IsPositive() bool { return m.Amount.IsPositive() }

// ErrCurrencyMismatch is returned when two amounts in different currencies meet.
var ErrCurrencyMismatch = errors.New("currency mismatch")

func (m Money) join(o Money) (string, error) {
	switch {
	case m.Currency == o.Currency:
		return m.Currency, nil
	case m.Currency == "" && m.Amount.IsZero():
		return o.Currency, nil
	case o.Currency == "" && o.Amount.IsZero():
		return m.Currency, nil
	}
	return "", fmt.Errorf("%w: %s and %s", ErrCurrencyMismatch, m.Currency, o.Currency)
}

// Add returns m+o; both must be in one currency (a zero Money{} adapts).
func (m Money) Add(o Money) (Money, error) {
	cur, err := m.join(o)
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: m.Amount.Add(o.Amount), Currency: cur}, nil
}

// Sub returns m-o; both must be in one currency (a zero Money{} adapts).
func (m Money) Sub(o Money) (Money, error) {
	cur, err := m.join(o)
	if err != nil {
		return Money{}, err
	}
	return Money{Amount: m.Amount.Sub(o.Amount), Currency: cur}, nil
}

// Cmp compares two amounts of one currency: -1, 0 or +1.
func (m Money) Cmp(o Money) (int, error) {
	if _, err := m.join(o); err != nil {
		return 0, err
	}
	return m.Amount.Cmp(o.Amount), nil
}

// Zero is a zero amount in the given currency.
func Zero(currency string) Money { return Money{Amount: decimal.Zero, Currency: currency} }

// MustParse is ParseAmount for constants in tests and seed data; it panics on error.
func MustParse(s, currency string) Money {
	m, err := ParseAmount(s, currency)
	if err != nil {
		panic(err)
	}
	return m
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
