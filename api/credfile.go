package api

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// EnvCredentials names the credentials file; it overrides the default path.
const EnvCredentials = "PAYDESK_CREDENTIALS"

// CredentialsPath is where provider credentials may be kept instead of in the
// environment (environment variables leak into every child process and into
// /proc/<pid>/environ): $PAYDESK_CREDENTIALS, else
// $XDG_CONFIG_HOME/paydesk/credentials.env, else ~/.config/paydesk/credentials.env.
func CredentialsPath(getenv func(string) string) string {
	if p := getenv(EnvCredentials); p != "" {
		return p
	}
	if x := getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "paydesk", "credentials.env")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".config", "paydesk", "credentials.env")
	}
	return ""
}

// PermissionError refuses a credentials file that others can read, the way
// OpenSSH refuses a private key: the fix is one command, so it says it.
type PermissionError struct {
	Path string
	Mode fs.FileMode
	Why  string
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("%s %s (mode %04o): credentials must be readable by you alone; fix with: chmod 600 %s",
		e.Path, e.Why, e.Mode.Perm(), e.Path)
}

// LoadCredentials reads KEY=VALUE lines (blank lines and # comments allowed,
// values optionally quoted) from path. A missing file is not an error: it
// returns nil. A file that group or others can read, or that another user
// owns, is refused before a byte of it is used.
func LoadCredentials(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return nil, nil // no file (or no directory for it): no credentials
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, &PermissionError{Path: path, Mode: st.Mode(), Why: "is readable by group or others"}
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		return nil, &PermissionError{Path: path, Mode: st.Mode(), Why: "belongs to another user"}
	}
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			// Never echo the line: it may hold a secret.
			return nil, fmt.Errorf("%s line %d: not KEY=VALUE", path, n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out[k] = v
	}
	return out, sc.Err()
}

// Getenv returns a lookup that prefers the process environment and falls
// back to the credentials file's values.
func Getenv(file map[string]string) func(string) string {
	return func(k string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		return file[k]
	}
}
