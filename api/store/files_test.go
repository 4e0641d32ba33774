package store_test

import (
	"os"
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

func filesJournal() storetest.Journal {
	return storetest.Journal{
		Open: func(t *testing.T) (store.Store, store.Store, []string) {
			a, b := openFiles(t)
			return a, b, []string{"PAYDESK_STORETEST_DIR=" + filepath.Dir(a.(*store.Files).JournalDir())}
		},
		Reopen: func() (store.Store, error) {
			dir := os.Getenv("PAYDESK_STORETEST_DIR")
			return store.OpenFiles(store.FilesOptions{JournalDir: filepath.Join(dir, "journal"), AuditPath: filepath.Join(dir, "audit.jsonl")})
		},
		HelperTest: "TestFilesStoreChild",
	}
}

func TestFilesStoreChild(t *testing.T) { storetest.Child(t, filesJournal().Reopen) }

func TestFilesJournal(t *testing.T) { storetest.RunJournal(t, filesJournal()) }

// go test ./api/store -run '^$' -bench . -benchtime 300x
func BenchmarkFiles(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) (store.Store, store.Store) {
		dir := b.TempDir()
		o := store.FilesOptions{JournalDir: filepath.Join(dir, "journal"), AuditPath: filepath.Join(dir, "audit.jsonl")}
		x, err := store.OpenFiles(o)
		if err != nil {
			b.Fatal(err)
		}
		y, err := store.OpenFiles(o)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { x.Close(); y.Close() })
		return x, y
	})
}
