package ui

import (
	"github.com/shopspring/decimal"

	"paydesk/model"
)

// compactRow lets a loaded row share what it can before it is kept: each
// decimal holds its own big.Int (about 40 bytes), and list rows are full of
// zeros (nothing refunded, no cash paid) and of totals equal to an amount
// column. Decimals are never changed in place, so sharing is safe.
func compactRow(o *model.OrderSummary) {
	for i := range o.Amounts {
		if o.Amounts[i].Amount.IsZero() {
			o.Amounts[i].Amount = decimal.Decimal{}
		}
	}
	if o.Total.Amount.IsZero() {
		o.Total.Amount = decimal.Decimal{}
		return
	}
	for i := range o.Amounts {
		if o.Amounts[i].Amount.Equal(o.Total.Amount) {
			o.Total.Amount = o.Amounts[i].Amount
			return
		}
	}
}
