package providers

import (
	"path/filepath"
	"strings"
	"testing"
)

// A PAYDESK_CREDENTIALS typo must not silently become the embedded sandbox:
// a named file that is missing or a directory is refused; none named is fine.
func TestNamedCredentials(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.env")
	err := namedCredentials(func(k string) string {
		if k == "PAYDESK_CREDENTIALS" {
			return missing
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("namedCredentials = %v, want a refusal naming %s", err, missing)
	}
	if err := namedCredentials(func(string) string { return "" }); err != nil {
		t.Fatalf("no PAYDESK_CREDENTIALS: %v", err)
	}
	dir := t.TempDir()
	if err := namedCredentials(func(string) string { return dir }); err == nil {
		t.Fatal("a directory was taken for a credentials file")
	}
}
