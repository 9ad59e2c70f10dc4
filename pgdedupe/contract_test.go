package pgdedupe_test

import (
	"context"
	"testing"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/dedupetest"
	"github.com/persona-connect/connect-go/pgdedupe"
)

// The Deduper contract, each replica on a pool of its own over one table, as
// replicas in separate processes would be.
func TestContract(t *testing.T) {
	t.Parallel()
	dedupetest.Run(t, func(t *testing.T, replicas int) []connect.Deduper {
		first := newPool(t, nil)
		table := uniqueTable(t, first)
		ds := make([]connect.Deduper, replicas)
		for i := range ds {
			pool := first
			if i > 0 {
				pool = newPool(t, nil)
			}
			d, err := pgdedupe.New(context.Background(), pool, pgdedupe.WithTable(table))
			if err != nil {
				t.Fatal(err)
			}
			ds[i] = d
		}
		return ds
	})
}
