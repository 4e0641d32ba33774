package ui

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	tea "github.com/charmbracelet/bubbletea"

	"paydesk/model"
	"paydesk/model/safetext"
)

// refundLost reports whether a refund ended without money going back: the
// provider says so (failed), or it lapsed or was called off. Unknown is not
// lost: it may have moved money and is never shown as failed.
func refundLost(r *model.Refund) bool {
	switch r.Status {
	case model.StatusFailed, model.StatusExpired, model.StatusCanceled, model.StatusVoided:
		return true
	}
	return false
}

// countLost counts the refunds that ended without money going back.
func countLost(rs []model.Refund) int {
	n := 0
	for i := range rs {
		if refundLost(&rs[i]) {
			n++
		}
	}
	return n
}

// nextStep is what the agent does about a refund that did not go through.
const nextStep = "the money did not go back to the customer: refund the customer another way"

// lostReason is the provider's reason for a refund that did not go through,
// terminal-safe, or its status when the provider gave none.
func lostReason(r *model.Refund) string {
	switch {
	case r.FailureReason != "":
		return safetext.Line(r.FailureReason)
	case r.LastError != nil && r.LastError.Message != "":
		return safetext.Line(r.LastError.Message)
	case r.LastError != nil && r.LastError.Code != "":
		return safetext.Line(r.LastError.Code)
	case r.ProviderStatus != "":
		return "status " + safetext.Line(r.ProviderStatus)
	}
	return "no reason given"
}

// lostText is one refund that did not go through: what happened, the
// provider's reason and what to do next first (a narrow status line cuts
// from the right), then which refund it was.
func lostText(provider string, r *model.Refund) string {
	return fmt.Sprintf("Refund %s (%s): refund the customer another way. %s refund %s of %s; the money did not go back.",
		r.Status.Label(), lostReason(r), provider, safetext.Line(r.ID), r.Amount)
}

// outcome is the status line that replaces "watching them settle" once the
// refunds an action created have all settled: an error (it stays) when any
// of them did not go through, else a plain report. ids are the refunds
// watched; those not on the order are left out.
func outcome(provider string, o *model.Order, ids map[string]bool) tea.Cmd {
	var lost []*model.Refund
	n := 0
	sum := model.Zero(o.Currency)
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		r := o.Refund(id)
		if r == nil {
			continue
		}
		n++
		if refundLost(r) {
			lost = append(lost, r)
		} else {
			sum, _ = sum.Add(r.Amount)
		}
	}
	switch {
	case n == 0:
		return nil
	case len(lost) == 1 && n == 1:
		return StatusErr(errors.New(lostText(provider, lost[0])))
	case len(lost) > 0:
		return StatusErr(fmt.Errorf("%d of %d refunds did not go through: refund the customer another way. First: %s", len(lost), n, lostText(provider, lost[0])))
	case n == 1:
		return Status(fmt.Sprintf("Refund of %s settled: it succeeded.", sum))
	}
	return Status(fmt.Sprintf("All %d refunds settled: %s returned.", n, sum))
}

// settleAll says which refunds still need polling, given the previous
// readings, and returns the readings to compare the next poll with.
func settleAll(refunds []model.Refund, prev map[string]model.Refund) (active bool, next map[string]model.Refund) {
	next = make(map[string]model.Refund, len(refunds))
	for _, r := range refunds {
		var p *model.Refund
		if old, ok := prev[r.ID]; ok {
			p = &old
		}
		if !r.Settled(p) {
			active = true
		}
		next[r.ID] = r
	}
	return active, next
}
