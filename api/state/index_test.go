package state

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"paydesk/api/index"
	"paydesk/api/store"
	"paydesk/api/store/pg/pgtest"
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

// With the team store the order index lives in PostgreSQL: no index file is
// written on the host, and what one host indexed is found by another
// (a second process with its own state directory) once it has loaded.
func TestOrderIndexInTeamStore(t *testing.T) {
	url := pgtest.URL(t)
	t.Setenv(store.EnvDatabaseURL, url)
	t.Setenv(index.EnvShare, "0") // no provider to index here
	dirA, dirB := t.TempDir(), t.TempDir()
	t.Setenv("PAYDESK_STATE_DIR", dirA)
	a, err := Open(false)
	if err != nil {
		t.Fatal(err)
	}
	stopA, err := a.StartIndex(nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Index.AddSummary("acct", &model.OrderSummary{Provider: "forage", ID: "abc123def0", Reference: "EXT-TEAM-1"}, index.RefExternal)
	stopA() // pushes what is left
	a.Close()
	if _, err := os.Stat(filepath.Join(dirA, "index", index.FileName)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("an index file on the host with the team store: %v", err)
	}

	t.Setenv("PAYDESK_STATE_DIR", dirB)
	b, err := Open(false)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	stopB, err := b.StartIndex(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stopB()
	select {
	case <-b.IndexSync.Ready():
	case <-time.After(20 * time.Second):
		t.Fatalf("the index never loaded: %+v", b.IndexSync.Status())
	}
	b.Index.Register("forage", "acct")
	if hits := b.Index.Search("ext-team-1"); len(hits) != 1 {
		t.Fatalf("host B: %+v", hits)
	}
	// What the search screen is told: in step, no error.
	shared := b.IndexShared()
	if shared == nil {
		t.Fatal("no sharing state for the search screen with the team store")
	}
	// The first sync ends just after the load is ready: wait for it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		lastOK, err := shared()
		if err != nil {
			t.Fatalf("sharing state after the load: error %v", err)
		}
		if !lastOK.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("sharing state never said in step after the load")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
