package state

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"paydesk/api/store/pg"
	"paydesk/api/store/pg/pgtest"
)

// With PAYDESK_DATABASE_URL set, audit verify and head read the PostgreSQL
// chain, and verify names a row edited behind paydesk's back; a log named
// on the command line is still the file. (main's TestAuditVerifyAgainstPostgres
// runs the same through the binary when PAYDESK_TEST_DATABASE_URL is set.)
func TestCheckAuditReadsPostgres(t *testing.T) {
	url := pgtest.URL(t)
	st, err := pg.Open(context.Background(), url, pg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pgtest.SeedAudit(t, st.Audit(), 3)
	t.Setenv("PAYDESK_DATABASE_URL", url)
	t.Setenv("PAYDESK_CREDENTIALS", "/dev/null/none")
	var out bytes.Buffer
	if err := CheckAudit(&out, "verify", "", false, ""); err != nil || !strings.Contains(out.String(), "3 rows, chain intact") {
		t.Fatalf("verify: %q %v", out.String(), err)
	}
	out.Reset()
	if err := CheckAudit(&out, "head", "", false, ""); err != nil || !strings.HasSuffix(strings.TrimSpace(out.String()), ":3") {
		t.Fatalf("head: %q %v", out.String(), err)
	}
	head := strings.TrimSpace(out.String())
	pgtest.EditAuditAmount(t, st.Pool(), 2)
	out.Reset()
	if err := CheckAudit(&out, "verify", "", false, head); err == nil || !strings.Contains(err.Error(), "row seq 2") {
		t.Fatalf("verify after an edit: %q %v; want a failure naming row seq 2", out.String(), err)
	}
	if err := CheckAudit(&out, "verify", "/dev/null/none/audit.jsonl", true, ""); err == nil || !strings.Contains(err.Error(), "/dev/null/none/audit.jsonl") {
		t.Fatalf("verify --audit-log with a database set: %v; want the named file's error", err)
	}
}
