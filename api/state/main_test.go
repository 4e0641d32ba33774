package state

import (
	"testing"

	"paydesk/api/store/pg/pgtest"
)

// The approvals and audit tests run against a throwaway PostgreSQL of their
// own (or PAYDESK_TEST_DATABASE_URL), as api/store/pg's do.
func TestMain(m *testing.M) { pgtest.Main(m) }
