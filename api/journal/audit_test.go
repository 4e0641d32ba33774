package journal

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"paydesk/api"
	"paydesk/api/audit"
	"paydesk/model"
)

func TestAuditLog(t *testing.T) {
	e := newEnv(t, api.IdempotencyHeader)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	log, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	e.j.opts.Auditor = AuditLog(log)

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
		"refund_payment:succeeded:12.50::paydesk_intent+ticket",
		"refund_payment:unknown:1.00:no_answer:paydesk_intent+ticket",
		"refund_payment:unknown:1.00:no_answer:paydesk_intent+ticket", // replayed before the next refund: still no answer
		"refund_payment:refused:2.00:earlier_unresolved:",
		"refund_payment:succeeded:1.00::paydesk_intent+ticket", // replayed before the update: it went through
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
