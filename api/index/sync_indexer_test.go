package index_test

import (
	"context"
	"math"
	"testing"
	"time"

	"paydesk/api/index"
)

// runUntilIdle runs an indexer until every provider has finished a pass.
func runUntilIdle(t *testing.T, in *index.Indexer, covered bool) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { in.Run(ctx); close(done) }()
	defer func() { stop(); <-done }()
	deadline := time.Now().Add(50 * time.Second)
	for time.Now().Before(deadline) {
		idle := true
		for _, p := range in.Progress() {
			if p.Working || p.Requests == 0 || p.Err != "" || (covered && p.Covered < 1) {
				idle = false
			}
		}
		if idle {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the indexer did not finish: %+v", in.Progress())
}

// What one host's indexer did, carried to another host the way the team
// store's syncer carries it (Changes and DaysMarked there, Merge and
// MergeDays here), is not done again: the second host's indexer reads no
// order and lists only today and yesterday.
func TestIndexerSkipsWorkAnotherHostDid(t *testing.T) {
	fixed := time.Now().UTC().Truncate(time.Hour)
	now := func() time.Time { return fixed }
	unlimited := map[string]index.Limits{}
	for id, l := range index.ProviderLimits {
		unlimited[id] = index.Limits{PerSecond: math.MaxFloat64, ReadCost: l.ReadCost}
	}
	cfg := index.Config{Days: 90, Share: 0.2, Poll: time.Hour, Now: now, Limits: unlimited}
	acct := func(string) string { return "" }

	a := sandboxProviders(t, 30, now)
	inA := index.NewIndexer(a.ix, a.provs, acct, cfg)
	runUntilIdle(t, inA, true)
	recs, _ := a.ix.Changes(0, nil)
	marks, _ := a.ix.DaysMarked(0)

	b := sandboxProviders(t, 30, now) // the same merchant (same seed, same clock), seen from host B
	b.ix.Merge(recs, nil)
	b.ix.MergeDays(marks)
	inB := index.NewIndexer(b.ix, b.provs, acct, cfg)
	runUntilIdle(t, inB, false)
	for _, p := range inB.Progress() {
		if p.Reads != 0 || p.Requests > 2 || p.Covered < 1 {
			t.Errorf("%s on host B: %d reads, %d requests, coverage %.0f%%; want today's and yesterday's lists only", p.Name, p.Reads, p.Requests, 100*p.Covered)
		}
	}
	var readsA int
	for _, p := range inA.Progress() {
		readsA += p.Reads
	}
	if readsA == 0 {
		t.Fatal("setup: host A read nothing")
	}
}
