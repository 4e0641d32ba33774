package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"paydesk/api/audit"
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
	for i := range 3 {
		if err := st.Audit().Append(audit.Entry{Actor: "desk-1", Provider: "forage", Action: "refund_payment",
			OrderRef: fmt.Sprintf("o%d", i), Amount: "2.00", Currency: "USD", Outcome: audit.Succeeded}); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PAYDESK_DATABASE_URL=" + url, "PAYDESK_CREDENTIALS=/dev/null/none"}
	out, errOut, code := runSelf(t, env, "audit", "verify")
	if code != 0 || !strings.Contains(out, "3 rows, chain intact") {
		t.Fatalf("verify: exit %d, %q %q", code, out, errOut)
	}
	head, errOut, code := runSelf(t, env, "audit", "head")
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(head), ":3") {
		t.Fatalf("head: exit %d, %q %q", code, head, errOut)
	}
	if _, err := st.Pool().Exec(context.Background(), `ALTER TABLE paydesk_audit DISABLE TRIGGER USER;
		UPDATE paydesk_audit SET line = replace(line, '"2.00"', '"0.20"') WHERE seq = 2;
		ALTER TABLE paydesk_audit ENABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runSelf(t, env, "audit", "verify", "--head", strings.TrimSpace(head))
	if code == 0 || !strings.Contains(errOut, "row seq 2") {
		t.Fatalf("verify after an edit: exit %d, %q %q; want a failure naming row seq 2", code, out, errOut)
	}
}
