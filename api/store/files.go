package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"paydesk/api"
	"paydesk/api/audit"
	"paydesk/api/journal"
)

// FilesOptions place the files store. Zero values take the defaults noted.
type FilesOptions struct {
	// JournalDir is the journal directory (journal.DefaultDir()).
	JournalDir string
	// AuditPath is the audit log (audit.DefaultPath()).
	AuditPath string
	// Dir holds approvals.jsonl and events.jsonl (the parent of JournalDir).
	Dir string
	// Now is the clock (time.Now).
	Now func() time.Time
	// Poll is how often a subscriber looks for new events (100ms).
	Poll time.Duration
}

// Files is the default store: files on one host, shared between its
// processes with flock(2). Never on a network filesystem.
type Files struct {
	journal   journal.Backend
	raw       *journal.Files
	audit     *fileAudit
	approvals *Approvals
	events    *fileEvents
	dir       string
}

// OpenFiles opens (creating) the files store.
func OpenFiles(o FilesOptions) (*Files, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	jf, err := journal.OpenFiles(o.JournalDir, o.Now)
	if err != nil {
		return nil, err
	}
	if o.Dir == "" {
		o.Dir = filepath.Dir(jf.Dir())
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if o.AuditPath == "" {
		if o.AuditPath, err = audit.DefaultPath(); err != nil {
			return nil, err
		}
	}
	al, err := audit.Open(o.AuditPath)
	if err != nil {
		return nil, err
	}
	ev := &fileEvents{path: filepath.Join(o.Dir, "events.jsonl"), now: o.Now, poll: o.Poll, origin: newID()}
	s := &Files{raw: jf, audit: &fileAudit{Log: al}, events: ev, dir: o.Dir}
	s.journal = publishing{Backend: jf, ev: ev}
	s.approvals = &Approvals{rows: &fileApprovals{path: filepath.Join(o.Dir, "approvals.jsonl")}, ev: ev, now: o.Now}
	return s, nil
}

func (s *Files) Journal() journal.Backend { return s.journal }
func (s *Files) Audit() AuditLog          { return s.audit }
func (s *Files) Approvals() *Approvals    { return s.approvals }
func (s *Files) Events() Events           { return s.events }
func (s *Files) Describe() string         { return "files in " + s.dir }
func (s *Files) Close() error             { return s.audit.Close() }

type fileAudit struct{ *audit.Log }

func (a *fileAudit) Verify(_ context.Context, an audit.Anchor) (int, audit.Anchor, error) {
	f, err := os.Open(a.Path())
	if err != nil {
		return 0, audit.Anchor{}, err
	}
	defer f.Close()
	return audit.VerifyStream(a.Path(), "line", f, an)
}

// withFlock runs fn holding an exclusive flock on path+".lock".
func withFlock(path string, fn func() error) error {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("store: lock %s: %w", path, err)
	}
	defer unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return fn()
}

// appendJSON appends v as one line to path and fsyncs it.
func appendJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("store: fsync: %w", err)
	}
	return nil
}

// readLines calls fn with every complete line of path from offset off and
// returns the offset after the last complete line (a torn last line is
// left for later).
func readLines(path string, off int64, fn func([]byte)) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return off, nil
	}
	if err != nil {
		return off, fmt.Errorf("store: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return off, err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF {
			return off, nil
		}
		if err != nil {
			return off, err
		}
		off += int64(len(line))
		if l := bytes.TrimSpace(line); len(l) > 0 {
			fn(l)
		}
	}
}

// fileApprovals keeps one snapshot per transition in approvals.jsonl; the
// last line of an id wins.
type fileApprovals struct{ path string }

func (r *fileApprovals) all() (map[string]Approval, []string, error) {
	m := map[string]Approval{}
	var order []string
	_, err := readLines(r.path, 0, func(l []byte) {
		var a Approval
		if json.Unmarshal(l, &a) != nil || a.ID == "" {
			return
		}
		if _, ok := m[a.ID]; !ok {
			order = append(order, a.ID)
		}
		m[a.ID] = a
	})
	return m, order, err
}

// ErrApprovalExists: a request with that id is already recorded.
var ErrApprovalExists = errors.New("an approval request with this id already exists")

func (r *fileApprovals) Insert(a Approval) error {
	return withFlock(r.path, func() error {
		// A later line of an id replaces an earlier one, so a repeated id
		// would silently overwrite a request: refuse it.
		if _, err := r.Get(a.ID); err == nil {
			return fmt.Errorf("%w: %s", ErrApprovalExists, a.ID)
		} else if !errors.Is(err, ErrNoApproval) {
			return err
		}
		return appendJSON(r.path, a)
	})
}

func (r *fileApprovals) Get(id string) (Approval, error) {
	m, _, err := r.all()
	if err != nil {
		return Approval{}, err
	}
	a, ok := m[id]
	if !ok {
		return Approval{}, fmt.Errorf("%w: %s", ErrNoApproval, id)
	}
	return a, nil
}

func (r *fileApprovals) List() ([]Approval, error) {
	m, order, err := r.all()
	out := make([]Approval, 0, len(order))
	for _, id := range order {
		out = append(out, m[id])
	}
	return out, err
}

// Recent reads the whole file, as every read of it does (the last line of
// an id wins), and keeps what a queue shows.
func (r *fileApprovals) Recent(closed int) ([]Approval, error) {
	all, err := r.List()
	if err != nil {
		return nil, err
	}
	return api.SelectRecent(all, closed, func(a Approval) (api.ApprovalState, time.Time, time.Time, string) {
		return api.ApprovalState(a.State), a.CreatedAt, a.UpdatedAt, a.ID
	}), nil
}

func (r *fileApprovals) Update(id string, fn func(*Approval) error) (Approval, error) {
	var a Approval
	err := withFlock(r.path, func() error {
		var err error
		if a, err = r.Get(id); err != nil {
			return err
		}
		if err := fn(&a); err != nil {
			return err
		}
		return appendJSON(r.path, a)
	})
	return a, err
}

// fileEvents is events.jsonl: appended under flock, read by polling.
type fileEvents struct {
	path   string
	now    func() time.Time
	poll   time.Duration
	origin string

	mu      sync.Mutex
	off     int64 // how far the file has been read
	lastSeq int64
}

// catchUp reads lines added since the last read; call with mu held.
func (e *fileEvents) catchUp() error {
	off, err := readLines(e.path, e.off, func(l []byte) {
		var ev Event
		if json.Unmarshal(l, &ev) == nil && ev.Seq > e.lastSeq {
			e.lastSeq = ev.Seq
		}
	})
	e.off = off
	return err
}

func (e *fileEvents) Publish(ev Event) (Event, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	err := withFlock(e.path, func() error {
		if err := e.catchUp(); err != nil {
			return err
		}
		ev.Seq, ev.Time, ev.Origin = e.lastSeq+1, e.now().UTC(), e.origin
		return appendJSON(e.path, ev)
	})
	return ev, err
}

func (e *fileEvents) Since(seq int64, limit int) ([]Event, error) {
	var out []Event
	_, err := readLines(e.path, 0, func(l []byte) {
		var ev Event
		if (limit <= 0 || len(out) < limit) && json.Unmarshal(l, &ev) == nil && ev.Seq > seq {
			out = append(out, ev)
		}
	})
	return out, err
}

func (e *fileEvents) Origin() string { return e.origin }

func (e *fileEvents) Head() (int64, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.catchUp()
	return e.lastSeq, err
}

func (e *fileEvents) Subscribe(ctx context.Context, after int64) <-chan Event {
	ch := make(chan Event, 64)
	go func() {
		defer close(ch)
		// Reads resume from the byte offset of the last delivered line, so
		// a poll costs what was added since, not the whole file.
		var off int64
		t := time.NewTicker(e.poll)
		defer t.Stop()
		for {
			var batch []Event
			noff, err := readLines(e.path, off, func(l []byte) {
				var ev Event
				if json.Unmarshal(l, &ev) == nil && ev.Seq > after {
					batch = append(batch, ev)
				}
			})
			if err == nil {
				off = noff
			}
			for _, ev := range batch {
				select {
				case ch <- ev:
					after = ev.Seq
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return ch
}

// JournalDir is the journal's directory.
func (s *Files) JournalDir() string { return s.raw.Dir() }
