// Package backendtest is what the tests of the Deduper backends on real servers
// (pgdedupe, redisdedupe, each in its own module) share besides the contract in
// dedupetest: the server the environment names, a claim that must succeed, an event
// made done, a log of the round trips a client makes, and the load their benchmarks
// put on a Deduper.
package backendtest

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// Server is the server a backend's tests run against, named by an environment
// variable such as CONNECT_TEST_POSTGRES_URL.
type Server struct {
	Name    string // what the messages call it: "PostgreSQL"
	Env     string // the variable that holds its URL
	Example string // its URL on the project's machines, for the message that says how to run the tests
}

// URL returns the server's URL from the environment. Without one it skips t, saying
// how to run the tests; in CI (CI=true) it fails t instead.
func (s Server) URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(s.Env)
	if u == "" {
		Unavailable(t, s.Env+" is not set", fmt.Sprintf("set %s=%s to run the %s tests", s.Env, s.Example, s.Name))
	}
	return u
}

// Unreachable ends t for the server's not answering, err: it skips t, or in CI fails it.
func (s Server) Unreachable(t testing.TB, err error) {
	t.Helper()
	why := fmt.Sprintf("%s at %s is unreachable (%v)", s.Name, s.Env, err)
	Unavailable(t, why, why+": start it, or unset the variable")
}

// Unavailable ends t for want of what it needs (why): in CI (CI=true), which must run
// every test, it fails t; elsewhere it skips t with how, which says how to run it.
func Unavailable(t testing.TB, why, how string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: CI must run this test", why)
	}
	t.Skip(how)
}

// MustClaim claims id for owner with lease on d, and fails t unless d answers want.
func MustClaim(t testing.TB, d connect.Deduper, id, owner string, lease time.Duration, want connect.ClaimResult) {
	t.Helper()
	got, err := d.Claim(context.Background(), id, owner, lease)
	if err != nil || got != want {
		t.Fatalf("Claim(%s, %s) = %v, %v; want %v", id, owner, got, err, want)
	}
}

// MustComplete makes id done by owner on d: a Claim that acquires it, then Complete.
// It fails t unless both succeed.
func MustComplete(t testing.TB, d connect.Deduper, id, owner string) {
	t.Helper()
	MustClaim(t, d, id, owner, time.Hour, connect.ClaimAcquired)
	if err := d.Complete(context.Background(), id, owner); err != nil {
		t.Fatalf("Complete(%s, %s): %v", id, owner, err)
	}
}

// Log records what a client sends, one entry per round trip, for a test that counts
// them per event. It is safe for concurrent use.
type Log struct {
	mu      sync.Mutex
	entries []string
}

// Add records one round trip.
func (l *Log) Add(entry string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, entry)
}

// Take returns what was recorded since the last Take, oldest first, and forgets it.
func (l *Log) Take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	entries := l.entries
	l.entries = nil
	return entries
}

// Load is the load of a benchmark of what a Deduper costs per event: Run calls
// perEvent for a fresh event id b.N times in all, from Conc goroutines at once, or in
// the benchmark's own goroutine when Conc is 1. The benchmarks that share a store
// share a Load, which hands out the ids across them. Use it by pointer.
type Load struct {
	Conc int
	seq  atomic.Int64
}

// Run runs the load on b.
func (l *Load) Run(b *testing.B, perEvent func(id string) error) {
	b.ReportAllocs()
	next := func() string { return "evt_b" + strconv.FormatInt(l.seq.Add(1), 36) }
	if l.Conc == 1 {
		for i := 0; i < b.N; i++ {
			if err := perEvent(next()); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	// RunParallel starts GOMAXPROCS*p goroutines: p = Conc/GOMAXPROCS (at least 1)
	// gives Conc on this machine's 2 cores (see BENCHMARKS.md).
	b.SetParallelism(max(l.Conc/runtime.GOMAXPROCS(0), 1))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := perEvent(next()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// ClaimAndComplete is what d costs a WebhookHandler per event, as a Load's perEvent:
// a Claim that acquires, then Complete.
func ClaimAndComplete(ctx context.Context, d connect.Deduper) func(id string) error {
	return func(id string) error {
		res, err := d.Claim(ctx, id, "owner", time.Minute)
		if err != nil {
			return err
		}
		if res != connect.ClaimAcquired {
			return fmt.Errorf("claim %v, want acquired", res)
		}
		return d.Complete(ctx, id, "owner")
	}
}
