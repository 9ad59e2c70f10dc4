package redisdedupe_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/persona-connect/connect-go/internal/backendtest"
)

func TestMain(m *testing.M) {
	if r := backendtest.ThisReplica(); r != nil {
		os.Exit(runReplica(r)) // a child of TestMultiProcess: serve, not test
	}
	goleak.VerifyTestMain(m)
}

// redisServer is the server the tests run against.
var redisServer = backendtest.Server{Name: "Redis", Env: "CONNECT_TEST_REDIS_URL", Example: "redis://127.0.0.1:6379/0"}

// redisOptions returns the test server's options, or skips the test saying how to run
// it; in CI (CI=true) an unset variable fails instead.
func redisOptions(t testing.TB) *redis.Options {
	t.Helper()
	opt, err := redis.ParseURL(redisServer.URL(t))
	if err != nil {
		t.Fatalf("%s: %v", redisServer.Env, err)
	}
	return opt
}

// reachable pings rdb, closing it and skipping (failing in CI) when it does not answer.
func reachable(t testing.TB, rdb redis.UniversalClient) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		redisServer.Unreachable(t, err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
}

// newClient opens a single-node client on the test server, closed when t ends.
func newClient(t testing.TB, hook redis.Hook) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(redisOptions(t))
	if hook != nil {
		rdb.AddHook(hook)
	}
	reachable(t, rdb)
	return rdb
}

// newUniversal opens the test server through redis.NewUniversalClient, as an
// application that may later move to a cluster would.
func newUniversal(t testing.TB) redis.UniversalClient {
	t.Helper()
	opt := redisOptions(t)
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{opt.Addr}, DB: opt.DB, Username: opt.Username, Password: opt.Password})
	reachable(t, rdb)
	return rdb
}

// uniquePrefix returns a key prefix no other test (or run) uses, and deletes its keys
// when t ends.
func uniquePrefix(t testing.TB, rdb redis.UniversalClient) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	prefix := "dedupetest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deleteKeys(ctx, rdb, prefix); err != nil {
			t.Errorf("delete keys under %s: %v", prefix, err)
		}
	})
	return prefix
}

// deleteKeys deletes every key under prefix, on every master of a cluster.
func deleteKeys(ctx context.Context, rdb redis.UniversalClient, prefix string) error {
	each := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			if err := c.Del(ctx, iter.Val()).Err(); err != nil {
				return err
			}
		}
		return iter.Err()
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, each)
	}
	return each(ctx, rdb.(*redis.Client))
}
