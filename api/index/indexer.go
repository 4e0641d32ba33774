package index

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"paydesk/api"
	"paydesk/model"
)

// Limits is what one provider allows and what one full order read costs.
type Limits struct {
	PerSecond float64 // the provider's request limit
	ReadCost  int     // requests one GetOrder makes
}

// ProviderLimits are the published (or, where none is published, our own
// client's) request limits and the cost of reading one order in full:
//   - Forage: 900 requests per 5 minutes per IP; an order read is the order,
//     its payments and its refunds (3).
//   - Moyasar PG publishes none; its client paces itself at 10/s; one read.
//   - Digital River: 250/s live and 25/s for test keys (the lower is used);
//     an order read is the order and its refunds (2).
var ProviderLimits = map[string]Limits{
	"forage":       {PerSecond: 900.0 / 300, ReadCost: 3},
	"moyasar":      {PerSecond: 10, ReadCost: 1},
	"digitalriver": {PerSecond: 25, ReadCost: 2},
}

// Config is how the background indexer runs.
type Config struct {
	Days  int     // the window kept indexed, newest first; default 90
	Share float64 // at most this share of each provider's limit; default 0.2
	// Poll is how often the newest two days are listed again in steady state,
	// so a new order is indexed within about this long; default 5 minutes.
	Poll time.Duration
	Now  func() time.Time
	// Limits overrides ProviderLimits (tests: rate.Inf).
	Limits map[string]Limits
}

// Env variables read by ConfigFromEnv.
const (
	EnvShare = "PAYDESK_INDEX_SHARE" // percent of each provider's request limit, default 20
	EnvDays  = "PAYDESK_INDEX_DAYS"  // days kept indexed, default 90
)

// ConfigFromEnv reads PAYDESK_INDEX_SHARE ("20" or "20%"; 0 switches the
// background indexer off) and PAYDESK_INDEX_DAYS.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Share: 0.2, Days: 90}
	if v := strings.TrimSuffix(strings.TrimSpace(getenv(EnvShare)), "%"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 100 {
			return c, fmt.Errorf("%s=%q: a percentage from 0 to 100", EnvShare, getenv(EnvShare))
		}
		c.Share = f / 100
	}
	if v := strings.TrimSpace(getenv(EnvDays)); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3660 {
			return c, fmt.Errorf("%s=%q: a number of days from 1 to 3660", EnvDays, v)
		}
		c.Days = n
	}
	return c, nil
}

// Progress is where the indexer stands for one provider.
type Progress struct {
	Provider string // provider ID
	Name     string
	Days     int     // the window asked for
	Covered  float64 // share of the window fully indexed
	Reads    int     // orders read in full by the indexer
	Requests int     // requests it spent (list pages + reads × cost)
	Budget   float64 // requests per second it may spend
	Skipped  int     // orders that could not be read (and are tried again next pass)
	Working  bool
	Err      string // the last failure, while it waits to retry
}

// Indexer reads, in the background, the orders the index lacks details
// for: newest first, within a share of each provider's request budget.
type Indexer struct {
	ix      *Index
	cfg     Config
	sources []*feed
	widen   chan struct{}
	mu      sync.Mutex
	days    int
}

// feed is one provider the indexer reads, with its own budget.
type feed struct {
	p       api.Provider
	account string
	lim     *rate.Limiter
	cost    int
	passes  int // passes begun (the loop's goroutine only)
	mu      sync.Mutex
	prog    Progress
}

// NewIndexer prepares an indexer over providers (each already wrapped by
// Wrap, so what it reads lands in ix like any other read). account gives
// each provider's index account (as given to Wrap).
func NewIndexer(ix *Index, providers []api.Provider, account func(providerID string) string, cfg Config) *Indexer {
	if cfg.Days <= 0 {
		cfg.Days = 90
	}
	if cfg.Share <= 0 {
		cfg.Share = 0.2
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	lims := cfg.Limits
	if lims == nil {
		lims = ProviderLimits
	}
	in := &Indexer{ix: ix, cfg: cfg, widen: make(chan struct{}, 1), days: cfg.Days}
	for _, p := range providers {
		l, ok := lims[p.ID()]
		if !ok {
			l = Limits{PerSecond: 1, ReadCost: 1} // unknown provider: one request a second, at most
		}
		per := rate.Limit(l.PerSecond * cfg.Share)
		if l.PerSecond == float64(rate.Inf) {
			per = rate.Inf
		}
		s := &feed{p: p, account: account(p.ID()), cost: max(l.ReadCost, 1),
			lim: rate.NewLimiter(per, max(l.ReadCost, 1))}
		s.prog = Progress{Provider: p.ID(), Name: p.Name(), Days: cfg.Days, Budget: float64(per)}
		in.sources = append(in.sources, s)
	}
	return in
}

// Run indexes until ctx ends, every provider at once (each within its own
// budget). It returns when every provider's loop has stopped.
func (in *Indexer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	widen := make([]chan struct{}, len(in.sources))
	for i, s := range in.sources {
		widen[i] = make(chan struct{}, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			in.loop(ctx, s, widen[i])
		}()
	}
	// Fan a widen request out to every provider's loop.
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-in.widen:
				for _, w := range widen {
					select {
					case w <- struct{}{}:
					default:
					}
				}
			}
		}
	}()
	wg.Wait()
}

// Widen asks for a window of days (when wider than the current one): the
// indexer goes further back at once.
func (in *Indexer) Widen(days int) {
	in.mu.Lock()
	if days > in.days {
		in.days = days
	}
	in.mu.Unlock()
	select {
	case in.widen <- struct{}{}:
	default:
	}
}

// Window is the number of days the indexer keeps indexed.
func (in *Indexer) Window() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.days
}

// Progress reports every provider's state.
func (in *Indexer) Progress() []Progress {
	out := make([]Progress, 0, len(in.sources))
	now, days := in.cfg.Now(), in.Window()
	for _, s := range in.sources {
		s.mu.Lock()
		p := s.prog
		s.mu.Unlock()
		p.Days = days
		p.Covered = in.ix.Coverage(s.p.ID(), s.account, now, days)
		out = append(out, p)
	}
	return out
}

func (s *feed) update(f func(p *Progress)) {
	s.mu.Lock()
	f(&s.prog)
	s.mu.Unlock()
}

func (in *Indexer) loop(ctx context.Context, s *feed, widen <-chan struct{}) {
	backoff := 30 * time.Second
	for ctx.Err() == nil {
		s.update(func(p *Progress) { p.Working = true })
		err := in.pass(ctx, s)
		s.update(func(p *Progress) {
			p.Working = false
			p.Err = ""
			if err != nil && ctx.Err() == nil {
				p.Err = err.Error()
			}
		})
		wait := in.cfg.Poll
		if err != nil {
			wait, backoff = backoff, min(backoff*2, 10*time.Minute)
		} else {
			backoff = 30 * time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-widen:
		case <-t.C:
		}
		t.Stop()
	}
}

// pass lists, one day at a time from today back to the oldest day of the
// window not yet indexed, the orders of each day (a page at a time, at the
// provider's largest page size), and reads in full each order the index
// has no details for; then marks the day indexed. Today and yesterday are
// listed on every pass (their lists still grow); older days once.
//
// One day per list call keeps each call to one request where a provider
// pages by day itself (Forage's report has no dates: its client asks one
// day at a time), so what the budget is charged is what is sent.
func (in *Indexer) pass(ctx context.Context, s *feed) error {
	now := in.cfg.Now()
	today := Day(now)
	id := s.p.ID()
	// In steady state a day already indexed is listed again only until a
	// page brings nothing new (lists are newest first); every twelfth pass
	// (hourly by default) walks it whole, in case a provider's order is not.
	s.passes++
	whole := s.passes%12 == 1
	for d := today; d > today-int32(in.Window()); d-- {
		done := in.ix.DayDone(id, s.account, d)
		if d < today-1 && done {
			continue
		}
		to := DayStart(d + 1).Add(-time.Nanosecond)
		if to.After(now) {
			to = now
		}
		q := api.OrderQuery{From: DayStart(d), To: to, Limit: 1000} // clients cap it at their maximum
		for {
			if err := s.lim.Wait(ctx); err != nil {
				return err
			}
			s.update(func(p *Progress) { p.Requests++ })
			pg, err := withDeadline(ctx, func(ctx context.Context) (api.OrderPage, error) { return s.p.ListOrders(ctx, q) })
			if err != nil {
				return err
			}
			fresh := 0
			for _, o := range pg.Orders {
				read, err := in.read(ctx, s, o.ID)
				if err != nil {
					return err
				}
				if read {
					fresh++
				}
			}
			if pg.Next == "" || (done && !whole && fresh == 0) {
				break
			}
			q.Cursor = pg.Next
		}
		in.ix.MarkDay(id, s.account, d)
	}
	return nil
}

// read reads one order in full when the index has no details for it, and
// says whether it did.
func (in *Indexer) read(ctx context.Context, s *feed, orderID string) (bool, error) {
	if !in.ix.NeedsDetail(s.p.ID(), s.account, orderID) {
		return false, nil
	}
	if err := s.lim.WaitN(ctx, s.cost); err != nil {
		return false, err
	}
	s.update(func(p *Progress) { p.Requests += s.cost; p.Reads++ })
	if _, err := withDeadline(ctx, func(ctx context.Context) (*model.Order, error) { return s.p.GetOrder(ctx, orderID) }); err != nil {
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return true, ctx.Err()
		}
		if st := api.StatusOf(err); st == 0 || st == 429 || st >= 500 {
			return true, err // the provider or the network is struggling: back off
		}
		// This one order cannot be read (gone, unreadable): skip it
		// rather than stall every order behind it.
		s.update(func(p *Progress) { p.Skipped++ })
	}
	return true, nil
}

// callTimeout is the deadline of one request the indexer makes, as the
// console gives each of its own.
const callTimeout = 30 * time.Second

func withDeadline[T any](ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return fn(ctx)
}
