package pgdedupe_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/persona-connect/connect-go/internal/backendtest"
	"github.com/persona-connect/connect-go/pgdedupe"
)

func TestMain(m *testing.M) {
	if r := backendtest.ThisReplica(); r != nil {
		os.Exit(runReplica(r)) // a child of TestMultiProcess: serve, not test
	}
	goleak.VerifyTestMain(m)
}

const urlEnv = "CONNECT_TEST_POSTGRES_URL"

// postgres is the server the tests run against.
var postgres = backendtest.Server{Name: "PostgreSQL", Env: urlEnv, Example: "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"}

// newPool opens a pool on the test server, closed when t ends. An unreachable server
// skips the test, or fails it in CI.
func newPool(t testing.TB, config func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(postgres.URL(t))
	if err != nil {
		t.Fatalf("%s: %v", urlEnv, err)
	}
	if config != nil {
		config(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		postgres.Unreachable(t, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// uniqueTable returns a table name no other test (or test run) uses, and drops the
// table when t ends.
func uniqueTable(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "dedupetest_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	return name
}

// newDeduper makes a Deduper on a fresh table of its own.
func newDeduper(t testing.TB, pool *pgxpool.Pool, opts ...pgdedupe.Option) (*pgdedupe.Deduper, string) {
	t.Helper()
	table := uniqueTable(t, pool)
	d, err := pgdedupe.New(context.Background(), pool, append([]pgdedupe.Option{pgdedupe.WithTable(table)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return d, table
}
