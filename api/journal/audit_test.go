package journal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"paydesk/api"
	"paydesk/api/audit"
	"paydesk/model"
)

// auditToFile makes a real audit log file, in the test's temporary
// directory, the journal's auditor (closed when the test ends) and returns
// its path. The tests that read the file back or break it under the journal
// start from the same log.
func (e *env) auditToFile() string {
	e.t.Helper()
	path := filepath.Join(e.t.TempDir(), "audit.jsonl")
	log, err := audit.Open(path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { log.Close() })
	e.j.opts.Auditor = AuditLog(log)
	return path
}

func TestAuditLog(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	path := e.auditToFile()

	if _, err := e.refund("12.50"); err != nil { // succeeded
		t.Fatal(err)
	}
	e.f.setScript(dropped)
	if _, err := e.refund("1.00"); !api.IsOutcomeUnknown(err) { // unknown
		t.Fatal(err)
	}
	e.f.setScript(dropped)
	if _, err := e.refund("2.00"); !errors.Is(err, ErrUnresolved) { // replay: still unknown; refused
		t.Fatal(err)
	}
	if _, err := e.p.UpdatePayment(context.Background(), "o1", "p1", api.PaymentUpdate{
		Metadata: model.Metadata{"a": "1", "note": "customer-secret-value"}}); err != nil {
		t.Fatal(err)
	}

	want := []string{
		"refund_payment:prepared:12.50::paydesk_intent+ticket", // written before sending
		"refund_payment:succeeded:12.50::paydesk_intent+ticket",
		"refund_payment:prepared:1.00::paydesk_intent+ticket",
		"refund_payment:unknown:1.00:no_answer:paydesk_intent+ticket",
		"refund_payment:unknown:1.00:no_answer:paydesk_intent+ticket", // replayed before the next refund: still no answer
		"refund_payment:refused:2.00:earlier_unresolved:",
		"refund_payment:succeeded:1.00::paydesk_intent+ticket", // replayed before the update: it went through
		"update_payment:prepared:::note",
		"update_payment:succeeded:::note",
	}
	if n, err := audit.Verify(path); err != nil || n != len(want) {
		t.Fatalf("verify: %d lines, %v", n, err)
	}
	b, _ := os.ReadFile(path)
	for _, secret := range []string{"customer-secret-value", "T-1", "damaged"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("audit log holds %q (a metadata value or free text)", secret)
		}
	}
	var got []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		en, err := audit.ParseLine(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if en.Actor != "alice" || en.Provider != "fake" || en.OrderRef != "o1" {
			t.Errorf("entry %+v", en)
		}
		got = append(got, en.Action+":"+string(en.Outcome)+":"+en.Amount+":"+en.ErrorCode+":"+strings.Join(en.Fields, "+"))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit lines\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// No money moves without its audit line. An audit log that cannot take the
// line before sending (full disk) stops the refund before it reaches the
// provider, and the agent is told why and what to do. An outcome line the log
// refuses after the money moved is owed: the next action writes it first,
// and is refused until it can.
func TestNoMoneyWithoutAnAuditLine(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	var (
		lines []AuditRecord
		fail  func(AuditRecord) bool
	)
	e.j.opts.Auditor = AuditorFunc(func(r AuditRecord) error {
		if fail != nil && fail(r) {
			return fmt.Errorf("audit: write audit.jsonl: %w", syscall.ENOSPC)
		}
		lines = append(lines, r)
		return nil
	})

	fail = func(AuditRecord) bool { return true }
	_, err := e.refund("12.50")
	if !errors.Is(err, ErrAuditUnavailable) || !strings.Contains(err.Error(), "nothing sent") ||
		!strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), "paydesk audit verify") {
		t.Fatalf("refund with a full audit disk: %v, want a refusal saying why and what to do", err)
	}
	if n := len(e.f.Calls()); n != 0 {
		t.Fatalf("%d calls reached the provider without an audit line", n)
	}
	if ins, _ := e.j.intents("fake", "o1"); len(ins) != 0 {
		t.Fatalf("intents %+v recorded for an action never sent", ins)
	}

	// The line before sending goes in; the outcome line does not.
	fail = func(r AuditRecord) bool { return r.Outcome != StatePrepared }
	if _, err := e.refund("12.50"); err != nil {
		t.Fatalf("refund whose outcome line failed: %v (the money moved: not an error for the agent)", err)
	}
	if e.j.owedAudit() != 1 || len(e.f.Refunds()) != 1 {
		t.Fatalf("owed %d, refunds %d", e.j.owedAudit(), len(e.f.Refunds()))
	}
	// Still failing: the next refund is refused before it is sent.
	if _, err := e.refund("1.00"); !errors.Is(err, ErrAuditUnavailable) {
		t.Fatalf("refund while an outcome line is owed: %v, want ErrAuditUnavailable", err)
	}
	if n := len(e.f.Calls()); n != 1 {
		t.Fatalf("%d calls at the provider, want 1", n)
	}
	// The log recovers: the owed outcome goes in first, then the new action.
	fail = nil
	if _, err := e.refund("1.00"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range lines {
		got = append(got, r.Amount+":"+string(r.Outcome))
	}
	want := "12.50:prepared 12.50:succeeded 1.00:prepared 1.00:succeeded"
	if strings.Join(got, " ") != want || e.j.owedAudit() != 0 {
		t.Fatalf("audit lines %q, want %q", strings.Join(got, " "), want)
	}
}

// The real audit log, broken in the ways a session meets: deleted under a
// running console, or its last line torn. The refund is not sent.
func TestRefundRefusedWhenTheAuditLogBreaks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(path string)
	}{
		{"deleted", func(path string) { os.Remove(path) }},
		{"torn last line", func(path string) {
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			f.WriteString(`{"seq":9,"ts"`)
			f.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, api.IdempotencyHeader)
			path := e.auditToFile()
			if _, err := e.refund("12.50"); err != nil {
				t.Fatal(err)
			}
			tc.break_(path)
			if _, err := e.refund("1.00"); !errors.Is(err, ErrAuditUnavailable) {
				t.Fatalf("refund after the audit log was %s: %v, want ErrAuditUnavailable", tc.name, err)
			}
			if n := len(e.f.Calls()); n != 1 {
				t.Fatalf("%d calls reached the provider, want 1", n)
			}
		})
	}
}
