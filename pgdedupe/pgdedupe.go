package pgdedupe

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	connect "github.com/persona-connect/connect-go"
)

// DefaultTable is the table New uses unless WithTable names another.
const DefaultTable = "connect_webhook_events"

// Deduper is a connect.Deduper on one PostgreSQL table, shared by every replica that
// uses the same database and table. It is safe for concurrent use.
type Deduper struct {
	pool      *pgxpool.Pool
	retention time.Duration
	q         queries
}

// config is what the Options set.
type config struct {
	table     string
	retention time.Duration
}

// Option configures New.
type Option func(*config)

// WithTable names the table (default "connect_webhook_events"), optionally with its
// schema ("app.webhook_events"). Each part is a letter or underscore followed by up to
// 49 letters, digits or underscores; New refuses anything else with an error wrapping
// connect.ErrInvalidParams. The name is quoted, so it is case-sensitive.
func WithTable(name string) Option {
	return func(c *config) { c.table = name }
}

// WithRetention sets how long Purge keeps done events (default 72 h, beyond Persona's
// retries of about 51 hours). New refuses a retention <= 0.
func WithRetention(d time.Duration) Option {
	return func(c *config) { c.retention = d }
}

// tablePart is one part of a table name: short enough that the index name derived
// from it stays within PostgreSQL's 63 bytes.
var tablePart = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,49}$`)

// lockClass is the first key of the advisory lock New takes while creating the table:
// "conn" in ASCII, so that it is recognisable in pg_locks.
const lockClass = 0x636f6e6e

// New returns a Deduper on pool, creating its table and index if missing (a role
// without the privilege to create them may use them once they exist). Many
// processes may call it at once: the creation runs under a transaction-scoped advisory
// lock, since CREATE TABLE IF NOT EXISTS alone can still fail on a concurrent creation.
// A nil pool or a bad option is an error wrapping connect.ErrInvalidParams.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Deduper, error) {
	cfg := config{table: DefaultTable, retention: connect.DefaultDedupeRetention}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if pool == nil {
		return nil, fmt.Errorf("%w: pgdedupe: pool must not be nil", connect.ErrInvalidParams)
	}
	if cfg.retention <= 0 {
		return nil, fmt.Errorf("%w: pgdedupe: WithRetention must be positive", connect.ErrInvalidParams)
	}
	parts := strings.Split(cfg.table, ".")
	if len(parts) > 2 {
		return nil, fmt.Errorf("%w: pgdedupe: WithTable %q must be a table or schema.table", connect.ErrInvalidParams, cfg.table)
	}
	for _, p := range parts {
		if !tablePart.MatchString(p) {
			return nil, fmt.Errorf("%w: pgdedupe: WithTable %q: each part must be a letter or underscore and up to 49 letters, digits or underscores", connect.ErrInvalidParams, cfg.table)
		}
	}
	d := &Deduper{pool: pool, retention: cfg.retention, q: newQueries(parts)}
	if err := d.createTable(ctx, cfg.table); err != nil {
		return nil, err
	}
	return d, nil
}

// createTable creates the table and its index unless both are there already: only then
// does it take the lock and send DDL, so that a role that may use the table but not
// create it (its schema migrated by another) can still call New.
func (d *Deduper) createTable(ctx context.Context, name string) error {
	var exists bool
	if err := d.pool.QueryRow(ctx, d.q.exists, d.q.table, d.q.index).Scan(&exists); err != nil {
		return fmt.Errorf("connect: pgdedupe: look for table %s: %w", name, err)
	}
	if exists {
		return nil
	}
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", lockClass, name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, d.q.createTable); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, d.q.createIndex)
		return err
	})
	if err != nil {
		return fmt.Errorf("connect: pgdedupe: create table %s: %w", name, err)
	}
	return nil
}

// Claim implements connect.Deduper in one statement: an insert that, on conflict,
// takes the row over only when its lease has expired (or belongs to owner), and reads
// back which of the three answers it came to. The lease runs on the database's clock,
// so replicas whose clocks disagree still agree on when it ends.
func (d *Deduper) Claim(ctx context.Context, eventID, owner string, lease time.Duration) (connect.ClaimResult, error) {
	if err := checkArgs(eventID, owner); err != nil {
		return 0, err
	}
	if lease <= 0 {
		return 0, fmt.Errorf("%w: pgdedupe: lease must be positive", connect.ErrInvalidParams)
	}
	var state string
	err := d.pool.QueryRow(ctx, d.q.claim, eventID, owner, max(lease.Microseconds(), 1)).Scan(&state)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		// The row was inserted by a claim that committed after this statement's
		// snapshot was taken, so the fallback read cannot see it. Whoever inserted it
		// holds a fresh lease (or has completed it since): in progress is the safe
		// answer either way, since Persona retries a 409. (Likewise a claim that waited
		// for a concurrent CompleteTx to commit reads the row as it was before, running,
		// and answers in progress; the next one finds it done.)
		return connect.ClaimInProgress, nil
	case err != nil:
		return 0, fmt.Errorf("connect: pgdedupe: claim event %s: %w", eventID, err)
	}
	switch state {
	case stateAcquired:
		return connect.ClaimAcquired, nil
	case stateDone:
		return connect.ClaimDone, nil
	default:
		return connect.ClaimInProgress, nil
	}
}

// Complete implements connect.Deduper: the row is marked done if owner holds it.
func (d *Deduper) Complete(ctx context.Context, eventID, owner string) error {
	return d.execHeld(ctx, "complete", d.q.complete, eventID, owner)
}

// Release implements connect.Deduper: the row is deleted if owner holds it and it is
// not done.
func (d *Deduper) Release(ctx context.Context, eventID, owner string) error {
	return d.execHeld(ctx, "release", d.q.release, eventID, owner)
}

// execHeld runs query, the statement of op that only the claim's holder may run, on
// eventID's row for owner: when it changes no row, owner does not hold the claim.
func (d *Deduper) execHeld(ctx context.Context, op, query, eventID, owner string) error {
	if err := checkArgs(eventID, owner); err != nil {
		return err
	}
	tag, err := d.pool.Exec(ctx, query, eventID, owner)
	if err != nil {
		return fmt.Errorf("connect: pgdedupe: %s event %s: %w", op, eventID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: pgdedupe: %s event %s", connect.ErrClaimNotHeld, op, eventID)
	}
	return nil
}

// CompleteTx marks eventID done inside tx, the transaction that holds the function's
// own writes: they commit together or not at all, which makes the function's effects
// exactly once. Call it last in the transaction, and return Commit's error from the
// function: an error releases the claim, so Persona's retry runs the function again.
//
// It fails with an error wrapping connect.ErrClaimNotHeld when the event is already
// done (another delivery, whose lease yours outlived, committed first): roll back, and
// the effects stay single. Whoever holds the claim, only one transaction can mark an
// event done; a concurrent Claim waits for tx to end.
//
// Called with the context a connect.WebhookHandler gave the function, it also tells
// the handler that the event is done (connect.SkipComplete), which spares the
// handler's own Complete: one round trip per event besides your transaction.
func (d *Deduper) CompleteTx(ctx context.Context, tx pgx.Tx, eventID string) error {
	if eventID == "" {
		return fmt.Errorf("%w: pgdedupe: eventID must not be empty", connect.ErrInvalidParams)
	}
	if tx == nil {
		return fmt.Errorf("%w: pgdedupe: tx must not be nil", connect.ErrInvalidParams)
	}
	tag, err := tx.Exec(ctx, d.q.completeTx, eventID)
	if err != nil {
		return fmt.Errorf("connect: pgdedupe: complete event %s in a transaction: %w", eventID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: pgdedupe: complete event %s in a transaction: already done", connect.ErrClaimNotHeld, eventID)
	}
	connect.SkipComplete(ctx, eventID)
	return nil
}

// Purge deletes the rows of events done longer ago than the retention, and of
// claims whose lease ended longer ago than the retention (their holder crashed and no
// redelivery came: forgetting them changes nothing, since an expired lease is taken
// over anyway). It returns how many rows it deleted. Run it now and then, from one
// replica or all: it is one DELETE on an index.
func (d *Deduper) Purge(ctx context.Context) (int64, error) {
	tag, err := d.pool.Exec(ctx, d.q.purge, d.retention.Microseconds())
	if err != nil {
		return 0, fmt.Errorf("connect: pgdedupe: purge: %w", err)
	}
	return tag.RowsAffected(), nil
}

func checkArgs(eventID, owner string) error {
	if eventID == "" {
		return fmt.Errorf("%w: pgdedupe: eventID must not be empty", connect.ErrInvalidParams)
	}
	if owner == "" {
		return fmt.Errorf("%w: pgdedupe: owner must not be empty", connect.ErrInvalidParams)
	}
	return nil
}
