package api

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"paydesk/model"
)

// EnvRefundLimits sets the refund limits of agents and approvers for
// `paydesk serve` (see ParseRefundLimits).
const EnvRefundLimits = "PAYDESK_REFUND_LIMITS"

// ParseRefundLimits reads the limits agents and approvers refund up to in
// one action: a bare amount is the limit in every currency ("250.00"), and
// CUR=AMOUNT pairs set one currency each ("USD=100.00,SAR=400.00,KWD=30.000"),
// with "*=AMOUNT" for the currencies not named. "" is DefaultRefundLimits.
// An amount must fit its currency (no third decimal for SAR): a limit the
// confirmation could not show exactly is refused, naming the pair.
func ParseRefundLimits(s string) (RefundLimits, error) {
	l := DefaultRefundLimits()
	s = strings.TrimSpace(s)
	if s == "" {
		return l, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		cur, amt, pair := strings.Cut(part, "=")
		if !pair {
			cur, amt = "*", part
		}
		cur, amt = strings.ToUpper(strings.TrimSpace(cur)), strings.TrimSpace(amt)
		if cur == "*" {
			v, err := decimal.NewFromString(amt)
			if err != nil || v.Sign() <= 0 || v.Exponent() < -3 {
				return RefundLimits{}, fmt.Errorf("%s: %q is not a positive amount (at most 3 decimals)", EnvRefundLimits, part)
			}
			l.Default = v
			continue
		}
		m, err := model.ParseAmount(amt, cur)
		if err != nil {
			return RefundLimits{}, fmt.Errorf("%s: %q: %v", EnvRefundLimits, part, err)
		}
		if m.Amount.Sign() <= 0 {
			return RefundLimits{}, fmt.Errorf("%s: %q: a limit must be more than zero", EnvRefundLimits, part)
		}
		if l.PerCurrency == nil {
			l.PerCurrency = map[string]decimal.Decimal{}
		}
		l.PerCurrency[cur] = m.Amount
	}
	return l, nil
}

// String is the limits as ParseRefundLimits reads them.
func (l RefundLimits) String() string {
	parts := []string{"*=" + l.Default.String()}
	for _, c := range slices.Sorted(maps.Keys(l.PerCurrency)) {
		parts = append(parts, c+"="+l.PerCurrency[c].String())
	}
	return strings.Join(parts, ",")
}
