package dedupetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	connect "github.com/persona-connect/connect-go"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The suite passes against MemoryDeduper, the reference implementation.
func TestMemoryDeduperPasses(t *testing.T) {
	t.Parallel()
	Run(t, func(t *testing.T, replicas int) []connect.Deduper {
		d := connect.NewMemoryDeduper(0)
		ds := make([]connect.Deduper, replicas)
		for i := range ds {
			ds[i] = d
		}
		return ds
	})
}

// defect is one way a Deduper can break the contract.
type defect int

const (
	sound             defect = iota
	noLease                  // a live lease does not stop a second Claim
	noExpiry                 // an expired lease is never taken over
	noOwnerOnRelease         // anyone may release
	noOwnerOnComplete        // anyone may complete
	forgetsDone              // Complete forgets the event instead of marking it done
	renewRefused             // the holder's own second Claim is refused
	racy                     // Claim reads, then writes, with the lock dropped in between
)

// flawed is a small Deduper with one chosen defect, to show that the suite catches it.
type flawed struct {
	defect defect
	mu     sync.Mutex
	state  map[string]*flawedEntry
}

type flawedEntry struct {
	owner string
	done  bool
	until time.Time
}

func (d *flawed) Claim(_ context.Context, id, owner string, lease time.Duration) (connect.ClaimResult, error) {
	if id == "" || owner == "" || lease <= 0 {
		return 0, fmt.Errorf("%w: bad argument", connect.ErrInvalidParams)
	}
	d.mu.Lock()
	e := d.state[id]
	if d.defect == racy {
		d.mu.Unlock()
		time.Sleep(time.Millisecond)
		d.mu.Lock()
	}
	defer d.mu.Unlock()
	now := time.Now()
	switch {
	case e != nil && e.done:
		return connect.ClaimDone, nil
	case e != nil && e.owner == owner && d.defect == renewRefused:
		return connect.ClaimInProgress, nil
	case e != nil && e.owner != owner && d.defect != noLease && (now.Before(e.until) || d.defect == noExpiry):
		return connect.ClaimInProgress, nil
	}
	d.state[id] = &flawedEntry{owner: owner, until: now.Add(lease)}
	return connect.ClaimAcquired, nil
}

func (d *flawed) Complete(_ context.Context, id, owner string) error {
	return d.withHeld(id, owner, noOwnerOnComplete, func(e *flawedEntry) error {
		if d.defect == forgetsDone {
			delete(d.state, id)
		} else {
			e.done = true
		}
		return nil
	})
}

func (d *flawed) Release(_ context.Context, id, owner string) error {
	return d.withHeld(id, owner, noOwnerOnRelease, func(e *flawedEntry) error {
		if e.done {
			return connect.ErrClaimNotHeld
		}
		delete(d.state, id)
		return nil
	})
}

// withHeld checks the arguments of Complete and Release and runs act, under the lock,
// on id's entry if owner holds it (or anyone does, when the defect is ownerless);
// otherwise it returns the error the contract names.
func (d *flawed) withHeld(id, owner string, ownerless defect, act func(*flawedEntry) error) error {
	if id == "" || owner == "" {
		return fmt.Errorf("%w: bad argument", connect.ErrInvalidParams)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	e := d.state[id]
	if e == nil || (e.owner != owner && d.defect != ownerless) {
		return connect.ErrClaimNotHeld
	}
	return act(e)
}

// TestSuiteCatchesDefects runs every check against each flawed Deduper: the sound one
// passes them all, and each defect fails the check written for it.
func TestSuiteCatchesDefects(t *testing.T) {
	t.Parallel()
	s := suite{expiryWait: time.Second}
	cases := []struct {
		defect defect
		caught string // a check that must fail
	}{
		{noLease, "ClaimAcquiredThenInProgressDuringLiveLease"},
		{noLease, "Race64GoroutinesOneAcquired"},
		{noExpiry, "ExpiredLeaseIsTakenOver"},
		{noOwnerOnRelease, "StrangerCannotCompleteOrRelease"},
		{noOwnerOnRelease, "StaleOwnerRefusedAfterTakeover"},
		{noOwnerOnComplete, "StaleOwnerRefusedAfterTakeover"},
		{forgetsDone, "DoneAfterComplete"},
		{renewRefused, "SameOwnerClaimRenews"},
		{racy, "Race64GoroutinesOneAcquired"},
	}
	run := func(d defect, name string) error {
		for _, c := range s.checks() {
			if c.name != name {
				continue
			}
			f := &flawed{defect: d, state: map[string]*flawedEntry{}}
			ds := make([]connect.Deduper, c.replicas)
			for i := range ds {
				ds[i] = f
			}
			return c.run(context.Background(), ds)
		}
		t.Fatalf("no check named %s", name)
		return nil
	}
	for _, c := range s.checks() {
		if err := run(sound, c.name); err != nil {
			t.Errorf("sound deduper fails %s: %v", c.name, err)
		}
	}
	for _, tc := range cases {
		if err := run(tc.defect, tc.caught); err == nil {
			t.Errorf("defect %d passes %s", tc.defect, tc.caught)
		} else {
			t.Logf("defect %d caught by %s: %v", tc.defect, tc.caught, err)
		}
	}
}
