package redisdedupe_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/persona-connect/connect-go/internal/backendtest"
	"github.com/persona-connect/connect-go/redisdedupe"
)

// BenchmarkClaimComplete measures what the Deduper costs per event (a Claim that
// acquires, then Complete) against the same two scripts run by hand (EVALSHA) on the
// same client in the same run, at 1 and 32 concurrent deliveries. "plain" is the least
// a dedupe without owners could send (SET NX PX, then SET XX PX), for scale.
func BenchmarkClaimComplete(b *testing.B) {
	opt := redisOptions(b)
	opt.PoolSize = 32
	rdb := redis.NewClient(opt)
	reachable(b, rdb)
	ctx := context.Background()
	claim, complete := redis.NewScript(redisdedupe.ClaimScript), redis.NewScript(redisdedupe.CompleteScript)
	if err := claim.Load(ctx, rdb).Err(); err != nil {
		b.Fatal(err)
	}
	if err := complete.Load(ctx, rdb).Err(); err != nil {
		b.Fatal(err)
	}
	lease, retention := time.Minute.Milliseconds(), (72 * time.Hour).Milliseconds()
	for _, conc := range []int{1, 32} {
		b.Run("conc="+strconv.Itoa(conc), func(b *testing.B) {
			prefix := uniquePrefix(b, rdb)
			d := redisdedupe.New(rdb, redisdedupe.WithPrefix(prefix))
			load := &backendtest.Load{Conc: conc}
			b.Run("redisdedupe", func(b *testing.B) { load.Run(b, backendtest.ClaimAndComplete(ctx, d)) })
			b.Run("bare", func(b *testing.B) {
				load.Run(b, func(id string) error {
					key := prefix + "{" + id + "}"
					if err := rdb.EvalSha(ctx, claim.Hash(), []string{key}, "r:owner", lease).Err(); err != nil {
						return err
					}
					return rdb.EvalSha(ctx, complete.Hash(), []string{key}, "owner", retention).Err()
				})
			})
			b.Run("plain", func(b *testing.B) {
				load.Run(b, func(id string) error {
					key := prefix + "{" + id + "}"
					if err := rdb.SetArgs(ctx, key, "r:owner", redis.SetArgs{Mode: "NX", TTL: time.Minute}).Err(); err != nil {
						return err
					}
					return rdb.SetArgs(ctx, key, "d:owner", redis.SetArgs{Mode: "XX", TTL: 72 * time.Hour}).Err()
				})
			})
		})
	}
}
