package redisdedupe_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/dedupetest"
	"github.com/persona-connect/connect-go/redisdedupe"
)

// The Deduper contract, each replica on a client (and connection pool) of its own.
func TestContract(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		open func(t *testing.T) redis.UniversalClient
	}{
		{"Client", func(t *testing.T) redis.UniversalClient { return newClient(t, nil) }},
		{"UniversalClient", func(t *testing.T) redis.UniversalClient { return newUniversal(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dedupetest.Run(t, func(t *testing.T, replicas int) []connect.Deduper {
				first := tc.open(t)
				prefix := uniquePrefix(t, first)
				ds := make([]connect.Deduper, replicas)
				for i := range ds {
					rdb := first
					if i > 0 {
						rdb = tc.open(t)
					}
					ds[i] = redisdedupe.New(rdb, redisdedupe.WithPrefix(prefix))
				}
				return ds
			})
		})
	}
}
