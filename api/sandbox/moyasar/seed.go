package moyasar

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"
)

// Cards whose last four digits are one of these make every refund on their
// orders settle to the given status instead of approved.
const (
	LastDigitsRefundDeclined    = "0002"
	LastDigitsRefundTimeout     = "0003"
	LastDigitsRefundSystemError = "0004"
	// LastDigitsRefundReversed: the refund times out, and one RefundLatency
	// later the gateway reverses it (reverse_reason request_timeout).
	LastDigitsRefundReversed = "0005"
)

func refundOutcomeFor(lastDigits string) string {
	switch lastDigits {
	case LastDigitsRefundDeclined:
		return statusFailed
	case LastDigitsRefundTimeout, LastDigitsRefundReversed:
		return statusTimeout
	case LastDigitsRefundSystemError:
		return statusSystemError
	}
	return statusApproved
}

//go:embed hostile_strings.jsonl
var hostileJSONL string

// hostileStrings are the shared terminal-hostile values, used in a few descriptions.
var hostileStrings = sync.OnceValue(func() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(hostileJSONL))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var v struct {
			Value string `json:"value"`
		}
		if json.Unmarshal(sc.Bytes(), &v) == nil && v.Value != "" {
			out = append(out, truncateRunes(v.Value, 1024))
		}
	}
	return out
})

func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

type currencyInfo struct {
	exp            int     // minor-unit exponent
	minMajor, maxM float64 // order amount range in major units
}

var currencies = map[string]currencyInfo{
	"SAR": {2, 5, 9000},
	"KWD": {3, 1, 700},
	"BHD": {3, 1, 800},
}

type seedMerchant struct {
	name, arabic, id, precedence, currency string
	weight                                 int
}

var seedMerchants = []seedMerchant{
	{"Nakheel Coffee Roasters", "محمصة النخيل", "60052", "mixed", "SAR", 35},
	{"Souq Al Madina", "سوق المدينة", "60010", "acquirer", "SAR", 30},
	{"Red Sea Air Travel", "البحر الأحمر للسفر", "60077", "mixed", "SAR", 15},
	{"Gulf Electronics", "إلكترونيات الخليج", "60101", "merchant", "KWD", 14},
	{"Manama Books", "مكتبة المنامة", "60133", "acquirer", "BHD", 6},
}

type bank struct{ name, country string }

var banksByCountry = map[string][]bank{
	"SA": {{"Al Rajhi Bank", "SA"}, {"Saudi National Bank", "SA"}, {"Riyad Bank", "SA"}, {"Banque Saudi Fransi", "SA"}, {"Alinma Bank", "SA"}},
	"KW": {{"National Bank of Kuwait", "KW"}, {"Kuwait Finance House", "KW"}, {"Gulf Bank", "KW"}},
	"BH": {{"Bank of Bahrain and Kuwait", "BH"}, {"National Bank of Bahrain", "BH"}},
	"AE": {{"Emirates NBD", "AE"}, {"First Abu Dhabi Bank", "AE"}},
}

var (
	madaBINs       = []string{"446404", "440647", "588845", "968208", "457865", "521076"}
	visaBINs       = []string{"411111", "455701", "492181", "434107", "476173"}
	mastercardBINs = []string{"555555", "512345", "539923", "222300", "545454"}
	amexBINs       = []string{"378282", "371449", "341111"}
	categories     = []string{"CLASSIC", "GOLD", "PLATINUM", "SIGNATURE", "WORLD", "BUSINESS"}
	companyWords   = []string{"Rolfson", "Legros", "Hane", "Jerde", "Kilback", "Hamill", "Schaden", "Bauch", "Okuneva", "Zieme", "Kessler", "Mraz"}
	firstNames     = []string{"herschel", "amira", "fahad", "noura", "yousef", "lama", "omar", "reem"}
	descWords      = []string{"espresso beans", "gift card", "phone case", "return shipping", "annual plan", "book bundle", "headphones", "economy ticket", "seat upgrade", "coffee grinder"}
)

type seeder struct {
	r       *rand.Rand
	now     time.Time
	latency time.Duration
}

func (g *seeder) pick(n int) int { return g.r.IntN(n) }
func (g *seeder) pct() int       { return g.r.IntN(100) }
func (g *seeder) id(t time.Time) string {
	// The id's clock is the seed's, not the wall's: seeded times are "now
	// minus an age drawn from the seed", so stamping the age onto a fixed
	// epoch keeps ids time-ordered and the same on every run of a seed.
	return newUUIDv7(idEpoch.Add(t.Sub(g.now)), g.r.Uint64)
}

// idEpoch is the "now" seeded ids are stamped relative to.
var idEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (g *seeder) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}
func (g *seeder) alnum(n int) string {
	const set = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = set[g.r.IntN(len(set))]
	}
	return string(b)
}

// between returns a time uniformly in [a, b] (b if b <= a), truncated to seconds.
func (g *seeder) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return b.Truncate(time.Second)
	}
	return a.Add(time.Duration(g.r.Int64N(int64(b.Sub(a)) + 1))).Truncate(time.Second)
}

// seedOrders builds n orders over the 90 days before now, oldest first.
func seedOrders(seed int64, n int, now time.Time, latency time.Duration) []*order {
	now = now.UTC().Truncate(time.Second)
	g := &seeder{r: rand.New(rand.NewPCG(uint64(seed), 0x4d50472d73656564)), now: now, latency: latency}

	acquirerID := g.id(now.AddDate(-2, 0, 0))
	var merchants []*merchant
	totalWeight := 0
	for i, m := range seedMerchants {
		merchants = append(merchants, &merchant{
			ID: g.id(now.AddDate(-1, 0, -i)), AcquirerID: acquirerID, Name: m.name,
			ArabicName: m.arabic, MerchantID: m.id, RulePrecedence: m.precedence, currency: m.currency,
		})
		totalWeight += m.weight
	}

	created := make([]time.Time, n)
	start := now.Add(-90 * 24 * time.Hour)
	for i := range created {
		created[i] = g.between(start, now.Add(-5*time.Minute))
	}
	sort.Slice(created, func(i, j int) bool { return created[i].Before(created[j]) })

	orders := make([]*order, 0, n)
	for _, at := range created {
		w := g.pick(totalWeight)
		mi := 0
		for ; w >= seedMerchants[mi].weight; mi++ {
			w -= seedMerchants[mi].weight
		}
		orders = append(orders, g.order(at, merchants[mi], seedMerchants[mi], orders))
	}

	// Two recent captured orders get a refund still in flight at start-up, so a
	// fresh sandbox shows a refund settling live.
	inflight := 0
	for i := len(orders) - 1; i >= 0 && inflight < 2; i-- {
		o := orders[i]
		t := o.totals()
		if t.captured == 0 || t.refunded != 0 || o.refundOutcome != statusApproved || o.Txns[0].Type != typePurchase {
			continue
		}
		amt := max(1, t.captured/2)
		rf := g.refund(o, now, amt, statusInitiated)
		rf.settleAt, rf.outcome = now.Add(latency), statusApproved
		o.Txns = append(o.Txns, rf)
		o.UpdatedAt = now
		inflight++
	}
	g.otherTypes(orders)
	return orders
}

// otherTypes adds, after everything else is drawn (so no other order's data
// changes), the documented transaction types the plain seed never makes:
// every other timed-out refund was reversed by the gateway (its card becomes
// LastDigitsRefundReversed); the first stored-credential order starts with a
// zero-amount verify; the first authorization left uncaptured got a
// zero-amount extension.
func (g *seeder) otherTypes(orders []*order) {
	latest := g.now.Add(-time.Minute)
	timeouts, verified, extended := 0, false, false
	for _, o := range orders {
		last := o.Txns[len(o.Txns)-1]
		if o.refundOutcome == statusTimeout && last.Type == typeRefund && last.Status == statusTimeout {
			if timeouts%2 == 0 {
				o.reverseTimeouts = true
				o.Source.LastDigits = LastDigitsRefundReversed
				at := minTime(last.CreatedAt.Add(2*time.Minute), latest)
				o.Txns = append(o.Txns, reversalOf(last, g.id(at), at))
				if at.After(o.UpdatedAt) {
					o.UpdatedAt = at
				}
			}
			timeouts++
		}
		if !verified && o.Agreement != nil {
			first := o.Txns[0]
			at := first.CreatedAt.Add(-time.Second)
			v := &txn{ID: g.id(at), Type: typeVerify, SourceType: first.SourceType, Amount: 0, CreatedAt: at,
				RetrievalReference: g.digits(12), STAN: g.digits(6), AuthCode: ptr(g.digits(6))}
			applyOutcome(v, statusApproved)
			o.Txns = append([]*txn{v}, o.Txns...)
			verified = true
		}
		if !extended && len(o.Txns) == 1 && o.Txns[0].Type == typeAuthorize && o.Txns[0].Status == statusApproved {
			at := minTime(o.Txns[0].CreatedAt.Add(24*time.Hour), latest)
			e := &txn{ID: g.id(at), Type: typeExtension, SourceType: o.Txns[0].SourceType, Amount: 0, CreatedAt: at,
				RetrievalReference: g.digits(12), STAN: g.digits(6), AuthCode: ptr(g.digits(6))}
			applyOutcome(e, statusApproved)
			o.Txns = append(o.Txns, e)
			if at.After(o.UpdatedAt) {
				o.UpdatedAt = at
			}
			extended = true
		}
	}
}

func (g *seeder) order(at time.Time, m *merchant, sm seedMerchant, earlier []*order) *order {
	cur := m.currency
	ci := currencies[cur]
	major := math.Exp(math.Log(ci.minMajor) + g.r.Float64()*(math.Log(ci.maxM)-math.Log(ci.minMajor)))
	amount := max(100, int64(major*math.Pow10(ci.exp)))
	if g.pct() < 30 { // round prices are common
		unit := int64(math.Pow10(ci.exp))
		amount = max(unit, amount/unit*unit)
	}

	o := &order{ID: g.id(at), Merchant: m, Currency: cur, Amount: amount, CreatedAt: at}
	o.Source = g.source(cur)
	o.Description = g.description()
	if g.pct() < 2 && len(earlier) > 0 {
		o.ReauthorizedOrderID = ptr(earlier[g.pick(len(earlier))].ID)
	}
	if sm.name == "Red Sea Air Travel" || g.pct() < 5 {
		o.Airline = &airline{Reference: g.alnum(6 + g.pick(10))}
	}
	if g.pct() < 15 {
		a, b := companyWords[g.pick(len(companyWords))], companyWords[g.pick(len(companyWords))]
		c, d := companyWords[g.pick(len(companyWords))], companyWords[g.pick(len(companyWords))]
		o.SubMerchant = &subMerchant{
			ID: fmt.Sprintf("%015x", g.r.Uint64()>>4), RegisteredName: a + "-" + b, TradingName: c + "-" + d,
			Email: firstNames[g.pick(len(firstNames))] + "@" + strings.ToLower(a+"-"+c) + ".test",
		}
	}
	srcType := "internet"
	if g.pct() < 5 {
		o.Agreement = &agreement{ID: g.id(at.Add(-30 * 24 * time.Hour)), Type: []string{"recurring", "unscheduled", "installment"}[g.pick(3)]}
		srcType = "merchant"
	} else if g.pct() < 3 {
		srcType = "moto"
	}

	latest := g.now.Add(-time.Minute)
	mk := func(typ string, t time.Time, amt int64, status string) *txn {
		x := &txn{ID: g.id(t), Type: typ, SourceType: srcType, Amount: amt, CreatedAt: t,
			RetrievalReference: g.digits(12), STAN: g.digits(6)}
		applyOutcome(x, status)
		if status == statusApproved && typ != typeRefund {
			x.AuthCode = ptr(g.digits(6))
		}
		return x
	}

	roll := g.pct()
	t0 := at.Add(time.Duration(g.pick(3)) * time.Second)
	var captured int64
	var lastCapture time.Time
	switch {
	case roll < 5: // declined purchase
		x := mk(typePurchase, t0, amount, statusFailed)
		if g.pct() < 50 {
			x.Message, x.ResponseCode = ptr("INSUFFICIENT FUNDS"), ptr("51")
		}
		o.Txns = append(o.Txns, x)
	case roll < 11: // authorized, not captured
		o.Txns = append(o.Txns, mk(typeAuthorize, t0, amount, statusApproved))
	case roll < 16: // voided authorization
		o.Txns = append(o.Txns, mk(typeAuthorize, t0, amount, statusApproved))
		vt := g.between(t0.Add(time.Hour), minTime(t0.Add(72*time.Hour), latest))
		v := mk(typeVoid, vt, amount, statusApproved)
		v.AuthCode = nil
		o.Txns = append(o.Txns, v)
	case roll < 32: // authorize + capture, sometimes partial
		o.Txns = append(o.Txns, mk(typeAuthorize, t0, amount, statusApproved))
		captured = amount
		if g.pct() < 25 {
			captured = max(100, amount*int64(50+g.pick(45))/100)
		}
		lastCapture = g.between(t0.Add(10*time.Minute), minTime(t0.Add(48*time.Hour), latest))
		o.Txns = append(o.Txns, mk(typeCapture, lastCapture, captured, statusApproved))
	default: // purchase
		captured, lastCapture = amount, t0
		o.Txns = append(o.Txns, mk(typePurchase, t0, amount, statusApproved))
	}

	o.refundOutcome = statusApproved
	if captured > 0 {
		refundAt := func() time.Time {
			return g.between(lastCapture.Add(time.Hour), minTime(lastCapture.Add(20*24*time.Hour), latest))
		}
		roll := g.pct()
		switch {
		case roll < 17: // partial refunds
			left := captured
			for k := 0; k < 1+g.pick(2) && left > 1; k++ {
				amt := max(1, left*int64(10+g.pick(40))/100)
				rt := refundAt()
				o.Txns = append(o.Txns, g.refund(o, rt, amt, statusApproved))
				lastCapture, left = rt, left-amt
			}
		case roll < 29: // fully refunded, in one or two steps
			if g.pct() < 30 && captured > 1 {
				first := captured / 3
				rt := refundAt()
				o.Txns = append(o.Txns, g.refund(o, rt, first, statusApproved))
				lastCapture = rt
				o.Txns = append(o.Txns, g.refund(o, refundAt(), captured-first, statusApproved))
			} else {
				o.Txns = append(o.Txns, g.refund(o, refundAt(), captured, statusApproved))
			}
		case roll < 33:
			o.refundOutcome = statusFailed
		case roll < 36:
			o.refundOutcome = statusTimeout
		case roll < 38:
			o.refundOutcome = statusSystemError
		}
		if o.refundOutcome != statusApproved {
			o.Source.LastDigits = map[string]string{statusFailed: LastDigitsRefundDeclined,
				statusTimeout: LastDigitsRefundTimeout, statusSystemError: LastDigitsRefundSystemError}[o.refundOutcome]
			o.Txns = append(o.Txns, g.refund(o, refundAt(), max(1, captured/2), o.refundOutcome))
		}
	}
	o.UpdatedAt = o.CreatedAt
	for _, x := range o.Txns {
		if x.CreatedAt.After(o.UpdatedAt) {
			o.UpdatedAt = x.CreatedAt
		}
	}
	return o
}

func (g *seeder) refund(o *order, at time.Time, amount int64, status string) *txn {
	x := &txn{ID: g.id(at), Type: typeRefund, SourceType: o.Txns[0].SourceType, Amount: amount,
		CreatedAt: at, RetrievalReference: g.digits(12), STAN: g.digits(6)}
	applyOutcome(x, status)
	return x
}

func (g *seeder) source(cur string) source {
	s := source{Type: "card"}
	if g.pct() < 15 {
		s.Type = "apple_pay"
	}
	roll := g.pct()
	var bins []string
	switch {
	case roll < 40 && cur == "SAR":
		s.Scheme, bins = "mada", madaBINs
	case roll < 70:
		s.Scheme, bins = "visa", visaBINs
	case roll < 93:
		s.Scheme, bins = "mastercard", mastercardBINs
	default:
		s.Scheme, bins = "amex", amexBINs
	}
	s.FirstDigits = bins[g.pick(len(bins))]
	if g.pct() < 50 && s.Scheme != "amex" {
		s.FirstDigits += g.digits(2)
	}
	for s.LastDigits == "" || refundOutcomeFor(s.LastDigits) != statusApproved {
		s.LastDigits = g.digits(4)
	}
	s.Month = 1 + g.pick(12)
	s.Year = g.now.Year() + 1 + g.pick(5)
	if g.pct() < 80 { // BIN lookup known
		country := map[string]string{"SAR": "SA", "KWD": "KW", "BHD": "BH"}[cur]
		if g.pct() < 10 {
			country = "AE"
		}
		b := banksByCountry[country][g.pick(len(banksByCountry[country]))]
		issuer := b.name
		cardType := "CREDIT"
		if s.Scheme == "mada" || g.pct() < 35 {
			cardType = "DEBIT"
		}
		if s.Scheme == "amex" {
			issuer = "American Express"
		}
		s.Issuer, s.CardType, s.CountryAlpha2 = ptr(issuer), ptr(cardType), ptr(b.country)
		s.Category = ptr(categories[g.pick(len(categories))])
	}
	return s
}

func (g *seeder) description() string {
	if hs := hostileStrings(); len(hs) > 0 && g.pct() < 3 {
		return hs[g.pick(len(hs))]
	}
	switch g.pick(6) {
	case 0:
		return fmt.Sprintf("Order #%d", 10000+g.pick(90000))
	case 1:
		return fmt.Sprintf("Invoice INV-%05d", g.pick(100000))
	case 2:
		return fmt.Sprintf("طلب رقم %d", 1000+g.pick(9000))
	case 3:
		return fmt.Sprintf("%d x %s", 1+g.pick(4), descWords[g.pick(len(descWords))])
	case 4:
		return "Subscription renewal " + g.now.AddDate(0, -g.pick(3), 0).Format("2006-01")
	default:
		return "Cart " + g.alnum(8)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
