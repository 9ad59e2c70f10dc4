package pgdedupe_test

import (
	"context"
	"testing"
	"time"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/backendtest"
	"github.com/persona-connect/connect-go/internal/poll"
	"github.com/persona-connect/connect-go/pgdedupe"
)

func TestPurge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, nil)
	d, _ := newDeduper(t, pool, pgdedupe.WithRetention(time.Microsecond))
	backendtest.MustComplete(t, d, "evt_done", "a")
	backendtest.MustClaim(t, d, "evt_crashed", "a", time.Millisecond, connect.ClaimAcquired) // its holder never comes back
	backendtest.MustClaim(t, d, "evt_running", "a", time.Hour, connect.ClaimAcquired)
	var purged int64
	poll.Until(t, "Purge to take the done row and the expired one", func() bool {
		n, err := d.Purge(ctx)
		if err != nil {
			t.Fatal(err)
		}
		purged += n
		return purged >= 2
	})
	if purged != 2 {
		t.Errorf("purged %d rows, want 2", purged)
	}
	backendtest.MustClaim(t, d, "evt_running", "b", time.Hour, connect.ClaimInProgress) // a live lease stays
	backendtest.MustClaim(t, d, "evt_done", "b", time.Hour, connect.ClaimAcquired)      // forgotten
}

func TestPurgeKeepsDoneEventsWithinTheRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, nil)
	d, _ := newDeduper(t, pool) // 72 h
	backendtest.MustComplete(t, d, "evt_done", "a")
	if n, err := d.Purge(ctx); err != nil || n != 0 {
		t.Errorf("Purge = %d, %v; want 0", n, err)
	}
	backendtest.MustClaim(t, d, "evt_done", "b", time.Hour, connect.ClaimDone)
}
