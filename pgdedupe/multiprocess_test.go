package pgdedupe_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/backendtest"
	"github.com/persona-connect/connect-go/pgdedupe"
)

// The variables, besides backendtest's, that tell a replica of TestMultiProcess where
// its store is.
const (
	replicaTableEnv   = "PGDEDUPE_TEST_TABLE"
	replicaEffectsEnv = "PGDEDUPE_TEST_EFFECTS"
	replicaLease      = 2 * time.Second // short, so the killed replica's events are taken over soon
)

// runReplica is one replica of a webhook endpoint: a real http.Server with a
// WebhookHandler on pgdedupe, whose function writes an effects row and marks the event
// done in the same transaction. It serves until its standard input closes, then checks
// that it leaks no goroutine.
func runReplica(r *backendtest.Replica) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(os.Stderr, "replica: "+format+"\n", args...)
		return 1
	}
	ctx := context.Background()
	effects := pgx.Identifier{os.Getenv(replicaEffectsEnv)}.Sanitize()
	pool, err := pgxpool.New(ctx, os.Getenv(urlEnv))
	if err != nil {
		return fail("pool: %v", err)
	}
	d, err := pgdedupe.New(ctx, pool, pgdedupe.WithTable(os.Getenv(replicaTableEnv)))
	if err != nil {
		return fail("New: %v", err)
	}
	v, err := connect.NewVerifier([]string{r.Secret})
	if err != nil {
		return fail("verifier: %v", err)
	}
	h := connect.NewWebhookHandler(v, connect.WithDeduper(d), connect.WithLease(replicaLease))
	h.On(connect.EventInquiryCompleted, func(ctx context.Context, ev *connect.Event) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO "+effects+" (event_id, replica) VALUES ($1, $2)", ev.ID, r.N); err != nil {
				return err
			}
			// The effect is written, not committed: the victim is killed here.
			r.HalfWay(ev.ID)
			// Some work inside the transaction, so that the kill finds some in flight.
			if _, err := tx.Exec(ctx, "SELECT pg_sleep(0.02)"); err != nil {
				return err
			}
			return d.CompleteTx(ctx, tx, ev.ID)
		})
	})
	if err := r.Serve(h); err != nil {
		return fail("%v", err)
	}
	pool.Close()
	if err := goleak.Find(); err != nil {
		return fail("leaked goroutines: %v", err)
	}
	return 0
}

// TestMultiProcess is the end-to-end proof: three replica processes behind a
// round-robin proxy, every event delivered several times at once and redelivered until
// it gets a 2xx, one replica killed with SIGKILL mid-run. Afterwards the effects table,
// written in the same transaction as CompleteTx, holds exactly one row per event.
func TestMultiProcess(t *testing.T) {
	t.Parallel()
	const (
		replicas = 3
		events   = 45
	)
	ctx := context.Background()
	pool := newPool(t, nil)
	table := uniqueTable(t, pool)
	if _, err := pgdedupe.New(ctx, pool, pgdedupe.WithTable(table)); err != nil {
		t.Fatal(err)
	}
	effects := uniqueTable(t, pool)
	if _, err := pool.Exec(ctx, "CREATE TABLE "+effects+" (id bigserial PRIMARY KEY, event_id text NOT NULL, replica int NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	res := backendtest.MultiProcess{
		Replicas: replicas, Events: events, Copies: 3, InFlight: 6,
		HangAt: 3, // half-way through its third run
		Env:    []string{replicaTableEnv + "=" + table, replicaEffectsEnv + "=" + effects},
	}.Run(t)
	ids := res.IDs

	rows, err := pool.Query(ctx, "SELECT event_id, count(*) FROM "+effects+" GROUP BY event_id")
	if err != nil {
		t.Fatal(err)
	}
	perEvent := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		perEvent[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var lost, twice []string
	for _, id := range ids {
		switch n := perEvent[id]; {
		case n == 0:
			lost = append(lost, id)
		case n > 1:
			twice = append(twice, fmt.Sprintf("%s x%d", id, n))
		}
	}
	if len(lost) > 0 || len(twice) > 0 || len(perEvent) != events {
		t.Errorf("effects: %d events, lost %v, more than once %v", len(perEvent), lost, twice)
	}
	var notDone int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()+" WHERE state <> 'done'").Scan(&notDone); err != nil || notDone != 0 {
		t.Errorf("%d events not done (%v), want 0", notDone, err)
	}
	var byReplica [replicas]int
	if err := pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE replica = 0), count(*) FILTER (WHERE replica = 1), count(*) FILTER (WHERE replica = 2) FROM "+effects).
		Scan(&byReplica[0], &byReplica[1], &byReplica[2]); err != nil {
		t.Fatal(err)
	}
	// The event cut off half-way was taken over once its lease ended, and ran once,
	// on another replica: the killed transaction's effect rolled back.
	var by int
	if err := pool.QueryRow(ctx, "SELECT replica FROM "+effects+" WHERE event_id = $1", res.Hung).Scan(&by); err != nil || by == 0 {
		t.Errorf("the event killed half-way (%s) ran on replica %d (%v), want another", res.Hung, by, err)
	}
	t.Logf("killed replica 0 half-way through %s; %d events; answers %s; effects by replica %v", res.Hung, events, res.Summary, byReplica)
}
