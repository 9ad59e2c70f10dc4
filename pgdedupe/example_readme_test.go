package pgdedupe_test

// The functions named readme* hold README.md's PostgreSQL snippets verbatim, so that
// the compiler checks them; the root module's TestREADMESnippetsAreHere finds them here (as */example_readme*_test.go).

import (
	"context"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/pgdedupe"
)

func readmeSetUp(ctx context.Context, verifier *connect.Verifier) error {
	// PostgreSQL: go get github.com/persona-connect/connect-go/pgdedupe
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	dedupe, err := pgdedupe.New(ctx, pool) // creates its table if missing, safely from every replica
	if err != nil {
		return err
	}
	handler := connect.NewWebhookHandler(verifier, connect.WithDeduper(dedupe))
	return readmeCompleteTx(handler, pool, dedupe)
}

func readmeCompleteTx(handler *connect.WebhookHandler, pool *pgxpool.Pool, dedupe *pgdedupe.Deduper) error {
	handler.On(connect.EventInquiryApproved, func(ctx context.Context, ev *connect.Event) error {
		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "INSERT INTO approvals (inquiry_id) VALUES ($1)", ev.Object.ID); err != nil {
				return err
			}
			return dedupe.CompleteTx(ctx, tx, ev.ID)
		})
	})
	return nil
}

// The snippets need a database of the reader's; this keeps them used.
var _ = readmeSetUp
