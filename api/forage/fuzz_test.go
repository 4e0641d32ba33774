package forage

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"paydesk/model"
)

// Seed corpora live in testdata/fuzz/<Name>/ (made from testdata/*.json);
// each target also adds the matching examples directly.
func addExamples(f *testing.F, pattern string) {
	files, _ := filepath.Glob(filepath.Join("testdata", pattern))
	for _, file := range files {
		f.Add(readTestdata(f, filepath.Base(file)))
	}
}

func checkMoney(t *testing.T, what string, m model.Money) {
	t.Helper()
	if m.Currency != "USD" || m.Amount.IsNegative() {
		t.Fatalf("%s = %v", what, m)
	}
	if _, err := m.Minor(); err != nil {
		t.Fatalf("%s has sub-cent digits: %v", what, m)
	}
}

func checkFields(t *testing.T, fs []model.Field) {
	t.Helper()
	if len(fs) > maxFields {
		t.Fatalf("%d fields", len(fs))
	}
}

func checkReceipt(t *testing.T, r *model.Receipt) {
	t.Helper()
	if r == nil {
		return
	}
	checkMoney(t, "receipt snap", r.SnapAmount)
	checkMoney(t, "receipt cash", r.CashAmount)
	if b := r.Balance; b != nil {
		if b.Snap != nil {
			checkMoney(t, "balance snap", *b.Snap)
		}
		if b.Cash != nil {
			checkMoney(t, "balance cash", *b.Cash)
		}
	}
}

// checkMetadataRoundTrip: what paydesk writes back reads as what it showed.
func checkMetadataRoundTrip(t *testing.T, m model.Metadata, raw map[string]json.RawMessage) {
	t.Helper()
	body := encodeMetadata(m, raw)
	var back metadata
	if err := json.Unmarshal(body, &back); err != nil {
		t.Fatalf("encoded metadata %s: %v", body, err)
	}
	if len(back.m) != len(m) {
		t.Fatalf("metadata %v came back as %v", m, back.m)
	}
	for k, v := range m {
		if back.m[k] != v {
			t.Fatalf("metadata[%q] = %q came back as %q (body %s)", k, v, back.m[k], body)
		}
	}
}

func FuzzDecodeOrder(f *testing.F) {
	addExamples(f, "order_*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		o, w, err := decodeOrderObject(data)
		if err != nil {
			return
		}
		if !validRef(o.ID) || o.Currency != "USD" || w == nil {
			t.Fatalf("order %+v", o)
		}
		checkFields(t, o.Fields)
		assemble(o, nil, nil)
		checkMoney(t, "total", o.Total)
	})
}

func FuzzDecodePayment(f *testing.F) {
	addExamples(f, "payment_*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		p, raw, err := decodePayment(data)
		if err != nil {
			return
		}
		if !validRef(p.ID) {
			t.Fatalf("ref %q", p.ID)
		}
		checkMoney(t, "amount", p.Amount)
		checkFields(t, p.Fields)
		checkReceipt(t, p.Receipt)
		checkMetadataRoundTrip(t, p.Metadata, raw)
		caps := (&Client{}).Capabilities()
		_ = caps.CanCancel(p)
		_ = caps.EditableFields(p)
	})
}

func FuzzDecodeRefund(f *testing.F) {
	addExamples(f, "refund_*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := decodeRefund(data)
		if err != nil {
			return
		}
		if !validRef(r.ID) {
			t.Fatalf("ref %q", r.ID)
		}
		checkMoney(t, "amount", r.Amount)
		checkFields(t, r.Fields)
		checkReceipt(t, r.Receipt)
	})
}

func FuzzDecodeError(f *testing.F) {
	addExamples(f, "error_*.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, status := range []int{400, 401, 429, 503} {
			e := decodeError(status, nil, data)
			if e == nil {
				t.Fatal("nil error")
			}
			_ = e.Error()
		}
	})
}
