package benchcmp

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run when a test leaves a goroutine behind: the SDK must never
// start one it cannot stop.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
