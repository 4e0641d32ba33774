package pg_test

import (
	"context"
	"os"
	"testing"

	"paydesk/api/store"
	"paydesk/api/store/pg"
	"paydesk/api/store/pg/pgtest"
	"paydesk/api/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openTwo opens two stores with separate pools on one fresh database: two
// servers' view of it.
func openTwo(t *testing.T) (*pg.Store, *pg.Store) {
	url := pgtest.URL(t)
	a, err := pg.Open(context.Background(), url, pg.Options{Host: "host-a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := pg.Open(context.Background(), url, pg.Options{Host: "host-b"})
	if err != nil {
		a.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestPostgresConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.Store, store.Store) { return openTwo(t) })
}

func pgJournal() storetest.Journal {
	return storetest.Journal{
		Open: func(t *testing.T) (store.Store, store.Store, []string) {
			url := pgtest.URL(t)
			a, err := pg.Open(context.Background(), url, pg.Options{Host: "host-a"})
			if err != nil {
				t.Fatal(err)
			}
			b, err := pg.Open(context.Background(), url, pg.Options{Host: "host-b"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close(); b.Close() })
			return a, b, []string{"PAYDESK_STORETEST_PG=" + url}
		},
		Reopen: func() (store.Store, error) {
			return pg.Open(context.Background(), os.Getenv("PAYDESK_STORETEST_PG"), pg.Options{Host: "child"})
		},
		HelperTest: "TestPostgresStoreChild",
	}
}

func TestPostgresStoreChild(t *testing.T) { storetest.Child(t, pgJournal().Reopen) }

func TestPostgresJournal(t *testing.T) { storetest.RunJournal(t, pgJournal()) }
