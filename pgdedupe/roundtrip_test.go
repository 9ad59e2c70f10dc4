package pgdedupe_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/backendtest"
)

// statementLog is a pgx tracer that records every statement and prepare sent, each
// statement by its first words: on a pool of one connection whose statements are
// already prepared, each statement is one round trip to the server.
type statementLog struct{ backendtest.Log }

func (l *statementLog) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	f := strings.Fields(strings.ReplaceAll(data.SQL, `"`, ""))
	l.Add(strings.Join(f[:min(len(f), 3)], " "))
	return ctx
}

func (l *statementLog) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (l *statementLog) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	l.Add("prepare")
	return ctx
}

func (l *statementLog) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// Round trips per event through a WebhookHandler: two (Claim, Complete); with
// CompleteTx, one of the handler's own (Claim), the completion riding in the
// function's transaction.
func TestRoundTripsPerEvent(t *testing.T) {
	t.Parallel()
	log := &statementLog{}
	r := newTxRig(t, func(c *pgxpool.Config) {
		c.MaxConns = 1
		c.ConnConfig.Tracer = log
	})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		fn   func(ctx context.Context, ev *connect.Event) error
		want []string
	}{
		{
			"Complete",
			func(context.Context, *connect.Event) error { return nil },
			[]string{"WITH claimed AS", "UPDATE " + r.table + " SET"},
		},
		{
			"CompleteTx",
			func(ctx context.Context, ev *connect.Event) error { return r.run(ctx, ev.ID, nil) },
			[]string{"WITH claimed AS", "begin", "INSERT INTO " + r.effects, "INSERT INTO " + r.table, "commit"},
		},
	} {
		h := connect.NewWebhookHandler(nil, connect.WithDeduper(r.d))
		h.On(connect.EventInquiryCompleted, tc.fn)
		// The first event prepares the statements on the connection; the rest reuse them.
		for i := range 6 {
			ev := &connect.Event{ID: "evt_rt_" + tc.name + string(rune('a'+i)), Name: connect.EventInquiryCompleted}
			if err := h.Process(ctx, ev); err != nil {
				t.Fatal(err)
			}
			sent := log.Take()
			if i == 0 {
				continue
			}
			if !slices.Equal(sent, tc.want) {
				t.Errorf("%s, event %d: sent %q, want %q and no prepare", tc.name, i, sent, tc.want)
			}
		}
	}
}
