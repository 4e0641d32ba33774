package forage_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

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

// TestReportCursorThatNeverEnds: a report that answers every cursor with no
// rows and yet another "next" (or the same cursor again) does not hold a
// list call in a loop of requests until its deadline: the Forage budget
// is shared by every agent of the host, and the indexer charges one list
// call as one request.
func TestReportCursorThatNeverEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		next func(n int64, r *http.Request) string
	}{
		{"empty pages, each with a new cursor", func(n int64, r *http.Request) string {
			return "http://" + r.Host + "/reporting/orders/?cursor=c" + strconv.FormatInt(n, 10)
		}},
		{"empty pages, the same cursor", func(_ int64, r *http.Request) string {
			return "http://" + r.Host + "/reporting/orders/?cursor=again"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var asked atomic.Int64
			e := newEnv(t, envOpt{shim: func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/reporting/orders/" {
						next.ServeHTTP(w, r)
						return
					}
					w.Header().Set("Content-Type", "application/json")
					_ = json.NewEncoder(w).Encode(map[string]any{"next": tc.next(asked.Add(1), r), "previous": nil, "results": []any{}})
				})
			}})
			now := e.local.Now()
			c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			start := time.Now()
			_, err := e.client.ListOrders(c, api.OrderQuery{From: now, To: now, Limit: 1000})
			if n := asked.Load(); n > 2 {
				t.Fatalf("%d report requests in %v for one list call (err %v)", n, time.Since(start).Round(time.Millisecond), err)
			}
			if err == nil {
				t.Fatal("a report that never ends read as a whole list")
			}
			t.Logf("refused after %d requests: %v", asked.Load(), err)
		})
	}
}

// TestReportRepeatingCursorIsRefused: a report that brings rows but names
// the cursor it was just sent as its next page would list the same rows
// again and again; the list call is refused at the repeat.
func TestReportRepeatingCursorIsRefused(t *testing.T) {
	var asked atomic.Int64
	e := newEnv(t, envOpt{orders: 3000, shim: func(next http.Handler) http.Handler {
		inner := reportShim(func(w map[string]any, r *http.Request) {
			w["next"] = "http://" + r.Host + "/reporting/orders/?cursor=again"
		})(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/reporting/orders/" {
				asked.Add(1)
				q := r.URL.Query()
				q.Del("cursor") // the sandbox would refuse a cursor it did not make
				r.URL.RawQuery = q.Encode()
			}
			inner.ServeHTTP(w, r)
		})
	}})
	now := e.local.Now()
	_, err := e.client.ListOrders(ctx(t), api.OrderQuery{From: now, To: now, Limit: 1000})
	if err == nil || api.StatusOf(err) != http.StatusOK {
		t.Fatalf("a report repeating its cursor: %v", err)
	}
	if n := asked.Load(); n != 2 {
		t.Fatalf("%d report requests, want 2 (the first page, and the repeat that is refused)", n)
	}
}
