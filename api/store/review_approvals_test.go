package store_test

import (
	"testing"

	"paydesk/api/store"
)

// Four eyes need two known pairs of eyes: an approval whose approver has no
// name or no key fingerprint (a session whose identity was not filled in, a
// caller passing zero values) must not count as "a different person". With
// an empty key, "approverKey != MakerKey" held for anyone, the maker included.
func TestReviewApprovalNeedsANamedApprover(t *testing.T) {
	for _, c := range []struct{ name, key string }{
		{"", ""},
		{"", "SHA256:boss"},
		{"desk-1", ""}, // the maker's own name, no key
		{"boss", ""},
		{"  ", "SHA256:boss"},
	} {
		a, _ := openFiles(t)
		req, err := a.Approvals().Request(store.Approval{Provider: "forage", Action: "refund_payment", OrderID: "o1", PaymentID: "p1",
			Amount: "250.00", Currency: "USD", Maker: "desk-1", MakerKey: "SHA256:maker"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Approvals().Decide(req.ID, c.name, c.key, true)
		if err == nil || got.State == store.ApprovalApproved {
			t.Errorf("approver %q key %q: approved (state %s, err %v)", c.name, c.key, got.State, err)
		}
	}
}
