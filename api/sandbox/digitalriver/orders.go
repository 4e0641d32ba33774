package digitalriver

import (
	"net/http"
)

func (s *Server) handleOrders(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	q := r.URL.Query()
	lq, e := parseListQuery(q)
	if e != nil {
		writeErr(w, e)
		return
	}
	tf, e := parseTimeFilter(q, "createdTime")
	if e != nil {
		writeErr(w, e)
		return
	}
	ids, upstream := idsFilter(q), setFilter(q, "upstreamIds")
	state, currency := q.Get("state"), q.Get("currency")
	now := ms(s.now())

	s.mu.Lock()
	var cur *cursorKey
	if id, param := cursorParam(lq); id != "" {
		o := s.orderByID[id]
		if o == nil {
			s.mu.Unlock()
			writeErr(w, badParam(param, "no order with id "+id))
			return
		}
		cur = &cursorKey{o.created, o.id}
	}
	var filtered []*order
	for _, o := range s.orders {
		if ids != nil && !ids[o.id] || upstream != nil && !upstream[o.upstreamID] || currency != "" && o.currency != currency ||
			!tf.ok(o.created) || state != "" && s.orderState(o, now) != state {
			continue
		}
		filtered = append(filtered, o)
	}
	data, more := page(filtered, func(o *order) cursorKey { return cursorKey{o.created, o.id} }, lq, cur)
	out := listView[orderView]{HasMore: more, Data: make([]orderView, 0, len(data))}
	for _, o := range data {
		out.Data = append(out.Data, s.orderView(o, now))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleOrder(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	id := r.PathValue("id")
	now := ms(s.now())
	s.mu.Lock()
	o := s.orderByID[id]
	if o == nil {
		s.mu.Unlock()
		writeErr(w, newErr(http.StatusNotFound, "not_found", "id", "order "+id+" not found"))
		return
	}
	v := s.orderView(o, now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, v)
}

// cursorParam returns the cursor id and the name of the parameter it came from.
func cursorParam(lq listQuery) (string, string) {
	if lq.after != "" {
		return lq.after, "startingAfter"
	}
	if lq.before != "" {
		return lq.before, "endingBefore"
	}
	return "", ""
}
