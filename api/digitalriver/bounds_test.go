package digitalriver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/time/rate"

	"paydesk/api"
	sbx "paydesk/api/sandbox/digitalriver"
	"paydesk/model"

	"paydesk/api/sandbox/sandboxtest"
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

// A refund holding a million metadata keys is read with the first
// model.MaxReadMetadataKeys and marked; the marker never becomes a key.
// A refund whose charges list is longer than api.MaxListLen is refused,
// naming the list.
func TestRefundBoundsAtDecode(t *testing.T) {
	const n = 1_000_000
	r, err := decodeRefund(fixtureWith(t, "testdata/seed003_refund.json", "metadata", sandboxtest.ManyKeys(n)))
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

// An order's refunds are one list however many pages they come in: a
// provider that pages on and on (each page within bounds) is refused once
// the pages together pass api.MaxListLen refunds or
// api.MaxAnswerMetadataKeys metadata keys.
func TestOrderRefundPagesAreOneList(t *testing.T) {
	ref, err := os.ReadFile("testdata/seed003_refund.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		perPage  int
		metadata []byte
		metaErr  bool
	}{
		{"refunds", 100, []byte(`{"a":"b"}`), false},
		{"metadata", 1, sandboxtest.ManyKeys(model.MaxReadMetadataKeys), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, sbx.Options{Orders: 20, Seed: 4})
			orderID := f.scenario("partly_refunded")[0]
			sandbox := f.srv.Config.Handler
			var pages atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/refunds" {
					sandbox.ServeHTTP(w, r)
					return
				}
				page := pages.Add(1)
				var items [][]byte
				for i := range c.perPage {
					var obj map[string]json.RawMessage
					_ = json.Unmarshal(ref, &obj)
					obj["id"], _ = json.Marshal(fmt.Sprintf("re_%d_%d", page, i))
					obj["orderId"], _ = json.Marshal(orderID)
					obj["metadata"] = c.metadata
					b, _ := json.Marshal(obj)
					items = append(items, b)
				}
				fmt.Fprintf(w, `{"hasMore":true,"data":[%s]}`, bytes.Join(items, []byte(",")))
			}))
			t.Cleanup(srv.Close)
			cl, err := New(Config{BaseURL: srv.URL, APIKey: api.NewSecret(testKey), Limiter: rate.NewLimiter(rate.Inf, 1)})
			if err != nil {
				t.Fatal(err)
			}
			_, err = cl.GetOrder(context.Background(), orderID)
			var be *api.BoundsError
			if !errors.As(err, &be) || be.Metadata != c.metaErr || !strings.Contains(be.Field, orderID) {
				t.Fatalf("after %d pages: %v", pages.Load(), err)
			}
			if n := pages.Load(); n > 12 {
				t.Fatalf("read %d pages before refusing", n)
			}
		})
	}
}
