// Package contracttest drives the client-side contract tests of
// api/forage, api/moyasar and api/digitalriver over the published examples
// in api/testdata/contract. The three tables differ only in their checks;
// reading a fixture and running one subtest per file was the same code
// three times, and a fix to one copy (a path, a helper mark) would have
// missed the others.
package contracttest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Case is one published example (a file under the provider's folder) and
// the check its bytes must pass.
type Case struct {
	File  string
	Check func(t *testing.T, b []byte)
}

// Run runs each case as a subtest named after its file, handing its check
// the fixture's bytes.
func Run(t *testing.T, provider string, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.File, func(t *testing.T) { c.Check(t, Read(t, provider, c.File)) })
	}
}

// Read returns api/testdata/contract/<provider>/<name>. The folder is found
// from this source file, not the working directory, so a caller at any depth
// under api/ reads the same files.
func Read(t *testing.T, provider, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir(), provider, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("..", "testdata", "contract")
	}
	return filepath.Join(filepath.Dir(file), "..", "testdata", "contract")
}
