package pgdedupe_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/persona-connect/connect-go"
)

// statementLog is a pgx tracer that records every statement and prepare sent: on a
// pool of one connection whose statements are already prepared, each statement is one
// round trip to the server.
type statementLog struct {
	mu       sync.Mutex
	sqls     []string
	prepares int
}

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sqls = append(l.sqls, data.SQL)
	return ctx
}

func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *statementLog) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prepares++
	return ctx
}

func (l *statementLog) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// take returns what was recorded since the last take, each statement by its first
// words, and forgets it.
func (l *statementLog) take() (sqls []string, prepares int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.sqls {
		f := strings.Fields(s)
		sqls = append(sqls, strings.Join(f[:min(len(f), 3)], " "))
	}
	prepares = l.prepares
	l.sqls, l.prepares = nil, 0
	return sqls, prepares
}

// Round trips per event through a WebhookHandler: two (Claim, Complete); with
// CompleteTx, one of the handler's own (Claim), the completion riding in the
// function's transaction.
func TestRoundTripsPerEvent(t *testing.T) {
	t.Parallel()
	log := &statementLog{}
	pool := newPool(t, func(c *pgxpool.Config) {
		c.MaxConns = 1
		c.ConnConfig.Tracer = log
	})
	d, table := newDeduper(t, pool)
	effects := effectsTable(t, pool)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		fn   func(ctx context.Context, ev *connect.Event) error
		want []string
	}{
		{
			"Complete",
			func(context.Context, *connect.Event) error { return nil },
			[]string{"WITH claimed AS", "UPDATE " + table + " SET"},
		},
		{
			"CompleteTx",
			func(ctx context.Context, ev *connect.Event) error {
				return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					if _, err := tx.Exec(ctx, "INSERT INTO "+effects+" (event_id) VALUES ($1)", ev.ID); err != nil {
						return err
					}
					return d.CompleteTx(ctx, tx, ev.ID)
				})
			},
			[]string{"WITH claimed AS", "begin", "INSERT INTO " + effects, "INSERT INTO " + table, "commit"},
		},
	} {
		h := connect.NewWebhookHandler(nil, connect.WithDeduper(d))
		h.On(connect.EventInquiryCompleted, tc.fn)
		// The first event prepares the statements on the connection; the rest reuse them.
		for i := range 6 {
			ev := &connect.Event{ID: "evt_rt_" + tc.name + string(rune('a'+i)), Name: connect.EventInquiryCompleted}
			if err := h.Process(ctx, ev); err != nil {
				t.Fatal(err)
			}
			sqls, prepares := log.take()
			if i == 0 {
				continue
			}
			for j := range sqls {
				sqls[j] = strings.ReplaceAll(sqls[j], `"`, "")
			}
			if prepares != 0 || !slices.Equal(sqls, tc.want) {
				t.Errorf("%s, event %d: statements %q and %d prepares, want %q and none", tc.name, i, sqls, prepares, tc.want)
			}
		}
	}
}
