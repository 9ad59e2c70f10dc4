package pgdedupe_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
	"github.com/persona-connect/connect-go/internal/backendtest"
	"github.com/persona-connect/connect-go/internal/poll"
	"github.com/persona-connect/connect-go/pgdedupe"
)

// txRig is a Deduper and a table for a function's writes on one pool: what a function
// that marks its event done in its own transaction (CompleteTx) runs on.
type txRig struct {
	pool    *pgxpool.Pool
	d       *pgdedupe.Deduper
	table   string // the Deduper's
	effects string // the function's; no unique key on purpose: a duplicate effect must show up as a second row, not as an error
}

// newTxRig makes a txRig on a pool of its own, which config (nil for none) adjusts.
func newTxRig(t testing.TB, config func(*pgxpool.Config)) *txRig {
	t.Helper()
	r := &txRig{pool: newPool(t, config)}
	r.d, r.table = newDeduper(t, r.pool)
	r.effects = uniqueTable(t, r.pool)
	if _, err := r.pool.Exec(context.Background(), "CREATE TABLE "+r.effects+" (id bigserial PRIMARY KEY, event_id text NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	return r
}

// run is the function of eventID: in one transaction it writes the event's effect and
// marks the event done, then ends as the rest of the function does, with then (nil
// commits).
func (r *txRig) run(ctx context.Context, eventID string, then error) error {
	return pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO "+r.effects+" (event_id) VALUES ($1)", eventID); err != nil {
			return err
		}
		if err := r.d.CompleteTx(ctx, tx, eventID); err != nil {
			return err
		}
		return then
	})
}

// count is how many effects eventID has.
func (r *txRig) count(t testing.TB, eventID string) int {
	t.Helper()
	var n int
	if err := r.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+r.effects+" WHERE event_id = $1", eventID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCompleteTxCommitted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newTxRig(t, nil)
	backendtest.MustClaim(t, r.d, "evt_commit", "a", time.Minute, connect.ClaimAcquired)
	if err := r.run(ctx, "evt_commit", nil); err != nil {
		t.Fatal(err)
	}
	backendtest.MustClaim(t, r.d, "evt_commit", "b", time.Minute, connect.ClaimDone)
	if err := r.d.Complete(ctx, "evt_commit", "a"); err != nil {
		t.Errorf("the holder's Complete after its CompleteTx: %v, want nil", err)
	}
	// A second transaction for the same event (another delivery, whose lease outlived
	// the first) is refused, and rolls back its writes.
	if err := r.run(ctx, "evt_commit", nil); !errors.Is(err, connect.ErrClaimNotHeld) {
		t.Errorf("second CompleteTx: %v, want ErrClaimNotHeld", err)
	}
	if n := r.count(t, "evt_commit"); n != 1 {
		t.Errorf("%d effects, want 1", n)
	}
}

func TestCompleteTxRolledBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newTxRig(t, nil)
	backendtest.MustClaim(t, r.d, "evt_rollback", "a", time.Minute, connect.ClaimAcquired)
	errLater := errors.New("a later write failed")
	if err := r.run(ctx, "evt_rollback", errLater); !errors.Is(err, errLater) {
		t.Fatal(err)
	}
	// Neither the write nor "done" happened: the claim is still a's, running.
	backendtest.MustClaim(t, r.d, "evt_rollback", "b", time.Minute, connect.ClaimInProgress)
	if n := r.count(t, "evt_rollback"); n != 0 {
		t.Errorf("%d effects after a rollback, want 0", n)
	}
	if err := r.d.Release(ctx, "evt_rollback", "a"); err != nil {
		t.Fatal(err)
	}
	backendtest.MustClaim(t, r.d, "evt_rollback", "b", time.Minute, connect.ClaimAcquired)
}

// A transaction that has marked the event done holds off a Claim that would take an
// expired lease over, until it ends: the Claim then does not take it over (it read
// the row before it waited, so it answers in progress: safe, since a 409 is retried),
// and the next Claim finds it done.
func TestCompleteTxFencesATakeover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := newPool(t, nil)
	d, table := newDeduper(t, pool)
	backendtest.MustClaim(t, d, "evt_fence", "a", 50*time.Millisecond, connect.ClaimAcquired)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := d.CompleteTx(ctx, tx, "evt_fence"); err != nil {
		t.Fatal(err)
	}
	// Wait, on the database's clock, until a's lease has ended.
	poll.Until(t, "the lease to end", func() bool {
		var expired bool
		if err := pool.QueryRow(ctx, "SELECT lease_until <= now() FROM "+table+" WHERE event_id = 'evt_fence'").Scan(&expired); err != nil {
			t.Fatal(err)
		}
		return expired
	})
	got := make(chan connect.ClaimResult, 1)
	go func() {
		r, err := d.Claim(ctx, "evt_fence", "b", time.Minute)
		if err != nil {
			t.Error(err)
		}
		got <- r
	}()
	// Commit only once the Claim is waiting for the transaction's row lock.
	poll.Until(t, "the Claim to wait for the completing transaction", func() bool {
		var waiting int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%"+table+"%'").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		return waiting > 0
	})
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if r := <-got; r != connect.ClaimInProgress {
		t.Errorf("Claim during the completing transaction = %v, want in progress (never acquired)", r)
	}
	backendtest.MustClaim(t, d, "evt_fence", "c", time.Minute, connect.ClaimDone)
}

func TestCompleteTxRefusesBadArguments(t *testing.T) {
	t.Parallel()
	pool := newPool(t, nil)
	d, _ := newDeduper(t, pool)
	if err := d.CompleteTx(context.Background(), nil, "evt_1"); !errors.Is(err, connect.ErrInvalidParams) {
		t.Errorf("nil tx: %v", err)
	}
	tx, err := pool.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if err := d.CompleteTx(context.Background(), tx, ""); !errors.Is(err, connect.ErrInvalidParams) {
		t.Errorf("empty id: %v", err)
	}
}

// A function that marks the event done in its own transaction, registered by On before
// an AutoShare whose Shared fails once: the workflow runs first and the function only
// once it succeeded, so the retry still finds the event claimable, shares again, and
// the function's effect is written once.
func TestCompleteTxAfterAWorkflowThatFailed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newTxRig(t, nil)
	persona := connecttest.NewServer()
	t.Cleanup(persona.Close)
	src, dst := persona.NewOrganization("Source Bank"), persona.NewOrganization("Dest Lender")
	cxn, inq := persona.CreateConnection(src, dst), persona.CreateInquiry(src)
	client, err := persona.NewClient(src)
	if err != nil {
		t.Fatal(err)
	}
	h := connect.NewWebhookHandler(nil, connect.WithDeduper(r.d))
	h.On(connect.EventInquiryCompleted, func(ctx context.Context, ev *connect.Event) error {
		return r.run(ctx, ev.ID, nil)
	})
	var shared []string
	err = connect.AutoShare(h, client, connect.AutoShareConfig{ConnectionID: cxn, Shared: func(_ context.Context, _ *connect.Event, tok *connect.ShareToken) error {
		shared = append(shared, tok.ID)
		if len(shared) == 1 {
			return errors.New("the partner's API is down")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	ev := &connect.Event{ID: "evt_" + r.effects, Name: connect.EventInquiryCompleted, CreatedAt: time.Now(), Object: connect.Ref{Type: "inquiry", ID: inq}}
	if err := h.Process(ctx, ev); err == nil {
		t.Fatal("the first delivery succeeded with Shared failing")
	}
	if n := r.count(t, ev.ID); n != 0 {
		t.Fatalf("the function ran before the workflow succeeded: %d effects", n)
	}
	if err := h.Process(ctx, ev); err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if len(shared) != 2 || shared[0] != shared[1] {
		t.Errorf("Shared saw %v; want the same token twice", shared)
	}
	if n := r.count(t, ev.ID); n != 1 {
		t.Errorf("%d effects; want 1", n)
	}
	if err := h.Process(ctx, ev); err != nil || len(shared) != 2 || r.count(t, ev.ID) != 1 {
		t.Errorf("a third delivery of a done event ran something: %v, Shared %v", err, shared)
	}
}
