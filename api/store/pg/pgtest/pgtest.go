// Package pgtest gives tests a real PostgreSQL: PAYDESK_TEST_DATABASE_URL
// when set, else a throwaway cluster it starts itself from the PostgreSQL
// binaries on the machine (Debian's package: /usr/lib/postgresql/<v>/bin),
// on a temporary directory with a Unix socket and a loopback port, fsync
// off, stopped when the tests end. Without either, tests skip, saying how
// to run them; with CI=true they fail instead.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"paydesk/api/audit"
)

// EnvURL names a database the tests may use (they create databases in it).
const EnvURL = "PAYDESK_TEST_DATABASE_URL"

var (
	baseURL string // admin URL of the server the tests use
	why     string // why there is none
	stop    func()
	counter atomic.Int64
)

// Main runs the package's tests with a PostgreSQL: call it from TestMain.
func Main(m *testing.M) {
	code := func() int {
		if u := os.Getenv(EnvURL); u != "" {
			baseURL = u
		} else if bin := binDir(); bin != "" {
			u, s, err := startCluster(bin)
			if err != nil {
				why = "could not start a throwaway PostgreSQL from " + bin + ": " + err.Error()
			} else {
				baseURL, stop = u, s
				// Child processes the tests start (crash tests) inherit
				// this cluster instead of starting, and leaking, their own.
				os.Setenv(EnvURL, u)
			}
		} else {
			why = "no PostgreSQL: install the postgresql package (Debian: apt-get install postgresql) or set " +
				EnvURL + "=postgres://user@host:port/db"
		}
		if stop != nil {
			defer stop()
		}
		return m.Run()
	}()
	os.Exit(code)
}

// URL returns the URL of a fresh, empty database for one test, or skips
// (fails under CI=true) when there is no PostgreSQL.
func URL(t testing.TB) string {
	t.Helper()
	if baseURL == "" && why == "" {
		// A package whose TestMain is not pgtest.Main still uses a
		// database named in the environment (CI exports one).
		baseURL = os.Getenv(EnvURL)
		if baseURL == "" {
			why = EnvURL + " is not set (go test ./api/store/pg starts a throwaway cluster by itself; .ci/run exports one for every package)"
		}
	}
	if baseURL == "" {
		msg := why
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL tests cannot run: %s", msg)
		}
		t.Skipf("PostgreSQL tests skipped: %s", msg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		t.Fatalf("connecting to the test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("paydesk_t%d_%d", os.Getpid(), counter.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	cfg, err := pgx.ParseConfig(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, baseURL); err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

// SeedAudit appends n refund lines of 2.00 USD (order refs o0, o1, ...) to
// log, a PostgreSQL store's audit chain: the chain that the audit verify
// and head tests of the function and of the binary read back.
func SeedAudit(t testing.TB, log audit.Appender, n int) {
	t.Helper()
	for i := range n {
		if err := log.Append(audit.Entry{Actor: "desk-1", Provider: "forage", Action: "refund_payment",
			OrderRef: fmt.Sprintf("o%d", i), Amount: "2.00", Currency: "USD", Outcome: audit.Succeeded}); err != nil {
			t.Fatal(err)
		}
	}
}

// EditAuditAmount turns the 2.00 of a SeedAudit line (row seq) into 0.20
// with the table's guard trigger off, as a superuser could behind paydesk's
// back: the edit audit verify must find and name.
func EditAuditAmount(t testing.TB, pool *pgxpool.Pool, seq int) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), fmt.Sprintf(`ALTER TABLE paydesk_audit DISABLE TRIGGER USER;
		UPDATE paydesk_audit SET line = replace(line, '"2.00"', '"0.20"') WHERE seq = %d;
		ALTER TABLE paydesk_audit ENABLE TRIGGER USER`, seq)); err != nil {
		t.Fatal(err)
	}
}

// binDir finds the newest /usr/lib/postgresql/<v>/bin with initdb.
func binDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(dirs[j]))))
		return vi > vj
	})
	if len(dirs) == 0 {
		return ""
	}
	return filepath.Dir(dirs[0])
}

// startCluster runs initdb and pg_ctl (as the postgres user when we are
// root: initdb refuses root) on a temporary directory.
func startCluster(bin string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "paydesk-pg-")
	if err != nil {
		return "", nil, err
	}
	var asUser []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return "", nil, fmt.Errorf("running as root and there is no postgres user to run initdb as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return "", nil, err
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(args ...string) error {
		full := append(append([]string{}, asUser...), args...)
		cmd := exec.Command(full[0], full[1:]...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", filepath.Base(args[0]), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := run(filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "paydesk", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	opts := fmt.Sprintf("-k %s -p %d -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", dir, port)
	if err := run(filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(dir, "log"), "-o", opts, "-w", "start"); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	stop := func() {
		_ = run(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		os.RemoveAll(dir)
	}
	return fmt.Sprintf("postgres://paydesk@127.0.0.1:%d/postgres?sslmode=disable", port), stop, nil
}
