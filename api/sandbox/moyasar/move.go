package moyasar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

const (
	maxAmount           = 100_000_000
	msgStillProcessing  = "Initial request is still processing."
	msgNotCaptured      = "Order has no captured amount to refund."
	msgAlreadyCaptured  = "Order is captured; refund it instead of voiding."
	msgNoAuthorization  = "Order has no approved authorization to void."
	msgTxnIDTaken       = "The transaction_id has already been used by another transaction."
	msgTxnIDOtherAmount = "The transaction_id was already used with a different amount."
)

// moveRequest is the body of refund and void.
type moveRequest struct {
	amount int64
	txnID  string // canonical lower-case UUID, or "" to let the server pick one
}

// parseMoveBody validates the JSON body. ok is false when it already answered.
func parseMoveBody(w http.ResponseWriter, r *http.Request) (req moveRequest, ok bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Request body is too large or unreadable.")
		return req, false
	}
	raw := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &raw); err != nil {
			writeMessage(w, http.StatusBadRequest, "Request body must be a JSON object.")
			return req, false
		}
	}
	errs := map[string][]string{}
	a, present := raw["amount"]
	switch {
	case !present || string(a) == "null":
		errs["amount"] = []string{"The value is required."}
	default:
		n, err := strconv.ParseInt(string(a), 10, 64)
		switch {
		case err != nil && errors.Is(err, strconv.ErrRange):
			errs["amount"] = []string{fmt.Sprintf("The value must be less than or equal to %d.", maxAmount)}
		case err != nil:
			errs["amount"] = []string{"The value must be an integer."}
		case n < 1:
			errs["amount"] = []string{"The value must be greater than or equal to 1."}
		case n > maxAmount:
			errs["amount"] = []string{fmt.Sprintf("The value must be less than or equal to %d.", maxAmount)}
		default:
			req.amount = n
		}
	}
	if t, present := raw["transaction_id"]; present && string(t) != "null" {
		var s string
		u, perr := uuid.Nil, json.Unmarshal(t, &s)
		if perr == nil {
			u, perr = uuid.Parse(s)
		}
		if perr != nil || len(s) != 36 {
			errs["transaction_id"] = []string{"The value must be a UUID."}
		} else {
			req.txnID = u.String()
		}
	}
	if len(errs) > 0 {
		writeValidation(w, errs)
		return req, false
	}
	return req, true
}

// handleMove serves POST /v1/orders/:id/refund and /void (kind "refund"/"void").
func (s *Server) handleMove(w http.ResponseWriter, r *http.Request, id, kind string) {
	req, ok := parseMoveBody(w, r)
	if !ok {
		return
	}
	id = strings.ToLower(id)
	waitUntil := time.Now().Add(maxLockWait)

	s.mu.Lock()
	var o *order
	for {
		if o = s.byID[id]; o == nil {
			s.mu.Unlock()
			writeMessage(w, http.StatusNotFound, "Not found")
			return
		}
		now := s.now()
		o.settle(now)
		if rec := s.txns[req.txnID]; req.txnID != "" && rec != nil {
			status, body := s.replay(o, rec, req, kind, now)
			s.mu.Unlock()
			writeJSON(w, status, body)
			return
		}
		ch := s.busy[id]
		if ch == nil {
			break
		}
		// Another request holds this order: wait for it like the real
		// gateway's internal retries, and give up the same way.
		s.mu.Unlock()
		timer := time.NewTimer(time.Until(waitUntil))
		select {
		case <-ch:
			timer.Stop()
		case <-timer.C:
			writeMessage(w, http.StatusBadRequest, msgStillProcessing)
			return
		case <-r.Context().Done():
			timer.Stop()
			return
		}
		s.mu.Lock()
	}

	now := s.now()
	t := o.totals()
	var limit int64
	if kind == typeRefund {
		if t.captured == 0 {
			s.mu.Unlock()
			writeMessage(w, http.StatusBadRequest, msgNotCaptured)
			return
		}
		limit = t.captured - t.refunded - t.pendingRefund
	} else {
		if t.captured > 0 {
			s.mu.Unlock()
			writeMessage(w, http.StatusBadRequest, msgAlreadyCaptured)
			return
		}
		if t.authorized == 0 {
			s.mu.Unlock()
			writeMessage(w, http.StatusBadRequest, msgNoAuthorization)
			return
		}
		limit = t.authorized - t.voided
	}
	if req.amount > limit {
		s.mu.Unlock()
		writeValidation(w, map[string][]string{"amount": {fmt.Sprintf("The value must be less than or equal to %d.", max(limit, 0))}})
		return
	}

	if req.txnID == "" {
		req.txnID = newUUIDv7(now, s.rng.Uint64)
	}
	x := &txn{ID: req.txnID, Type: kind, SourceType: o.Txns[0].SourceType, Amount: req.amount,
		CreatedAt: now, RetrievalReference: s.digits(12), STAN: s.digits(6)}
	if kind == typeRefund {
		x.Status, x.settleAt, x.outcome = statusInitiated, now.Add(s.opts.RefundLatency), o.refundOutcome
		if o.reverseTimeouts && o.refundOutcome == statusTimeout {
			x.reverseAt = x.settleAt.Add(max(s.opts.RefundLatency, 0))
			x.reversalID = newUUIDv7(x.reverseAt, s.rng.Uint64)
		}
	} else {
		applyOutcome(x, statusApproved)
	}
	o.Txns = append(o.Txns, x)
	o.UpdatedAt = now
	rec := &txnRecord{orderID: id, kind: kind, amount: req.amount, at: now}
	s.txns[x.ID] = rec

	if d := s.opts.ProcessingDelay; d > 0 {
		// Hold the order for a moment, as the gateway does while it talks to
		// the scheme. The refund exists already: a client that gives up now
		// finds it when it re-reads the order.
		rec.inFlight = true
		ch := make(chan struct{})
		s.busy[id] = ch
		s.mu.Unlock()
		time.Sleep(d)
		s.mu.Lock()
		rec.inFlight = false
		delete(s.busy, id)
		close(ch)
	}
	o.settle(s.now())
	body := o.wire()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, body)
}

// replay answers a request whose transaction_id is already known.
func (s *Server) replay(o *order, rec *txnRecord, req moveRequest, kind string, now time.Time) (int, any) {
	switch {
	case rec.orderID != o.ID || rec.kind != kind:
		return http.StatusUnprocessableEntity, messageBody{Message: "Data validation failed",
			Errors: map[string][]string{"transaction_id": {msgTxnIDTaken}}}
	case rec.amount != req.amount:
		return http.StatusUnprocessableEntity, messageBody{Message: "Data validation failed",
			Errors: map[string][]string{"transaction_id": {msgTxnIDOtherAmount}}}
	case rec.inFlight || now.Before(rec.at.Add(s.opts.ProcessingWindow)):
		return http.StatusBadRequest, messageBody{Message: msgStillProcessing}
	}
	return http.StatusOK, o.wire()
}

func (s *Server) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + s.rng.IntN(10))
	}
	return string(b)
}
