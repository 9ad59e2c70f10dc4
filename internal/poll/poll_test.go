package poll

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// failed is a testing.TB that records the message Fatalf ends it with, ending the
// calling goroutine as the real one does.
type failed struct {
	testing.TB
	msg string
}

func (f *failed) Helper() {}

func (f *failed) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls until with a failed in a goroutine of its own and returns its message.
func run(bound time.Duration, cond func() bool) string {
	f := &failed{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		until(f, "the thing", bound, cond)
	}()
	<-done
	return f.msg
}

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	t.Parallel()
	calls := 0
	if msg := run(time.Minute, func() bool { calls++; return calls == 3 }); msg != "" {
		t.Fatalf("failed: %s", msg)
	}
	if calls != 3 {
		t.Errorf("cond called %d times, want 3: once more after it held is once too many", calls)
	}
}

func TestUntilFailsAfterTheBound(t *testing.T) {
	t.Parallel()
	msg := run(20*time.Millisecond, func() bool { return false })
	if want := "still waiting for the thing after 20ms"; msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
}

// Until itself: a condition that holds at once returns without sleeping.
func TestUntil(t *testing.T) {
	t.Parallel()
	calls := 0
	Until(t, "nothing", func() bool { calls++; return true })
	if calls != 1 {
		t.Errorf("cond called %d times, want 1", calls)
	}
}
