// Package poll is how the tests wait for what another goroutine or process does: they
// check a condition until it holds, and fail after a bound generous enough that a
// loaded machine never makes a correct test fail. No test waits a fixed time.
package poll

import (
	"testing"
	"time"
)

// Bound is how long Until waits before it fails the test: as long as the slowest
// thing a test waits for (a child process's first output on a machine that several
// test runs share), so a test fails late rather than wrongly.
const Bound = 2 * time.Minute

// interval is how long Until sleeps between two checks.
const interval = 5 * time.Millisecond

// Until calls cond, on the calling goroutine, until it reports true. If it still has
// not after Bound, Until fails tb with Fatalf, saying it was still waiting for what.
// cond may itself end the test (tb.Fatal) when what it reads is wrong.
func Until(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	until(tb, what, Bound, cond)
}

func until(tb testing.TB, what string, bound time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(bound)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("still waiting for %s after %v", what, bound)
		}
		time.Sleep(interval)
	}
}
