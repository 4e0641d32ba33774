package store_test

import (
	"path/filepath"
	"testing"

	"paydesk/api/store"
	"paydesk/api/store/storetest"
)

func openFiles(t *testing.T) (store.Store, store.Store) {
	dir := t.TempDir()
	o := store.FilesOptions{JournalDir: filepath.Join(dir, "journal"), AuditPath: filepath.Join(dir, "audit.jsonl")}
	a, err := store.OpenFiles(o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.OpenFiles(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestFilesConformance(t *testing.T) { storetest.Run(t, openFiles) }
