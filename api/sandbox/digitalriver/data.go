package digitalriver

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

//go:embed hostile-strings.jsonl
var hostileJSONL []byte

// hostileStrings returns the values of the embedded hostile-strings list.
func hostileStrings() []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(hostileJSONL))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var row struct {
			Value string `json:"value"`
		}
		if json.Unmarshal(sc.Bytes(), &row) == nil && row.Value != "" {
			out = append(out, row.Value)
		}
	}
	return out
}

// Scenario tags recorded on seeded orders (GET /sandbox/scenarios).
const (
	tagNotCaptured     = "not_captured"
	tagCancelled       = "cancelled"
	tagRefundWillFail  = "refund_will_fail"
	tagPendingInfo     = "pending_information"
	tagHostile         = "hostile_metadata"
	tagMultiCharge     = "multi_charge"
	tagPendingAtStart  = "pending_at_start"
	tagFailedCharge    = "failed_charge"
	tagPartlyRefunded  = "partly_refunded"
	tagFullyRefunded   = "fully_refunded"
	tagCurrencyPrefix  = "currency_"
	pendingInfoWindow  = 30 * 24 * time.Hour
	expiredCardFailure = "expired_or_canceled_card"
)

type capture struct {
	id      string
	amount  decimal.Decimal
	state   string // complete | pending
	created time.Time
}

type charge struct {
	id       string
	created  time.Time
	amount   decimal.Decimal
	state    string // capturable | processing | complete | cancelled | failed
	sourceID string
	captures []capture
}

func (c *charge) captured() decimal.Decimal {
	sum := decimal.Zero
	for _, cp := range c.captures {
		if cp.state == "complete" {
			sum = sum.Add(cp.amount)
		}
	}
	return sum
}

type item struct {
	id       string
	skuID    string
	amount   decimal.Decimal // line total
	quantity int
}

type order struct {
	id         string
	created    time.Time
	currency   string
	subtotal   decimal.Decimal
	tax        decimal.Decimal
	total      decimal.Decimal
	baseState  string // accepted | fulfilled | complete | cancelled
	upstreamID string
	charges    []*charge
	items      []*item
	metadata   map[string]any
	tags       []string
	willFail   bool // every refund on this order fails (expired card)
	refunds    []*refund
}

func (o *order) captured() decimal.Decimal {
	sum := decimal.Zero
	for _, c := range o.charges {
		sum = sum.Add(c.captured())
	}
	return sum
}

// sessionID is the order's payment session id, derived from the order id so
// the seeded data (and every golden built on it) stays as it was.
func (o *order) sessionID() string {
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte("paydesk-session:"+o.id)).String()
}

func (o *order) hasCompleteCapture() bool {
	for _, c := range o.charges {
		for _, cp := range c.captures {
			if cp.state == "complete" {
				return true
			}
		}
	}
	return false
}

func (o *order) cancelled() decimal.Decimal {
	if o.baseState == "cancelled" {
		return o.total
	}
	return decimal.Zero
}

// allocation is the share of a refund drawn from one charge.
type allocation struct {
	charge *charge
	amount decimal.Decimal
}

type refundItem struct {
	itemID   string
	skuID    string
	quantity int
	amount   decimal.Decimal
}

type refund struct {
	id          string
	created     time.Time
	updated     time.Time // last metadata update
	order       *order
	currency    string
	typ         string
	amount      decimal.Decimal
	items       []refundItem
	reason      string
	metadata    json.RawMessage // exactly as sent; nil = none
	pendingInfo bool
	expires     time.Time // pendingInfo only
	token       string    // pendingInfo only
	allocs      []allocation
}

// exponent is the number of decimals a currency allows.
func exponent(cur string) int32 {
	switch cur {
	case "JPY", "KRW", "CLP", "VND", "ISK", "HUF", "TWD":
		return 0
	case "KWD", "BHD", "OMR", "JOD", "TND":
		return 3
	}
	return 2
}

// rngReader feeds uuid generation from the seeded generator.
type rngReader struct{ r *rand.Rand }

func (g rngReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(g.r.Uint32())
	}
	return len(p), nil
}

func (g rngReader) uuid() string {
	u, err := uuid.NewRandomFromReader(g)
	if err != nil {
		panic(err) // rngReader never fails
	}
	return u.String()
}

func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

var reasons = []string{"requested_by_customer", "damaged_item", "duplicate", "late_delivery", "wrong_item", "goodwill"}

// seed builds the deterministic data set. It runs before the server is shared.
func (s *Server) seed(n int, seed int64, now time.Time) {
	r := rand.New(rand.NewPCG(uint64(seed), 0x0d19a1c0ffee))
	g := rngReader{r}
	hostile := hostileStrings()
	usedIDs := map[string]bool{}
	span := 90 * 24 * time.Hour

	pendingInfoDone, pendingInfoOpenDone := false, false
	for i := 0; i < n; i++ {
		o := &order{metadata: map[string]any{}}
		// Spread orders over the last 90 days, the first few very recent.
		age := time.Duration(r.Int64N(int64(span)))
		if i < 3 {
			age = time.Duration(i+1) * 7 * time.Minute
		}
		o.created = ms(now.Add(-age))
		for {
			id := o.created.Format("060102") + fmt.Sprintf("%06d", r.IntN(1000000))
			if !usedIDs[id] {
				usedIDs[id] = true
				o.id = id
				break
			}
		}
		o.upstreamID = fmt.Sprintf("ORD-%06d", 100000+r.IntN(900000))
		switch p := r.IntN(100); {
		case p < 70:
			o.currency = "USD"
		case p < 82:
			o.currency = "EUR"
		case p < 92:
			o.currency = "GBP"
		default:
			o.currency = "JPY"
		}
		exp := exponent(o.currency)
		// Items.
		nItems := 1 + r.IntN(3)
		for j := 0; j < nItems; j++ {
			var unit decimal.Decimal
			if exp == 0 {
				unit = decimal.NewFromInt(int64(500 + 100*r.IntN(300)))
			} else {
				unit = decimal.New(int64(499+r.IntN(25000)), -2)
			}
			qty := 1 + r.IntN(3)
			it := &item{
				id:       fmt.Sprintf("%d", 100000000+r.IntN(900000000)),
				skuID:    fmt.Sprintf("sku_%08d", r.IntN(100000000)),
				amount:   unit.Mul(decimal.NewFromInt(int64(qty))),
				quantity: qty,
			}
			o.items = append(o.items, it)
			o.subtotal = o.subtotal.Add(it.amount)
		}
		rate := map[string]string{"USD": "0.0725", "EUR": "0.19", "GBP": "0.2", "JPY": "0.1"}[o.currency]
		o.tax = o.subtotal.Mul(decimal.RequireFromString(rate)).Round(exp)
		o.total = o.subtotal.Add(o.tax)
		o.tags = append(o.tags, tagCurrencyPrefix+o.currency)

		// Payment state.
		captureAt := ms(o.created.Add(time.Duration(1+r.IntN(48)) * time.Hour))
		p := r.IntN(100)
		switch {
		case i < 3 || p < 7 || !captureAt.Before(now):
			o.baseState = "accepted"
		case p < 11:
			o.baseState = "fulfilled"
		case p < 14:
			o.baseState = "cancelled"
		default:
			o.baseState = "complete"
		}
		if o.baseState == "complete" && i%50 == 41 {
			o.tags = append(o.tags, tagFailedCharge)
			o.charges = append(o.charges, &charge{
				id: g.uuid(), created: o.created, amount: o.total,
				state: "failed", sourceID: g.uuid(),
			})
		}
		amounts := []decimal.Decimal{o.total}
		if o.baseState == "complete" && r.IntN(100) < 8 {
			first := o.total.Mul(decimal.RequireFromString("0.3")).Round(exp)
			if first.IsPositive() && first.LessThan(o.total) {
				amounts = []decimal.Decimal{first, o.total.Sub(first)}
				o.tags = append(o.tags, tagMultiCharge)
			}
		}
		for _, a := range amounts {
			c := &charge{id: g.uuid(), created: o.created, amount: a, sourceID: g.uuid()}
			switch o.baseState {
			case "accepted":
				c.state = "capturable"
			case "fulfilled":
				c.state = "processing"
				c.captures = []capture{{id: g.uuid(), amount: a, state: "pending", created: captureAt}}
			case "cancelled":
				c.state = "cancelled"
			default:
				c.state = "complete"
				c.captures = []capture{{id: g.uuid(), amount: a, state: "complete", created: captureAt}}
			}
			o.charges = append(o.charges, c)
		}
		switch o.baseState {
		case "accepted", "fulfilled":
			o.tags = append(o.tags, tagNotCaptured)
		case "cancelled":
			o.tags = append(o.tags, tagCancelled)
		}

		// Metadata: harmless keys for most, a hostile string for every 25th.
		if r.IntN(3) == 0 {
			o.metadata["channel"] = []string{"web", "app", "phone"}[r.IntN(3)]
		}
		if i%25 == 7 && len(hostile) > 0 {
			o.metadata["note"] = hostile[(i/25)%len(hostile)]
			o.tags = append(o.tags, tagHostile)
		}

		s.orders = append(s.orders, o)
		s.orderByID[o.id] = o
		if o.baseState != "complete" {
			continue
		}

		// Refund history.
		if i%33 == 5 {
			o.willFail = true
			o.tags = append(o.tags, tagRefundWillFail)
		}
		switch {
		case !pendingInfoDone && now.Sub(captureAt) > 32*24*time.Hour:
			pendingInfoDone = true
			s.seedRefund(o, g, r, o.total, captureAt.Add(time.Hour), now, "pending_expired")
			o.tags = append(o.tags, tagPendingInfo)
		case !pendingInfoOpenDone && i >= 12 && now.Sub(captureAt) > 6*24*time.Hour:
			pendingInfoOpenDone = true
			s.seedRefund(o, g, r, o.total.Div(decimal.NewFromInt(2)).Truncate(exp), now.Add(-5*24*time.Hour), now, "pending_open")
			o.tags = append(o.tags, tagPendingInfo)
		case o.willFail:
			s.seedRefund(o, g, r, o.total, s.between(r, captureAt, now), now, "")
		case r.IntN(100) < 15:
			// One or two partial refunds.
			part := o.total.Mul(decimal.New(int64(10+r.IntN(30)), -2)).Truncate(exp)
			if part.IsPositive() {
				at := s.between(r, captureAt, now)
				s.seedRefund(o, g, r, part, at, now, "")
				if r.IntN(3) == 0 {
					s.seedRefund(o, g, r, part, s.between(r, at, now), now, "")
				}
				o.tags = append(o.tags, tagPartlyRefunded)
			}
		case r.IntN(100) < 9:
			s.seedRefund(o, g, r, o.total, s.between(r, captureAt, now), now, "")
			o.tags = append(o.tags, tagFullyRefunded)
		case r.IntN(100) < 4 && s.latency > 0:
			// Pending at start: settles shortly after the server starts.
			at := ms(now.Add(-time.Duration(r.Int64N(int64(s.latency)/2 + 1))))
			s.seedRefund(o, g, r, o.total.Mul(decimal.RequireFromString("0.5")).Truncate(exp), at, now, "")
			o.tags = append(o.tags, tagPendingAtStart)
		}
	}
	sortOrders(s.orders)
	sortRefunds(s.refunds)
}

// between picks a time in (a, b), or a when the window is empty.
func (s *Server) between(r *rand.Rand, a, b time.Time) time.Time {
	d := b.Sub(a)
	if d <= 2*time.Minute {
		return ms(a)
	}
	return ms(a.Add(time.Minute + time.Duration(r.Int64N(int64(d-2*time.Minute)))))
}

func (s *Server) seedRefund(o *order, g rngReader, r *rand.Rand, amt decimal.Decimal, at, now time.Time, pending string) {
	rf := &refund{
		id:       "re_" + g.uuid(),
		created:  ms(at),
		order:    o,
		currency: o.currency,
		amount:   amt,
		reason:   reasons[r.IntN(len(reasons))],
	}
	rf.updated = rf.created
	if r.IntN(2) == 0 {
		rf.metadata = json.RawMessage(fmt.Sprintf(`{"ticket":"CS-%04d"}`, r.IntN(10000)))
	}
	switch pending {
	case "pending_expired":
		rf.pendingInfo = true
		rf.expires = rf.created.Add(pendingInfoWindow)
		if !rf.expires.Before(now) {
			rf.created = ms(now.Add(-pendingInfoWindow - 24*time.Hour))
			rf.updated = rf.created
			rf.expires = rf.created.Add(pendingInfoWindow)
		}
		rf.token = g.uuid()
	case "pending_open":
		rf.pendingInfo = true
		rf.expires = rf.created.Add(pendingInfoWindow)
		rf.token = g.uuid()
	}
	avail := s.available(o, now)
	if rf.amount.GreaterThan(avail) {
		rf.amount = avail
	}
	if !rf.amount.IsPositive() {
		return
	}
	rf.allocs = s.allocate(o, rf.amount, now)
	o.refunds = append(o.refunds, rf)
	s.refunds = append(s.refunds, rf)
	s.refundByID[rf.id] = rf
}

// before reports whether a sorts before b in a newest-first list.
func before(at time.Time, aid string, bt time.Time, bid string) bool {
	if !at.Equal(bt) {
		return at.After(bt)
	}
	return aid > bid
}

func sortOrders(os []*order) {
	sort.SliceStable(os, func(i, j int) bool { return before(os[i].created, os[i].id, os[j].created, os[j].id) })
}

func sortRefunds(rs []*refund) {
	sort.SliceStable(rs, func(i, j int) bool { return before(rs[i].created, rs[i].id, rs[j].created, rs[j].id) })
}
