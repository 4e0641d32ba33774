package forage

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/shopspring/decimal"
)

type catalogItem struct {
	name  string
	cents int64
	snap  bool
}

var catalog = []catalogItem{
	{"Whole milk, 1 gal", 429, true}, {"Large eggs, dozen", 389, true}, {"Sliced bread", 279, true},
	{"Bananas, 1 lb", 69, true}, {"Gala apples, 3 lb", 549, true}, {"Chicken breast, 2 lb", 899, true},
	{"Ground beef, 1 lb", 649, true}, {"Long grain rice, 5 lb", 599, true}, {"Black beans, can", 119, true},
	{"Peanut butter", 349, true}, {"Cheddar cheese, 8 oz", 399, true}, {"Greek yogurt, 32 oz", 579, true},
	{"Rolled oats", 459, true}, {"Frozen peas", 199, true}, {"Tomato sauce", 149, true},
	{"Spaghetti, 1 lb", 169, true}, {"Orange juice", 479, true}, {"Baby formula", 2499, true},
	{"Carrots, 2 lb", 229, true}, {"Canned tuna", 159, true}, {"Tortillas", 289, true},
	{"Paper towels, 6 rolls", 899, false}, {"Dish soap", 349, false}, {"Laundry detergent", 1299, false},
	{"Toothpaste", 399, false}, {"Rotisserie chicken (hot)", 799, false}, {"Diapers, 40 ct", 1899, false},
	{"Aluminum foil", 499, false},
}

var addresses = []address{
	{"San Francisco", "US", "1856 Market St.", "Apt. 3", "CA", "94105"},
	{"Oakland", "US", "410 Grand Ave.", "", "CA", "94610"},
	{"Austin", "US", "2201 E Cesar Chavez St.", "Unit 12", "TX", "78702"},
	{"Brooklyn", "US", "77 Flatbush Ave.", "4F", "NY", "11217"},
	{"Columbus", "US", "1290 N High St.", "", "OH", "43201"},
	{"Phoenix", "US", "3401 N 7th Ave.", "Suite 200", "AZ", "85013"},
}

var refundReasons = []string{
	"Item out of stock", "Order could not be delivered.", "Damaged items", "Customer request",
	"Substitution rejected", "Late delivery", "Duplicate charge",
}

var declines = []procErr{
	{"ebt_error_51", "Received failure response from EBT network: Insufficient funds."},
	{"ebt_error_55", "Received failure response from EBT network: Invalid PIN or no PIN entered."},
	{"ebt_error_54", "Received failure response from EBT network: Expired card."},
	{"ebt_error_14", "Received failure response from EBT network: Invalid card number."},
}

var declineLast4 = map[string]string{"ebt_error_51": "4451", "ebt_error_55": "4455", "ebt_error_54": "4454", "ebt_error_14": "4414"}

// Hostile strings from /work/shared/hostile-strings.jsonl: the console must
// draw them harmlessly. They are stored and served exactly as written here.
var hostile = []string{
	"\x1b]52;c;ZWNobyBwd25lZA==\x07after",                      // osc52-clipboard-bel
	"refund \u202e0001 DRS\u202c",                              // bidi-rlo
	"REFUND OK\rFAILED!!!",                                     // carriage-return-overwrite
	"\x1b[2J\x1b[Hfake screen",                                 // csi-clear-screen
	"first\nsecond row",                                        // newline-injection-row
	"\x1b]8;;http://evil.example/\x1b\\click me\x1b]8;;\x1b\\", // osc8-hyperlink
	"re\u200bfu\u200cnd\u200d",                                 // zero-width-joiners
	"\x1b]0;pwned title\x07order",                              // osc0-title
	"amount 10\b\b99",                                          // backspace-overwrite
	"\x1b[31mred forever",                                      // sgr-unterminated-red
}

type orderKind int

const (
	kSucceeded orderKind = iota
	kPartial
	kFull
	kFailed
	kCanceled
	kDraft
	kProcessing // a refund created just now, still processing at start
	kCard3311   // EBT Cash refunds fail
	kCard3309   // SNAP refunds fail
)

func (s *Server) cents(c int64) decimal.Decimal { return decimal.New(c, -2) }

func (s *Server) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(s.rng.Int64N(int64(d)))
}

func (s *Server) pick(list []string) string { return list[s.rng.IntN(len(list))] }

func mustJSON(v any) json.RawMessage {
	b, err := marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// seed builds Options.Orders deterministic orders relative to now.
func (s *Server) seed(now time.Time) {
	n := s.opts.Orders
	kinds := make([]orderKind, n)
	for i := range kinds {
		x := s.rng.Float64()
		switch {
		case x < 0.62:
			kinds[i] = kSucceeded
		case x < 0.74:
			kinds[i] = kPartial
		case x < 0.83:
			kinds[i] = kFull
		case x < 0.92:
			kinds[i] = kFailed
		default:
			kinds[i] = kCanceled
		}
	}
	// Guaranteed demo cases at deterministic positions.
	specials := []orderKind{kProcessing, kCard3311, kCard3309, kDraft, kProcessing, kCard3311, kCard3309,
		kDraft, kProcessing, kDraft}
	perm := s.rng.Perm(n)
	for i, k := range specials {
		if i < len(perm) && n >= 10 {
			kinds[perm[i]] = k
		}
	}
	hostileOrders := map[int]int{} // order index -> hostile slot
	if h := n * 3 / 100; h > 0 {
		for j := 0; j < h; j++ {
			idx := perm[(len(specials)+j)%len(perm)]
			hostileOrders[idx] = j
			if j%len(hostile) == 2 && kinds[idx] != kPartial { // the reason slot needs a refund
				kinds[idx] = kPartial
			}
		}
	}
	span := 89*24*time.Hour + 12*time.Hour
	for i := 0; i < n; i++ {
		age := time.Duration((float64(i) + s.rng.Float64()) / float64(n) * float64(span))
		if kinds[i] == kDraft {
			age = 2*time.Minute + s.jitter(20*time.Minute)
		}
		if kinds[i] == kProcessing && age < time.Hour {
			age = time.Hour
		}
		slot, isHostile := hostileOrders[i]
		if !isHostile {
			slot = -1
		}
		s.seedOrder(now, now.Add(-age), kinds[i], slot)
	}
}

func (s *Server) seedOrder(now, created time.Time, kind orderKind, hostileSlot int) *order {
	created = created.Truncate(time.Microsecond)
	o := &order{ref: s.newRef(), created: created, status: "succeeded"}
	s.orders[o.ref] = o
	s.orderList = append(s.orderList, o)
	if s.rng.Float64() < 0.9 {
		o.customerID = strPtr(fmt.Sprintf("cus_%012x", s.rng.Uint64()&0xffffffffffff))
	}
	if s.rng.Float64() < 0.85 {
		o.externalOrderID = strPtr(fmt.Sprintf("GRC-%d-%06d", created.Year(), s.rng.IntN(1000000)))
	}
	o.addr = addresses[s.rng.IntN(len(addresses))]
	o.isDelivery = s.rng.Float64() < 0.6
	o.last4 = fmt.Sprintf("%04d", s.rng.IntN(10000))
	o.balanceID = int64(10000 + s.rng.IntN(90000))

	// Basket.
	var snapC, otherC int64
	items := 1 + s.rng.IntN(6)
	seen := map[int]bool{}
	payCash := s.rng.Float64() < 0.5 || kind == kCard3311
	for k := 0; k < items; k++ {
		ci := s.rng.IntN(len(catalog))
		if seen[ci] {
			continue
		}
		seen[ci] = true
		it := catalog[ci]
		q := 1 + s.rng.IntN(3)
		elig := "snap"
		if it.snap {
			snapC += it.cents * int64(q)
		} else {
			otherC += it.cents * int64(q)
			elig = "non_ebt"
			if payCash {
				elig = "ebt_cash"
			}
		}
		o.products = append(o.products, product{name: it.name, upc: fmt.Sprintf("0%011d", 10000000000+int64(ci)*7919),
			unitPrice: s.cents(it.cents), quantity: q, eligibility: elig})
	}
	if snapC == 0 || kind == kCard3309 {
		it := catalog[0]
		snapC += it.cents
		o.products = append(o.products, product{name: it.name, upc: "000000000000", unitPrice: s.cents(it.cents), quantity: 1, eligibility: "snap"})
	}
	if kind == kCard3311 && otherC == 0 {
		it := catalog[21]
		otherC += it.cents
		o.products = append(o.products, product{name: it.name, upc: "000000000021", unitPrice: s.cents(it.cents), quantity: 1, eligibility: "ebt_cash"})
	}
	o.snapTotal = s.cents(snapC)
	if payCash {
		o.cashTotal = s.cents(otherC)
	} else {
		o.remaining = s.cents(otherC)
		o.salesTax = s.cents(otherC * 875 / 10000)
	}
	o.balSnap = s.cents(int64(s.rng.IntN(40000)))
	o.balCash = s.cents(int64(s.rng.IntN(20000)))

	// Payments: SNAP (sometimes split in two), then EBT Cash.
	pm := fmt.Sprintf("%010x", s.rng.Uint64()&0xffffffffff)
	var amounts []decimal.Decimal
	var types []string
	if snapC >= 4000 && s.rng.Float64() < 0.3 {
		first := snapC / 2
		amounts = append(amounts, s.cents(first), s.cents(snapC-first))
		types = append(types, "ebt_snap", "ebt_snap")
	} else {
		amounts = append(amounts, s.cents(snapC))
		types = append(types, "ebt_snap")
	}
	if o.cashTotal.IsPositive() {
		amounts = append(amounts, o.cashTotal)
		types = append(types, "ebt_cash")
	}
	t := created.Add(time.Second + s.jitter(5*time.Second)).Truncate(time.Microsecond)
	store := fmt.Sprintf("%04d", 1+s.rng.IntN(60))
	var decline *procErr
	if kind == kFailed {
		d := declines[s.rng.IntN(len(declines))]
		decline = &d
		o.last4 = declineLast4[d.Code]
		if d.Code == "ebt_error_51" {
			o.balSnap, o.balCash = s.cents(int64(s.rng.IntN(500))), s.cents(int64(s.rng.IntN(300)))
		}
	}
	switch kind {
	case kCard3311:
		o.last4 = "3311"
	case kCard3309:
		o.last4 = "3309"
	}
	for k, amt := range amounts {
		p := &payment{ref: s.newRef(), order: o.ref, fundingType: types[k], amount: amt,
			paymentMethod: pm, created: t, updated: t, customerID: o.customerID, externalOrderID: o.externalOrderID}
		if types[k] == "ebt_snap" {
			p.description = "EBT SNAP payment"
		} else {
			p.description = "EBT Cash payment"
		}
		p.metadata = mustJSON(map[string]string{"store_id": store, "lane": fmt.Sprint(1 + s.rng.IntN(12))})
		if s.rng.Float64() < 0.2 {
			p.metadata = json.RawMessage(`{}`)
		}
		if s.rng.Float64() < 0.3 {
			p.externalLocationID = strPtr("store-" + store)
		}
		done := t.Add(2*time.Second + s.jitter(8*time.Second)).Truncate(time.Microsecond)
		switch kind {
		case kFailed:
			p.status, p.lastErr, p.updated = "failed", decline, done
		case kCanceled:
			p.status, p.updated = "canceled", done.Add(time.Duration(1+s.rng.IntN(20))*time.Minute)
		case kDraft:
			p.status = "requires_confirmation"
		default:
			p.status, p.updated = "succeeded", done
			sd := done
			p.successDate = &sd
			o.successDate = &sd
		}
		s.payments[p.ref] = p
		o.payments = append(o.payments, p.ref)
		t = done.Add(time.Duration(s.rng.IntN(800)) * time.Millisecond).Truncate(time.Microsecond)
	}
	switch kind {
	case kFailed:
		o.status = "failed"
	case kCanceled:
		o.status = "canceled"
	case kDraft:
		o.status = "draft"
	}

	// Refund history.
	lat := s.opts.RefundLatency
	settledBefore := now.Add(-4 * lat) // historical refunds have fully settled
	histTime := func() (time.Time, bool) {
		from := *o.successDate
		if !from.Add(time.Minute).Before(settledBefore) {
			return time.Time{}, false
		}
		room := settledBefore.Sub(from)
		if room > 5*24*time.Hour {
			room = 5 * 24 * time.Hour
		}
		return from.Add(time.Minute + s.jitter(room-time.Minute)).Truncate(time.Microsecond), true
	}
	meta := func() json.RawMessage {
		return mustJSON(map[string]string{"ticket": fmt.Sprintf("SUP-%05d", s.rng.IntN(100000)), "agent": s.pick([]string{"mara", "dev", "lee", "sam"})})
	}
	switch kind {
	case kPartial, kProcessing:
		p := s.payments[o.payments[s.rng.IntN(len(o.payments))]]
		pct := 10 + s.rng.IntN(50)
		amt := p.amount.Mul(decimal.NewFromInt(int64(pct))).Div(decimal.NewFromInt(100)).Round(2)
		if amt.LessThan(decimal.New(1, -2)) {
			amt = decimal.New(1, -2)
		}
		at, ok := histTime()
		if kind == kProcessing {
			at, ok = now.Add(-s.jitter(lat/2)).Truncate(time.Microsecond), true
		}
		if ok {
			s.newRefund(o, p, amt, s.pick(refundReasons), meta(), o.externalOrderID, at)
		}
	case kFull:
		if at, ok := histTime(); ok {
			reason, m := s.pick(refundReasons), meta()
			for _, pref := range o.payments {
				p := s.payments[pref]
				s.newRefund(o, p, p.amount, reason, m, o.externalOrderID, at)
			}
		}
	case kCard3311:
		// One EBT Cash refund that already failed, for the history view.
		if at, ok := histTime(); ok && s.rng.Float64() < 0.5 {
			p := s.payments[o.payments[len(o.payments)-1]]
			s.newRefund(o, p, p.amount.Div(decimal.NewFromInt(2)).Round(2), s.pick(refundReasons), meta(), o.externalOrderID, at)
		}
	}

	if hostileSlot >= 0 {
		s.injectHostile(o, hostileSlot)
	}
	return o
}

// injectHostile places one hostile string in a field chosen by slot.
func (s *Server) injectHostile(o *order, slot int) {
	h := hostile[slot%len(hostile)]
	p := s.payments[o.payments[0]]
	switch slot % 6 {
	case 0:
		p.metadata = mustJSON(map[string]any{"note": h, "store_id": "0042", "nested": map[string]any{"x": h, "n": 7}})
	case 1:
		p.description = "EBT SNAP " + h
	case 2:
		if len(o.refunds) > 0 {
			s.refunds[o.refunds[0]].reason = h
		} else {
			p.description = h
		}
	case 3:
		o.customerID = strPtr(h)
		for _, pref := range o.payments {
			s.payments[pref].customerID = o.customerID
		}
	case 4:
		o.externalOrderID = strPtr(h)
		for _, pref := range o.payments {
			s.payments[pref].externalOrderID = o.externalOrderID
		}
		for _, rref := range o.refunds {
			s.refunds[rref].externalOrderID = o.externalOrderID
		}
	case 5:
		o.products[0].name = h
		p.metadata = mustJSON(map[string]any{"label": h})
	}
}

// handleSandboxCreateOrder is POST /sandbox/orders/ (sandbox-only, no
// token): create a succeeded order captured just now, for demos. Optional
// JSON body: {"snap_total": "12.34", "ebt_cash_total": "5.00",
// "card_last4": "3311", "customer_id": "...", "external_order_id": "..."}.
// Amounts default to a random basket; card_last4 "3311"/"3309" makes its
// EBT Cash / SNAP refunds fail. Answers 201 with the Forage Order.
func (s *Server) handleSandboxCreateOrder(path string, raw []byte) result {
	b, ok := parseObject(raw)
	if !ok {
		return parseErr(path, "Orders", "")
	}
	var snap, cash *decimal.Decimal
	for _, f := range []string{"snap_total", "ebt_cash_total"} {
		if b[f] == nil {
			continue
		}
		d, msg := parseAmount(b[f])
		if msg != "" {
			return fieldErr(path, "Orders", "", f, msg)
		}
		if f == "snap_total" {
			snap = &d
		} else {
			cash = &d
		}
	}
	last4, _, ok := b.str("card_last4")
	if !ok || (last4 != "" && len(last4) != 4) {
		return fieldErr(path, "Orders", "", "card_last4", "Must be 4 digits.")
	}
	cid, cidSet, ok1 := b.str("customer_id")
	eoid, eoidSet, ok2 := b.str("external_order_id")
	if !ok1 || !ok2 {
		return fieldErr(path, "Orders", "", "customer_id", "Not a valid string.")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	kind := kSucceeded
	switch last4 {
	case "3311":
		kind = kCard3311
	case "3309":
		kind = kCard3309
	}
	o := s.seedOrder(now, now.Add(-15*time.Second), kind, -1)
	if last4 != "" {
		o.last4 = last4
	}
	if cidSet {
		o.customerID = &cid
	}
	if eoidSet {
		o.externalOrderID = &eoid
	}
	// Replace amounts when asked: one SNAP and at most one EBT Cash payment.
	if snap != nil || cash != nil {
		first := s.payments[o.payments[0]]
		for _, pref := range o.payments {
			delete(s.payments, pref)
		}
		o.payments = nil
		o.products = nil
		o.remaining, o.salesTax = zero, zero
		o.snapTotal, o.cashTotal = zero, zero
		add := func(ft string, amt decimal.Decimal) {
			p := *first
			p.ref, p.fundingType, p.amount, p.refunds = s.newRef(), ft, amt, nil
			if ft == "ebt_cash" {
				p.description = "EBT Cash payment"
				o.cashTotal = amt
			} else {
				p.description = "EBT SNAP payment"
				o.snapTotal = amt
			}
			o.products = append(o.products, product{name: "Groceries (" + ft + ")", upc: "000000000000", unitPrice: amt, quantity: 1,
				eligibility: map[string]string{"ebt_snap": "snap", "ebt_cash": "ebt_cash"}[ft]})
			s.payments[p.ref] = &p
			o.payments = append(o.payments, p.ref)
		}
		if snap != nil {
			add("ebt_snap", *snap)
		}
		if cash != nil {
			add("ebt_cash", *cash)
		}
	}
	for _, pref := range o.payments {
		s.payments[pref].customerID = o.customerID
		s.payments[pref].externalOrderID = o.externalOrderID
	}
	return jsonResult(http.StatusCreated, s.orderJSON(o, now))
}
