package journal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// An outcome line the audit log refused after the money moved is owed. It
// must survive the process: a console that exits (or dies) before the log
// recovers would otherwise leave only a "prepared" line for money that
// moved. The next process writes it, at recovery, before anything else.
func TestOwedAuditLineSurvivesARestart(t *testing.T) {
	e := newEnv(t, 0)
	dir := e.j.dir
	failOutcomes := true
	e.j.opts.Auditor = AuditorFunc(func(r AuditRecord) error {
		if failOutcomes && r.Outcome != StatePrepared {
			return fmt.Errorf("audit: write audit.jsonl: %w", syscall.ENOSPC)
		}
		return nil
	})
	if _, err := e.refund("12.50"); err != nil {
		t.Fatalf("refund whose outcome line failed: %v", err)
	}
	if e.j.owedAudit() != 1 || len(e.f.Refunds()) != 1 {
		t.Fatalf("owed %d, refunds %d", e.j.owedAudit(), len(e.f.Refunds()))
	}
	if fi, err := os.Stat(filepath.Join(dir, owedAuditFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("owed line not kept on disk, owner-only: %v %v", fi, err)
	}

	// The process ends; a new one opens the same journal with a log that
	// works again.
	var lines []AuditRecord
	j2, err := Open(Options{Dir: dir, Now: e.clk.Now, SettleTime: time.Minute,
		Auditor: AuditorFunc(func(r AuditRecord) error { lines = append(lines, r); return nil })})
	if err != nil {
		t.Fatal(err)
	}
	if j2.owedAudit() != 1 {
		t.Fatalf("reopened journal owes %d lines, want 1", j2.owedAudit())
	}
	j2.Recover(context.Background(), nil)
	if j2.owedAudit() != 0 || len(lines) == 0 || lines[0].Outcome != StateSucceeded || lines[0].Amount != "12.50" {
		t.Fatalf("after recovery: owed %d, lines %+v; want the succeeded 12.50 line written first", j2.owedAudit(), lines)
	}
	// Written once: a third process owes nothing.
	j3, err := Open(Options{Dir: dir, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if j3.owedAudit() != 0 {
		t.Fatalf("a written line is owed again: %d", j3.owedAudit())
	}
}
