package pgdedupe_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/persona-connect/connect-go/internal/backendtest"
	"github.com/persona-connect/connect-go/pgdedupe"
)

// BenchmarkClaimComplete measures what the Deduper costs per event (a Claim that
// acquires, then Complete) against the same two statements sent by hand on the same
// pool in the same run, at 1 and 32 concurrent deliveries. "plain" is the least a
// two-state dedupe could send (insert-or-nothing, update), for scale.
func BenchmarkClaimComplete(b *testing.B) {
	pool := newPool(b, func(c *pgxpool.Config) { c.MaxConns = 32 })
	ctx := context.Background()
	for _, conc := range []int{1, 32} {
		b.Run("conc="+strconv.Itoa(conc), func(b *testing.B) {
			d, table := newDeduper(b, pool)
			claimSQL, completeSQL := pgdedupe.ClaimSQL(d), pgdedupe.CompleteSQL(d)
			lease := (time.Minute).Microseconds()
			load := &backendtest.Load{Conc: conc}
			b.Run("pgdedupe", func(b *testing.B) { load.Run(b, backendtest.ClaimAndComplete(ctx, d)) })
			b.Run("bare", func(b *testing.B) {
				load.Run(b, func(id string) error {
					var state string
					if err := pool.QueryRow(ctx, claimSQL, id, "owner", lease).Scan(&state); err != nil {
						return err
					}
					_, err := pool.Exec(ctx, completeSQL, id, "owner")
					return err
				})
			})
			b.Run("plain", func(b *testing.B) {
				insert := "INSERT INTO " + table + " (event_id, state, owner, lease_until) VALUES ($1, 'running', $2, now()) ON CONFLICT DO NOTHING"
				update := "UPDATE " + table + " SET state = 'done', done_at = now() WHERE event_id = $1"
				load.Run(b, func(id string) error {
					if _, err := pool.Exec(ctx, insert, id, "owner"); err != nil {
						return err
					}
					_, err := pool.Exec(ctx, update, id)
					return err
				})
			})
		})
	}
}
