package pg_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"paydesk/api/store/pg"
	"paydesk/api/store/pg/pgtest"
)

// PAYDESK_DATABASE_URL may hold a password. Whatever is wrong with the URL or
// the database behind it, the error an operator sees (and the log and the
// audit refusal built from it) never quotes the password.
func TestReviewDatabasePasswordNeverInErrors(t *testing.T) {
	const pw = "Hunter2ReviewPw"
	real, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	withPW := *real
	withPW.User = url.UserPassword(real.User.Username(), pw)
	noDB := withPW
	noDB.Path = "/no_such_database_review"
	for name, u := range map[string]string{
		"refused port":     "postgres://desk:" + pw + "@127.0.0.1:1/paydesk",
		"unknown host":     "postgres://desk:" + pw + "@no-such-host.invalid/paydesk",
		"bad port":         "postgres://desk:" + pw + "@127.0.0.1:port/paydesk",
		"keyword form":     "host=127.0.0.1 port=1 user=desk password=" + pw + " dbname=paydesk",
		"query password":   "postgres://desk@127.0.0.1:1/paydesk?password=" + pw,
		"no such database": noDB.String(),
		"bad option":       withPW.String() + "&sslmode=bogus" + pw,
		"bad option 2":     withPW.String() + "?sslmode=" + pw,
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err := pg.Open(ctx, u, pg.Options{})
		cancel()
		if err == nil {
			s.Close()
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("%s: the error quotes the password: %v", name, err)
		}
	}
}
