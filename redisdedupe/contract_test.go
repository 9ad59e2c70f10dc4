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
		dial func(t testing.TB) redis.UniversalClient
	}{
		{"Client", func(t testing.TB) redis.UniversalClient { return newClient(t, nil) }},
		{"UniversalClient", newUniversal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dedupetest.Run(t, dedupetest.Replicas(tc.dial, uniquePrefix, newDeduper))
		})
	}
}

// newDeduper is a replica under prefix on rdb, for dedupetest.Replicas.
func newDeduper(_ testing.TB, rdb redis.UniversalClient, prefix string) connect.Deduper {
	return redisdedupe.New(rdb, redisdedupe.WithPrefix(prefix))
}
