//go:build race

package index

// raceEnabled: the race detector multiplies memory and time, so the bounds
// on them are not checked under it.
const raceEnabled = true
