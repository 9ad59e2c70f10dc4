//go:build race

package connect

// raceEnabled reports whether the tests run under the race detector.
const raceEnabled = true
