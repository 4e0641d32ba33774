package sshserve

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	gossh "golang.org/x/crypto/ssh"

	"paydesk/api"
)

// User is one line of the users file: who a key belongs to and what they
// may do.
type User struct {
	Name        string
	Role        api.Role
	Key         gossh.PublicKey
	Fingerprint string // SHA256:…, as ssh-keygen -l prints it
	Line        int
}

// LineError is a users-file line that was skipped, and why.
type LineError struct {
	Line int
	Err  string
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Err) }

// Users is the parsed file, keyed by fingerprint.
type Users map[string]User

// validName is what a user name may be: it is written to the audit log and
// shown on screen, so no spaces, no control or look-alike characters.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// ParseUsers reads a users file: one line per key,
// "NAME ROLE KEYTYPE BASE64 [comment]", '#' starting a comment line. A
// malformed line is returned as a LineError and skipped; it never stops the
// lines after it from being read, so one typo cannot lock the team out.
func ParseUsers(r io.Reader) (Users, []LineError) {
	users := Users{}
	var errs []LineError
	br := bufio.NewReaderSize(r, 4096)
	n := 0
	for {
		raw, long, err := readLine(br, maxUsersLine)
		if err != nil && len(raw) == 0 && !long {
			if err != io.EOF {
				errs = append(errs, LineError{Line: n + 1, Err: "unreadable: " + err.Error()})
			}
			break
		}
		n++
		if long {
			// Reported and skipped like any malformed line: a pasted blob
			// must not lock out the keys after it.
			errs = append(errs, LineError{Line: n, Err: fmt.Sprintf("longer than %d bytes", maxUsersLine)})
			continue
		}
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		u, err := parseUserLine(line)
		if err != nil {
			errs = append(errs, LineError{Line: n, Err: err.Error()})
			continue
		}
		u.Line = n
		if prev, dup := users[u.Fingerprint]; dup {
			// Two lines for one key would leave its role to line order;
			// the first stays, the second is reported.
			errs = append(errs, LineError{Line: n, Err: fmt.Sprintf("key already listed on line %d", prev.Line)})
			continue
		}
		users[u.Fingerprint] = u
	}
	return users, errs
}

func parseUserLine(line string) (User, error) {
	f := strings.Fields(line)
	if len(f) < 4 {
		return User{}, fmt.Errorf("want NAME ROLE KEYTYPE BASE64 [comment], found %d of them", len(f))
	}
	if !validName.MatchString(f[0]) {
		return User{}, fmt.Errorf("name must be letters, digits, '.', '_', '@' or '-' (at most 64)")
	}
	role, err := api.ParseRole(f[1])
	if err != nil {
		return User{}, err
	}
	raw, err := base64.StdEncoding.DecodeString(f[3])
	if err != nil {
		return User{}, fmt.Errorf("key is not base64")
	}
	key, err := gossh.ParsePublicKey(raw)
	if err != nil {
		return User{}, fmt.Errorf("key does not parse as an SSH public key")
	}
	if key.Type() != f[2] {
		return User{}, fmt.Errorf("key type is %s, the line says %s", key.Type(), safeField(f[2]))
	}
	return User{Name: f[0], Role: role, Key: key, Fingerprint: gossh.FingerprintSHA256(key)}, nil
}

// CheckUsersFileMode refuses a users file that anyone but its owner may
// write: it decides who is admin, so, as OpenSSH's StrictModes does for
// authorized_keys, a file others could add a key to is not trusted.
func CheckUsersFileMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if m := fi.Mode().Perm(); m&0o022 != 0 {
		return fmt.Errorf("%s is writable by others (mode %#o), so anyone could add a key: run chmod 600 %s", path, m, path)
	}
	return nil
}

// maxUsersLine bounds one users-file line (an RSA 16384 key is about 2.8 KB).
const maxUsersLine = 64 * 1024

// readLine reads one line of at most max bytes. A longer line is consumed to
// its end and reported as long, so the lines after it are still read.
func readLine(br *bufio.Reader, max int) (line string, long bool, err error) {
	var b []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if len(b)+len(chunk) > max {
			long = true
		} else {
			b = append(b, chunk...)
		}
		if err != nil || !isPrefix {
			if long {
				b = nil
			}
			return string(b), long, err
		}
	}
}

// safeField quotes a field from the file for a message, bounded.
func safeField(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Lookup finds the user a key belongs to, comparing the whole key, not
// only its fingerprint.
func (u Users) Lookup(key gossh.PublicKey) (User, bool) {
	if key == nil {
		return User{}, false
	}
	user, ok := u[gossh.FingerprintSHA256(key)]
	if !ok || !bytes.Equal(user.Key.Marshal(), key.Marshal()) {
		return User{}, false
	}
	return user, true
}
