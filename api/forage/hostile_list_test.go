package forage_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"

	"paydesk/api"
)

// These tests put a provider that bends the Order Report's shape between
// the client and the sandbox: what the sandbox never sends, a real or
// broken Forage might.

// reportShim rewrites every Order Report answer with edit (the decoded
// answer of the sandbox, and the request); other requests pass unchanged.
func reportShim(edit func(w map[string]any, r *http.Request)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/reporting/orders/" {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
				return
			}
			edit(body, r)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(body)
		})
	}
}

// listAll pages a list with limit to its end and returns the order ids.
func listAll(t *testing.T, e *env, q api.OrderQuery) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		pg, err := e.client.ListOrders(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range pg.Orders {
			ids = append(ids, o.ID)
		}
		if pg.Next == "" {
			return ids
		}
		if pages > 2000 {
			t.Fatal("cursor never ends")
		}
		q.Cursor = pg.Next
	}
}

// TestReportNextOnAnotherHostIsNotFollowed: a "next" URL naming another
// host gives only its cursor; the next page is asked of the configured
// base URL (with the credentials), never of the host in "next".
func TestReportNextOnAnotherHostIsNotFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		http.Error(w, "{}", http.StatusNotFound)
	}))
	t.Cleanup(other.Close)
	honest := newEnv(t, envOpt{orders: 3000})
	want := listAll(t, honest, api.OrderQuery{Limit: 7})
	e := newEnv(t, envOpt{orders: 3000, shim: reportShim(func(w map[string]any, _ *http.Request) {
		if next, ok := w["next"].(string); ok {
			u, _ := url.Parse(next)
			u.Scheme, u.Host = "http", other.Listener.Addr().String()
			w["next"] = u.String()
		}
	})})
	got := listAll(t, e, api.OrderQuery{Limit: 7})
	if !slices.Equal(got, want) {
		t.Fatalf("with next on another host: %d orders, want the same %d in order", len(got), len(want))
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("%d requests to the host named in next", n)
	}
}

// TestReportPageLongerThanAsked: a report page with more rows than the
// limit asked (here every row of the day) loses none and repeats none: the
// client keeps what it was sent and follows the report's own cursor.
func TestReportPageLongerThanAsked(t *testing.T) {
	honest := newEnv(t, envOpt{orders: 3000})
	want := listAll(t, honest, api.OrderQuery{Limit: 7})
	e := newEnv(t, envOpt{orders: 3000, shim: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/reporting/orders/" {
				q := r.URL.Query()
				q.Set("limit", "1000")
				r.URL.RawQuery = q.Encode()
			}
			next.ServeHTTP(w, r)
		})
	}})
	got := listAll(t, e, api.OrderQuery{Limit: 7})
	if !slices.Equal(got, want) {
		t.Fatalf("with long pages: %d orders, want the same %d in order", len(got), len(want))
	}
}
