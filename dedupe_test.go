package connect

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeClock is a time source that only moves when told.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClockedMemoryDeduper(capacity int) (*MemoryDeduper, *fakeClock) {
	clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	d := NewMemoryDeduper(capacity)
	d.now = clock.now
	return d, clock
}

func TestMemoryDeduperIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, clock := newClockedMemoryDeduper(3)
	claim := func(id, owner string, lease time.Duration) (ClaimResult, error) {
		t.Helper()
		return d.Claim(ctx, id, owner, lease)
	}
	mustClaim := func(id, owner string, lease time.Duration, want ClaimResult) {
		t.Helper()
		got, err := claim(id, owner, lease)
		if err != nil || got != want {
			t.Fatalf("Claim(%s, %s) = %v, %v; want %v", id, owner, got, err, want)
		}
	}
	mustClaim("a", "o1", time.Minute, ClaimAcquired)
	mustClaim("b", "o2", time.Minute, ClaimAcquired)
	mustClaim("c", "o3", time.Minute, ClaimAcquired)
	// Full of live leases: a new id is refused rather than a running event forgotten.
	if _, err := claim("d", "o4", time.Minute); err == nil || errors.Is(err, ErrInvalidParams) {
		t.Fatalf("Claim when full of live leases = %v, want a capacity error", err)
	}
	// Done events go first, oldest completion first: b, then a.
	if err := d.Complete(ctx, "b", "o2"); err != nil {
		t.Fatal(err)
	}
	if err := d.Complete(ctx, "a", "o1"); err != nil {
		t.Fatal(err)
	}
	mustClaim("d", "o4", time.Minute, ClaimAcquired) // forgets b, the oldest done
	mustClaim("a", "o5", time.Minute, ClaimDone)     // a is still remembered
	mustClaim("b", "o6", time.Minute, ClaimAcquired) // b was forgotten, so it may run again; forgets a
	if _, err := claim("a", "o7", time.Minute); err == nil {
		t.Fatal("Claim when full of live leases c, d, b succeeded")
	}
	// Expired leases go before done events: their next delivery would take them over.
	clock.advance(2 * time.Minute)
	mustClaim("a", "o8", time.Hour, ClaimAcquired)  // forgets c, the oldest expired lease
	mustClaim("d", "o9", time.Hour, ClaimAcquired)  // takes d over; d moves to the back
	mustClaim("e", "o10", time.Hour, ClaimAcquired) // forgets b, expired
	mustClaim("d", "o11", time.Hour, ClaimInProgress)
	if n := len(d.entries); n != 3 || d.leased.Len()+d.done.Len() != n {
		t.Errorf("remembers %d ids (%d leased, %d done), want 3 in all", n, d.leased.Len(), d.done.Len())
	}
}

// A claim whose lease expired behind one still live makes room too: Claim fails only
// when every slot holds a live lease.
func TestMemoryDeduperFindsAnExpiredLeaseBehindALiveOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, clock := newClockedMemoryDeduper(2)
	for _, c := range []struct {
		id    string
		lease time.Duration
	}{{"e1", time.Hour}, {"e2", time.Millisecond}} {
		if got, err := d.Claim(ctx, c.id, "o-"+c.id, c.lease); err != nil || got != ClaimAcquired {
			t.Fatalf("Claim(%s) = %v, %v", c.id, got, err)
		}
	}
	clock.advance(time.Second)
	if got, err := d.Claim(ctx, "e3", "o-e3", time.Hour); err != nil || got != ClaimAcquired {
		t.Fatalf("Claim(e3) with e2's lease expired = %v, %v; want it to take e2's slot", got, err)
	}
	if got, _ := d.Claim(ctx, "e1", "o-other", time.Hour); got != ClaimInProgress {
		t.Errorf("e1, whose lease is live, was forgotten: Claim = %v", got)
	}
	if _, err := d.Claim(ctx, "e4", "o-e4", time.Hour); err == nil {
		t.Error("Claim(e4) succeeded with every slot a live lease")
	}
}

func TestMemoryDeduperForgetsDoneEventsAfterTheRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, clock := newClockedMemoryDeduper(10)
	if got, err := d.Claim(ctx, "evt_1", "o1", time.Minute); err != nil || got != ClaimAcquired {
		t.Fatalf("Claim = %v, %v", got, err)
	}
	if err := d.Complete(ctx, "evt_1", "o1"); err != nil {
		t.Fatal(err)
	}
	clock.advance(DefaultDedupeRetention - time.Second)
	if got, _ := d.Claim(ctx, "evt_1", "o2", time.Minute); got != ClaimDone {
		t.Errorf("Claim just inside the retention = %v, want done", got)
	}
	clock.advance(time.Second)
	if got, _ := d.Claim(ctx, "evt_1", "o3", time.Minute); got != ClaimAcquired {
		t.Errorf("Claim once the retention has passed = %v, want acquired", got)
	}
	if d.done.Len() != 0 || d.leased.Len() != 1 {
		t.Errorf("%d done and %d leased entries, want 0 and 1", d.done.Len(), d.leased.Len())
	}
}

func TestMemoryDeduperTakesMemoryAsIDsArrive(t *testing.T) {
	t.Parallel()
	d := NewMemoryDeduper(1 << 22)
	if len(d.entries) != 0 || d.leased.Len() != 0 {
		t.Error("a new MemoryDeduper holds entries")
	}
	if got := NewMemoryDeduper(0).capacity; got != DefaultDedupeCapacity {
		t.Errorf("default capacity = %d, want %d", got, DefaultDedupeCapacity)
	}
}

func TestClaimResultString(t *testing.T) {
	t.Parallel()
	for r, want := range map[ClaimResult]string{ClaimAcquired: "acquired", ClaimInProgress: "in progress", ClaimDone: "done", 0: "ClaimResult(0)", 9: "ClaimResult(9)"} {
		if got := r.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(r), got, want)
		}
	}
}
