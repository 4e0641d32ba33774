package main

import (
	"context"
	"strings"
	"testing"

	"paydesk/api/store/pg"
	"paydesk/api/store/pg/pgtest"
)

// paydesk audit verify / head read the PostgreSQL chain when
// PAYDESK_DATABASE_URL is set, and verify names a row edited behind
// paydesk's back.
func TestAuditVerifyAgainstPostgres(t *testing.T) {
	url := pgtest.URL(t)
	st, err := pg.Open(context.Background(), url, pg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pgtest.SeedAudit(t, st.Audit(), 3)
	env := []string{"PAYDESK_DATABASE_URL=" + url, "PAYDESK_CREDENTIALS=/dev/null/none"}
	out, errOut, code := runSelf(t, env, "audit", "verify")
	if code != 0 || !strings.Contains(out, "3 rows, chain intact") {
		t.Fatalf("verify: exit %d, %q %q", code, out, errOut)
	}
	head, errOut, code := runSelf(t, env, "audit", "head")
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(head), ":3") {
		t.Fatalf("head: exit %d, %q %q", code, head, errOut)
	}
	pgtest.EditAuditAmount(t, st.Pool(), 2)
	out, errOut, code = runSelf(t, env, "audit", "verify", "--head", strings.TrimSpace(head))
	if code == 0 || !strings.Contains(errOut, "row seq 2") {
		t.Fatalf("verify after an edit: exit %d, %q %q; want a failure naming row seq 2", code, out, errOut)
	}
}
