package ui

import (
	"math"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"paydesk/model"
	"paydesk/model/safetext"
)

// The orders list keeps its loaded rows compactly (issue: 100k loaded
// orders in at most 60 MB of RSS). A model.OrderSummary costs about 400
// heap bytes once its decimals (a big.Int each), its Money currencies and
// its time are counted; a listRow keeps the same facts in about 90 bytes
// plus its id and reference text and 16 bytes an amount: amounts as an
// int64 coefficient and exponent, small repeated strings (status, the
// provider's status word, currency, provider) as indexes into one table,
// the time as Unix nanoseconds and an interned zone. Cells are formatted
// only for the rows the table draws (table.go), and the filter reads the
// row's shown text off these fields (orders_filter.go).
//
// A row the compact form cannot hold exactly (an amount past what int64
// minor units show without rounding, text that safetext would change,
// times out of range, a provider sending thousands of distinct status
// words) is kept whole in spill: rare, and then exact.

type storedAmount struct {
	coef int64
	exp  int32
	cur  uint16 // index into rowStore.strs
}

type listRow struct {
	id, ref, reference string // ref shares id's bytes when they are equal
	created            int64  // Unix nanoseconds; math.MinInt64 with rowZeroTime
	total              storedAmount
	amts               uint32 // first of this row's amounts in rowStore.amts
	provider, status   uint16 // indexes into rowStore.strs
	provStatus         uint16
	nAmts              uint8
	loc                uint8 // index into rowStore.locs
	flags              uint8
}

const (
	rowZeroTime = 1 << iota // Created is the zero time
	rowDateOnly             // OrderSummary.DateOnly
	rowSpilled              // kept whole in rowStore.spill
	rowDayCell              // the Date cell is a day or "—" (Table.DayOnly)
)

// maxCoef bounds a stored amount's minor units: longer digit runs could be
// masked as card numbers by safetext, so such rows keep their decimals.
const maxCoef = 1e12

// maxInterned bounds the table of small strings: status words come from
// providers, and a hostile one must not grow it without end.
const maxInterned = 4096

type rowStore struct {
	rows  []listRow
	amts  []storedAmount
	strs  []string
	strIx map[string]uint16
	locs  []*time.Location
	spill map[int]*model.OrderSummary
	// statusCells: the Status cell of each (status, provider status) pair.
	statusCells map[uint32]string
}

func (st *rowStore) Len() int { return len(st.rows) }

func (st *rowStore) intern(s string) (uint16, bool) {
	if i, ok := st.strIx[s]; ok {
		return i, true
	}
	if len(st.strs) >= maxInterned {
		return 0, false
	}
	if st.strIx == nil {
		st.strIx = map[string]uint16{}
	}
	i := uint16(len(st.strs))
	st.strs = append(st.strs, s)
	st.strIx[s] = i
	return i, true
}

func (st *rowStore) internLoc(l *time.Location) (uint8, bool) {
	for i, x := range st.locs {
		if x == l {
			return uint8(i), true
		}
	}
	if len(st.locs) >= math.MaxUint8 {
		return 0, false
	}
	st.locs = append(st.locs, l)
	return uint8(len(st.locs) - 1), true
}

// storeAmount packs m when its fixed-point text can be written from an
// int64 without rounding (exponent no finer than the currency's).
func (st *rowStore) storeAmount(m model.Money) (storedAmount, bool) {
	cur, ok := st.intern(m.Currency)
	if !ok {
		return storedAmount{}, false
	}
	c := m.Amount.Coefficient()
	if !c.IsInt64() {
		return storedAmount{}, false
	}
	a := storedAmount{coef: c.Int64(), exp: m.Amount.Exponent(), cur: cur}
	if a.coef == 0 {
		a.exp = 0
	}
	if a.coef >= maxCoef || a.coef <= -maxCoef {
		return storedAmount{}, false
	}
	places, err := model.Exponent(m.Currency)
	if err != nil {
		// fmtAmount and fmtMoney draw an empty, currency-less amount as
		// "—"; anything else without a known currency keeps its decimal.
		return a, m.Currency == "" && a.coef == 0
	}
	if _, ok := minorUnits(a, places); !ok {
		return storedAmount{}, false
	}
	return a, true
}

// minorUnits is a in units of 10^-places, when that is exact and small.
func minorUnits(a storedAmount, places int32) (int64, bool) {
	shift := a.exp + places
	if shift < 0 || shift > 6 {
		return 0, a.coef == 0
	}
	v := a.coef
	for range shift {
		v *= 10
	}
	if v >= maxCoef*1e6 || v <= -maxCoef*1e6 {
		return 0, false
	}
	return v, true
}

func (st *rowStore) decimal(a storedAmount) model.Money {
	m := model.Money{Currency: st.strs[a.cur]}
	if a.coef != 0 || a.exp != 0 {
		m.Amount = decimal.New(a.coef, a.exp)
	}
	return m
}

// pack turns o into a listRow, or reports that it must be kept whole.
func (st *rowStore) pack(o *model.OrderSummary) (listRow, bool) {
	r := listRow{id: o.ID, ref: o.Ref, reference: o.Reference}
	if o.Ref == o.ID {
		r.ref = o.ID // one string, not two copies, per loaded row
	}
	for _, s := range []string{o.Ref, o.Reference, o.ProviderStatus, string(o.Status)} {
		if !safetext.IsClean(s) {
			return r, false
		}
	}
	var ok1, ok2, ok3 bool
	r.provider, ok1 = st.intern(o.Provider)
	r.status, ok2 = st.intern(string(o.Status))
	r.provStatus, ok3 = st.intern(o.ProviderStatus)
	if !ok1 || !ok2 || !ok3 || len(o.Amounts) > math.MaxUint8 {
		return r, false
	}
	if o.DateOnly {
		r.flags |= rowDateOnly
	}
	if o.Created.IsZero() {
		r.flags |= rowZeroTime
		r.created = math.MinInt64 // sorts first, as the zero time does
	} else {
		y := o.Created.Year()
		if y < 1700 || y > 2200 {
			return r, false
		}
		var ok bool
		if r.loc, ok = st.internLoc(o.Created.Location()); !ok {
			return r, false
		}
		r.created = o.Created.UnixNano()
	}
	if o.DateOnly || o.Created.IsZero() { // dateCell: a day, or "—"
		r.flags |= rowDayCell
	}
	var ok bool
	if r.total, ok = st.storeAmount(o.Total); !ok {
		return r, false
	}
	if !safetext.IsClean(o.Total.Currency) {
		return r, false
	}
	r.amts = uint32(len(st.amts))
	r.nAmts = uint8(len(o.Amounts))
	for _, m := range o.Amounts {
		a, ok := st.storeAmount(m)
		if !ok {
			st.amts = st.amts[:r.amts]
			return r, false
		}
		st.amts = append(st.amts, a)
	}
	return r, true
}

// row packs o, or keeps it whole when it does not pack.
func (st *rowStore) row(i int, o *model.OrderSummary) listRow {
	r, ok := st.pack(o)
	if ok {
		if st.spill != nil {
			delete(st.spill, i)
		}
		return r
	}
	keep := *o
	if st.spill == nil {
		st.spill = map[int]*model.OrderSummary{}
	}
	st.spill[i] = &keep
	// Lookups by id read the row directly; everything else reads spill.
	flags := uint8(rowSpilled)
	if dayCell(dateCell(o)) {
		flags |= rowDayCell
	}
	return listRow{id: o.ID, ref: r.ref, flags: flags}
}

// add appends orders.
func (st *rowStore) add(orders []model.OrderSummary) {
	if st.rows == nil {
		st.rows = make([]listRow, 0, len(orders))
	}
	for k := range orders {
		st.rows = append(st.rows, st.row(len(st.rows), &orders[k]))
	}
}

// set replaces row i (an order read again, or r's fresh page).
func (st *rowStore) set(i int, o *model.OrderSummary) {
	st.rows[i] = st.row(i, o)
}

// prepend puts orders on top (r's new orders); rows move down by len(orders).
func (st *rowStore) prepend(orders []model.OrderSummary) {
	n := len(orders)
	rows := make([]listRow, n, n+len(st.rows))
	rows = append(rows, st.rows...)
	if len(st.spill) > 0 {
		moved := make(map[int]*model.OrderSummary, len(st.spill))
		for i, o := range st.spill {
			moved[i+n] = o
		}
		st.spill = moved
	}
	st.rows = rows
	for k := range orders {
		st.rows[k] = st.row(k, &orders[k])
	}
}

// summary rebuilds row i as the provider listed it.
func (st *rowStore) summary(i int) model.OrderSummary {
	r := &st.rows[i]
	if r.flags&rowSpilled != 0 {
		return *st.spill[i]
	}
	o := model.OrderSummary{
		Provider: st.strs[r.provider], ID: r.id, Ref: r.ref, Status: model.Status(st.strs[r.status]),
		ProviderStatus: st.strs[r.provStatus], DateOnly: r.flags&rowDateOnly != 0,
		Total: st.decimal(r.total), Reference: r.reference,
	}
	if r.flags&rowZeroTime == 0 {
		o.Created = time.Unix(0, r.created).In(st.locs[r.loc])
	}
	if r.nAmts > 0 {
		o.Amounts = make([]model.Money, r.nAmts)
		for k := range o.Amounts {
			o.Amounts[k] = st.decimal(st.amts[int(r.amts)+k])
		}
	}
	return o
}

func (st *rowStore) status(i int) model.Status {
	if r := &st.rows[i]; r.flags&rowSpilled == 0 {
		return model.Status(st.strs[r.status])
	}
	return st.spill[i].Status
}

// statusCell is row i's Status cell, formatted once per pair of statuses.
func (st *rowStore) statusCell(i int) string {
	r := &st.rows[i]
	if r.flags&rowSpilled != 0 {
		o := st.spill[i]
		return providerStatusCell(o.Status, o.ProviderStatus)
	}
	k := uint32(r.status)<<16 | uint32(r.provStatus)
	if c, ok := st.statusCells[k]; ok {
		return c
	}
	c := providerStatusCell(model.Status(st.strs[r.status]), st.strs[r.provStatus])
	if st.statusCells == nil {
		st.statusCells = map[uint32]string{}
	}
	st.statusCells[k] = c
	return c
}

// compareAmounts orders two stored amounts by value.
func (st *rowStore) compareAmounts(a, b storedAmount) int {
	if a.exp == b.exp || a.coef == 0 || b.coef == 0 {
		if a.exp == b.exp {
			return cmpInt(a.coef, b.coef)
		}
		return cmpInt(sign(a.coef), sign(b.coef))
	}
	return st.decimal(a).Amount.Cmp(st.decimal(b).Amount)
}

func sign(v int64) int64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// amountAt is row i's amount column k (the zero amount when it has none).
func (st *rowStore) amountAt(i, k int) storedAmount {
	r := &st.rows[i]
	if k < int(r.nAmts) {
		return st.amts[int(r.amts)+k]
	}
	return storedAmount{cur: st.emptyCur()}
}

func (st *rowStore) emptyCur() uint16 {
	i, _ := st.intern("")
	return i
}

// appendFixed writes a as model.Money.Fixed does, for a packed amount.
func appendFixed(b []byte, a storedAmount, places int32) []byte {
	v, _ := minorUnits(a, places)
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	if places == 0 {
		return strconv.AppendInt(b, v, 10)
	}
	p := int64(1)
	for range places {
		p *= 10
	}
	b = strconv.AppendInt(b, v/p, 10)
	b = append(b, '.')
	frac := v % p
	for q := p / 10; q > 1 && frac < q; q /= 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, frac, 10)
}

// dateCell is the Date cell of o.
func dateCell(o *model.OrderSummary) string {
	if o.DateOnly && !o.Created.IsZero() {
		return o.Created.Format("2006-01-02") // the day is known, the time is not
	}
	return fmtDate(o.Created)
}

// Returning memory to the OS. Go keeps the heap a load freed (decoded
// pages, the rows of a range the agent left) for reuse, and collects only
// when the heap has doubled, so while a 30-day range loads the console's
// RSS climbs toward twice what it holds (74 MB at 70k rows, 39 MB just
// after a collection). While a large list grows, at most once a second,
// when the range is whole, and when a large list is dropped, the list
// asks the runtime to give the free pages back, on its own goroutine (a
// full collection takes milliseconds to tens of them at 100k rows, and
// keys must not wait for it), one at a time for the whole process.

// releaseMin is the row count below which a list's garbage is not worth a
// full collection.
const releaseMin = 10_000

// releaseEvery spaces the releases while pages arrive.
const releaseEvery = time.Second

var releasing atomic.Bool

// releaseDue reports whether rows loaded, since the last release at
// lastRows rows, since ago, are worth a release now.
func releaseDue(lastRows, rows int, since time.Duration) bool {
	return rows >= releaseMin && rows > lastRows && since >= releaseEvery
}

// releaseMemory returns free heap to the OS in the background, unless a
// release is already running.
func releaseMemory() {
	if !releasing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer releasing.Store(false)
		debug.FreeOSMemory()
	}()
}
