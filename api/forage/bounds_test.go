package forage

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"paydesk/model"

	"paydesk/api/sandbox/sandboxtest"
)

// withMetadata replaces the metadata of a fixture object with n keys.
func withMetadata(t *testing.T, path string, n int) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		t.Fatal(err)
	}
	obj["metadata"] = sandboxtest.ManyKeys(n)
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A payment or refund whose metadata holds a million keys is read with the
// first model.MaxReadMetadataKeys of them and says how many there were; its
// fields list stays bounded.
func TestMillionMetadataKeysAreCutAtDecode(t *testing.T) {
	const n = 1_000_000
	p, raw, err := decodePayment(withMetadata(t, "testdata/payment_seed004.json", n))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Metadata) != model.MaxReadMetadataKeys || p.MetadataTotal != n || len(raw) != model.MaxReadMetadataKeys {
		t.Fatalf("payment: %d keys kept (%d raw), total %d", len(p.Metadata), len(raw), p.MetadataTotal)
	}
	if len(p.Fields) > maxFields {
		t.Fatalf("payment: %d fields", len(p.Fields))
	}
	r, err := decodeRefund(withMetadata(t, "testdata/refund_doc.json", n))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Metadata) != model.MaxReadMetadataKeys || r.MetadataTotal != n {
		t.Fatalf("refund: %d keys kept, total %d", len(r.Metadata), r.MetadataTotal)
	}
	// An honest set is read whole and not marked.
	p, _, err = decodePayment(withMetadata(t, "testdata/payment_seed004.json", 3))
	if err != nil || len(p.Metadata) != 3 || p.MetadataTotal != 0 {
		t.Fatalf("3 keys: %v %d %d", err, len(p.Metadata), p.MetadataTotal)
	}
	if strings.Contains(model.MetadataNote(len(p.Metadata), p.MetadataTotal), "truncated") {
		t.Fatal("an honest set is marked truncated")
	}
}
