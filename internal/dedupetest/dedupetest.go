// Package dedupetest is the contract of connect.Deduper, written once as tests that
// every implementation runs: MemoryDeduper in the root module, pgdedupe and
// redisdedupe in theirs. A new Deduper is done when Run passes against it.
package dedupetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// Open returns replicas Dedupers sharing one store that is fresh and empty for the
// calling test (for PostgreSQL, each on its own pool over one new table; for Redis,
// each on its own client under one new key prefix), and cleans the store up when t
// ends. An in-process Deduper returns the same one replicas times.
type Open func(t *testing.T, replicas int) []connect.Deduper

// Run runs every check of the contract as a subtest, each on a store of its own.
func Run(t *testing.T, open Open) {
	t.Helper()
	s := suite{expiryWait: 30 * time.Second}
	for _, c := range s.checks() {
		t.Run(c.name, func(t *testing.T) {
			ds := open(t, c.replicas)
			if len(ds) != c.replicas {
				t.Fatalf("Open returned %d dedupers, want %d", len(ds), c.replicas)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := c.run(ctx, ds); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Leases the checks use. longLease never ends during a test; shortLease is over long
// before anything is asserted about its end (the checks wait for it, never time it).
const (
	longLease  = time.Hour
	shortLease = 50 * time.Millisecond
)

// suite holds the checks' settings; the package's own tests shorten the wait so that
// a Deduper that never lets a lease expire fails in a second rather than thirty.
type suite struct {
	expiryWait time.Duration // how long a check waits for a shortLease to be taken over
}

// check is one clause of the contract.
type check struct {
	name     string
	replicas int
	run      func(ctx context.Context, ds []connect.Deduper) error
}

func (s suite) checks() []check {
	return []check{
		{"ClaimAcquiredThenInProgressDuringLiveLease", 2, onOneEvent(
			claim(0, "a", connect.ClaimAcquired), claim(1, "b", connect.ClaimInProgress), claim(0, "b", connect.ClaimInProgress))},
		{"SameOwnerClaimRenews", 1, onOneEvent(
			claim(0, "a", connect.ClaimAcquired), claim(0, "a", connect.ClaimAcquired), claim(0, "b", connect.ClaimInProgress))},
		{"DoneAfterComplete", 2, onOneEvent(
			claim(0, "a", connect.ClaimAcquired),
			complete(0, "a", succeeds), complete(0, "a", succeeds), // the holder's Complete, repeated
			claim(1, "b", connect.ClaimDone),
			claim(0, "a", connect.ClaimDone))}, // done is done, even for its owner
		{"ReleaseLetsTheNextDeliveryRun", 2, onOneEvent(
			claim(0, "a", connect.ClaimAcquired), release(0, "a", succeeds),
			claim(1, "b", connect.ClaimAcquired), // the next delivery runs; a holds nothing now
			release(0, "a", refused), complete(0, "a", refused),
			claim(0, "new", connect.ClaimInProgress))},
		{"StrangerCannotCompleteOrRelease", 2, onOneEvent(
			claim(0, "a", connect.ClaimAcquired),
			release(1, "b", refused), complete(1, "b", refused), // b never claimed
			claim(1, "new", connect.ClaimInProgress),
			complete(0, "a", succeeds), claim(1, "new", connect.ClaimDone))},
		{"UnknownEventIsNotHeld", 1, onOneEvent(
			release(0, "a", refused), complete(0, "a", refused),
			claim(0, "a", connect.ClaimAcquired))}, // neither left a trace
		{"DoneCannotBeReleased", 1, onOneEvent(
			claim(0, "a", connect.ClaimAcquired), complete(0, "a", succeeds), release(0, "a", refused),
			claim(0, "new", connect.ClaimDone))},
		{"ExpiredLeaseIsTakenOver", 2, s.checkTakeover},
		{"StaleOwnerRefusedAfterTakeover", 3, s.checkStaleOwner},
		{"EventsAreIndependent", 1, checkIndependent},
		{"IDsWithPunctuation", 2, checkPunctuation},
		{"InvalidArguments", 1, checkInvalidArguments},
		{"Race64GoroutinesOneAcquired", 4, checkRace},
	}
}

// newID makes a random event id or owner, so that checks never share one, even on a
// store that outlives them.
func newID(kind string) string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // never fails on the platforms Go supports since 1.24; zeros would only collide
	return kind + "_" + hex.EncodeToString(b[:])
}

// expect runs Claim and compares its result.
func expect(ctx context.Context, d connect.Deduper, id, owner string, lease time.Duration, want connect.ClaimResult) error {
	got, err := d.Claim(ctx, id, owner, lease)
	if err != nil {
		return fmt.Errorf("claim(%s, %s): %v", id, owner, err)
	}
	if got != want {
		return fmt.Errorf("claim(%s, %s) = %v, want %v", id, owner, got, want)
	}
	return nil
}

// notHeld checks that err wraps connect.ErrClaimNotHeld, and that its text says
// "connect:" once, as every error of the SDK does (the sentinel's own text has it).
func notHeld(op string, err error) error {
	if !errors.Is(err, connect.ErrClaimNotHeld) {
		return fmt.Errorf("%s = %v, want an error wrapping connect.ErrClaimNotHeld", op, err)
	}
	if n := strings.Count(err.Error(), "connect:"); n != 1 {
		return fmt.Errorf("%s = %q: says \"connect:\" %d times, want once", op, err, n)
	}
	return nil
}

// first is the first error of a check's steps, given as its arguments: every step runs,
// in order, and the first that failed is the one the check reports.
func first(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// step is one call of a check on one event, and what it must answer.
type step struct {
	replica int    // the index in ds of the Deduper that calls
	owner   string // "a" or "b", two owners fresh for each run; "new", a new one each step
	call    func(ctx context.Context, d connect.Deduper, id, owner, label string) error
}

// claim is a step that claims the event with a long lease and must be answered want.
func claim(replica int, owner string, want connect.ClaimResult) step {
	return step{replica, owner, func(ctx context.Context, d connect.Deduper, id, owner, label string) error {
		if err := expect(ctx, d, id, owner, longLease, want); err != nil {
			return fmt.Errorf("claim by %s on replica %d: %v", label, replica, err)
		}
		return nil
	}}
}

// complete and release are steps that call Complete or Release, which must have
// outcome want.
func complete(replica int, owner string, want outcome) step {
	return step{replica, owner, func(ctx context.Context, d connect.Deduper, id, owner, label string) error {
		return want.check(fmt.Sprintf("Complete by %s on replica %d", label, replica), d.Complete(ctx, id, owner))
	}}
}

func release(replica int, owner string, want outcome) step {
	return step{replica, owner, func(ctx context.Context, d connect.Deduper, id, owner, label string) error {
		return want.check(fmt.Sprintf("Release by %s on replica %d", label, replica), d.Release(ctx, id, owner))
	}}
}

// outcome is what a Complete or Release must come to.
type outcome bool

const (
	succeeds outcome = true  // nil: the owner held the claim
	refused  outcome = false // an error wrapping connect.ErrClaimNotHeld
)

func (o outcome) check(op string, err error) error {
	if o == refused {
		return notHeld(op, err)
	}
	if err != nil {
		return fmt.Errorf("%s = %v, want nil", op, err)
	}
	return nil
}

// onOneEvent is a check made of steps on one event new to the store, run in order
// until one fails.
func onOneEvent(steps ...step) func(context.Context, []connect.Deduper) error {
	return func(ctx context.Context, ds []connect.Deduper) error {
		return runSteps(ctx, ds, newID("evt"), steps)
	}
}

// runSteps runs steps on event id in order, and returns the first failure.
func runSteps(ctx context.Context, ds []connect.Deduper, id string, steps []step) error {
	owners := map[string]string{"a": newID("own"), "b": newID("own")}
	for i, st := range steps {
		owner := owners[st.owner]
		if st.owner == "new" {
			owner = newID("own")
		}
		if err := st.call(ctx, ds[st.replica], id, owner, st.owner); err != nil {
			return fmt.Errorf("step %d: %v", i+1, err)
		}
	}
	return nil
}

// takeOver claims id for owner until it is Acquired, the short lease of its holder
// having ended; until then every answer must be InProgress.
func (s suite) takeOver(ctx context.Context, d connect.Deduper, id, owner string) error {
	deadline := time.Now().Add(s.expiryWait)
	for {
		got, err := d.Claim(ctx, id, owner, longLease)
		if err != nil {
			return fmt.Errorf("claim while waiting for the lease to end: %v", err)
		}
		switch got {
		case connect.ClaimAcquired:
			return nil
		case connect.ClaimInProgress:
		default:
			return fmt.Errorf("claim while waiting for the lease to end = %v, want in progress, then acquired", got)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("a %v lease was not taken over after %v", shortLease, s.expiryWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(shortLease / 2):
		}
	}
}

func (s suite) checkTakeover(ctx context.Context, ds []connect.Deduper) error {
	id, a, b := newID("evt"), newID("own"), newID("own")
	return first(
		expect(ctx, ds[0], id, a, shortLease, connect.ClaimAcquired),
		s.takeOver(ctx, ds[1], id, b),
		expect(ctx, ds[0], id, newID("own"), longLease, connect.ClaimInProgress),
		ds[1].Complete(ctx, id, b),
		expect(ctx, ds[0], id, newID("own"), longLease, connect.ClaimDone),
	)
}

// checkStaleOwner: the holder whose lease was taken over can neither release nor
// complete the event (the new holder's run decides), and its attempts change nothing.
func (s suite) checkStaleOwner(ctx context.Context, ds []connect.Deduper) error {
	id, stale, holder := newID("evt"), newID("own"), newID("own")
	return first(
		expect(ctx, ds[0], id, stale, shortLease, connect.ClaimAcquired),
		s.takeOver(ctx, ds[1], id, holder),
		notHeld("Release by the owner whose lease was taken over", ds[0].Release(ctx, id, stale)),
		expect(ctx, ds[2], id, newID("own"), longLease, connect.ClaimInProgress),
		notHeld("Complete by the owner whose lease was taken over", ds[0].Complete(ctx, id, stale)),
		expect(ctx, ds[2], id, newID("own"), longLease, connect.ClaimInProgress),
		ds[1].Release(ctx, id, holder),
		expect(ctx, ds[2], id, newID("own"), longLease, connect.ClaimAcquired),
	)
}

func checkIndependent(ctx context.Context, ds []connect.Deduper) error {
	x, y, z := newID("evt"), newID("evt"), newID("evt")
	a := newID("own")
	return first(
		expect(ctx, ds[0], x, a, longLease, connect.ClaimAcquired),
		expect(ctx, ds[0], y, a, longLease, connect.ClaimAcquired), // one owner, two events
		ds[0].Complete(ctx, x, a),
		expect(ctx, ds[0], y, newID("own"), longLease, connect.ClaimInProgress),
		ds[0].Release(ctx, y, a),
		expect(ctx, ds[0], x, newID("own"), longLease, connect.ClaimDone),
		expect(ctx, ds[0], z, newID("own"), longLease, connect.ClaimAcquired),
	)
}

// checkPunctuation: ids are opaque strings. Persona's are evt_ and letters, but a
// store must not read meaning into ':', '{', quotes or spaces (Redis hash tags, SQL).
func checkPunctuation(ctx context.Context, ds []connect.Deduper) error {
	base := newID("evt")
	ids := []string{base + ":x", base + "{tag}", base + "}{", base + "'; drop table x; --", base + " spaced", base + "é"}
	for _, id := range ids {
		if err := runSteps(ctx, ds, id, []step{
			claim(0, "a", connect.ClaimAcquired), claim(1, "new", connect.ClaimInProgress),
			complete(0, "a", succeeds), claim(1, "new", connect.ClaimDone),
		}); err != nil {
			return fmt.Errorf("id %q: %v", id, err)
		}
	}
	return expect(ctx, ds[0], base, newID("own"), longLease, connect.ClaimAcquired) // none of them was base
}

func checkInvalidArguments(ctx context.Context, ds []connect.Deduper) error {
	d, id, a := ds[0], newID("evt"), newID("own")
	invalid := func(op string, err error) error {
		if !errors.Is(err, connect.ErrInvalidParams) {
			return fmt.Errorf("%s = %v, want an error wrapping connect.ErrInvalidParams", op, err)
		}
		return nil
	}
	claim := func(id, owner string, lease time.Duration) error {
		_, err := d.Claim(ctx, id, owner, lease)
		return err
	}
	return first(
		invalid("Claim with an empty event id", claim("", a, longLease)),
		invalid("Claim with an empty owner", claim(id, "", longLease)),
		invalid("Claim with a zero lease", claim(id, a, 0)),
		invalid("Claim with a negative lease", claim(id, a, -time.Second)),
		invalid("Complete with an empty event id", d.Complete(ctx, "", a)),
		invalid("Complete with an empty owner", d.Complete(ctx, id, "")),
		invalid("Release with an empty event id", d.Release(ctx, "", a)),
		invalid("Release with an empty owner", d.Release(ctx, id, "")),
		expect(ctx, d, id, a, longLease, connect.ClaimAcquired), // the refusals claimed nothing
	)
}

// checkRace: 64 goroutines, spread over the replicas, claim each of several ids at
// the same moment; exactly one wins each id, the others are told it is in progress.
// Once the winners complete, a second stampede finds every id done.
func checkRace(ctx context.Context, ds []connect.Deduper) error {
	const goroutines, events = 64, 8
	ids := make([]string, events)
	for i := range ids {
		ids[i] = newID("evt")
	}
	stampede := func() ([events][4]int, []string, error) {
		var (
			mu      sync.Mutex
			counts  [events][4]int // by ClaimResult
			winners = make([]string, events)
			errs    []error
			wg      sync.WaitGroup
		)
		start := make(chan struct{})
		for g := range goroutines {
			for e := range events {
				wg.Add(1)
				go func() {
					defer wg.Done()
					owner := newID("own")
					<-start
					got, err := ds[g%len(ds)].Claim(ctx, ids[e], owner, longLease)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil:
						errs = append(errs, err)
					case got < connect.ClaimAcquired || got > connect.ClaimDone:
						errs = append(errs, fmt.Errorf("claim = %v", got))
					default:
						counts[e][got]++
						if got == connect.ClaimAcquired {
							winners[e] = owner
						}
					}
				}()
			}
		}
		close(start)
		wg.Wait()
		return counts, winners, errors.Join(errs...)
	}

	counts, winners, err := stampede()
	if err != nil {
		return fmt.Errorf("racing claims: %v", err)
	}
	for e, c := range counts {
		if c[connect.ClaimAcquired] != 1 || c[connect.ClaimInProgress] != goroutines-1 {
			return fmt.Errorf("event %d: %d acquired, %d in progress, %d done; want 1, %d, 0",
				e, c[connect.ClaimAcquired], c[connect.ClaimInProgress], c[connect.ClaimDone], goroutines-1)
		}
	}
	for e, id := range ids {
		if err := ds[e%len(ds)].Complete(ctx, id, winners[e]); err != nil {
			return fmt.Errorf("complete by the winner: %v", err)
		}
	}
	counts, _, err = stampede()
	if err != nil {
		return fmt.Errorf("racing claims of done events: %v", err)
	}
	for e, c := range counts {
		if c[connect.ClaimDone] != goroutines {
			return fmt.Errorf("done event %d: %d acquired, %d in progress, %d done; want all %d done",
				e, c[connect.ClaimAcquired], c[connect.ClaimInProgress], c[connect.ClaimDone], goroutines)
		}
	}
	return nil
}
