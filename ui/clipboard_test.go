package ui

import (
	"bytes"
	"strings"
	"testing"
)

// TestCopyClaimsOnlyWhatItDid: paydesk cannot know whether the terminal
// honoured OSC 52 (tmux needs set-clipboard on), so the status line says it
// was sent there, not that it is on the clipboard.
func TestCopyClaimsOnlyWhatItDid(t *testing.T) {
	var out bytes.Buffer
	msg := OSC52Copier(&out)("0d90c8c50f")().(StatusMsg)
	if !strings.Contains(out.String(), "\x1b]52;") {
		t.Fatalf("no OSC 52 sequence written: %q", out.String())
	}
	if msg.Text != "Sent 0d90c8c50f to the terminal's clipboard (OSC 52)." {
		t.Fatalf("status %q", msg.Text)
	}
	out.Reset()
	msg = OSC52Copier(&out)("rm -rf /")().(StatusMsg)
	if out.Len() != 0 || !strings.Contains(msg.Text, "Only refs and ids") {
		t.Fatalf("free text was copied: %q, %q", out.String(), msg.Text)
	}
}
