package moyasar

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"paydesk/api"
)

// An order whose transactions list is longer than api.MaxListLen is refused
// at decode, naming the list, rather than decoded in full.
func TestTransactionsBoundAtDecode(t *testing.T) {
	b, err := os.ReadFile("testdata/seed002_refund_200.json")
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	obj["transactions"] = json.RawMessage("[" + strings.TrimSuffix(strings.Repeat(`{"id":"t","amount":1,"refunded_amount":0},`, api.MaxListLen+1), ",") + "]")
	body, _ := json.Marshal(obj)
	_, err = DecodeOrder(body)
	var be *api.BoundsError
	if !errors.As(err, &be) || be.Field != "transactions" {
		t.Fatalf("a %d-transaction order: %v", api.MaxListLen+1, err)
	}
	if _, err := DecodeOrder(b); err != nil {
		t.Fatalf("the plain fixture: %v", err)
	}
}
