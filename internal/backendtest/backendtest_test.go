package backendtest

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	connect "github.com/persona-connect/connect-go"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ended is a testing.TB that records how a helper ended it: Skip and Fatalf end the
// calling goroutine, as the real ones do.
type ended struct {
	testing.TB
	skipped, failed string
}

func (e *ended) Helper() {}

func (e *ended) Skip(args ...any) {
	e.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}

func (e *ended) Fatalf(format string, args ...any) {
	e.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with an ended in a goroutine of its own and returns how it ended.
func run(f func(testing.TB)) *ended {
	e := &ended{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(e)
	}()
	<-done
	return e
}

// Without its variable a server's tests skip and say how to run them; in CI they fail.
// Not parallel: the test sets the environment.
func TestServerURL(t *testing.T) {
	s := Server{Name: "Testdb", Env: "BACKENDTEST_TEST_URL", Example: "testdb://127.0.0.1/x"}
	for _, tc := range []struct {
		ci, url       string
		skipped, fail string // what the messages contain; "" when it must not end that way
	}{
		{"", "", "set BACKENDTEST_TEST_URL=testdb://127.0.0.1/x to run the Testdb tests", ""},
		{"true", "", "", "BACKENDTEST_TEST_URL is not set: CI must run this test"},
		{"true", "testdb://here", "", ""},
	} {
		t.Setenv("CI", tc.ci)
		t.Setenv(s.Env, tc.url)
		var got string
		e := run(func(tb testing.TB) { got = s.URL(tb) })
		if e.skipped != tc.skipped || e.failed != tc.fail {
			t.Errorf("CI=%q %s=%q: skipped %q, failed %q; want %q, %q", tc.ci, s.Env, tc.url, e.skipped, e.failed, tc.skipped, tc.fail)
		}
		if tc.skipped == "" && tc.fail == "" && got != tc.url {
			t.Errorf("URL = %q, want %q", got, tc.url)
		}
	}
	t.Setenv("CI", "")
	if e := run(func(tb testing.TB) { s.Unreachable(tb, fmt.Errorf("refused")) }); !strings.Contains(e.skipped, "Testdb at BACKENDTEST_TEST_URL is unreachable (refused): start it") {
		t.Errorf("unreachable: skipped %q", e.skipped)
	}
}

func TestMustClaim(t *testing.T) {
	t.Parallel()
	d := connect.NewMemoryDeduper(0)
	if e := run(func(tb testing.TB) { MustClaim(tb, d, "evt_1", "a", time.Minute, connect.ClaimAcquired) }); e.failed != "" {
		t.Errorf("the first claim: %s", e.failed)
	}
	e := run(func(tb testing.TB) { MustClaim(tb, d, "evt_1", "b", time.Minute, connect.ClaimAcquired) })
	if !strings.Contains(e.failed, "Claim(evt_1, b) = ") {
		t.Errorf("a claim of a held event, want acquired: failed %q", e.failed)
	}
}

func TestMustComplete(t *testing.T) {
	t.Parallel()
	d := connect.NewMemoryDeduper(0)
	if e := run(func(tb testing.TB) { MustComplete(tb, d, "evt_1", "a") }); e.failed != "" {
		t.Errorf("complete a new event: %s", e.failed)
	}
	if got, err := d.Claim(context.Background(), "evt_1", "b", time.Minute); err != nil || got != connect.ClaimDone {
		t.Errorf("Claim after MustComplete = %v, %v; want done", got, err)
	}
	e := run(func(tb testing.TB) { MustComplete(tb, d, "evt_1", "a") })
	if !strings.Contains(e.failed, "Claim(evt_1, a) = ") {
		t.Errorf("complete a done event: failed %q, want the claim's failure", e.failed)
	}
}

func TestLog(t *testing.T) {
	t.Parallel()
	var l Log
	l.Add("a")
	l.Add("b")
	if diff := cmp.Diff([]string{"a", "b"}, l.Take()); diff != "" {
		t.Errorf("Take (-want +got):\n%s", diff)
	}
	if got := l.Take(); got != nil {
		t.Errorf("a second Take: %q, want nothing", got)
	}
}

// A Load hands out distinct ids across runs, at either concurrency, and
// ClaimAndComplete acquires each one once. Not parallel: it sets -test.benchtime, so
// that testing.Benchmark runs 200 events rather than for a second.
func TestLoad(t *testing.T) {
	benchtime := flag.Lookup("test.benchtime")
	t.Cleanup(func() { _ = benchtime.Value.Set(benchtime.DefValue) })
	if err := benchtime.Value.Set("200x"); err != nil {
		t.Fatal(err)
	}
	for _, conc := range []int{1, 4} {
		d := connect.NewMemoryDeduper(0) // one store, one Load
		load := &Load{Conc: conc}
		perEvent := ClaimAndComplete(context.Background(), d)
		for run := range 2 {
			if r := testing.Benchmark(func(b *testing.B) { load.Run(b, perEvent) }); r.N != 200 {
				t.Errorf("conc=%d, run %d: %d events, want 200 (an error: a repeated id, or a claim not acquired)", conc, run, r.N)
			}
		}
		if err := perEvent("evt_b1"); err == nil || !strings.Contains(err.Error(), "want acquired") {
			t.Errorf("conc=%d: an id run again: %v, want a claim not acquired", conc, err)
		}
	}
}
