package connect

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/persona-connect/connect-go/internal/poll"
)

// slowDeduper is a MemoryDeduper whose every call first waits delay: a store far away
// or under load.
type slowDeduper struct {
	*MemoryDeduper
	delay time.Duration
}

func (d slowDeduper) Claim(ctx context.Context, id, owner string, lease time.Duration) (ClaimResult, error) {
	time.Sleep(d.delay)
	return d.MemoryDeduper.Claim(ctx, id, owner, lease)
}

func (d slowDeduper) Complete(ctx context.Context, id, owner string) error {
	time.Sleep(d.delay)
	return d.MemoryDeduper.Complete(ctx, id, owner)
}

func (d slowDeduper) Release(ctx context.Context, id, owner string) error {
	time.Sleep(d.delay)
	return d.MemoryDeduper.Release(ctx, id, owner)
}

// Drill 7a: eight copies of one event arrive at once at a handler whose Deduper is
// slow. Promise (doc.go "Webhooks: the handler", "exactly once across replicas"): the
// function runs once; the other copies get 409 while it runs and 200 once it is done.
func TestWebhookHandlerSlowDeduperRunsOnce(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, WithDeduper(slowDeduper{NewMemoryDeduper(100), 50 * time.Millisecond}))
	var runs atomic.Int32
	h.On(EventInquiryCompleted, func(context.Context, *Event) error {
		runs.Add(1)
		time.Sleep(20 * time.Millisecond)
		return nil
	})
	body := eventBody("evt_slow_store", EventInquiryCompleted)
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = serve(h, delivery(t, body))
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
		default:
			t.Errorf("a copy answered %d, want 200 or 409", s)
		}
	}
	if runs.Load() != 1 || ok == 0 {
		t.Errorf("the function ran %d times (answers %v), want once and at least one 200", runs.Load(), statuses)
	}
	if s, _ := serve(h, delivery(t, body)); s != http.StatusOK || runs.Load() != 1 {
		t.Errorf("a later copy answered %d after %d runs, want 200 without running", s, runs.Load())
	}
}

// Drill 7b: a function that ignores its context and outlives its lease. Promise (README
// "Running several replicas", WithLease): its context ends with the lease; a delivery
// after that takes the event over and runs it; the late first run cannot complete or
// release the event under the new holder's feet (fresh owner per delivery): once the
// second run is done, the event stays done whatever the first one returns.
func TestWebhookHandlerFunctionOutlivesItsLease(t *testing.T) {
	t.Parallel()
	for name, late := range map[string]error{"late success": nil, "late failure": errors.New("late")} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var log errorLog
			h := newTestHandler(t, WithLease(100*time.Millisecond), log.option())
			var runs atomic.Int32
			leaseEnded := make(chan error, 1)
			finish := make(chan struct{})
			h.On(EventInquiryCompleted, func(ctx context.Context, _ *Event) error {
				if runs.Add(1) > 1 {
					return nil // the takeover: quick
				}
				<-ctx.Done()
				leaseEnded <- context.Cause(ctx)
				<-finish // still working, past the lease
				return late
			})
			body := eventBody("evt_outlives", EventInquiryCompleted)
			first := make(chan int, 1)
			go func() {
				s, _ := serve(h, delivery(t, body))
				first <- s
			}()
			if cause := <-leaseEnded; !errors.Is(cause, errLeaseEnded) {
				t.Errorf("the first run's context ended with %v, want errLeaseEnded", cause)
			}
			// The lease has ended: a redelivery takes the event over and runs it. (The
			// store's lease began a moment after the context's, at the Claim: a copy
			// in that moment is told 409, as Persona would be, and comes again.)
			poll.Until(t, "a redelivery to take the event over", func() bool {
				s, _ := serve(h, delivery(t, body))
				if s != http.StatusOK && s != http.StatusConflict {
					t.Fatalf("a delivery after the lease answered %d", s)
				}
				return s == http.StatusOK
			})
			if runs.Load() != 2 {
				t.Fatalf("the takeover left %d runs, want 2", runs.Load())
			}
			close(finish)
			want := http.StatusOK
			if late != nil {
				want = http.StatusInternalServerError
			}
			if s := <-first; s != want {
				t.Errorf("the late first run answered %d, want %d", s, want)
			}
			// Done by the second run: neither the late Complete nor the late Release
			// of the first may undo that.
			if s, _ := serve(h, delivery(t, body)); s != http.StatusOK || runs.Load() != 2 {
				t.Errorf("a delivery after both runs answered %d after %d runs, want 200 without running", s, runs.Load())
			}
			poll.Until(t, "the late settle to be reported", func() bool { return len(log.all()) > 0 })
			for _, err := range log.all() {
				if late == nil && !errors.Is(err, ErrClaimNotHeld) {
					t.Errorf("reported %v, want the late Complete's ErrClaimNotHeld", err)
				}
				t.Log(err)
			}
		})
	}
}
