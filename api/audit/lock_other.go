//go:build !unix

package audit

import "os"

// On systems without flock(2) appends are serialised within one process
// only; run one paydesk per audit log there.
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }
