package journal

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestOwedAuditDamagedLinesAreSkipped: a damaged line of the owed file is
// skipped, whatever its length, and every owed line after it is still
// loaded: a line longer than any record (a torn write run together with
// garbage, a disk fault) must not end the read and lose the outcome lines
// of money that moved.
func TestOwedAuditDamagedLinesAreSkipped(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	_ = enc.Encode(AuditRecord{Provider: "forage", OrderID: "o1", Outcome: StateSucceeded, Amount: "1.00"})
	b.WriteString("{not json\n")
	b.Write(bytes.Repeat([]byte("x"), 3<<20)) // longer than any record
	b.WriteByte('\n')
	_ = enc.Encode(AuditRecord{Provider: "forage", OrderID: "o2", Outcome: StateSucceeded, Amount: "2.00"})
	if err := os.WriteFile(filepath.Join(dir, owedAuditFile), b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if n := j.owedAudit(); n != 2 {
		t.Fatalf("owed %d lines after loading, want the 2 whole ones", n)
	}
	if j.owed[0].OrderID != "o1" || j.owed[1].OrderID != "o2" {
		t.Fatalf("owed %+v, want o1 then o2", j.owed)
	}
}
