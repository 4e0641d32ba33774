package storetest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"paydesk/api"
	"paydesk/api/store"
)

// OpenApprovals returns two views of one approval store (two processes'
// or two hosts'), closed by the test's cleanup.
type OpenApprovals func(t *testing.T) (a, b api.ApprovalStore)

// RunApprovalStore runs the contract every api.ApprovalStore keeps that the
// rest of the suite does not already cover for it: the bounded list.
// api.FileApprovals runs it through this function; the shared stores run
// it from Run.
func RunApprovalStore(t *testing.T, open OpenApprovals) {
	t.Run("Recent", func(t *testing.T) { testRecent(t, open) })
}

func apiOpen(open Open) OpenApprovals {
	return func(t *testing.T) (api.ApprovalStore, api.ApprovalStore) {
		a, b := open(t)
		return store.ForAPI(a.Approvals()), store.ForAPI(b.Approvals())
	}
}

// Recent is every open request (requested, approved, sent), oldest first,
// then only the newest closed ones (rejected, expired, finished), the
// latest decision first, so a queue's read does not grow with history. A
// request made long ago and decided last is the newest closed one.
func testRecent(t *testing.T, open OpenApprovals) {
	x, y := open(t)
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	maker := api.Person{Name: "desk-1", Role: api.RoleAgent, Fingerprint: "SHA256:maker"}
	lead := api.Person{Name: "lead-1", Role: api.RoleApprover, Fingerprint: "SHA256:lead"}
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	create := func(id string, made int) {
		t.Helper()
		a := api.Approval{ID: id, Provider: "forage", Account: "acct", Action: api.ApprovalRefundOrder, OrderID: "o-" + id,
			Amount: "500.00", Currency: "USD", IdempotencyKey: "key-" + id, Maker: maker, State: api.ApprovalRequested,
			CreatedAt: at(made), UpdatedAt: at(made), ExpiresAt: time.Now().Add(time.Hour)}
		if err := x.Create(a); err != nil {
			t.Fatal(err)
		}
	}
	move := func(id string, when int, to ...api.ApprovalState) {
		t.Helper()
		for _, st := range to {
			if _, err := y.Transition(id, func(r *api.Approval) error {
				r.State, r.UpdatedAt = st, at(when)
				if st != api.ApprovalExpired {
					r.Approver = &lead
				}
				if st == api.ApprovalFinished {
					r.Outcome = "succeeded"
				}
				return nil
			}); err != nil {
				t.Fatalf("%s -> %s: %v", id, st, err)
			}
		}
	}
	// Eight closed requests: c0 made first and decided last.
	for i := range 8 {
		id := fmt.Sprintf("c%d", i)
		create(id, i)
		when := 20 + i
		if i == 0 {
			when = 40
		}
		switch i % 3 {
		case 0:
			move(id, when, api.ApprovalRejected)
		case 1:
			move(id, when, api.ApprovalExpired)
		case 2:
			move(id, when, api.ApprovalApproved, api.ApprovalSent, api.ApprovalFinished)
		}
	}
	// Open ones, made after every closed one, one of them approved and
	// being sent (still open: approving again resumes it).
	create("o1", 10)
	create("o2", 11)
	create("o3", 12)
	move("o2", 30, api.ApprovalApproved, api.ApprovalSent)

	ids := func(all []api.Approval) string {
		var s []string
		for _, a := range all {
			s = append(s, a.ID)
		}
		return strings.Join(s, ",")
	}
	for _, c := range []struct {
		closed int
		want   string
	}{
		{0, "o1,o2,o3"},
		{3, "o1,o2,o3,c0,c7,c6"},
		{5, "o1,o2,o3,c0,c7,c6,c5,c4"},
		{100, "o1,o2,o3,c0,c7,c6,c5,c4,c3,c2,c1"},
	} {
		for _, s := range []api.ApprovalStore{x, y} {
			got, err := s.Recent(c.closed)
			if err != nil || ids(got) != c.want {
				t.Fatalf("Recent(%d) = %s, %v; want %s", c.closed, ids(got), err, c.want)
			}
		}
	}
	if got, _ := x.Recent(1); len(got) != 4 || got[3].State != api.ApprovalRejected || got[3].Approver == nil || got[3].Approver.Name != "lead-1" {
		t.Fatalf("Recent(1) reads the newest closed request as %+v; want c0 rejected by lead-1, whole", got)
	}
}
