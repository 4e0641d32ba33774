package moyasar

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	defaultItems = 25
	maxItems     = 100
)

type pageMeta struct {
	CurrentPage int  `json:"current_page"`
	NextPage    *int `json:"next_page"`
	PrevPage    *int `json:"prev_page"`
}

// query flattens the query string so that `key[]` and `key` are the same
// (array filters repeat the parameter).
func query(r *http.Request) url.Values {
	out := url.Values{}
	for k, vs := range r.URL.Query() {
		k = strings.TrimSuffix(k, "[]")
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				out[k] = append(out[k], v)
			}
		}
	}
	return out
}

// paging reads page and items, adding validation errors to errs.
func paging(q url.Values, errs map[string][]string) (page, items int) {
	page, items = 1, defaultItems
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs["page"] = append(errs["page"], "The value must be an integer greater than or equal to 1.")
		} else {
			page = n
		}
	}
	if v := q.Get("items"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxItems {
			errs["items"] = append(errs["items"], "The value must be an integer between 1 and 100.")
		} else {
			items = n
		}
	}
	return page, items
}

func paginate[T any](all []T, page, items int) ([]T, pageMeta) {
	meta := pageMeta{CurrentPage: page}
	if page > 1 {
		meta.PrevPage = ptr(page - 1)
	}
	lo := (page - 1) * items
	if lo >= len(all) || lo < 0 {
		return []T{}, meta
	}
	hi := min(lo+items, len(all))
	if hi < len(all) {
		meta.NextPage = ptr(page + 1)
	}
	return all[lo:hi], meta
}

// parseTime accepts RFC 3339 timestamps, zone-less timestamps (UTC) and plain
// dates. A plain date used as an upper bound means the end of that day.
func parseTime(v string, upper bool) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		if upper {
			t = t.AddDate(0, 0, 1).Add(-time.Nanosecond)
		}
		return t, true
	}
	return time.Time{}, false
}

type orderFilter struct {
	createdGTE, createdLTE, updatedGTE, updatedLTE *time.Time
	amountGTE, amountLTE                           *int64
	ids, currency, scheme, lastDigits, firstDigits []string
	sourceType                                     []string
	sortField                                      string
	desc                                           bool
}

var orderSortFields = map[string]bool{"created_at": true, "updated_at": true, "amount": true,
	"captured_amount": true, "refunded_amount": true, "currency": true, "merchant_id": true}

func parseOrderFilter(q url.Values, errs map[string][]string) orderFilter {
	f := orderFilter{sortField: "created_at", desc: true}
	timeParam := func(key string, upper bool) *time.Time {
		v := q.Get(key)
		if v == "" {
			return nil
		}
		t, ok := parseTime(v, upper)
		if !ok {
			errs[key] = append(errs[key], "The value must be an ISO 8601 date or timestamp.")
			return nil
		}
		return &t
	}
	f.createdGTE = timeParam("created_at[gte]", false)
	f.createdLTE = timeParam("created_at[lte]", true)
	f.updatedGTE = timeParam("updated_at[gte]", false)
	f.updatedLTE = timeParam("updated_at[lte]", true)
	intParam := func(key string) *int64 {
		v := q.Get(key)
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			errs[key] = append(errs[key], "The value must be a non-negative integer.")
			return nil
		}
		return &n
	}
	f.amountGTE = intParam("amount[gte]")
	f.amountLTE = intParam("amount[lte]")
	f.ids = q["id"]
	f.currency = q["currency"]
	f.scheme = q["scheme"]
	f.lastDigits = q["last_digits"]
	f.firstDigits = q["first_digits"]
	f.sourceType = q["source_type"]
	if v := q.Get("sort[field]"); v != "" {
		if !orderSortFields[v] {
			errs["sort[field]"] = append(errs["sort[field]"], "The value is not a sortable field.")
		} else {
			f.sortField = v
		}
	}
	switch v := strings.ToLower(q.Get("sort[dir]")); v {
	case "", "desc":
	case "asc":
		f.desc = false
	default:
		errs["sort[dir]"] = append(errs["sort[dir]"], "The value must be asc or desc.")
	}
	return f
}

func anyFold(vals []string, v string) bool {
	if len(vals) == 0 {
		return true
	}
	for _, x := range vals {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

func (f *orderFilter) match(o *order, t totals) bool {
	switch {
	case f.createdGTE != nil && o.CreatedAt.Before(*f.createdGTE),
		f.createdLTE != nil && o.CreatedAt.After(*f.createdLTE),
		f.updatedGTE != nil && o.UpdatedAt.Before(*f.updatedGTE),
		f.updatedLTE != nil && o.UpdatedAt.After(*f.updatedLTE),
		f.amountGTE != nil && o.Amount < *f.amountGTE,
		f.amountLTE != nil && o.Amount > *f.amountLTE,
		!anyFold(f.ids, o.ID), !anyFold(f.currency, o.Currency), !anyFold(f.scheme, o.Source.Scheme),
		!anyFold(f.lastDigits, o.Source.LastDigits), !anyFold(f.sourceType, o.Source.Type):
		return false
	}
	if len(f.firstDigits) > 0 {
		ok := false
		for _, bin := range f.firstDigits {
			ok = ok || strings.HasPrefix(o.Source.FirstDigits, bin) || strings.HasPrefix(bin, o.Source.FirstDigits)
		}
		return ok
	}
	return true
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	q := query(r)
	errs := map[string][]string{}
	page, items := paging(q, errs)
	f := parseOrderFilter(q, errs)
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	type row struct {
		o *order
		t totals
	}
	var rows []row
	for _, o := range s.orders {
		o.settle(now)
		t := o.totals()
		if f.match(o, t) {
			rows = append(rows, row{o, t})
		}
	}
	key := func(x row) (int64, string) {
		switch f.sortField {
		case "amount":
			return x.o.Amount, ""
		case "captured_amount":
			return x.t.captured, ""
		case "refunded_amount":
			return x.t.refunded, ""
		case "updated_at":
			return x.o.UpdatedAt.UnixNano(), ""
		case "currency":
			return 0, x.o.Currency
		case "merchant_id":
			return 0, x.o.Merchant.MerchantID
		}
		return x.o.CreatedAt.UnixNano(), ""
	}
	slices.SortFunc(rows, func(a, b row) int {
		an, as := key(a)
		bn, bs := key(b)
		c := cmp.Or(cmp.Compare(an, bn), strings.Compare(as, bs), strings.Compare(a.o.ID, b.o.ID))
		if f.desc {
			return -c
		}
		return c
	})
	pageRows, meta := paginate(rows, page, items)
	out := make([]wireOrder, 0, len(pageRows))
	for _, x := range pageRows {
		out = append(out, x.o.wire())
	}
	writeJSON(w, http.StatusOK, struct {
		Orders []wireOrder `json:"orders"`
		Meta   pageMeta    `json:"meta"`
	}{out, meta})
}

func (s *Server) handleShow(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.byID[strings.ToLower(id)]
	if o == nil {
		writeMessage(w, http.StatusNotFound, "Not found")
		return
	}
	o.settle(s.now())
	writeJSON(w, http.StatusOK, o.wire())
}

var txnSortFields = map[string]bool{"created_at": true, "amount": true, "status": true, "type": true}

func (s *Server) handleTransactions(w http.ResponseWriter, r *http.Request, id string) {
	q := query(r)
	errs := map[string][]string{}
	page, items := paging(q, errs)
	field, desc := "created_at", true
	if v := q.Get("sort[field]"); v != "" {
		if !txnSortFields[v] {
			errs["sort[field]"] = append(errs["sort[field]"], "The value is not a sortable field.")
		}
		field = v
	}
	switch strings.ToLower(q.Get("sort[dir]")) {
	case "", "desc":
	case "asc":
		desc = false
	default:
		errs["sort[dir]"] = append(errs["sort[dir]"], "The value must be asc or desc.")
	}
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.byID[strings.ToLower(id)]
	if o == nil {
		writeMessage(w, http.StatusNotFound, "Not found")
		return
	}
	o.settle(s.now())
	type indexed struct {
		i int
		t wireTxn
	}
	var rows []indexed
	for i, t := range o.wire().Transactions {
		if anyFold(q["status"], t.Status) && anyFold(q["type"], t.Type) {
			rows = append(rows, indexed{i, t})
		}
	}
	slices.SortFunc(rows, func(a, b indexed) int {
		var c int
		switch field {
		case "amount":
			c = cmp.Compare(a.t.Amount, b.t.Amount)
		case "status":
			c = strings.Compare(a.t.Status, b.t.Status)
		case "type":
			c = strings.Compare(a.t.Type, b.t.Type)
		default:
			c = strings.Compare(a.t.CreatedAt, b.t.CreatedAt)
		}
		// Transactions are stored oldest first; that order breaks ties.
		c = cmp.Or(c, cmp.Compare(a.i, b.i))
		if desc {
			return -c
		}
		return c
	})
	txns := make([]wireTxn, 0, len(rows))
	for _, x := range rows {
		txns = append(txns, x.t)
	}
	pageTxns, meta := paginate(txns, page, items)
	writeJSON(w, http.StatusOK, struct {
		Transactions []wireTxn `json:"transactions"`
		Meta         pageMeta  `json:"meta"`
	}{pageTxns, meta})
}
