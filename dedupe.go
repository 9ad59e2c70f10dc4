package connect

import (
	"context"
	"sync"
)

// Deduper remembers which events a WebhookHandler has taken on. Persona delivers at
// least once, retries for about two days, and may deliver the same event twice at the
// same moment, so a handler must claim an event before acting on it.
//
// Implementations must be safe for concurrent use. One that several server instances
// share (a SET NX with a TTL of a few days in Redis, a unique row in SQL) makes
// deduplication hold across instances; the default, MemoryDeduper, holds per process.
type Deduper interface {
	// Claim reports whether eventID is new and reserves it, so a concurrent duplicate
	// delivery does not run twice; Release gives the claim back when the callback failed.
	Claim(ctx context.Context, eventID string) (bool, error)
	Release(ctx context.Context, eventID string) error
}

// DefaultDedupeCapacity is how many event ids NewMemoryDeduper remembers when asked
// for zero or fewer.
const DefaultDedupeCapacity = 10_000

// MemoryDeduper is a bounded in-process Deduper: it remembers the last capacity
// claimed event ids and forgets the oldest first. A claim is held from Claim until
// Release or eviction, so a duplicate arriving while the first delivery is still
// running is refused too. It starts no goroutine and never blocks on I/O.
//
// Its limit: an event claimed more than capacity claims ago may run again if Persona
// redelivers it, and a restart forgets everything. Callbacks should stay idempotent.
type MemoryDeduper struct {
	mu       sync.Mutex
	capacity int
	ring     []string       // claimed ids in claim order; "" is a released slot
	next     int            // once the ring is full, the slot the next claim takes
	slot     map[string]int // id -> its index in ring
}

// NewMemoryDeduper returns a MemoryDeduper remembering up to capacity event ids
// (DefaultDedupeCapacity when capacity <= 0). Memory is taken as ids arrive.
func NewMemoryDeduper(capacity int) *MemoryDeduper {
	if capacity <= 0 {
		capacity = DefaultDedupeCapacity
	}
	return &MemoryDeduper{capacity: capacity, slot: make(map[string]int)}
}

// Claim reports whether eventID has not been claimed (or has been released since) and
// claims it. It never returns an error.
func (d *MemoryDeduper) Claim(_ context.Context, eventID string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.slot[eventID]; ok {
		return false, nil
	}
	if len(d.ring) < d.capacity {
		// Still filling: the ring grows with the ids, so a large capacity costs
		// nothing until it is used.
		d.slot[eventID] = len(d.ring)
		d.ring = append(d.ring, eventID)
		return true, nil
	}
	if old := d.ring[d.next]; old != "" {
		delete(d.slot, old)
	}
	d.ring[d.next] = eventID
	d.slot[eventID] = d.next
	d.next = (d.next + 1) % len(d.ring)
	return true, nil
}

// Release forgets a claim so the next delivery of eventID runs. Releasing an id that
// is not claimed does nothing. It never returns an error.
func (d *MemoryDeduper) Release(_ context.Context, eventID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if i, ok := d.slot[eventID]; ok {
		delete(d.slot, eventID)
		d.ring[i] = "" // the slot stays in the rotation; reusing it early would reorder eviction
	}
	return nil
}
