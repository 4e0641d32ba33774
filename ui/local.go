package ui

import (
	"os/user"
	"strings"
)

// A local console (paydesk with no subcommand) takes two things from its own
// process that a session under serve gets from the SSH connection instead:
// who is at the terminal and whether its background is dark. They are read
// here, once, by the caller and passed to NewSession, which never reads them.

// LocalIdentity is the OS user running the console ("unknown" when the
// system cannot say), with no role: the local owner is not role-guarded.
func LocalIdentity() Identity {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return Identity{Name: u.Username}
	}
	return Identity{Name: "unknown"}
}

// DarkBackground decides light or dark colours without asking the terminal:
// termenv's OSC 11 query waits up to 5 seconds for terminals (tmux among
// them) that never answer, and it reads stdin under Bubble Tea's feet.
// COLORFGBG ("15;0") is what terminals that care export; dark otherwise.
func DarkBackground(getenv func(string) string) bool {
	v := getenv("COLORFGBG")
	if i := strings.LastIndex(v, ";"); i >= 0 {
		switch v[i+1:] {
		case "7", "15":
			return false
		}
	}
	return true
}
