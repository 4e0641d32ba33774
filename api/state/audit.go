package state

import (
	"context"
	"errors"
	"fmt"
	"io"

	"paydesk/api/audit"
)

// CheckAudit is `paydesk audit verify` (cmd "verify", optionally against
// head, a HASH:N printed earlier) and `paydesk audit head` (cmd "head"),
// writing the result to w. With PAYDESK_DATABASE_URL set it checks the
// PostgreSQL chain, unless the file at path was named on the command line
// (pathGiven); otherwise the file at path.
func CheckAudit(w io.Writer, cmd, path string, pathGiven bool, head string) error {
	if url := DatabaseURL(); url != "" && !pathGiven {
		return auditShared(w, url, cmd, head)
	}
	if cmd == "head" {
		a, err := audit.HeadAnchor(path)
		if err != nil {
			return auditErr(path, err)
		}
		// Only HASH:N on stdout, so it can be piped off the machine as is.
		fmt.Fprintln(w, a)
		return nil
	}
	if head == "" {
		n, err := audit.Verify(path)
		if err != nil {
			return auditErr(path, err)
		}
		fmt.Fprintf(w, "audit log %s: %d lines, chain intact (without --head, lines removed from the end or a re-hashed tail cannot be seen)\n", path, n)
		return nil
	}
	a, err := audit.ParseAnchor(head)
	if err != nil {
		return err
	}
	n, err := audit.VerifyAnchored(path, a)
	if err != nil {
		return auditErr(path, err)
	}
	fmt.Fprintf(w, "audit log %s: %d lines, chain intact, and line %d matches the anchored head\n", path, n, a.Lines)
	return nil
}

// auditShared is verify or head against the PostgreSQL audit table.
func auditShared(w io.Writer, url, cmd, head string) error {
	var a audit.Anchor
	if head != "" {
		var err error
		if a, err = audit.ParseAnchor(head); err != nil {
			return err
		}
	}
	st, err := OpenShared(url)
	if err != nil {
		return err
	}
	defer st.Close()
	n, h, err := st.Audit().Verify(context.Background(), a)
	if err != nil {
		return err
	}
	switch {
	case cmd == "head":
		fmt.Fprintln(w, h)
	case head == "":
		fmt.Fprintf(w, "audit log %s: %d rows, chain intact (without --head, rows removed from the end or a re-hashed tail cannot be seen)\n", st.Describe(), n)
	default:
		fmt.Fprintf(w, "audit log %s: %d rows, chain intact, and row %d matches the anchored head\n", st.Describe(), n, a.Lines)
	}
	return nil
}

// auditErr names the log in err unless err (a *audit.VerifyError) does.
func auditErr(path string, err error) error {
	var ve *audit.VerifyError
	if errors.As(err, &ve) {
		return err
	}
	return fmt.Errorf("audit log %s: %w", path, err)
}
