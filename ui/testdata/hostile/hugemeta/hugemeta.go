// Package hugemeta builds the misbehaving provider answer that both the
// memory test (TestMillionMetadataKeysStayBounded in ui/bounds_test.go) and
// the hand-run hostile server (ui/testdata/hostile) use: a payment whose
// metadata holds a huge number of keys. Kept in one place so the answer
// measured by hand is the answer the test bounds. It lives under testdata,
// so go build ./... leaves it alone; only those two import it.
package hugemeta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
)

// Keys is a metadata object of n keys, 13 bytes each ("k000000":""), so a
// million keys is about 13 MB: under the transport's 16 MB body cap.
func Keys(n int) []byte {
	var b bytes.Buffer
	b.Grow(n*14 + 2)
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%06d":""`, i)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// OnPayments answers every GET whose path payments accepts with next's
// answer, its first payment's metadata (or the one payment's, for a single
// object) swapped for huge. Every other request goes to next untouched.
func OnPayments(next http.Handler, payments func(path string) bool, huge []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !payments(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var list []map[string]json.RawMessage
		var one map[string]json.RawMessage
		switch {
		case json.Unmarshal(body, &list) == nil && len(list) > 0:
			list[0]["metadata"] = huge
			body, _ = json.Marshal(list)
		case json.Unmarshal(body, &one) == nil:
			one["metadata"] = huge
			body, _ = json.Marshal(one)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	})
}
