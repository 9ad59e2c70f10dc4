package pgdedupe_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/persona-connect/connect-go"
)

// effectsTable makes a table for a function's writes. It has no unique key on
// purpose: a duplicate effect must show up as a second row, not as an error.
func effectsTable(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	name := uniqueTable(t, pool)
	if _, err := pool.Exec(context.Background(), "CREATE TABLE "+name+" (id bigserial PRIMARY KEY, event_id text NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return name
}

func countEffects(t testing.TB, pool *pgxpool.Pool, table, eventID string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE event_id = $1", eventID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustClaim(t testing.TB, d connect.Deduper, id, owner string, lease time.Duration, want connect.ClaimResult) {
	t.Helper()
	got, err := d.Claim(context.Background(), id, owner, lease)
	if err != nil || got != want {
		t.Fatalf("Claim(%s, %s) = %v, %v; want %v", id, owner, got, err, want)
	}
}

func TestCompleteTxCommitted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, nil)
	d, _ := newDeduper(t, pool)
	effects := effectsTable(t, pool)
	mustClaim(t, d, "evt_commit", "a", time.Minute, connect.ClaimAcquired)
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO "+effects+" (event_id) VALUES ($1)", "evt_commit"); err != nil {
			return err
		}
		return d.CompleteTx(ctx, tx, "evt_commit")
	})
	if err != nil {
		t.Fatal(err)
	}
	mustClaim(t, d, "evt_commit", "b", time.Minute, connect.ClaimDone)
	if err := d.Complete(ctx, "evt_commit", "a"); err != nil {
		t.Errorf("the holder's Complete after its CompleteTx: %v, want nil", err)
	}
	// A second transaction for the same event (another delivery, whose lease outlived
	// the first) is refused, and rolls back its writes.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO "+effects+" (event_id) VALUES ($1)", "evt_commit"); err != nil {
			return err
		}
		return d.CompleteTx(ctx, tx, "evt_commit")
	})
	if !errors.Is(err, connect.ErrClaimNotHeld) {
		t.Errorf("second CompleteTx: %v, want ErrClaimNotHeld", err)
	}
	if n := countEffects(t, pool, effects, "evt_commit"); n != 1 {
		t.Errorf("%d effects, want 1", n)
	}
}

func TestCompleteTxRolledBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, nil)
	d, _ := newDeduper(t, pool)
	effects := effectsTable(t, pool)
	mustClaim(t, d, "evt_rollback", "a", time.Minute, connect.ClaimAcquired)
	errLater := errors.New("a later write failed")
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO "+effects+" (event_id) VALUES ($1)", "evt_rollback"); err != nil {
			return err
		}
		if err := d.CompleteTx(ctx, tx, "evt_rollback"); err != nil {
			return err
		}
		return errLater
	})
	if !errors.Is(err, errLater) {
		t.Fatal(err)
	}
	// Neither the write nor "done" happened: the claim is still a's, running.
	mustClaim(t, d, "evt_rollback", "b", time.Minute, connect.ClaimInProgress)
	if n := countEffects(t, pool, effects, "evt_rollback"); n != 0 {
		t.Errorf("%d effects after a rollback, want 0", n)
	}
	if err := d.Release(ctx, "evt_rollback", "a"); err != nil {
		t.Fatal(err)
	}
	mustClaim(t, d, "evt_rollback", "b", time.Minute, connect.ClaimAcquired)
}

// A transaction that has marked the event done holds off a Claim that would take an
// expired lease over, until it ends: the Claim then does not take it over (it read
// the row before it waited, so it answers in progress: safe, since a 409 is retried),
// and the next Claim finds it done.
func TestCompleteTxFencesATakeover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, nil)
	d, table := newDeduper(t, pool)
	mustClaim(t, d, "evt_fence", "a", 50*time.Millisecond, connect.ClaimAcquired)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := d.CompleteTx(ctx, tx, "evt_fence"); err != nil {
		t.Fatal(err)
	}
	// Wait, on the database's clock, until a's lease has ended.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var expired bool
		if err := pool.QueryRow(ctx, "SELECT lease_until <= now() FROM "+table+" WHERE event_id = 'evt_fence'").Scan(&expired); err != nil {
			t.Fatal(err)
		}
		if expired {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lease did not end")
		}
	}
	got := make(chan connect.ClaimResult, 1)
	go func() {
		r, err := d.Claim(ctx, "evt_fence", "b", time.Minute)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	// Commit only once the Claim is waiting for the transaction's row lock.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var waiting int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%"+table+"%'").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the Claim never waited for the completing transaction")
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r != connect.ClaimInProgress {
		t.Errorf("Claim during the completing transaction = %v, want in progress (never acquired)", r)
	}
	mustClaim(t, d, "evt_fence", "c", time.Minute, connect.ClaimDone)
}

func TestCompleteTxRefusesBadArguments(t *testing.T) {
	t.Parallel()
	pool := newPool(t, nil)
	d, _ := newDeduper(t, pool)
	if err := d.CompleteTx(context.Background(), nil, "evt_1"); !errors.Is(err, connect.ErrInvalidParams) {
		t.Errorf("nil tx: %v", err)
	}
	tx, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if err := d.CompleteTx(context.Background(), tx, ""); !errors.Is(err, connect.ErrInvalidParams) {
		t.Errorf("empty id: %v", err)
	}
}
