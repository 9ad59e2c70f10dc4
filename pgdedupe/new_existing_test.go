package pgdedupe_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/pgdedupe"
)

// An application whose database role may read and write the table but not create
// anything (its schema was migrated by another role, as production databases often
// are) still starts: New finds the table and its index and creates nothing.
// CREATE TABLE IF NOT EXISTS alone needs CREATE on the schema even when the table
// exists, and CREATE INDEX IF NOT EXISTS needs to own the table.
func TestNewWithoutCreatePrivilege(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	admin := newPool(t, nil)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	suffix := hex.EncodeToString(b[:])
	schema, role := "dedupetest_s_"+suffix, "dedupetest_r_"+suffix
	qs, qr := pgx.Identifier{schema}.Sanitize(), pgx.Identifier{role}.Sanitize()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, stmt := range []string{"DROP SCHEMA IF EXISTS " + qs + " CASCADE", "DROP ROLE IF EXISTS " + qr} {
			if _, err := admin.Exec(ctx, stmt); err != nil {
				t.Errorf("%s: %v", stmt, err)
			}
		}
	})
	table := schema + ".events"
	for _, stmt := range []string{"CREATE SCHEMA " + qs, "CREATE ROLE " + qr + " LOGIN"} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if _, err := pgdedupe.New(ctx, admin, pgdedupe.WithTable(table)); err != nil { // the migration
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"GRANT USAGE ON SCHEMA " + qs + " TO " + qr,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON " + qs + ".events TO " + qr,
	} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	app := newPool(t, func(c *pgxpool.Config) { c.ConnConfig.User = role })
	d, err := pgdedupe.New(ctx, app, pgdedupe.WithTable(table))
	if err != nil {
		t.Fatalf("New as a role that may not create: %v", err)
	}
	if got, err := d.Claim(ctx, "evt_1", "a", time.Minute); err != nil || got != connect.ClaimAcquired {
		t.Fatalf("Claim = %v, %v; want acquired", got, err)
	}
	if err := d.Complete(ctx, "evt_1", "a"); err != nil {
		t.Fatal(err)
	}
}

// A replica that starts while another holds a transaction open on the table (a
// function between CompleteTx and Commit) does not wait for it: CREATE INDEX, even
// IF NOT EXISTS, takes a SHARE lock first, which waits for every writer and makes
// every Claim queued behind it wait too.
func TestNewDoesNotWaitForOpenTransactions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, nil)
	d, table := newDeduper(t, pool)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := d.CompleteTx(ctx, tx, "evt_open"); err != nil {
		t.Fatal(err)
	}
	start, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := pgdedupe.New(start, newPool(t, nil), pgdedupe.WithTable(table)); err != nil {
		t.Fatalf("New while a transaction on the table is open: %v", err)
	}
}
