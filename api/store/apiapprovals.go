package store

import (
	"maps"
	"slices"

	"paydesk/api"
	"paydesk/model"
)

// APIApprovals is the api layer's approval store (api.ApprovalStore) kept
// in a shared store: with PostgreSQL, a request made on one host is in the
// queue of every host, and its transitions are row updates under the row's
// lock, so two approvers on two hosts cannot both approve it and only one
// server marks it sent. The guard applies the four-eyes rules; the store
// checks each changed row again by the same rules (api.CheckApprovalChange).
type APIApprovals struct{ s *Approvals }

var _ api.ApprovalStore = APIApprovals{}

// ForAPI returns the api layer's view of s.
func ForAPI(s *Approvals) APIApprovals { return APIApprovals{s: s} }

func (x APIApprovals) Create(a api.Approval) error { return x.s.Create(toStore(a)) }

func (x APIApprovals) Get(id string) (api.Approval, error) {
	a, err := x.s.Get(id)
	if err != nil {
		return api.Approval{}, err
	}
	return fromStore(a), nil
}

func (x APIApprovals) List() ([]api.Approval, error) { return fromStoreAll(x.s.List()) }

func (x APIApprovals) Recent(closed int) ([]api.Approval, error) {
	return fromStoreAll(x.s.Recent(closed))
}

// fromStoreAll is fromStore over a read of many rows (nil on error).
func fromStoreAll(all []Approval, err error) ([]api.Approval, error) {
	if err != nil {
		return nil, err
	}
	out := make([]api.Approval, len(all))
	for i, a := range all {
		out[i] = fromStore(a)
	}
	return out, nil
}

// Transition runs fn on the api form of the current row.
func (x APIApprovals) Transition(id string, fn func(*api.Approval) error) (api.Approval, error) {
	a, err := x.s.Transition(id, "", func(r *Approval) error {
		cur := fromStore(*r)
		if err := fn(&cur); err != nil {
			return err
		}
		*r = toStore(cur)
		return nil
	})
	// fn's errors and the store's are the api's own sentinels already.
	return fromStore(a), err
}

func toStore(a api.Approval) Approval {
	out := Approval{
		ID: a.ID, Provider: a.Provider, Account: a.Account, Action: a.Action, OrderID: a.OrderID, OrderRef: a.OrderRef,
		PaymentID: a.PaymentID, Amount: a.Amount, Currency: a.Currency, Reason: a.Reason,
		Metadata: maps.Clone(map[string]string(a.Metadata)), ExternalOrderID: a.ExternalOrderID,
		IdempotencyKey: a.IdempotencyKey,
		Maker:          a.Maker.Name, MakerKey: a.Maker.Fingerprint, MakerRole: a.Maker.Role.String(),
		State: ApprovalState(a.State), Outcome: a.Outcome, RefundIDs: slices.Clone(a.RefundIDs),
		CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt, UpdatedAt: a.UpdatedAt,
	}
	if a.Approver != nil {
		out.Approver, out.ApproverKey, out.ApproverRole = a.Approver.Name, a.Approver.Fingerprint, a.Approver.Role.String()
	}
	return out
}

func fromStore(a Approval) api.Approval {
	out := api.Approval{
		ID: a.ID, Provider: a.Provider, Account: a.Account, Action: a.Action, OrderID: a.OrderID, OrderRef: a.OrderRef,
		PaymentID: a.PaymentID, Amount: a.Amount, Currency: a.Currency, Reason: a.Reason,
		ExternalOrderID: a.ExternalOrderID, IdempotencyKey: a.IdempotencyKey,
		Maker: person(a.Maker, a.MakerKey, a.MakerRole),
		State: api.ApprovalState(a.State), Outcome: a.Outcome, RefundIDs: slices.Clone(a.RefundIDs),
		CreatedAt: a.CreatedAt, ExpiresAt: a.ExpiresAt, UpdatedAt: a.UpdatedAt,
	}
	if a.Metadata != nil {
		out.Metadata = model.Metadata(maps.Clone(a.Metadata))
	}
	if a.Approver != "" {
		p := person(a.Approver, a.ApproverKey, a.ApproverRole)
		out.Approver = &p
	}
	return out
}

func person(name, key, role string) api.Person {
	r, _ := api.ParseRole(role) // a row without a role (an older one) reads as none
	return api.Person{Name: name, Fingerprint: key, Role: r}
}
