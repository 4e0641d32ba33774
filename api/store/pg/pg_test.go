package pg_test

import (
	"context"
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
