package connect

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// ClaimResult is what Deduper.Claim found: whether this delivery runs the event.
type ClaimResult int

// The three answers of Deduper.Claim.
const (
	ClaimAcquired   ClaimResult = iota + 1 // this delivery runs the event
	ClaimInProgress                        // another delivery holds a live lease: answer 409
	ClaimDone                              // handled before: answer 200, run nothing
)

// String names the result: "acquired", "in progress" or "done".
func (r ClaimResult) String() string {
	switch r {
	case ClaimAcquired:
		return "acquired"
	case ClaimInProgress:
		return "in progress"
	case ClaimDone:
		return "done"
	}
	return "ClaimResult(" + strconv.Itoa(int(r)) + ")"
}

// Deduper decides which delivery of an event runs it. Persona delivers at least once,
// retries for about two days, and may deliver the same event to several replicas at the
// same moment; a WebhookHandler claims every event through its Deduper before running
// anything, and answers from the claim.
//
// A claim is a lease: it belongs to one owner (the handler makes a fresh random owner per
// delivery) until it ends, so a replica that crashed or hung while running an event
// blocks its redeliveries only until then. Implementations must be safe for concurrent
// use, and atomic: of any number of concurrent Claims of one id, at most one is
// ClaimAcquired. MemoryDeduper holds per process; the nested modules pgdedupe
// (PostgreSQL) and redisdedupe (Redis) hold across replicas. The package
// internal/dedupetest is the contract every implementation passes.
//
// Complete and Release act only for the owner that holds the claim: a holder whose
// lease ended and was taken over by another delivery gets an error wrapping
// ErrClaimNotHeld and changes nothing, since the new holder's run decides.
type Deduper interface {
	// Claim takes eventID for owner until lease ends, unless it is done or another
	// owner's lease is still live. An expired lease (its holder crashed or hung) is taken over.
	// A Claim by the owner that holds the live lease is ClaimAcquired again and renews
	// it, so a Claim retried after a lost answer is harmless. An empty eventID or owner,
	// or a lease <= 0, is an error wrapping ErrInvalidParams.
	Claim(ctx context.Context, eventID, owner string, lease time.Duration) (ClaimResult, error)
	// Complete marks eventID done, kept for the deduper's retention (default 72 h).
	// It succeeds when owner holds the claim, and again when owner completed it
	// before; otherwise the error wraps ErrClaimNotHeld. Past the lease end, a claim
	// nobody took over still counts as held by MemoryDeduper and pgdedupe; redisdedupe,
	// whose leases vanish with their key, refuses it.
	Complete(ctx context.Context, eventID, owner string) error
	// Release gives the claim back, if owner still holds it, so the next delivery runs it.
	// Otherwise (taken over, released, done, or never claimed) the error wraps
	// ErrClaimNotHeld and nothing changes.
	Release(ctx context.Context, eventID, owner string) error
}

// ErrClaimNotHeld is wrapped by Deduper.Complete and Deduper.Release when the owner
// does not hold the event's claim: its lease ended and another delivery took the event
// over, it was released, the event is done, or it was never claimed.
var ErrClaimNotHeld = errors.New("connect: event claim not held by this owner")

// ErrEventInProgress is returned by WebhookHandler.Process (and wrapped by Replay) when
// another delivery holds a live lease on the event: it runs there now, and may still
// fail and be released, so try again once the lease has ended.
var ErrEventInProgress = errors.New("connect: event is being handled by another delivery")

// DefaultDedupeCapacity is how many event ids NewMemoryDeduper remembers when asked
// for zero or fewer.
const DefaultDedupeCapacity = 10_000

// DefaultDedupeRetention is how long a Deduper remembers a done event unless told
// otherwise: longer than Persona's retries (about 51 hours), so no redelivery of a
// handled event runs it again.
const DefaultDedupeRetention = 72 * time.Hour

// checkClaimArgs refuses what no Deduper can store or lease.
func checkClaimArgs(eventID, owner string) error {
	if eventID == "" {
		return invalidParam("eventID", "must not be empty")
	}
	if owner == "" {
		return invalidParam("owner", "must not be empty")
	}
	return nil
}

// MemoryDeduper is a bounded in-process Deduper with the same lease semantics as the
// shared ones. It remembers up to capacity event ids; to take a new id when full it
// forgets, first, the oldest claim if its lease has expired (its next delivery would
// take it over anyway), then the event completed longest ago, then any other claim
// whose lease has expired; only when every slot holds a live lease does Claim fail (the
// handler answers 500 and Persona retries) rather than forget a running event. Done
// events are also forgotten after DefaultDedupeRetention. It starts no goroutine and
// never blocks on I/O.
//
// Its limit: it holds per process. Replicas behind a load balancer need a Deduper they
// share (pgdedupe, redisdedupe), and a restart forgets everything.
type MemoryDeduper struct {
	now func() time.Time // time.Now; tests move it

	mu       sync.Mutex
	capacity int
	entries  map[string]*memoryEntry
	leased   list.List // *memoryEntry being run, oldest claim first
	done     list.List // *memoryEntry done, oldest completion first
}

// memoryEntry is one remembered event.
type memoryEntry struct {
	id    string
	owner string
	done  bool
	until time.Time // the lease end while running; when it is forgotten once done
	elem  *list.Element
}

// NewMemoryDeduper returns a MemoryDeduper remembering up to capacity event ids
// (DefaultDedupeCapacity when capacity <= 0). Memory is taken as ids arrive.
func NewMemoryDeduper(capacity int) *MemoryDeduper {
	if capacity <= 0 {
		capacity = DefaultDedupeCapacity
	}
	return &MemoryDeduper{now: time.Now, capacity: capacity, entries: make(map[string]*memoryEntry)}
}

// Claim implements Deduper. Its only error, besides bad arguments, is a full memory of
// live leases.
func (d *MemoryDeduper) Claim(_ context.Context, eventID, owner string, lease time.Duration) (ClaimResult, error) {
	if err := checkClaimArgs(eventID, owner); err != nil {
		return 0, err
	}
	if lease <= 0 {
		return 0, invalidParam("lease", "must be positive")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	e := d.entries[eventID]
	if e != nil && e.done && !now.Before(e.until) {
		d.forget(e) // past retention
		e = nil
	}
	switch {
	case e == nil:
		if len(d.entries) >= d.capacity && !d.evict(now) {
			return 0, fmt.Errorf("connect: memory deduper holds %d live claims, its capacity: event %s not claimed", d.capacity, eventID)
		}
		e = &memoryEntry{id: eventID, owner: owner, until: now.Add(lease)}
		e.elem = d.leased.PushBack(e)
		d.entries[eventID] = e
		return ClaimAcquired, nil
	case e.done:
		return ClaimDone, nil
	case e.owner == owner || !now.Before(e.until):
		// A renewal by the holder, or a takeover of an expired lease: either way the
		// claim is new from now, so it goes to the back of the eviction order.
		e.owner, e.until = owner, now.Add(lease)
		d.leased.MoveToBack(e.elem)
		return ClaimAcquired, nil
	default:
		return ClaimInProgress, nil
	}
}

// Complete implements Deduper.
func (d *MemoryDeduper) Complete(_ context.Context, eventID, owner string) error {
	return d.settle("complete", eventID, owner, func(e *memoryEntry) bool {
		if !e.done { // done before: completing again changes nothing
			d.leased.Remove(e.elem)
			e.done, e.until = true, d.now().Add(DefaultDedupeRetention)
			e.elem = d.done.PushBack(e)
		}
		return true
	})
}

// Release implements Deduper.
func (d *MemoryDeduper) Release(_ context.Context, eventID, owner string) error {
	return d.settle("release", eventID, owner, func(e *memoryEntry) bool {
		if e.done {
			return false // a done event has no claim left to give back
		}
		d.forget(e)
		return true
	})
}

// settle checks the arguments, then runs fn, with d locked, on owner's entry for
// eventID. When there is none, or fn reports that it holds no claim fn can settle, the
// error wraps ErrClaimNotHeld and names op.
func (d *MemoryDeduper) settle(op, eventID, owner string, fn func(*memoryEntry) (held bool)) error {
	if err := checkClaimArgs(eventID, owner); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.entries[eventID]; e != nil && e.owner == owner && fn(e) {
		return nil
	}
	return wrapError(op+" event "+eventID, ErrClaimNotHeld)
}

// evict forgets one entry to make room: the oldest claim if its lease has expired,
// else the oldest done event, else any claim whose lease has expired; false when every
// entry is a live lease. The oldest claim is the one most likely expired, so looking at
// it alone keeps eviction O(1); a later claim with a shorter lease may have expired
// first, and the walk over every claim, on the path that would otherwise refuse, finds
// it.
func (d *MemoryDeduper) evict(now time.Time) bool {
	if front := d.leased.Front(); front != nil {
		if e := front.Value.(*memoryEntry); !now.Before(e.until) {
			d.forget(e)
			return true
		}
	}
	if front := d.done.Front(); front != nil {
		d.forget(front.Value.(*memoryEntry))
		return true
	}
	for el := d.leased.Front(); el != nil; el = el.Next() {
		if e := el.Value.(*memoryEntry); !now.Before(e.until) {
			d.forget(e)
			return true
		}
	}
	return false
}

func (d *MemoryDeduper) forget(e *memoryEntry) {
	if e.done {
		d.done.Remove(e.elem)
	} else {
		d.leased.Remove(e.elem)
	}
	delete(d.entries, e.id)
}
