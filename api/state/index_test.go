package state

import (
	"os"
	"path/filepath"
	"testing"

	"paydesk/api/index"
	"paydesk/model"
)

// The order index lives beside the journal in PAYDESK_STATE_DIR, owner-only,
// and what one run indexed is searchable by the next.
func TestOrderIndexInStateDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PAYDESK_STATE_DIR", dir)
	t.Setenv("PAYDESK_AUDIT_LOG", filepath.Join(dir, "audit.jsonl"))
	s, err := Open(false)
	if err != nil {
		t.Fatal(err)
	}
	s.Index.Register("forage", indexAccount("forage"))
	s.Index.AddSummary(indexAccount("forage"), &model.OrderSummary{Provider: "forage", ID: "abc123def0", Reference: "EXT-1"}, index.RefExternal)
	s.Close()

	for path, want := range map[string]os.FileMode{
		filepath.Join(dir, "index"):                 0o700,
		filepath.Join(dir, "index", index.FileName): 0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	again, err := Open(false)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	again.Index.Register("forage", indexAccount("forage"))
	if hits := again.Index.Search("ext-1"); len(hits) != 1 {
		t.Fatalf("after a restart: %+v", hits)
	}
}
