package moyasar

import (
	"encoding/json"
	"testing"

	"paydesk/api/contracttest"
	"paydesk/model"
)

// The client side of api/testdata/contract/moyasar: each published example
// decodes to the model values it means.

func TestContractFixturesDecode(t *testing.T) {
	order := func(t *testing.T, o *model.Order) {
		t.Helper()
		if o.ID != "0191f5a7-44a9-76c2-9fec-39709fdbf723" || o.Currency != "SAR" || o.Total.String() != "2623.46 SAR" ||
			o.Status != model.StatusRefunded || len(o.Payments) != 1 || len(o.Refunds) != 1 {
			t.Fatalf("order %s %s %s %s, %d payments, %d refunds", o.ID, o.Currency, o.Total, o.Status, len(o.Payments), len(o.Refunds))
		}
		p, r := o.Payments[0], o.Refunds[0]
		// The capture's own refunded_amount is 0; the refund transaction
		// says it was refunded in full.
		if p.Status != model.StatusSucceeded || !o.RefundableOn(&p).IsZero() || r.Status != model.StatusSucceeded ||
			r.PaymentID != p.ID || r.Amount.String() != "2623.46 SAR" || !o.AvailableToRefund.IsZero() {
			t.Errorf("payment %+v refund %+v", p, r)
		}
	}
	errorCase := func(status int, code, msg string, fields ...string) func(t *testing.T, b []byte) {
		return func(t *testing.T, b []byte) {
			e := decodeError(status, nil, b)
			if e == nil || e.Message != msg || e.Code != code && code != "" {
				t.Fatalf("error %+v", e)
			}
			if len(e.Fields) != len(fields) {
				t.Fatalf("fields %+v, want %v", e.Fields, fields)
			}
			for i, f := range fields {
				if e.Fields[i].Field != f {
					t.Errorf("field %d %q, want %q", i, e.Fields[i].Field, f)
				}
			}
		}
	}
	contracttest.Run(t, "moyasar", []contracttest.Case{
		{File: "order_refund_200.json", Check: func(t *testing.T, b []byte) {
			o, err := DecodeOrder(b)
			if err != nil {
				t.Fatal(err)
			}
			order(t, o)
		}},
		{File: "order_list_page.json", Check: func(t *testing.T, b []byte) {
			var l wireOrderList
			if err := json.Unmarshal(b, &l); err != nil {
				t.Fatal(err)
			}
			if len(l.Orders) != 1 || l.Meta.CurrentPage == nil || *l.Meta.CurrentPage != 1 || l.Meta.NextPage != nil {
				t.Fatalf("list %+v", l.Meta)
			}
			o, err := toOrder(&l.Orders[0])
			if err != nil {
				t.Fatal(err)
			}
			order(t, o)
		}},
		{File: "error_400.json", Check: errorCase(400, "", "Initial request is still processing.")},
		{File: "error_401.json", Check: errorCase(401, "", "Missing authentication information")},
		{File: "error_403.json", Check: errorCase(403, "", "Unauthorized")},
		{File: "error_422.json", Check: errorCase(422, "", "Data validation failed", "amount")},
	})
}
