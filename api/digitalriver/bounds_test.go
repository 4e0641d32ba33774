package digitalriver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"paydesk/api"
	"paydesk/model"
)

// fixtureWith replaces one field of a fixture object with raw JSON.
func fixtureWith(t *testing.T, path, field string, raw []byte) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	obj[field] = raw
	out, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func manyKeys(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%07d":""`, i)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// A refund holding a million metadata keys is read with the first
// model.MaxReadMetadataKeys and marked; the marker never becomes a key.
// A refund whose charges list is longer than api.MaxListLen is refused,
// naming the list.
func TestRefundBoundsAtDecode(t *testing.T) {
	const n = 1_000_000
	r, err := decodeRefund(fixtureWith(t, "testdata/seed003_refund.json", "metadata", manyKeys(n)))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Metadata) != model.MaxReadMetadataKeys || r.MetadataTotal != n {
		t.Fatalf("%d keys kept, total %d", len(r.Metadata), r.MetadataTotal)
	}
	if _, ok := r.Metadata[cutKey]; ok {
		t.Fatal("the cut marker leaked into the metadata")
	}
	if i := slices.IndexFunc(r.Fields, func(f model.Field) bool { return f.Name == "metadata" }); i < 0 || !strings.Contains(r.Fields[i].Value, "truncated") {
		t.Fatal("the refund's fields do not say its metadata was cut")
	}
	r, err = decodeRefund(fixtureWith(t, "testdata/seed003_refund.json", "metadata", []byte(`{"a":"x","n":3}`)))
	if err != nil || len(r.Metadata) != 2 || r.MetadataTotal != 0 || r.Metadata["n"] != "3" {
		t.Fatalf("small metadata: %v %v %d", err, r.Metadata, r.MetadataTotal)
	}
	charges := "[" + strings.TrimSuffix(strings.Repeat(`{"id":"c"},`, api.MaxListLen+1), ",") + "]"
	_, err = decodeRefund(fixtureWith(t, "testdata/seed003_refund.json", "charges", []byte(charges)))
	var be *api.BoundsError
	if !errors.As(err, &be) || be.Field != "charges" {
		t.Fatalf("a %d-charge refund: %v", api.MaxListLen+1, err)
	}
}
