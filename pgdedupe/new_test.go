package pgdedupe_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/pgdedupe"
)

// Many processes starting at once all create, or find, the one table.
func TestNewConcurrentlyOnAFreshTable(t *testing.T) {
	t.Parallel()
	first := newPool(t, nil)
	table := uniqueTable(t, first)
	const starters = 8
	errs := make([]error, starters)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range starters {
		pool := first
		if i > 0 {
			pool = newPool(t, nil) // a session of its own, as another process has
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = pgdedupe.New(context.Background(), pool, pgdedupe.WithTable(table))
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("New %d: %v", i, err)
		}
	}
	var indexes int
	if err := first.QueryRow(context.Background(), "SELECT count(*) FROM pg_indexes WHERE tablename = $1", table).Scan(&indexes); err != nil {
		t.Fatal(err)
	}
	if indexes != 2 {
		t.Errorf("%d indexes on %s, want 2 (the primary key and Purge's)", indexes, table)
	}
}

func TestNewWithSchemaQualifiedTable(t *testing.T) {
	t.Parallel()
	pool := newPool(t, nil)
	table := uniqueTable(t, pool) // dropped unqualified: public is on the search path
	d, err := pgdedupe.New(context.Background(), pool, pgdedupe.WithTable("public."+table))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got, err := d.Claim(ctx, "evt_1", "owner", time.Minute); err != nil || got != connect.ClaimAcquired {
		t.Fatalf("Claim = %v, %v", got, err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM public."+table).Scan(&n); err != nil || n != 1 {
		t.Errorf("rows in public.%s = %d, %v; want 1", table, n, err)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	pool := newPool(t, nil)
	for _, tc := range []struct {
		name string
		opts []pgdedupe.Option
		want string
	}{
		{"empty table", []pgdedupe.Option{pgdedupe.WithTable("")}, "WithTable"},
		{"quote", []pgdedupe.Option{pgdedupe.WithTable(`x"; DROP TABLE y; --`)}, "WithTable"},
		{"space", []pgdedupe.Option{pgdedupe.WithTable("my table")}, "WithTable"},
		{"leading digit", []pgdedupe.Option{pgdedupe.WithTable("1table")}, "WithTable"},
		{"three parts", []pgdedupe.Option{pgdedupe.WithTable("a.b.c")}, "WithTable"},
		{"empty schema", []pgdedupe.Option{pgdedupe.WithTable(".table")}, "WithTable"},
		{"too long", []pgdedupe.Option{pgdedupe.WithTable(strings.Repeat("t", 51))}, "WithTable"},
		{"zero retention", []pgdedupe.Option{pgdedupe.WithRetention(0)}, "WithRetention"},
		{"negative retention", []pgdedupe.Option{pgdedupe.WithRetention(-time.Hour)}, "WithRetention"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := pgdedupe.New(context.Background(), pool, tc.opts...)
			if !errors.Is(err, connect.ErrInvalidParams) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, want ErrInvalidParams naming %s", err, tc.want)
			}
		})
	}
	if _, err := pgdedupe.New(context.Background(), nil); !errors.Is(err, connect.ErrInvalidParams) {
		t.Errorf("New(nil pool) = %v, want ErrInvalidParams", err)
	}
	// The longest name allowed works, index name included.
	long := strings.Repeat("t", 50)
	if _, err := pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+long); err != nil {
		t.Fatal(err)
	}
	if _, err := pgdedupe.New(context.Background(), pool, pgdedupe.WithTable(long)); err != nil {
		t.Errorf("New with a 50-character name: %v", err)
	}
	if _, err := pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+long); err != nil {
		t.Error(err)
	}
}
