package pg_test

import (
	"context"
	"testing"

	"paydesk/api/store"
	"paydesk/api/store/pg"
	"paydesk/api/store/pg/pgtest"
	"paydesk/api/store/storetest"
)

// go test ./api/store/pg -run '^$' -bench . -benchtime 300x
func BenchmarkPostgres(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) (store.Store, store.Store) {
		url := pgtest.URL(b)
		x, err := pg.Open(context.Background(), url, pg.Options{Host: "host-a"})
		if err != nil {
			b.Fatal(err)
		}
		y, err := pg.Open(context.Background(), url, pg.Options{Host: "host-b"})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { x.Close(); y.Close() })
		return x, y
	})
}
