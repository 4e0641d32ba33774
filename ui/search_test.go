package ui

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/api/index"
	"paydesk/model"
)

// indexedHarness is the three-provider harness with every provider behind
// the order index, as main wires it.
func indexedHarness(t *testing.T) (*multiHarness, *index.Index) {
	t.Helper()
	m := newMultiHarness(t, harnessOpts{})
	ix := index.New()
	for i, p := range m.provs {
		m.provs[i] = index.Wrap(p, ix, "")
	}
	return m, ix
}

// runIndexing is runIndexed with the background indexer running.
func (m *multiHarness) runIndexing(t *testing.T, ix *index.Index, w, h int) *session {
	c := m.context(w, h, harnessOpts{})
	c.Providers, c.Index = m.provs, ix
	c.Indexer = startIndexer(t, m, ix)
	return m.runCtx(c)
}

func (m *multiHarness) runIndexed(ix *index.Index, w, h int) *session {
	c := m.context(w, h, harnessOpts{})
	c.Providers = m.provs
	c.Index = ix
	return m.runCtx(c)
}

// TestSearchFindsAcrossProviders: with only the background indexer feeding
// the index (nothing browsed), from the Forage tab one search finds a
// Forage order about six weeks old by its external id and a Digital River
// order by its charge (payment) ref, says which provider and field
// matched, and enter switches to the order's tab and opens it. A Moyasar
// order is found by its card's last four and its amount.
func TestSearchFindsAcrossProviders(t *testing.T) {
	m := newMultiHarness(t, harnessOpts{})
	now := m.clock.Now()
	// Chosen through the bare clients: the index learns nothing from this.
	forage := m.find(0, func(o *model.Order) bool {
		age := now.Sub(orderDate(o))
		return o.ExternalOrderID != "" && age > 35*24*time.Hour && age < 50*24*time.Hour
	})
	dr := m.find(2, func(o *model.Order) bool { return len(o.Payments) > 0 })
	mpg := m.find(1, func(o *model.Order) bool {
		return len(o.Payments) > 0 && o.Payments[0].Card != nil && o.Payments[0].Card.Last4 != ""
	})
	ix := index.New()
	for i, p := range m.provs {
		m.provs[i] = index.Wrap(p, ix, "")
	}
	s := m.runIndexing(t, ix, 100, 30)
	s.waitText("loaded")
	s.keys("g")
	s.waitText("Find:")
	s.waitFor("the index to cover 90 days", func(v string) bool {
		return strings.Count(v, "100% of 90 days") == 3
	})
	s.typeText(strings.ToLower(forage.ExternalOrderID))
	s.keys("enter")
	v := s.waitText("(external id)")
	if !strings.Contains(v, "Forage") || !strings.Contains(v, forage.Ref) {
		t.Fatalf("the external id's order is not shown with its provider:\n%s", v)
	}

	s.keys("g")
	s.waitFor("an empty prompt", func(v string) bool { return strings.Contains(v, "Find: ") })
	for range 40 {
		s.keys("backspace")
	}
	s.typeText(dr.Payments[0].ID)
	s.keys("enter")
	v = s.waitText("payment ref")
	if !strings.Contains(v, "Digital River") {
		t.Fatalf("the charge's order is not named as Digital River's:\n%s", v)
	}
	s.keys("enter")
	v = s.waitFor("the Digital River order", func(v string) bool {
		return strings.Contains(strings.SplitN(v, "\n", 2)[0], "▸Digital River") && strings.Contains(v, "Payments (")
	})
	if !strings.Contains(v, dr.Ref) && !strings.Contains(v, dr.ID) {
		t.Fatalf("not the order found:\n%s", v)
	}

	s.keys("esc")
	exp, _ := model.Exponent(mpg.Currency)
	s.search(mpg.Payments[0].Card.Last4 + " " + mpg.Total.Amount.StringFixed(exp))
	v = s.waitText("(last 4 + amount)")
	if !strings.Contains(v, "Moyasar") {
		t.Fatalf("the card and amount did not find the Moyasar order:\n%s", v)
	}

	// w asks for a wider range; the bars then measure against it.
	s.keys("w")
	s.waitText("of the last 180 days")
}

// startIndexer runs the background indexer over the harness's providers
// without a budget (the test's clock does not move), until the test ends.
func startIndexer(t *testing.T, m *multiHarness, ix *index.Index) *index.Indexer {
	lim := map[string]index.Limits{}
	for id, l := range index.ProviderLimits {
		lim[id] = index.Limits{PerSecond: math.MaxFloat64, ReadCost: l.ReadCost}
	}
	in := index.NewIndexer(ix, m.provs, func(string) string { return "" },
		index.Config{Now: m.clock.Now, Poll: time.Hour, Limits: lim})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { in.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return in
}

// orderDate is an order's date, or its first payment's (Forage orders carry
// none of their own).
func orderDate(o *model.Order) time.Time {
	if !o.Created.IsZero() {
		return o.Created
	}
	for _, p := range o.Payments {
		if !p.Created.IsZero() {
			return p.Created
		}
	}
	return time.Time{}
}

// TestSearchNothingSaysCoverage: no match says what the index covers, never
// just "not found", and asks each provider only what it can answer.
func TestSearchNothingSaysCoverage(t *testing.T) {
	m, ix := indexedHarness(t)
	s := m.runIndexed(ix, 100, 30)
	s.search("NO.SUCH.ORDER")
	v := s.waitText("not in what has been indexed yet")
	if !strings.Contains(strings.Join(strings.Fields(v), " "), "covers 0% of the last 90 days") {
		t.Fatalf("no coverage stated:\n%s", v)
	}
	if strings.Contains(v, "could not be asked") {
		t.Fatalf("a provider's 'no' shown as an error:\n%s", v)
	}
	// "NO.SUCH.ORDER" is not the shape of a Forage ref (letters, digits, - and _): its client says
	// no without a request, so Forage is not named as asked.
	if !strings.Contains(v, "Asked directly: Moyasar PG: order ref; Digital River: order ref, upstream id.") {
		t.Fatalf("what was asked is not said as it happened:\n%s", v)
	}
}

// TestSearchRefusesCardNumber: a full card number typed into search never
// leaves the console.
func TestSearchRefusesCardNumber(t *testing.T) {
	m, ix := indexedHarness(t)
	reads := m.harness.counter()
	s := m.runIndexed(ix, 100, 30)
	s.waitText("loaded")
	s.keys("g")
	s.waitText("Find:")
	s.typeText("4111111111111111")
	before := reads.getOrder.Load()
	s.keys("enter")
	s.waitText("Not searched")
	if n := reads.getOrder.Load(); n != before {
		t.Fatalf("a card number went to Forage (%d order reads)", n-before)
	}
}

// TestSearchCardAmountAsksProvider: with nothing indexed, a Moyasar order
// is still found by its card's last four and amount: Moyasar filters its
// list by last four itself.
func TestSearchCardAmountAsksProvider(t *testing.T) {
	m := newMultiHarness(t, harnessOpts{})
	now := m.clock.Now()
	mpg := m.find(1, func(o *model.Order) bool {
		return len(o.Payments) > 0 && o.Payments[0].Card != nil && o.Payments[0].Card.Last4 != "" &&
			now.Sub(o.Created) < 60*24*time.Hour
	})
	ix := index.New()
	for i, p := range m.provs {
		m.provs[i] = index.Wrap(p, ix, "")
	}
	c := m.context(100, 30, harnessOpts{})
	c.Providers, c.Index = m.provs, ix
	s := m.runCtx(c)
	exp, _ := model.Exponent(mpg.Currency)
	s.search(mpg.Payments[0].Card.Last4 + " " + mpg.Total.Amount.StringFixed(exp))
	v := s.waitText("(last 4 + amount)")
	if !strings.Contains(v, "Moyasar") || !strings.Contains(v, fitID(mpg.Ref, 12)) && !strings.Contains(v, mpg.Ref[:5]) {
		t.Fatalf("the provider's answer is not shown:\n%s", v)
	}
}

// TestSearchAt80x23ReadsWhole: in a tmux pane at 80x23 the answer keeps
// the matched external id whole and the field beside it, and no line of
// the search (summary, asked, index progress) ends in a cut word.
func TestSearchAt80x23ReadsWhole(t *testing.T) {
	m, ix := indexedHarness(t)
	ext := m.find(0, func(o *model.Order) bool { return o.ExternalOrderID != "" })
	o := readOrder(t, m.provs[0], ext.ID) // through the index: it learns the external id
	s := m.runIndexing(t, ix, 80, 23)
	s.search("zzz-no-such-thing")
	v := s.waitText("Asked directly")
	for _, l := range strings.Split(v, "\n")[:len(strings.Split(v, "\n"))-1] { // the footer's … is help's
		if strings.HasSuffix(strings.TrimRight(l, " "), "…") {
			t.Errorf("a cut line: %q\n%s", l, v)
		}
	}
	s.keys("g")
	for range 20 {
		s.keys("backspace")
	}
	s.typeText(o.ExternalOrderID)
	s.keys("enter")
	v = s.waitText("found")
	if !strings.Contains(v, o.ExternalOrderID+" (external id)") {
		t.Errorf("the matched external id is not whole beside its field:\n%s", v)
	}
	for _, l := range strings.Split(v, "\n")[:4] {
		if strings.HasSuffix(strings.TrimRight(l, " "), "…") {
			t.Errorf("a cut line: %q\n%s", l, v)
		}
	}
}

// TestSearchAsksDigitalRiverByUpstreamID: Digital River's order list
// filters by the merchant's own order id, so search asks it (any age, with
// nothing in the index) and names the field.
func TestSearchAsksDigitalRiverByUpstreamID(t *testing.T) {
	m := newMultiHarness(t, harnessOpts{})
	// Chosen through the bare client: the index learns nothing from this.
	dr := m.find(2, func(o *model.Order) bool { return o.ExternalOrderID != "" })
	ix := index.New()
	for i, p := range m.provs {
		m.provs[i] = index.Wrap(p, ix, "")
	}
	s := m.runIndexed(ix, 100, 30)
	s.search(dr.ExternalOrderID)
	v := s.waitText("(upstream id)")
	if !strings.Contains(v, "Digital River") || !strings.Contains(v, dr.Ref) {
		t.Fatalf("the upstream id's order is not shown with its provider:\n%s", v)
	}
	if !strings.Contains(v, "index covers 0%") {
		t.Fatalf("the answer came from the index, not from Digital River:\n%s", v)
	}
}

// With the team store, the search screen says whether the index is in
// step with the other hosts'; when the store is away it says so without
// its error (which can name the database's host and user).
func TestSearchSaysWhetherTheIndexIsShared(t *testing.T) {
	m, ix := indexedHarness(t)
	lastOK := m.clock.Now().Add(-4 * time.Second)
	var storeErr atomic.Pointer[error] // the program reads it on its own goroutine
	c := m.context(100, 30, harnessOpts{})
	c.Providers, c.Index = m.provs, ix
	c.Indexer = startIndexer(t, m, ix)
	c.IndexShared = func() (time.Time, error) {
		if e := storeErr.Load(); e != nil {
			return lastOK, *e
		}
		return lastOK, nil
	}
	s := m.runCtx(c)
	s.waitText("loaded")
	s.keys("g")
	v := s.waitText("through the team store")
	if !strings.Contains(v, "last in step 4s ago") {
		t.Fatalf("the shared index's state is not said:\n%s", v)
	}
	e := errors.New(`pg: dial tcp db.internal:5432: password authentication failed for user "paydesk_admin"`)
	storeErr.Store(&e)
	s.keys("esc")
	s.waitText("loaded")
	s.keys("g")
	v = s.waitText("Team store not reached")
	if !strings.Contains(strings.Join(strings.Fields(v), " "), "this host indexes on its own") {
		t.Fatalf("the store being away is not explained:\n%s", v)
	}
	for _, leak := range []string{"db.internal", "paydesk_admin", "password"} {
		if strings.Contains(v, leak) {
			t.Fatalf("the store's error reached the screen (%q):\n%s", leak, v)
		}
	}
}

// search opens the search from the loaded orders list (g) and submits q.
// Every search test starts this way; the ones that do something between
// typing and enter keep their own keys.
func (s *session) search(q string) {
	s.t.Helper()
	s.waitText("loaded")
	s.keys("g")
	s.waitText("Find:")
	s.typeText(q)
	s.keys("enter")
}

// filterDropped is a provider that drops one filter of every order query
// (drop clears it), as a provider misreading the query would: its page is
// the newest orders. One wrapper serves each filter the search must not
// trust the provider to have applied.
type filterDropped struct {
	api.Provider
	drop func(q *api.OrderQuery)
}

func (p filterDropped) ListOrders(ctx context.Context, q api.OrderQuery) (api.OrderPage, error) {
	p.drop(&q)
	return p.Provider.ListOrders(ctx, q)
}

// TestSearchKeepsOnlyOrdersCarryingTheUpstreamID: a provider that ignores
// the filter does not make its newest orders "matches".
func TestSearchKeepsOnlyOrdersCarryingTheUpstreamID(t *testing.T) {
	m := newMultiHarness(t, harnessOpts{})
	m.provs[2] = filterDropped{m.provs[2], func(q *api.OrderQuery) { q.UpstreamID = "" }}
	s := m.runIndexed(index.New(), 100, 30)
	s.search("ORD-000000")
	v := s.waitText("not in what has been indexed yet")
	if strings.Contains(v, "(upstream id)") {
		t.Fatalf("orders without the upstream id shown as matches:\n%s", v)
	}
}

// TestSearchKeepsOnlyOrdersPaidWithTheCard: a provider that ignores the
// card filter does not make every order of that amount a match.
func TestSearchKeepsOnlyOrdersPaidWithTheCard(t *testing.T) {
	m := newMultiHarness(t, harnessOpts{})
	mpg := m.find(1, func(o *model.Order) bool {
		return len(o.Payments) > 0 && o.Payments[0].Card != nil && o.Payments[0].Card.Last4 != "" && o.Payments[0].Card.Last4 != "9999"
	})
	m.provs[1] = filterDropped{m.provs[1], func(q *api.OrderQuery) { q.CardLast4 = "" }}
	s := m.runIndexed(index.New(), 100, 30)
	exp, _ := model.Exponent(mpg.Currency)
	s.search("9999 " + mpg.Total.Amount.StringFixed(exp)) // its amount, another card
	v := s.waitText("not in what has been indexed yet")
	if strings.Contains(v, "(last 4 + amount)") {
		t.Fatalf("an order paid with another card shown as a match:\n%s", v)
	}
}

// TestSearchPromptReadsAsOneSentence: the empty prompt's hint follows
// "Find: " as a whole phrase. It was written after "Go to order ref: " and
// read "Find: or id, …" once the prompt was renamed.
func TestSearchPromptReadsAsOneSentence(t *testing.T) {
	m, ix := indexedHarness(t)
	s := m.runIndexed(ix, 80, 24)
	s.waitText("loaded")
	s.keys("g")
	v := s.waitText("Find:")
	if !strings.Contains(v, "Find: order ref or id, payment/refund ref") {
		t.Fatalf("the empty prompt does not read as a sentence:\n%s", v)
	}
}

// TestSearchNamesDigitalRiversUpstreamIDAsItsListDoes: a Digital River
// order the index knows is found by its upstream id under that name, as
// Digital River's list column and order screen call it, and as its own
// answer does; it read "(external id)" when the index answered first.
func TestSearchNamesDigitalRiversUpstreamIDAsItsListDoes(t *testing.T) {
	m, ix := indexedHarness(t)
	dr := m.find(2, func(o *model.Order) bool { return o.ExternalOrderID != "" })
	readOrder(t, m.provs[2], dr.ID) // through the index: it learns the upstream id
	s := m.runIndexed(ix, 100, 30)
	s.waitText("loaded")
	s.keys("g")
	s.waitText("Find:")
	s.typeText(dr.ExternalOrderID)
	s.keys("enter")
	v := s.waitFor("Digital River's answer", func(v string) bool {
		return strings.Contains(v, "1 found") && !strings.Contains(v, "still asking")
	})
	if !strings.Contains(v, dr.ExternalOrderID+" (upstream id)") {
		t.Fatalf("Digital River's upstream id is not named as its list names it:\n%s", v)
	}
}
