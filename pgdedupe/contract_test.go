package pgdedupe_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/dedupetest"
	"github.com/persona-connect/connect-go/pgdedupe"
)

// The Deduper contract, each replica on a pool of its own over one table, as
// replicas in separate processes would be.
func TestContract(t *testing.T) {
	t.Parallel()
	dedupetest.Run(t, dedupetest.Replicas(
		func(t testing.TB) *pgxpool.Pool { return newPool(t, nil) },
		uniqueTable,
		func(t testing.TB, pool *pgxpool.Pool, table string) connect.Deduper {
			d, err := pgdedupe.New(context.Background(), pool, pgdedupe.WithTable(table))
			if err != nil {
				t.Fatal(err)
			}
			return d
		}))
}
