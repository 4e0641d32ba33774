package ui

import (
	"cmp"
	"math"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"paydesk/model"
	"paydesk/model/safetext"
)

// The orders list keeps its loaded rows compactly (issue: 100k loaded
// orders in at most 60 MB of RSS). A model.OrderSummary costs about 400
// heap bytes once its decimals (a big.Int each), its Money currencies and
// its time are counted; a listRow keeps the same facts in 40 bytes plus
// its id, ref and reference text in one byte arena (a Go string would cost
// a 16-byte header and its own allocation, rounded up to a size class) and
// 8 bytes an amount: each amount's coefficient, exponent and currency
// packed in one word, small repeated strings (status, the provider's
// status word, currency, provider) as indexes into one table, the time as
// Unix nanoseconds and an interned zone. Cells are formatted only for the
// rows the table draws (table.go), and the filter reads the row's shown
// text off these fields (orders_filter.go).
//
// A row the compact form cannot hold exactly (an amount past what int64
// minor units show without rounding, text that safetext would change,
// times out of range, a provider sending thousands of distinct status
// words or ids longer than 64 KiB) is kept whole in spill: rare, and then
// exact.

// storedAmount is an amount packed in 64 bits: the coefficient in the top
// 47 (signed; |coef| < maxCoef < 2^46), the exponent biased by amtExpBias
// in the next 5, the currency's index in rowStore.strs in the low 12
// (maxInterned strings at most).
type storedAmount uint64

const (
	amtCurBits = 12
	amtExpBits = 5
	amtExpBias = 16
	amtShift   = amtCurBits + amtExpBits
)

// packAmount packs an amount, or reports that it does not fit.
func packAmount(coef int64, exp int32, cur uint16) (storedAmount, bool) {
	if int(cur) >= maxInterned || exp < -amtExpBias || exp >= 1<<amtExpBits-amtExpBias ||
		coef >= maxCoef || coef <= -maxCoef {
		return 0, false
	}
	return storedAmount(uint64(coef)<<amtShift | uint64(exp+amtExpBias)<<amtCurBits | uint64(cur)), true
}

func (a storedAmount) coef() int64 { return int64(a) >> amtShift }
func (a storedAmount) exp() int32  { return int32(a>>amtCurBits&(1<<amtExpBits-1)) - amtExpBias }
func (a storedAmount) cur() uint16 { return uint16(a & (1<<amtCurBits - 1)) }

// listRow is one loaded order. Its id, ref (unless it is the id) and
// reference are at text in rowStore.text, one after the other.
type listRow struct {
	created                int64 // Unix nanoseconds; math.MinInt64 with rowZeroTime
	total                  storedAmount
	text                   uint32 // offset in rowStore.text
	amts                   uint32 // first of this row's amounts in rowStore.amts
	provider, status       uint16 // indexes into rowStore.strs
	provStatus             uint16
	idLen, refLen, refcLen uint16 // bytes of id, ref and reference
	nAmts                  uint8
	loc                    uint8 // index into rowStore.locs
	flags                  uint8
	// textSlack: bytes after the text that are still this row's slot (a
	// shorter text was set into it); the padding byte the struct has
	// anyway.
	textSlack uint8
}

const (
	rowZeroTime = 1 << iota // Created is the zero time
	rowDateOnly             // OrderSummary.DateOnly
	rowSpilled              // kept whole in rowStore.spill
	rowDayCell              // the Date cell is a day or "—" (Table.DayOnly)
	rowRefIsID              // the ref is the id: its text is not kept twice
)

// maxCoef bounds a stored amount's minor units: longer digit runs could be
// masked as card numbers by safetext, so such rows keep their decimals.
const maxCoef = 1e12

// maxInterned bounds the table of small strings: status words come from
// providers, and a hostile one must not grow it without end.
const maxInterned = 1 << amtCurBits

type rowStore struct {
	rows  []listRow
	text  []byte // every row's id, ref and reference
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
		return 0, false
	}
	c := m.Amount.Coefficient()
	if !c.IsInt64() {
		return 0, false
	}
	coef, exp := c.Int64(), m.Amount.Exponent()
	if coef == 0 {
		exp = 0
	}
	a, ok := packAmount(coef, exp, cur)
	if !ok {
		return 0, false
	}
	places, err := model.Exponent(m.Currency)
	if err != nil {
		// fmtAmount and fmtMoney draw an empty, currency-less amount as
		// "—"; anything else without a known currency keeps its decimal.
		return a, m.Currency == "" && coef == 0
	}
	if _, ok := minorUnits(a, places); !ok {
		return 0, false
	}
	return a, true
}

// minorUnits is a in units of 10^-places, when that is exact and small:
// fewer than 13 digits, as for the coefficient (maxCoef), since the drawn
// amount is these digits and a longer run is drawn masked as a card
// number (safetext), which the filter's unmasked text would not find.
func minorUnits(a storedAmount, places int32) (int64, bool) {
	shift := a.exp() + places
	if shift < 0 || shift > 6 {
		return 0, a.coef() == 0
	}
	v := a.coef()
	for range shift {
		v *= 10
	}
	if v >= maxCoef || v <= -maxCoef {
		return 0, false
	}
	return v, true
}

func (st *rowStore) decimal(a storedAmount) model.Money {
	m := model.Money{Currency: st.strs[a.cur()]}
	if a.coef() != 0 || a.exp() != 0 {
		m.Amount = decimal.New(a.coef(), a.exp())
	}
	return m
}

// pack turns o into a listRow, or reports that it must be kept whole. It
// appends the row's text to the arena; the caller drops it when the row
// does not pack.
func (st *rowStore) pack(o *model.OrderSummary) (listRow, bool) {
	var r listRow
	if len(o.ID) > math.MaxUint16 || len(o.Ref) > math.MaxUint16 || len(o.Reference) > math.MaxUint16 ||
		len(st.text) > math.MaxUint32-3*math.MaxUint16 {
		return r, false
	}
	r.text = uint32(len(st.text))
	r.idLen, r.refcLen = uint16(len(o.ID)), uint16(len(o.Reference))
	st.text = append(st.text, o.ID...)
	if o.Ref == o.ID {
		r.flags |= rowRefIsID // one copy, not two, per loaded row
	} else {
		r.refLen = uint16(len(o.Ref))
		st.text = append(st.text, o.Ref...)
	}
	st.text = append(st.text, o.Reference...)
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
	if len(st.amts)+len(o.Amounts) > math.MaxUint32 {
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
	text := len(st.text)
	r, ok := st.pack(o)
	if ok {
		if st.spill != nil {
			delete(st.spill, i)
		}
		return r
	}
	st.text = st.text[:text]
	keep := *o
	if st.spill == nil {
		st.spill = map[int]*model.OrderSummary{}
	}
	st.spill[i] = &keep
	// Everything, the id included, is read from spill.
	flags := uint8(rowSpilled)
	if dayCell(dateCell(o)) {
		flags |= rowDayCell
	}
	return listRow{flags: flags}
}

// idBytes, refBytes and referenceBytes are a packed row's text, in the
// arena (not to be kept or changed).
func (st *rowStore) idBytes(r *listRow) []byte {
	return st.text[r.text : r.text+uint32(r.idLen)]
}

func (st *rowStore) refBytes(r *listRow) []byte {
	if r.flags&rowRefIsID != 0 {
		return st.idBytes(r)
	}
	at := r.text + uint32(r.idLen)
	return st.text[at : at+uint32(r.refLen)]
}

func (st *rowStore) referenceBytes(r *listRow) []byte {
	at := r.text + uint32(r.idLen) + uint32(r.refLen)
	return st.text[at : at+uint32(r.refcLen)]
}

// id is row i's order id.
func (st *rowStore) id(i int) string {
	if r := &st.rows[i]; r.flags&rowSpilled == 0 {
		return string(st.idBytes(r))
	}
	return st.spill[i].ID
}

// byID is m's value for row i's order id, without making a string (the
// callers walk every loaded row).
func byID[V any](st *rowStore, m map[string]V, i int) (V, bool) {
	if r := &st.rows[i]; r.flags&rowSpilled == 0 {
		v, ok := m[string(st.idBytes(r))]
		return v, ok
	}
	v, ok := m[st.spill[i].ID]
	return v, ok
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

// set replaces row i (an order read again, or r's fresh page). The new
// text and amounts go where the old were when they fit (they mostly are
// the same), so refreshing the same rows again and again does not grow
// the arenas.
func (st *rowStore) set(i int, o *model.OrderSummary) {
	old, end, amtsEnd := st.rows[i], len(st.text), len(st.amts)
	r := st.row(i, o)
	if old.flags&rowSpilled == 0 && r.flags&rowSpilled == 0 {
		// A Forage row's reference comes and goes (the report has none, the
		// index fills it in): the slot remembers its size so the longer
		// text fits again.
		if n, slot := textLen(&r), textLen(&old)+uint32(old.textSlack); n <= slot {
			copy(st.text[old.text:], st.text[r.text:r.text+n])
			st.text, r.text = st.text[:end], old.text
			r.textSlack = uint8(min(slot-n, math.MaxUint8))
		}
		// Its amounts likewise: they are 8 bytes each, for every row of
		// every r.
		if r.nAmts <= old.nAmts {
			copy(st.amts[old.amts:], st.amts[r.amts:r.amts+uint32(r.nAmts)])
			st.amts, r.amts = st.amts[:amtsEnd], old.amts
		}
	}
	st.rows[i] = r
}

// textLen is the bytes of a packed row's text in the arena.
func textLen(r *listRow) uint32 { return uint32(r.idLen) + uint32(r.refLen) + uint32(r.refcLen) }

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
		Provider: st.strs[r.provider], ID: string(st.idBytes(r)), Status: model.Status(st.strs[r.status]),
		ProviderStatus: st.strs[r.provStatus], DateOnly: r.flags&rowDateOnly != 0,
		Total: st.decimal(r.total), Reference: string(st.referenceBytes(r)),
	}
	o.Ref = o.ID
	if r.flags&rowRefIsID == 0 {
		o.Ref = string(st.refBytes(r))
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
	ac, bc, ae, be := a.coef(), b.coef(), a.exp(), b.exp()
	if ae == be || ac == 0 || bc == 0 {
		if ae == be {
			return cmp.Compare(ac, bc)
		}
		return cmp.Compare(cmp.Compare(ac, 0), cmp.Compare(bc, 0))
	}
	return st.decimal(a).Amount.Cmp(st.decimal(b).Amount)
}

// amountAt is row i's amount column k (the zero amount when it has none).
func (st *rowStore) amountAt(i, k int) storedAmount {
	r := &st.rows[i]
	if k < int(r.nAmts) {
		return st.amts[int(r.amts)+k]
	}
	a, _ := packAmount(0, 0, st.emptyCur())
	return a
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
