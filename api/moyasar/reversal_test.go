package moyasar

import (
	"encoding/json"
	"fmt"
	"testing"

	"paydesk/model"
)

// reversalOrder is an order with a 100.00 SAR purchase, and a refund of
// refundAmt whose status is refundStatus, optionally undone by a reversal
// transaction with the given status and reason.
func reversalOrder(refundStatus string, reversal string, reason string, orderRefunded int64) []byte {
	txns := `{"id":"01900000-0000-7000-8000-000000000001","status":"approved","type":"purchase","source_type":"internet",
	  "reverse_reason":null,"justification":null,"reversed_transaction_id":null,"message":"APPROVED","response_code":"00",
	  "retrieval_reference":"501012345678","stan":"000101","auth_code":"A1B2C3","amount":10000,"refunded_amount":0,
	  "created_at":"2025-01-10T09:00:01Z"},
	 {"id":"01900000-0000-7000-8000-0000000000aa","status":"` + refundStatus + `","type":"refund","source_type":"internet",
	  "reverse_reason":null,"justification":null,"reversed_transaction_id":null,"message":"TIMEOUT","response_code":null,
	  "retrieval_reference":"501212345679","stan":"000102","auth_code":null,"amount":4000,"refunded_amount":0,
	  "created_at":"2025-01-12T11:30:00Z"}`
	if reversal != "" {
		txns += `,{"id":"01900000-0000-7000-8000-0000000000bb","status":"` + reversal + `","type":"reversal","source_type":"internet",
	  "reverse_reason":"` + reason + `","justification":null,"reversed_transaction_id":"01900000-0000-7000-8000-0000000000aa",
	  "message":"APPROVED","response_code":"00","retrieval_reference":"501212345680","stan":"000103","auth_code":null,
	  "amount":4000,"refunded_amount":0,"created_at":"2025-01-12T11:31:00Z"}`
	}
	return []byte(fmt.Sprintf(`{"id":"01900000-0000-7000-8000-00000000000f","currency":"SAR","amount":10000,
	 "captured_amount":10000,"refunded_amount":%d,"voided_amount":0,"description":"x",
	 "created_at":"2025-01-10T09:00:00Z","updated_at":"2025-01-12T11:31:00Z",
	 "source":{"type":"card","scheme":"mada","first_digits":"44655200","last_digits":"0005","month":3,"year":2028},
	 "transactions":[%s]}`, orderRefunded, txns))
}

// TestReversalResolvesATimedOutRefund: a refund whose outcome was unknown
// (timeout) and that the gateway later reversed did not refund anything; it
// resolves to failed ("not refunded") and frees its amount. Without the
// reversal (or with one not approved) it stays unknown and holds the amount.
func TestReversalResolvesATimedOutRefund(t *testing.T) {
	for _, reason := range []string{"request_timeout", "gateway_timeout", "response_error", "delivery_error"} {
		o, err := DecodeOrder(reversalOrder("timeout", "approved", reason, 0))
		if err != nil {
			t.Fatal(err)
		}
		r := o.Refunds[0]
		if r.Status != model.StatusFailed || r.ProviderStatus != "reversed" || r.LastError == nil || r.LastError.Code != reason {
			t.Fatalf("%s: reversed refund %s (%s) %+v", reason, r.Status, r.ProviderStatus, r.LastError)
		}
		if o.AvailableToRefund.String() != "100.00 SAR" || o.Status != model.StatusSucceeded {
			t.Fatalf("%s: the reversed refund still holds money: available %s, order %s", reason, o.AvailableToRefund, o.Status)
		}
		if len(o.Refunds) != 1 || len(o.Payments) != 1 {
			t.Fatalf("%s: the reversal became a payment or refund: %d/%d", reason, len(o.Payments), len(o.Refunds))
		}
		if v := field(o.Fields, "transaction 01900000-0000-7000-8000-0000000000bb"); v == "" {
			t.Fatalf("%s: the reversal is not shown on the order", reason)
		}
	}
	for _, rev := range []string{"", "initiated", "failed"} {
		o, err := DecodeOrder(reversalOrder("timeout", rev, "request_timeout", 0))
		if err != nil {
			t.Fatal(err)
		}
		if r := o.Refunds[0]; r.Status != model.StatusUnknown || o.AvailableToRefund.String() != "60.00 SAR" {
			t.Fatalf("reversal %q: refund %s, available %s", rev, r.Status, o.AvailableToRefund)
		}
	}
}

// TestRefundedDerivedFromRefundTransactions: in the published example the
// capture's refunded_amount stays 0 after a full refund; what was refunded
// comes from the refund transactions, for the order and for the payment.
func TestRefundedDerivedFromRefundTransactions(t *testing.T) {
	o, err := DecodeOrder(reversalOrder("approved", "", "", 0)) // order says refunded_amount 0 too
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != model.StatusPartlyRefunded || o.AvailableToRefund.String() != "60.00 SAR" {
		t.Fatalf("order %s, available %s", o.Status, o.AvailableToRefund)
	}
	p := o.Payments[0]
	if got := o.RefundableOn(&p); got.String() != "60.00 SAR" {
		t.Fatalf("refundable on the capture %s", got)
	}
	seed, err := DecodeOrder(readTestdata(t, "seed002_refund_200.json"))
	if err != nil {
		t.Fatal(err)
	}
	sp := seed.Payments[0]
	if got := seed.RefundableOn(&sp); !got.IsZero() {
		t.Fatalf("seed example: capture refunded_amount 0 read as still refundable %s", got)
	}
}

// TestVerifyAndExtensionAreNotPayments: zero-amount verify and extension
// transactions are details of the order, not payments or refunds.
func TestVerifyAndExtensionAreNotPayments(t *testing.T) {
	body := []byte(`{"id":"01900000-0000-7000-8000-00000000000e","currency":"SAR","amount":10000,"captured_amount":0,
	 "refunded_amount":0,"voided_amount":0,"created_at":"2025-01-10T09:00:00Z","updated_at":"2025-01-10T09:00:00Z",
	 "transactions":[
	  {"id":"01900000-0000-7000-8000-000000000011","status":"approved","type":"verify","source_type":"merchant","amount":0,"refunded_amount":0,"created_at":"2025-01-10T08:59:00Z"},
	  {"id":"01900000-0000-7000-8000-000000000012","status":"approved","type":"authorize","source_type":"internet","amount":10000,"refunded_amount":0,"created_at":"2025-01-10T09:00:00Z"},
	  {"id":"01900000-0000-7000-8000-000000000013","status":"approved","type":"extension","source_type":"internet","amount":0,"refunded_amount":0,"created_at":"2025-01-11T09:00:00Z"}]}`)
	o, err := DecodeOrder(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Payments) != 1 || o.Payments[0].ID != "01900000-0000-7000-8000-000000000012" || len(o.Refunds) != 0 ||
		o.Status != model.StatusRequiresAction {
		t.Fatalf("payments %+v refunds %d status %s", o.Payments, len(o.Refunds), o.Status)
	}
	for _, id := range []string{"011", "013"} {
		if field(o.Fields, "transaction 01900000-0000-7000-8000-000000000"+id) == "" {
			t.Fatalf("transaction %s not shown", id)
		}
	}
}

// A list row says what was refunded the way the order does: from the refund
// transactions when the order's refunded_amount stays 0 (the published
// example), so the list's Refunded column and the order screen agree.
func TestSummaryRefundedDerivedFromRefundTransactions(t *testing.T) {
	var w wireOrder
	if err := json.Unmarshal(reversalOrder("approved", "", "", 0), &w); err != nil {
		t.Fatal(err)
	}
	s := summary(&w)
	o, err := DecodeOrder(reversalOrder("approved", "", "", 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Amounts) != 2 || s.Amounts[1].String() != o.Refunded().String() || s.Amounts[1].IsZero() {
		t.Fatalf("list row refunded %v, order refunded %s", s.Amounts, o.Refunded())
	}
}
