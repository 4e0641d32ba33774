package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
)

// owedAuditFile holds the outcome lines the audit log refused after their
// money had moved (see Journal.auditAfter), one JSON record a line, in the
// journal directory. It exists only while lines are owed.
const owedAuditFile = "audit-owed.jsonl"

// loadOwed reads the lines an earlier process could not write. A damaged
// line is skipped: the intent it belongs to is still in the journal.
func (j *Journal) loadOwed() {
	if j.dir == "" {
		return
	}
	f, err := os.Open(filepath.Join(j.dir, owedAuditFile))
	if err != nil {
		return
	}
	defer f.Close()
	// Not a bufio.Scanner: it stops at a line longer than its buffer, and
	// every owed line after a damaged one would be lost with it.
	rd := bufio.NewReaderSize(f, 64<<10)
	var line []byte
	long := false // this line is past maxOwedLine: skip it whole
	for {
		chunk, err := rd.ReadSlice('\n')
		if !long {
			line = append(line, chunk...)
			long = len(line) > maxOwedLine
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue // the same line goes on
		}
		var r AuditRecord
		if !long && json.Unmarshal(line, &r) == nil {
			j.owed = append(j.owed, r)
		}
		line, long = line[:0], false
		if err != nil {
			return
		}
	}
}

// maxOwedLine bounds one line of the owed file: a record is a few hundred
// bytes; anything longer is damage.
const maxOwedLine = 1 << 20

// drainOwed writes the owed lines, oldest first, until the log refuses one.
// Caller holds auditMu.
func (j *Journal) drainOwed() error {
	if j.opts.Auditor == nil {
		return nil
	}
	n := len(j.owed)
	for len(j.owed) > 0 {
		if err := j.opts.Auditor.Audit(j.owed[0]); err != nil {
			if len(j.owed) != n {
				j.saveOwed()
			}
			return err
		}
		j.owed = j.owed[1:]
	}
	if n > 0 {
		j.saveOwed()
	}
	return nil
}

// saveOwed keeps the owed lines on disk, so a process that ends before the
// audit log recovers does not lose them: the next Open loads them and
// recovery writes them first. Caller holds auditMu. Best effort: a journal
// directory that cannot be written has refused the intent itself already,
// and the lines stay owed in memory.
func (j *Journal) saveOwed() {
	if j.dir == "" {
		return
	}
	path := filepath.Join(j.dir, owedAuditFile)
	if len(j.owed) == 0 {
		if os.Remove(path) == nil {
			_ = syncDir(j.dir)
		}
		return
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, r := range j.owed {
		_ = enc.Encode(r)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return
	}
	_, werr := f.Write(b.Bytes())
	serr := f.Sync()
	if cerr := f.Close(); werr != nil || serr != nil || cerr != nil {
		_ = os.Remove(tmp)
		return
	}
	if os.Rename(tmp, path) == nil {
		_ = syncDir(j.dir)
	}
}
