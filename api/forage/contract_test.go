package forage

import (
	"encoding/json"
	"testing"

	"paydesk/api/contracttest"
	"paydesk/model"
)

// The client side of api/testdata/contract/forage: each published example
// decodes to the model values it means.

func TestContractFixturesDecode(t *testing.T) {
	contracttest.Run(t, "forage", []contracttest.Case{
		{File: "order.json", Check: func(t *testing.T, b []byte) {
			o, _, err := decodeOrderObject(b)
			if err != nil {
				t.Fatal(err)
			}
			if o.Ref != "e0f7607d5f" || o.Status != model.StatusDraft || o.CustomerID != "abc123" || o.ExternalOrderID != "" ||
				o.SuccessDate != nil || len(o.Payments) != 0 || len(o.Refunds) != 0 {
				t.Errorf("order %+v", o)
			}
		}},
		{File: "order_payment.json", Check: func(t *testing.T, b []byte) {
			p, _, err := decodePayment(b)
			if err != nil {
				t.Fatal(err)
			}
			sameMoney(t, "amount", p.Amount, usd("20.00"))
			if p.ID != "93c7dad6b5" || p.OrderID != "dee3c3045e" || p.FundingType != "ebt_snap" ||
				p.Status != model.StatusRequiresAction && p.Status != model.StatusDraft || p.ProviderStatus != "requires_confirmation" ||
				p.PaymentMethod != "485dffb5b0" || p.SuccessDate != nil || p.Created.IsZero() {
				t.Errorf("payment %+v", p)
			}
		}},
		{File: "order_refund.json", Check: func(t *testing.T, b []byte) {
			r, err := decodeRefund(b)
			if err != nil {
				t.Fatal(err)
			}
			sameMoney(t, "amount", r.Amount, usd("20.00"))
			// requires_confirmation is not final: the refund may still move
			// money, so it is in flight, never failed.
			if r.ID != "1ccabfg754" || r.OrderID != "e0f7607d5f" || r.PaymentID != "f587edf124" ||
				r.ProviderStatus != "requires_confirmation" || r.Status.Final() || r.Status == model.StatusFailed ||
				r.Reason != "Order could not be delivered." || r.Receipt != nil {
				t.Errorf("refund %+v", r)
			}
		}},
		{File: "receipt.json", Check: func(t *testing.T, b []byte) {
			var w wireReceipt
			if err := json.Unmarshal(b, &w); err != nil {
				t.Fatal(err)
			}
			r := decodeReceipt(&w)
			if r == nil || r.RefNumber != "591bbfe14a" || r.Last4 != "5455" || r.Message != "Approved" || r.TransactionType != "Order" {
				t.Errorf("receipt %+v", r)
			}
		}},
		{File: "order_report_page.json", Check: func(t *testing.T, b []byte) {
			var w wireReport
			if err := json.Unmarshal(b, &w); err != nil {
				t.Fatal(err)
			}
			paid, err := decodeReportRow(w.Results[0])
			if err != nil {
				t.Fatal(err)
			}
			// Total 27.05 with EBT paid 11.54: the card paid the rest.
			sameMoney(t, "snap", paid.Amounts[0], usd("10.00"))
			sameMoney(t, "cash", paid.Amounts[1], usd("1.54"))
			sameMoney(t, "card", paid.Amounts[2], usd("15.51"))
			sameMoney(t, "total", paid.Total, usd("27.05"))
			if paid.Ref != "3ee466e0ef" || paid.Status != model.StatusSucceeded || !paid.Created.IsZero() || paid.Reference != "" {
				t.Errorf("row %+v", paid)
			}
			draft, err := decodeReportRow(w.Results[1])
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range draft.Amounts {
				if a != (model.Money{}) {
					t.Errorf("unpaid column %d = %v, want not known", i, a)
				}
			}
			sameMoney(t, "eligible total", draft.Total, usd("19.00"))
		}},
		{File: "error.json", Check: func(t *testing.T, b []byte) {
			e := decodeError(404, nil, b)
			if e == nil || e.Code != "resource_not_found" || e.Message == "" {
				t.Errorf("error %+v", e)
			}
		}},
		{File: "error_detail.json", Check: func(t *testing.T, b []byte) {
			e := decodeError(401, nil, b)
			if e == nil || e.Message != "Authentication credentials were not provided." {
				t.Errorf("error %+v", e)
			}
		}},
	})
}
