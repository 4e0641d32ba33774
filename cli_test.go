package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runSelf runs this test binary as paydesk itself (TestMain dispatches to
// main when PAYDESK_RUN_MAIN is set), so exit codes and streams are the real
// ones and no terminal is needed.
func runSelf(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "PAYDESK_RUN_MAIN=1"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestMain(m *testing.M) {
	if os.Getenv("PAYDESK_RUN_MAIN") == "1" {
		os.Args = append([]string{"paydesk"}, os.Args[1:]...)
		main()
		return
	}
	os.Exit(m.Run())
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		out, errOut, code := runSelf(t, nil, args...)
		if code != 0 {
			t.Errorf("paydesk %v exits %d, want 0; stderr %q", args, code, errOut)
		}
		if !strings.Contains(out, "Usage:") || !strings.Contains(out, "paydesk sandbox") {
			t.Errorf("paydesk %v does not print the usage on stdout: %q", args, out)
		}
	}
}

func TestUnknownSubcommandExitsTwo(t *testing.T) {
	for _, args := range [][]string{{"sandbx"}, {"--no-such-flag"}, {"--read-only", "extra"}, {"--refresh", "1ms"}} {
		out, errOut, code := runSelf(t, nil, args...)
		if code != 2 {
			t.Errorf("paydesk %v exits %d, want 2 (stdout %q, stderr %q)", args, code, out, errOut)
		}
		if !strings.Contains(errOut, "Usage:") {
			t.Errorf("paydesk %v does not print the usage on stderr: %q", args, errOut)
		}
		if out != "" {
			t.Errorf("paydesk %v wrote to stdout (a console started?): %q", args, out)
		}
	}
	_, errOut, _ := runSelf(t, nil, "sandbx")
	if !strings.Contains(errOut, `unknown command "sandbx"`) {
		t.Errorf("the error does not name the command: %q", errOut)
	}
}

// TestMissingCredentialsFileRefusesToStart: a PAYDESK_CREDENTIALS typo must
// not silently become the embedded sandbox.
func TestMissingCredentialsFileRefusesToStart(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.env")
	// The binary stops before anything starts (TestNamedCredentials in
	// api/providers covers the check itself).
	_, errOut, code := runSelf(t, []string{"PAYDESK_CREDENTIALS=" + missing, "FORAGE_BASE_URL=", "MOYASAR_BASE_URL=", "DIGITALRIVER_BASE_URL="})
	if code != 1 || !strings.Contains(errOut, "will not fall back to the sandbox") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// TestSubcommandUsageExitsTwo: a subcommand's unknown flag, missing argument
// or out-of-range value is a bad command line like the console's: usage on
// stderr, exit 2; -h is help, exit 0.
func TestSubcommandUsageExitsTwo(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--bogus"}, {"serve"}, {"serve", "--host-key", "k", "--users", "u", "--refresh", "1ms"},
		{"audit"}, {"audit", "verify", "--bogus"}, {"audit", "head", "extra"},
		{"hostkey"}, {"hostkey", "a", "b"},
	} {
		out, errOut, code := runSelf(t, nil, args...)
		if code != 2 || !strings.Contains(errOut, "Usage:") || out != "" {
			t.Errorf("paydesk %v: exit %d, stdout %q, stderr %q; want 2 and the usage on stderr", args, code, out, errOut)
		}
	}
	for _, args := range [][]string{{"serve", "-h"}, {"audit", "verify", "-h"}} {
		if _, errOut, code := runSelf(t, nil, args...); code != 0 {
			t.Errorf("paydesk %v: exit %d (%q), want 0", args, code, errOut)
		}
	}
}

// TestReadOnlyFromEnvironment: PAYDESK_READ_ONLY=1, read through the
// getenv each parser is given, makes the console and serve read-only alike,
// and --read-only=false on the command line still wins over it.
func TestReadOnlyFromEnvironment(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "PAYDESK_READ_ONLY" {
				return v
			}
			return ""
		}
	}
	serveArgs := []string{"--host-key", "k", "--users", "u"}
	for _, tc := range []struct {
		value string
		extra []string
		want  bool
	}{
		{"", nil, false},
		{"1", nil, true},
		{"yes", nil, false},
		{"1", []string{"--read-only=false"}, false},
		{"", []string{"--read-only"}, true},
	} {
		c, err := parseConsoleFlags(tc.extra, env(tc.value))
		if err != nil || c.readOnly != tc.want {
			t.Errorf("console, PAYDESK_READ_ONLY=%q %v: read-only %v (%v), want %v", tc.value, tc.extra, c.readOnly, err, tc.want)
		}
		s, done, err := parseServeFlags(append(append([]string{}, serveArgs...), tc.extra...), env(tc.value))
		if done || err != nil || s.readOnly != tc.want {
			t.Errorf("serve, PAYDESK_READ_ONLY=%q %v: read-only %v (done %v, %v), want %v", tc.value, tc.extra, s.readOnly, done, err, tc.want)
		}
	}
}
