package ui

import (
	"fmt"

	"paydesk/api/journal"
)

// NewRecoveryMsg says where the journal's start-up recovery is, for the
// status line: the wording lives beside the status line that shows it, so
// the console and serve's log (which prints Text) say the same thing.
func NewRecoveryMsg(pr journal.RecoveryProgress) RecoveryMsg {
	actions := "actions"
	if pr.Total == 1 {
		actions = "action"
	}
	if !pr.Done {
		return RecoveryMsg{Text: fmt.Sprintf("Checking %d earlier money %s… %d done; their orders accept no money action until checked.",
			pr.Total, actions, pr.Checked)}
	}
	switch {
	case pr.Total == 0 && len(pr.Outcomes) > 0 && pr.Outcomes[0].Err != nil:
		return RecoveryMsg{Done: true, Text: "Could not read the journal to check earlier money actions: " + pr.Outcomes[0].Err.Error()}
	case pr.Total == 0:
		return RecoveryMsg{Done: true}
	case pr.Open == 0:
		return RecoveryMsg{Done: true, Text: fmt.Sprintf("Checked %d earlier money %s: all resolved.", pr.Total, actions)}
	case pr.Open == 1:
		return RecoveryMsg{Done: true, Text: "1 earlier money action still has an unknown outcome: its order accepts no new action until checked."}
	}
	return RecoveryMsg{Done: true, Text: fmt.Sprintf("%d earlier money actions still have an unknown outcome: their orders accept no new action until checked.", pr.Open)}
}
