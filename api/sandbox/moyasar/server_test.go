package moyasar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"paydesk/api/sandbox/sandboxtest"
)

var epoch = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

type harness struct {
	t     *testing.T
	url   string
	clock *sandboxtest.Clock
	key   string
}

func newHarness(t *testing.T, o Options) *harness {
	t.Helper()
	clock := sandboxtest.NewClock(epoch)
	if o.Now == nil {
		o.Now = clock.Now
	}
	if o.Seed == 0 {
		o.Seed = 42
	}
	srv := sandboxtest.Serve(t, New(o))
	return &harness{t: t, url: srv.URL, clock: clock, key: DefaultAPIKey}
}

// do sends a request and decodes the JSON answer into out (if not nil).
func (h *harness) do(method, path string, body any, out any) int {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.url+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if h.key != "" {
		req.Header.Set("Authorization", "Bearer "+h.key)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		h.t.Fatalf("%s %s: content type %q", method, path, ct)
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// Client-side mirror of the wire format; kept separate from the server's types
// on purpose so a renamed field shows up here.
type tOrder struct {
	ID       string `json:"id"`
	Merchant struct {
		ID, AcquirerID, Name, ArabicName, MerchantID, RulePrecedence string
	} `json:"merchant"`
	Currency       string  `json:"currency"`
	Amount         int64   `json:"amount"`
	CapturedAmount int64   `json:"captured_amount"`
	RefundedAmount int64   `json:"refunded_amount"`
	VoidedAmount   int64   `json:"voided_amount"`
	Description    string  `json:"description"`
	CreatedAt      string  `json:"created_at"`
	UpdatedAt      string  `json:"updated_at"`
	Source         tSource `json:"source"`
	Transactions   []tTxn  `json:"transactions"`
}

type tSource struct {
	Type        string  `json:"type"`
	Scheme      string  `json:"scheme"`
	Issuer      *string `json:"issuer"`
	FirstDigits string  `json:"first_digits"`
	LastDigits  string  `json:"last_digits"`
	Month       int     `json:"month"`
	Year        int     `json:"year"`
}

type tTxn struct {
	ID                 string  `json:"id"`
	Status             string  `json:"status"`
	Type               string  `json:"type"`
	SourceType         string  `json:"source_type"`
	Message            *string `json:"message"`
	ResponseCode       *string `json:"response_code"`
	RetrievalReference string  `json:"retrieval_reference"`
	STAN               string  `json:"stan"`
	AuthCode           *string `json:"auth_code"`
	Amount             int64   `json:"amount"`
	RefundedAmount     int64   `json:"refunded_amount"`
	CreatedAt          string  `json:"created_at"`
	// reversal transactions name what they undo and why.
	ReversedTransactionID *string `json:"reversed_transaction_id"`
	ReverseReason         *string `json:"reverse_reason"`
}

type tMeta struct {
	CurrentPage int  `json:"current_page"`
	NextPage    *int `json:"next_page"`
	PrevPage    *int `json:"prev_page"`
}

type tList struct {
	Orders []tOrder `json:"orders"`
	Meta   tMeta    `json:"meta"`
}

type tError struct {
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors"`
}

func (h *harness) all(q string) []tOrder {
	h.t.Helper()
	var out []tOrder
	for page := 1; ; page++ {
		var l tList
		if c := h.do("GET", fmt.Sprintf("/v1/orders?items=100&page=%d&%s", page, q), nil, &l); c != 200 {
			h.t.Fatalf("list page %d: %d", page, c)
		}
		out = append(out, l.Orders...)
		if l.Meta.NextPage == nil {
			return out
		}
	}
}

func (h *harness) order(id string) tOrder {
	h.t.Helper()
	var o tOrder
	if c := h.do("GET", "/v1/orders/"+id, nil, &o); c != 200 {
		h.t.Fatalf("get %s: %d", id, c)
	}
	return o
}

// find returns the first order (newest first) that pred accepts.
func (h *harness) find(pred func(tOrder) bool) tOrder {
	h.t.Helper()
	for _, o := range h.all("") {
		if pred(o) {
			return o
		}
	}
	h.t.Fatal("no seeded order matches")
	return tOrder{}
}

func plainPurchase(o tOrder) bool {
	return len(o.Transactions) == 1 && o.Transactions[0].Type == "purchase" &&
		o.Transactions[0].Status == "approved" && refundOutcomeFor(o.Source.LastDigits) == "approved"
}

func refunds(o tOrder) []tTxn {
	var out []tTxn
	for _, x := range o.Transactions {
		if x.Type == "refund" {
			out = append(out, x)
		}
	}
	return out
}

func TestAuth(t *testing.T) {
	h := newHarness(t, Options{Orders: 5, ReadOnlyAPIKey: "ro-key"})
	var e tError
	h.key = ""
	if c := h.do("GET", "/v1/orders", nil, &e); c != 401 || e.Message != "Missing authentication information" {
		t.Errorf("no key: %d %q", c, e.Message)
	}
	h.key = "wrong"
	if c := h.do("GET", "/v1/orders", nil, &e); c != 401 || e.Message != "Unauthorized" {
		t.Errorf("wrong key: %d %q", c, e.Message)
	}
	h.key = "ro-key"
	var l tList
	if c := h.do("GET", "/v1/orders", nil, &l); c != 200 || len(l.Orders) != 5 {
		t.Errorf("read-only list: %d %d", c, len(l.Orders))
	}
	if c := h.do("POST", "/v1/orders/"+l.Orders[0].ID+"/refund", map[string]any{"amount": 1}, &e); c != 403 || e.Message != "Unauthorized" {
		t.Errorf("read-only refund: %d %q", c, e.Message)
	}
	// Basic auth is not this API's scheme.
	req, _ := http.NewRequest("GET", h.url+"/v1/orders", nil)
	req.SetBasicAuth(DefaultAPIKey, "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("basic auth: %d", resp.StatusCode)
	}
}

func TestPagination(t *testing.T) {
	h := newHarness(t, Options{Orders: 60})
	var l tList
	h.do("GET", "/v1/orders", nil, &l)
	if len(l.Orders) != 25 || l.Meta.CurrentPage != 1 || l.Meta.PrevPage != nil || l.Meta.NextPage == nil || *l.Meta.NextPage != 2 {
		t.Fatalf("page 1: %d orders, meta %+v", len(l.Orders), l.Meta)
	}
	h.do("GET", "/v1/orders?page=3", nil, &l)
	if len(l.Orders) != 10 || l.Meta.NextPage != nil || l.Meta.PrevPage == nil || *l.Meta.PrevPage != 2 {
		t.Fatalf("page 3: %d orders, meta %+v", len(l.Orders), l.Meta)
	}
	h.do("GET", "/v1/orders?page=9", nil, &l)
	if len(l.Orders) != 0 || l.Meta.NextPage != nil {
		t.Fatalf("page 9: %d orders", len(l.Orders))
	}
	seen := map[string]bool{}
	var prev string
	for page := 1; page <= 7; page++ {
		h.do("GET", fmt.Sprintf("/v1/orders?items=9&page=%d", page), nil, &l)
		for _, o := range l.Orders {
			if seen[o.ID] {
				t.Fatalf("order %s on two pages", o.ID)
			}
			seen[o.ID] = true
			if prev != "" && o.CreatedAt > prev {
				t.Fatalf("default sort is not created_at desc: %s after %s", o.CreatedAt, prev)
			}
			prev = o.CreatedAt
		}
	}
	if len(seen) != 60 {
		t.Fatalf("walked %d orders, want 60", len(seen))
	}
	for _, q := range []string{"items=0", "items=101", "items=x", "page=0"} {
		var e tError
		if c := h.do("GET", "/v1/orders?"+q, nil, &e); c != 422 || e.Message != "Data validation failed" || len(e.Errors) != 1 {
			t.Errorf("%s: %d %+v", q, c, e)
		}
	}
}

func TestFilters(t *testing.T) {
	h := newHarness(t, Options{Orders: 200})
	all := h.all("")
	if len(all) != 200 {
		t.Fatalf("%d orders", len(all))
	}
	count := func(pred func(tOrder) bool) (n int) {
		for _, o := range all {
			if pred(o) {
				n++
			}
		}
		return n
	}
	check := func(q string, pred func(tOrder) bool) {
		t.Helper()
		got := h.all(q)
		if want := count(pred); len(got) != want || want == 0 {
			t.Errorf("%s: %d orders, want %d (>0)", q, len(got), want)
		}
		for _, o := range got {
			if !pred(o) {
				t.Errorf("%s: order %s does not match", q, o.ID)
			}
		}
	}
	check("currency=KWD", func(o tOrder) bool { return o.Currency == "KWD" })
	check("currency=KWD&currency=BHD", func(o tOrder) bool { return o.Currency == "KWD" || o.Currency == "BHD" })
	check("scheme=mada", func(o tOrder) bool { return o.Source.Scheme == "mada" })
	last := all[7].Source.LastDigits
	check("last_digits="+last, func(o tOrder) bool { return o.Source.LastDigits == last })
	check("amount[gte]=10000&amount[lte]=50000", func(o tOrder) bool { return o.Amount >= 10000 && o.Amount <= 50000 })
	from, to := all[150].CreatedAt, all[50].CreatedAt
	check("created_at[gte]="+url.QueryEscape(from)+"&created_at[lte]="+url.QueryEscape(to), func(o tOrder) bool {
		return o.CreatedAt >= from && o.CreatedAt <= to
	})
	day := all[100].CreatedAt[:10]
	check("created_at[gte]="+day+"&created_at[lte]="+day, func(o tOrder) bool { return o.CreatedAt[:10] == day })

	asc := h.all("sort[field]=amount&sort[dir]=asc")
	if !slices.IsSortedFunc(asc, func(a, b tOrder) int { return int(a.Amount - b.Amount) }) || len(asc) != 200 {
		t.Error("sort by amount asc")
	}
	desc := h.all("sort[field]=refunded_amount")
	for i := 1; i < len(desc); i++ {
		if desc[i].RefundedAmount > desc[i-1].RefundedAmount {
			t.Fatal("sort by refunded_amount desc")
		}
	}
	for _, q := range []string{"sort[field]=description", "sort[dir]=up", "created_at[gte]=yesterday", "amount[lte]=-1"} {
		var e tError
		if c := h.do("GET", "/v1/orders?"+q, nil, &e); c != 422 || len(e.Errors) != 1 {
			t.Errorf("%s: %d %+v", q, c, e)
		}
	}
}

func TestSeedIsDeterministicAndShaped(t *testing.T) {
	a, b := newHarness(t, Options{Orders: 300, Seed: 7}), newHarness(t, Options{Orders: 300, Seed: 7})
	oa, ob := a.all(""), b.all("")
	ja, _ := json.Marshal(oa)
	jb, _ := json.Marshal(ob)
	if !bytes.Equal(ja, jb) {
		t.Fatal("same seed and clock gave different data")
	}
	if c := newHarness(t, Options{Orders: 300, Seed: 8}).all(""); c[0].ID == oa[0].ID {
		t.Fatal("different seeds gave the same first order")
	}

	digits := func(n int) *regexp.Regexp { return regexp.MustCompile(fmt.Sprintf(`^[0-9]{%d}$`, n)) }
	bin, last4, rrn, stan := regexp.MustCompile(`^[0-9]{6,8}$`), digits(4), digits(12), digits(6)
	currencies := map[string]int{}
	kinds := map[string]int{}
	hostile := 0
	oldest := epoch.Add(-90*24*time.Hour - time.Second)
	for _, o := range oa {
		currencies[o.Currency]++
		if u, err := uuid.Parse(o.ID); err != nil || u.Version() != 7 {
			t.Errorf("order id %q is not a UUIDv7", o.ID)
		}
		created, err := time.Parse(time.RFC3339, o.CreatedAt)
		if err != nil || !strings.HasSuffix(o.CreatedAt, "Z") || created.Before(oldest) || created.After(epoch) {
			t.Errorf("created_at %q", o.CreatedAt)
		}
		if o.UpdatedAt < o.CreatedAt {
			t.Errorf("updated_at %s before created_at %s", o.UpdatedAt, o.CreatedAt)
		}
		if n := utf8.RuneCountInString(o.Description); n == 0 || n > 1024 {
			t.Errorf("description of %d runes", n)
		}
		if strings.ContainsFunc(o.Description, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) || r == 0x202e }) {
			hostile++
		}
		if !bin.MatchString(o.Source.FirstDigits) || !last4.MatchString(o.Source.LastDigits) || o.Source.Month < 1 || o.Source.Month > 12 {
			t.Errorf("source %+v", o.Source)
		}
		var capt, ref, refTxn int64
		for _, x := range o.Transactions {
			if !rrn.MatchString(x.RetrievalReference) || !stan.MatchString(x.STAN) {
				t.Errorf("txn %s rrn %q stan %q", x.ID, x.RetrievalReference, x.STAN)
			}
			if x.Type == "refund" && x.AuthCode != nil {
				t.Errorf("refund %s has an auth code", x.ID)
			}
			switch {
			case (x.Type == "purchase" || x.Type == "capture") && x.Status == "approved":
				capt += x.Amount
				refTxn += x.RefundedAmount
			case x.Type == "refund" && x.Status == "approved":
				ref += x.Amount
			}
			kinds[x.Type+"/"+x.Status]++
		}
		if capt != o.CapturedAmount || ref != o.RefundedAmount || refTxn != ref || ref > capt {
			t.Errorf("order %s: captured %d/%d refunded %d/%d/%d", o.ID, capt, o.CapturedAmount, ref, o.RefundedAmount, refTxn)
		}
		if o.RefundedAmount > 0 && o.RefundedAmount == o.CapturedAmount {
			kinds["fully-refunded"]++
		}
	}
	if currencies["SAR"] < 200 || currencies["KWD"] == 0 || currencies["BHD"] == 0 {
		t.Errorf("currency mix %v", currencies)
	}
	if hostile == 0 || hostile*20 >= len(oa) {
		t.Errorf("%d hostile descriptions in %d orders", hostile, len(oa))
	}
	for _, k := range []string{"purchase/approved", "purchase/failed", "authorize/approved", "capture/approved",
		"void/approved", "refund/approved", "refund/failed", "refund/timeout", "refund/system_error", "refund/initiated", "fully-refunded"} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the seed: %v", k, kinds)
		}
	}
}

func TestRefundSettlesWithTheClock(t *testing.T) {
	h := newHarness(t, Options{Orders: 40})
	o := h.find(plainPurchase)
	txnID := "0192a3b4-0000-7000-8000-0000000000aa"
	var got tOrder
	if c := h.do("POST", "/v1/orders/"+o.ID+"/refund", map[string]any{"amount": 100, "transaction_id": txnID}, &got); c != 200 {
		t.Fatalf("refund: %d", c)
	}
	rs := refunds(got)
	if len(rs) != 1 || rs[0].ID != txnID || rs[0].Status != "initiated" || rs[0].Amount != 100 || rs[0].AuthCode != nil {
		t.Fatalf("refund txn %+v", rs)
	}
	if got.RefundedAmount != 0 {
		t.Fatalf("refunded_amount %d before approval", got.RefundedAmount)
	}
	h.clock.Advance(2 * time.Second)
	if rs := refunds(h.order(o.ID)); rs[0].Status != "initiated" {
		t.Fatalf("settled early: %s", rs[0].Status)
	}
	h.clock.Advance(time.Second)
	got = h.order(o.ID)
	rs = refunds(got)
	if rs[0].Status != "approved" || *rs[0].Message != "APPROVED" || *rs[0].ResponseCode != "00" {
		t.Fatalf("after latency: %+v", rs[0])
	}
	if got.RefundedAmount != 100 || got.Transactions[0].RefundedAmount != 100 {
		t.Fatalf("refunded_amount %d, purchase txn %d", got.RefundedAmount, got.Transactions[0].RefundedAmount)
	}
	if got.UpdatedAt != epoch.Add(3*time.Second).Format(time.RFC3339) {
		t.Errorf("updated_at %s", got.UpdatedAt)
	}
	// The transactions endpoint agrees and filters by type.
	var tl struct {
		Transactions []tTxn `json:"transactions"`
		Meta         tMeta  `json:"meta"`
	}
	if c := h.do("GET", "/v1/orders/"+o.ID+"/transactions?type[]=refund", nil, &tl); c != 200 || len(tl.Transactions) != 1 || tl.Transactions[0].ID != txnID {
		t.Fatalf("transactions: %d %+v", c, tl)
	}
	// A refund without transaction_id gets a server id and is a new refund.
	if c := h.do("POST", "/v1/orders/"+o.ID+"/refund", map[string]any{"amount": 50}, &got); c != 200 || len(refunds(got)) != 2 {
		t.Fatalf("second refund: %d", c)
	}
	if u, err := uuid.Parse(refunds(got)[1].ID); err != nil || u.Version() != 7 {
		t.Errorf("server-made id %q", refunds(got)[1].ID)
	}
}

func TestSameTransactionIDRefundsOnce(t *testing.T) {
	h := newHarness(t, Options{Orders: 40})
	o := h.find(plainPurchase)
	txnID := uuid.Must(uuid.NewV7()).String()
	body := map[string]any{"amount": 200, "transaction_id": txnID}
	if c := h.do("POST", "/v1/orders/"+o.ID+"/refund", body, nil); c != 200 {
		t.Fatalf("first: %d", c)
	}
	var e tError
	if c := h.do("POST", "/v1/orders/"+o.ID+"/refund", body, &e); c != 400 || e.Message != "Initial request is still processing." {
		t.Fatalf("repeat inside the window: %d %+v", c, e)
	}
	h.clock.Advance(1500 * time.Millisecond)
	var got tOrder
	if c := h.do("POST", "/v1/orders/"+o.ID+"/refund", body, &got); c != 200 {
		t.Fatalf("repeat after the window: %d", c)
	}
	if rs := refunds(got); len(rs) != 1 || rs[0].ID != txnID {
		t.Fatalf("refunds after repeat: %+v", rs)
	}
	h.clock.Advance(5 * time.Second)
	if c := h.do("POST", "/v1/orders/"+o.ID+"/refund", body, &got); c != 200 || len(refunds(got)) != 1 || got.RefundedAmount != 200 {
		t.Fatalf("repeat after settle: %d %d refunds, refunded %d", c, len(refunds(got)), got.RefundedAmount)
	}
	if c := h.do("POST", "/v1/orders/"+o.ID+"/refund", map[string]any{"amount": 201, "transaction_id": txnID}, &e); c != 422 || len(e.Errors["transaction_id"]) != 1 {
		t.Fatalf("same id, other amount: %d %+v", c, e)
	}
	other := h.find(func(x tOrder) bool { return plainPurchase(x) && x.ID != o.ID })
	if c := h.do("POST", "/v1/orders/"+other.ID+"/refund", body, &e); c != 422 || len(e.Errors["transaction_id"]) != 1 {
		t.Fatalf("same id, other order: %d %+v", c, e)
	}
	if c := h.do("POST", "/v1/orders/"+o.ID+"/refund", map[string]any{"amount": 200, "transaction_id": o.Transactions[0].ID}, &e); c != 422 {
		t.Fatalf("purchase txn id reused as refund id: %d %+v", c, e)
	}
}

func TestConcurrentRepeatWhileProcessing(t *testing.T) {
	h := newHarness(t, Options{Orders: 20, ProcessingDelay: 200 * time.Millisecond, ProcessingWindow: -1})
	o := h.find(plainPurchase)
	body := map[string]any{"amount": 300, "transaction_id": uuid.Must(uuid.NewV7()).String()}
	codes := make([]int, 2)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			if i == 1 {
				time.Sleep(50 * time.Millisecond)
			}
			codes[i] = h.do("POST", "/v1/orders/"+o.ID+"/refund", body, nil)
		})
	}
	wg.Wait()
	if codes[0] != 200 || codes[1] != 400 {
		t.Fatalf("codes %v, want [200 400]", codes)
	}
	if n := len(refunds(h.order(o.ID))); n != 1 {
		t.Fatalf("%d refunds", n)
	}
	// Once the first answered, the repeat returns the order.
	var got tOrder
	if c := h.do("POST", "/v1/orders/"+o.ID+"/refund", body, &got); c != 200 || len(refunds(got)) != 1 {
		t.Fatalf("repeat after processing: %d", c)
	}
}

func TestRefundValidation(t *testing.T) {
	h := newHarness(t, Options{Orders: 200})
	o := h.find(plainPurchase)
	path := "/v1/orders/" + o.ID + "/refund"
	var e tError
	if c := h.do("POST", path, map[string]any{"amount": 0}, &e); c != 422 || e.Message != "Data validation failed" ||
		!slices.Equal(e.Errors["amount"], []string{"The value must be greater than or equal to 1."}) {
		t.Fatalf("amount 0: %d %+v", c, e)
	}
	for _, b := range []map[string]any{{}, {"amount": "100"}, {"amount": 1.5}, {"amount": 100, "transaction_id": "nope"}} {
		e = tError{}
		if c := h.do("POST", path, b, &e); c != 422 || len(e.Errors) == 0 {
			t.Errorf("%v: %d %+v", b, c, e)
		}
	}
	e = tError{}
	if c := h.do("POST", path, map[string]any{"amount": o.CapturedAmount + 1}, &e); c != 422 ||
		e.Errors["amount"][0] != fmt.Sprintf("The value must be less than or equal to %d.", o.CapturedAmount) {
		t.Fatalf("over-refund: %d %+v", c, e)
	}
	// Initiated refunds count against what is left.
	if c := h.do("POST", path, map[string]any{"amount": o.CapturedAmount - 10}, nil); c != 200 {
		t.Fatalf("big refund: %d", c)
	}
	e = tError{}
	if c := h.do("POST", path, map[string]any{"amount": 11}, &e); c != 422 || e.Errors["amount"][0] != "The value must be less than or equal to 10." {
		t.Fatalf("over-refund with one in flight: %d %+v", c, e)
	}
	if c := h.do("POST", path, map[string]any{"amount": 10}, nil); c != 200 {
		t.Fatalf("rest: %d", c)
	}
	h.clock.Advance(time.Hour)
	if got := h.order(o.ID); got.RefundedAmount != got.CapturedAmount {
		t.Fatalf("fully refunded: %d of %d", got.RefundedAmount, got.CapturedAmount)
	}

	auth := h.find(func(x tOrder) bool {
		return x.CapturedAmount == 0 && x.VoidedAmount == 0 && x.Transactions[0].Type == "authorize"
	})
	e = tError{}
	if c := h.do("POST", "/v1/orders/"+auth.ID+"/refund", map[string]any{"amount": 1}, &e); c != 400 || e.Message == "" {
		t.Fatalf("refund of an uncaptured order: %d %+v", c, e)
	}
	e = tError{}
	if c := h.do("POST", "/v1/orders/0192a3b4-0000-7000-8000-000000000001/refund", map[string]any{"amount": 1}, &e); c != 404 || e.Message != "Not found" {
		t.Fatalf("unknown order refund: %d %+v", c, e)
	}
	if c := h.do("GET", "/v1/orders/0192a3b4-0000-7000-8000-000000000001", nil, &e); c != 404 || e.Message != "Not found" {
		t.Fatalf("unknown order: %d %+v", c, e)
	}
	if c := h.do("GET", "/v1/orders/x/transactions", nil, &e); c != 404 {
		t.Fatalf("unknown order transactions: %d", c)
	}
	if c := h.do("GET", "/v1/nothing", nil, &e); c != 404 {
		t.Fatalf("unknown path: %d", c)
	}
	if c := h.do("DELETE", "/v1/orders/"+o.ID, nil, &e); c != 405 {
		t.Fatalf("wrong method: %d", c)
	}
}

func TestRefundOutcomesByCard(t *testing.T) {
	h := newHarness(t, Options{Orders: 200})
	for last, want := range map[string][3]string{
		LastDigitsRefundDeclined:    {"failed", "DECLINED", "05"},
		LastDigitsRefundTimeout:     {"timeout", "TIMEOUT", ""},
		LastDigitsRefundSystemError: {"system_error", "SYSTEM_ERROR", "96"},
	} {
		orders := h.all("last_digits=" + last)
		if len(orders) == 0 {
			t.Fatalf("no order with card %s", last)
		}
		o := orders[0]
		before := o.RefundedAmount
		var got tOrder
		if c := h.do("POST", "/v1/orders/"+o.ID+"/refund", map[string]any{"amount": 1}, &got); c != 200 {
			t.Fatalf("%s: %d", last, c)
		}
		h.clock.Advance(4 * time.Second)
		got = h.order(o.ID)
		rs := refunds(got)
		x := rs[len(rs)-1]
		code := ""
		if x.ResponseCode != nil {
			code = *x.ResponseCode
		}
		if x.Status != want[0] || *x.Message != want[1] || code != want[2] || got.RefundedAmount != before {
			t.Errorf("card %s: %+v, refunded %d", last, x, got.RefundedAmount)
		}
	}
}

func TestVoid(t *testing.T) {
	h := newHarness(t, Options{Orders: 200})
	o := h.find(func(x tOrder) bool {
		return x.CapturedAmount == 0 && x.VoidedAmount == 0 && x.Transactions[0].Type == "authorize"
	})
	var got tOrder
	if c := h.do("POST", "/v1/orders/"+o.ID+"/void", map[string]any{"amount": o.Amount}, &got); c != 200 || got.VoidedAmount != o.Amount {
		t.Fatalf("void: %d voided %d", c, got.VoidedAmount)
	}
	var e tError
	if c := h.do("POST", "/v1/orders/"+o.ID+"/void", map[string]any{"amount": 1}, &e); c != 422 {
		t.Fatalf("void again: %d %+v", c, e)
	}
	p := h.find(plainPurchase)
	if c := h.do("POST", "/v1/orders/"+p.ID+"/void", map[string]any{"amount": 1}, &e); c != 400 {
		t.Fatalf("void of a captured order: %d %+v", c, e)
	}
}

// TestSameSeedSameIDsAtAnyClock: `paydesk sandbox --seed S` started twice
// (minutes or days apart) serves the same ids, so a ref written down in one
// run opens the same order in the next.
func TestSameSeedSameIDsAtAnyClock(t *testing.T) {
	now := time.Date(2026, 11, 20, 14, 3, 0, 0, time.UTC)
	a := seedOrders(7, 50, now, time.Second)
	b := seedOrders(7, 50, now.Add(26*time.Hour+17*time.Second), time.Second)
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Txns[0].ID != b[i].Txns[0].ID {
			t.Fatalf("order %d: %s/%s vs %s/%s", i, a[i].ID, a[i].Txns[0].ID, b[i].ID, b[i].Txns[0].ID)
		}
	}
}

// TestRefundTimesOutThenIsReversed: on a card ending in
// LastDigitsRefundReversed a refund times out, and one more RefundLatency
// later the gateway adds an approved reversal transaction (request_timeout)
// naming it; the refund never counted as refunded.
func TestRefundTimesOutThenIsReversed(t *testing.T) {
	h := newHarness(t, Options{Orders: 200})
	orders := h.all("last_digits=" + LastDigitsRefundReversed)
	if len(orders) == 0 {
		t.Fatalf("no order with card %s", LastDigitsRefundReversed)
	}
	// Seeded: a timed-out refund and its reversal are already there.
	seeded := false
	for _, o := range orders {
		for _, x := range o.Transactions {
			seeded = seeded || x.Type == "reversal" && x.Status == "approved" && x.ReversedTransactionID != nil
		}
	}
	if !seeded {
		t.Fatal("no seeded reversal")
	}
	o := orders[0]
	var got tOrder
	if c := h.do("POST", "/v1/orders/"+o.ID+"/refund", map[string]any{"amount": 1}, &got); c != 200 {
		t.Fatalf("refund: %d", c)
	}
	h.clock.Advance(4 * time.Second)
	rs := refunds(h.order(o.ID))
	rf := rs[len(rs)-1]
	if rf.Status != "timeout" {
		t.Fatalf("refund %+v, want timeout first", rf)
	}
	h.clock.Advance(4 * time.Second)
	got = h.order(o.ID)
	var rev *tTxn
	for i, x := range got.Transactions {
		if x.Type == "reversal" && x.ReversedTransactionID != nil && *x.ReversedTransactionID == rf.ID {
			rev = &got.Transactions[i]
		}
	}
	if rev == nil || rev.Status != "approved" || rev.ReverseReason == nil || *rev.ReverseReason != "request_timeout" || rev.Amount != 1 {
		t.Fatalf("reversal %+v", rev)
	}
	if got.RefundedAmount != o.RefundedAmount {
		t.Fatalf("refunded_amount moved %d -> %d", o.RefundedAmount, got.RefundedAmount)
	}
}

// TestVerifyAndExtensionSeeded: the seed holds the other documented
// transaction types, verify (zero amount, before a stored-credential order)
// and extension (zero amount, after an authorization).
func TestVerifyAndExtensionSeeded(t *testing.T) {
	h := newHarness(t, Options{Orders: 200})
	seen := map[string]bool{}
	for _, o := range h.all("") {
		for _, x := range o.Transactions {
			if (x.Type == "verify" || x.Type == "extension") && x.Amount == 0 && x.Status == "approved" {
				seen[x.Type] = true
			}
		}
	}
	if !seen["verify"] || !seen["extension"] {
		t.Fatalf("seeded types %v", seen)
	}
}
