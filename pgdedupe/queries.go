package pgdedupe

import (
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Row states, and the claim statement's answer for a row it took.
const (
	stateRunning  = "running"
	stateDone     = "done"
	stateAcquired = "acquired"
)

// queries are the statements of one table, its name quoted once in New.
type queries struct {
	createTable, createIndex        string
	exists                          string // $1 the table, quoted; true when it and its index are there
	table, index                    string // the table's name, quoted, and its index's, bare
	claim, complete, release, purge string
	completeTx                      string
}

// newQueries builds the statements for the table named by parts (schema and table,
// or table), each already checked against tablePart.
func newQueries(parts []string) queries {
	t := pgx.Identifier(parts).Sanitize()
	bareIndex := parts[len(parts)-1] + "_purge_idx"
	index := pgx.Identifier{bareIndex}.Sanitize()
	return queries{
		table: t, index: bareIndex,
		// Read before any DDL: CREATE TABLE IF NOT EXISTS needs CREATE on the schema,
		// and CREATE INDEX IF NOT EXISTS ownership of the table, even when both exist,
		// which a role that may only read and write them has not. to_regclass is null
		// for a table that is missing (or in a schema the role cannot use).
		exists: `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			WHERE i.indrelid = to_regclass($1) AND c.relname = $2)`,
		createTable: `CREATE TABLE IF NOT EXISTS ` + t + ` (
			event_id    text PRIMARY KEY,
			state       text NOT NULL CHECK (state IN ('running', 'done')),
			owner       text NOT NULL,
			lease_until timestamptz NOT NULL,
			done_at     timestamptz
		)`,
		// Purge's predicate: done rows by completion, running rows by lease end.
		createIndex: `CREATE INDEX IF NOT EXISTS ` + index + ` ON ` + t + ` ((coalesce(done_at, lease_until)))`,

		// One statement, one round trip. The insert wins a new event; on conflict the
		// row is taken over only when it runs under an expired lease (its holder
		// crashed or hung) or under this same owner (a retried Claim). Concurrent
		// claims of one row serialize on its lock, and each re-checks the condition
		// against the row as the previous one left it, so only one takes it.
		// Otherwise nothing is written, and the second branch reads the row's state:
		// running (in progress) or done. The fallback reads this statement's
		// snapshot; see Claim for the one case it cannot see.
		claim: fmt.Sprintf(`WITH claimed AS (
			INSERT INTO %[1]s AS e (event_id, state, owner, lease_until)
			VALUES ($1, 'running', $2, now() + $3::bigint * interval '1 microsecond')
			ON CONFLICT (event_id) DO UPDATE
				SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
				WHERE e.state = 'running' AND (e.lease_until <= now() OR e.owner = EXCLUDED.owner)
			RETURNING 'acquired'::text AS state
		)
		SELECT state FROM claimed
		UNION ALL
		SELECT state FROM %[1]s WHERE event_id = $1 AND NOT EXISTS (SELECT 1 FROM claimed)`, t),

		// The owner's claim becomes done, even past its lease when nobody took it
		// over; done_at keeps the first completion.
		complete: `UPDATE ` + t + ` SET state = 'done', done_at = coalesce(done_at, now())
			WHERE event_id = $1 AND owner = $2`,

		release: `DELETE FROM ` + t + ` WHERE event_id = $1 AND owner = $2 AND state = 'running'`,

		// Done in the caller's transaction, whoever holds the claim, unless it is done
		// already: that makes the transaction's writes happen once. The row lock it
		// takes holds off every Claim of the event until the transaction ends.
		completeTx: `INSERT INTO ` + t + ` AS e (event_id, state, owner, lease_until, done_at)
			VALUES ($1, 'done', '', now(), now())
			ON CONFLICT (event_id) DO UPDATE SET state = 'done', done_at = now()
				WHERE e.state <> 'done'`,

		purge: `DELETE FROM ` + t + `
			WHERE coalesce(done_at, lease_until) < now() - $1::bigint * interval '1 microsecond'`,
	}
}
