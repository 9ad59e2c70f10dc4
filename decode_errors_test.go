package connect

import "testing"

// A decode that succeeded costs nothing in valueFree: it sits on the path of every
// answer (BENCHMARKS.md counts the allocations of a Get).
func TestValueFreeOfNoErrorAllocatesNothing(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { _ = valueFree(nil) }); n != 0 {
		t.Errorf("valueFree(nil) allocates %v times, want 0", n)
	}
}
