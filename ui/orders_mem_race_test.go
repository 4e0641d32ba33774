//go:build race

package ui

// rowBoundChecked: the race detector inflates every allocation, so the
// bytes-per-row bound is checked only without it.
const rowBoundChecked = false
