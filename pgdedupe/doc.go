// Package pgdedupe is a connect.Deduper on PostgreSQL (through pgx/v5's pgxpool), for
// webhook handlers running as several replicas: every replica that uses the same
// table agrees on which delivery runs an event, and a replica that crashes while
// running one holds it only until its lease ends.
//
// It keeps one table (default "connect_webhook_events": event id as primary key,
// state, owner, lease end, done time), which New creates if missing. Each Claim is one
// atomic statement; leases run on the database's clock. Purge deletes the rows of
// events done longer ago than the retention (default 72 h, beyond Persona's retries).
//
// Set-up:
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	if err != nil {
//		return err
//	}
//	dedupe, err := pgdedupe.New(ctx, pool) // creates the table if missing
//	if err != nil {
//		return err
//	}
//	handler := connect.NewWebhookHandler(verifier, connect.WithDeduper(dedupe))
//	handler.On(connect.EventInquiryApproved, func(ctx context.Context, ev *connect.Event) error {
//		return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
//			if _, err := tx.Exec(ctx, "INSERT INTO approvals (inquiry_id) VALUES ($1)", ev.Object.ID); err != nil {
//				return err
//			}
//			return dedupe.CompleteTx(ctx, tx, ev.ID) // the insert and "done" commit together
//		})
//	})
//	// now and then, e.g. hourly: dedupe.Purge(ctx)
//
// Without CompleteTx the function still runs at most once at a time and, once it has
// succeeded, never again; but a function killed half-way (its replica crashed) runs
// again after its lease, since nothing recorded that its work was done. With
// CompleteTx, writes that live in the same database happen exactly once.
package pgdedupe
