package digitalriver

import (
	"encoding/json"
	"net"
	"net/http"
	"time"
)

// Fault kinds for POST /sandbox/faults.
const (
	faultErrorAfterCommit = "error_after_commit"
	faultResetAfterCommit = "reset_after_commit"
	faultHangAfterCommit  = "hang_after_commit"
	faultUnavailable      = "unavailable"
)

type fault struct {
	kind  string
	delay time.Duration
}

// popFault removes and returns the next armed fault if it is one of kinds.
func (s *Server) popFault(kinds ...string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 {
		return nil
	}
	for _, k := range kinds {
		if s.faults[0].kind == k {
			f := s.faults[0]
			s.faults = s.faults[1:]
			return &f
		}
	}
	return nil
}

// applyFault answers a POST /refunds whose refund was already recorded.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f fault, v refundView) {
	switch f.kind {
	case faultErrorAfterCommit:
		writeErr(w, newErr(http.StatusInternalServerError, "internal_server_error", "", "an internal error occurred"))
	case faultResetAfterCommit:
		hj, ok := w.(http.Hijacker)
		if !ok {
			writeErr(w, newErr(http.StatusInternalServerError, "internal_server_error", "", "an internal error occurred"))
			return
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST instead of FIN
		}
		_ = conn.Close()
	case faultHangAfterCommit:
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		}
		writeJSON(w, http.StatusCreated, v)
	}
}

func (s *Server) handleFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodDelete:
		s.mu.Lock()
		s.faults = nil
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPost:
		var req struct {
			Kind    string `json:"kind"`
			Count   int    `json:"count"`
			DelayMS int    `json:"delayMs"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
			writeErr(w, newErr(http.StatusBadRequest, "invalid_request", "", "body must be {kind, count, delayMs}"))
			return
		}
		switch req.Kind {
		case faultErrorAfterCommit, faultResetAfterCommit, faultHangAfterCommit, faultUnavailable:
		default:
			writeErr(w, badParam("kind", "kind must be error_after_commit, reset_after_commit, hang_after_commit or unavailable"))
			return
		}
		if req.Count <= 0 {
			req.Count = 1
		}
		if req.Count > 100 {
			req.Count = 100
		}
		delay := time.Duration(req.DelayMS) * time.Millisecond
		if delay <= 0 {
			delay = 10 * time.Second
		}
		if delay > 60*time.Second {
			delay = 60 * time.Second
		}
		s.mu.Lock()
		for i := 0; i < req.Count; i++ {
			s.faults = append(s.faults, fault{kind: req.Kind, delay: delay})
		}
		n := len(s.faults)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]int{"armed": n})
	default:
		methodNotAllowed(w, "POST, DELETE")
	}
}

// handleScenarios lists order ids per seeded scenario, newest first, plus
// "refundable": orders that can take a refund that will succeed.
func (s *Server) handleScenarios(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, "GET")
		return
	}
	now := ms(s.now())
	out := map[string][]string{}
	s.mu.Lock()
	for _, o := range s.orders {
		for _, t := range o.tags {
			out[t] = append(out[t], o.id)
		}
		if !o.willFail && o.hasCompleteCapture() && s.available(o, now).IsPositive() {
			out["refundable"] = append(out["refundable"], o.id)
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
