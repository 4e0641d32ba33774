package digitalriver

import (
	"encoding/json"
	"testing"

	"paydesk/api/contracttest"
	"paydesk/model"
)

// The client side of api/testdata/contract/digitalriver: each published
// example decodes to the model values it means, and the request bodies the
// client sends have the documented keys.

func TestContractFixturesDecode(t *testing.T) {
	refund := func(t *testing.T, r *model.Refund) {
		t.Helper()
		// "created" is not a documented state: unknown, never failed.
		if r.ID != "ref_5823594809" || r.OrderID != "ord_6645940010" || r.Amount.String() != "9.99 USD" ||
			r.Status != model.StatusUnknown || r.ProviderStatus != "created" || r.Reason != "requested_by_customer" ||
			r.FailureReason != "expired_or_canceled_card" || r.Metadata["coupon"] != "iOS" || r.PaymentID != "c5b02ace-115d-4433-8841-8165d4c927a8" {
			t.Errorf("refund %+v", r)
		}
		// No updatedTime on the refund object: Updated comes from the
		// newest charge-level entry.
		if r.Updated.IsZero() || r.Updated.Before(r.Created) {
			t.Errorf("updated %v, created %v", r.Updated, r.Created)
		}
	}
	order := func(t *testing.T, w *wireOrder) {
		t.Helper()
		o, err := w.toModel(nil)
		if err != nil {
			t.Fatal(err)
		}
		if o.ID != "240118370336" || o.Currency != "USD" || o.Total.String() != "42.95 USD" || o.ExternalOrderID != "7765374748" ||
			o.Status != model.StatusPartlyRefunded || o.AvailableToRefund == nil || o.AvailableToRefund.String() != "37.95 USD" {
			t.Fatalf("order %+v", o)
		}
		if len(o.Payments) != 1 {
			t.Fatalf("charges under payment.charges not read: %d payments", len(o.Payments))
		}
		p := o.Payments[0]
		if p.ID != "c5b02ace-115d-4433-8841-8165d4c927a8" || p.Status != model.StatusSucceeded || p.Amount.String() != "42.95 USD" ||
			p.PaymentMethod != "376e6777-d92b-4d35-a460-44f29327a18e" || p.SuccessDate == nil {
			t.Errorf("charge %+v", p)
		}
		if v := fieldOf(p.Fields, "source.type"); v != "creditCard" {
			t.Errorf("source type %q", v)
		}
	}
	contracttest.Run(t, "digitalriver", []contracttest.Case{
		{File: "refund.json", Check: func(t *testing.T, b []byte) {
			r, err := decodeRefund(b)
			if err != nil {
				t.Fatal(err)
			}
			refund(t, r)
		}},
		{File: "refund_list.json", Check: func(t *testing.T, b []byte) {
			var l wireList[wireRefund]
			if err := json.Unmarshal(b, &l); err != nil {
				t.Fatal(err)
			}
			if !l.HasMore || len(l.Data) != 1 {
				t.Fatalf("list %+v", l)
			}
			r, err := l.Data[0].toModel()
			if err != nil {
				t.Fatal(err)
			}
			refund(t, r)
		}},
		{File: "order.json", Check: func(t *testing.T, b []byte) {
			var w wireOrder
			if err := json.Unmarshal(b, &w); err != nil {
				t.Fatal(err)
			}
			order(t, &w)
		}},
		{File: "order_list.json", Check: func(t *testing.T, b []byte) {
			var l wireList[wireOrder]
			if err := json.Unmarshal(b, &l); err != nil {
				t.Fatal(err)
			}
			if l.HasMore || len(l.Data) != 1 {
				t.Fatalf("list hasMore %v, %d orders", l.HasMore, len(l.Data))
			}
			order(t, &l.Data[0])
		}},
		{File: "error_400.json", Check: func(t *testing.T, b []byte) {
			e := decodeError(400, nil, b)
			if e == nil || e.Code != "invalid_parameter" || len(e.Fields) != 1 || e.Fields[0].Field != "amountRequested" {
				t.Fatalf("error %+v", e)
			}
			// The refund form shows it beside the amount the agent typed.
			if _ = requestFields(e); e.Fields[0].Field != "amount" {
				t.Errorf("over-refund field %q, want amount", e.Fields[0].Field)
			}
		}},
		{File: "refund_create_request.json", Check: func(t *testing.T, b []byte) {
			// Every key the client sends is a documented request key.
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			sent, _ := json.Marshal(createBody{OrderID: "o", Currency: "USD", Amount: "1.00", Reason: "r", Metadata: model.Metadata{}})
			var ours map[string]json.RawMessage
			_ = json.Unmarshal(sent, &ours)
			for k := range ours {
				if _, ok := doc[k]; !ok {
					t.Errorf("the client sends %q, which the documented body does not have", k)
				}
			}
		}},
		{File: "refund_update_request.json", Check: func(t *testing.T, b []byte) {
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(b, &doc); err != nil || len(doc) != 1 || doc["metadata"] == nil {
				t.Fatalf("update body %s", b)
			}
		}},
	})
}

func fieldOf(fs []model.Field, name string) string {
	for _, f := range fs {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}
