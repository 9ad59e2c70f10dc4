package connect

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Every delivery claims under an owner of its own, and completes or releases under
// that same owner.
func TestWebhookHandlerFreshOwnerPerDelivery(t *testing.T) {
	t.Parallel()
	d := newFailingDeduper()
	h := newTestHandler(t, WithDeduper(d), WithLease(42*time.Second))
	fail := true
	h.On(EventInquiryCompleted, func(context.Context, *Event) error {
		if fail {
			fail = false
			return errors.New("first attempt")
		}
		return nil
	})
	body := eventBody("evt_owner", EventInquiryCompleted)
	for _, want := range []int{http.StatusInternalServerError, http.StatusOK, http.StatusOK} {
		if status, _ := serve(h, delivery(t, body)); status != want {
			t.Fatalf("status %d, want %d", status, want)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var ops []string
	for _, c := range d.calls {
		ops = append(ops, c.op)
	}
	if diff := cmp.Diff([]string{"claim", "release", "claim", "complete", "claim"}, ops); diff != "" {
		t.Fatalf("deduper calls (-want +got):\n%s", diff)
	}
	hex128 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, c := range d.calls {
		if !hex128.MatchString(c.owner) {
			t.Errorf("%s owner %q is not 128 random bits in hex", c.op, c.owner)
		}
		if c.op == "claim" && c.lease != 42*time.Second {
			t.Errorf("claim lease = %v, want WithLease's 42s", c.lease)
		}
	}
	if c := d.calls; c[0].owner != c[1].owner || c[2].owner != c[3].owner {
		t.Errorf("release or complete under another owner than the claim: %+v", c)
	}
	if c := d.calls; c[0].owner == c[2].owner || c[2].owner == c[4].owner || c[0].owner == c[4].owner {
		t.Errorf("two deliveries shared an owner: %+v", c)
	}
}

func TestWebhookHandlerDefaultLease(t *testing.T) {
	t.Parallel()
	d := newFailingDeduper()
	h := newTestHandler(t, WithDeduper(d), WithLease(0), WithLease(-time.Second))
	h.On(EventInquiryCompleted, func(context.Context, *Event) error { return nil })
	serve(h, delivery(t, eventBody("evt_lease", EventInquiryCompleted)))
	if got := d.calls[0].lease; got != 60*time.Second {
		t.Errorf("lease = %v, want the 60s default (a lease <= 0 keeps it)", got)
	}
}

// The function's context ends with the lease, and says so.
func TestWebhookHandlerFunctionContextEndsWithTheLease(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t, WithLease(20*time.Millisecond))
	var cause error
	var deadline time.Time
	h.On(EventInquiryCompleted, func(ctx context.Context, _ *Event) error {
		deadline, _ = ctx.Deadline()
		<-ctx.Done() // ends without anyone cancelling the request
		cause = context.Cause(ctx)
		return ctx.Err()
	})
	before := time.Now()
	status, _ := serve(h, delivery(t, eventBody("evt_lease_end", EventInquiryCompleted)))
	if status != http.StatusInternalServerError {
		t.Errorf("status %d, want 500 for a function stopped by its lease", status)
	}
	if !errors.Is(cause, errLeaseEnded) {
		t.Errorf("context cause = %v, want errLeaseEnded", cause)
	}
	if deadline.IsZero() || deadline.Before(before) || deadline.After(before.Add(time.Hour)) {
		t.Errorf("deadline %v, want about 20ms after %v", deadline, before)
	}
}

// A Complete that fails after the function succeeded: the work is done, so the answer
// is 200, and the error handler hears about it.
func TestWebhookHandlerCompleteFailureStillAnswers200(t *testing.T) {
	t.Parallel()
	d := newFailingDeduper()
	d.completeErr = errors.New("store down")
	var log errorLog
	h := newTestHandler(t, WithDeduper(d), log.option())
	h.On(EventInquiryCompleted, func(context.Context, *Event) error { return nil })
	if status, _ := serve(h, delivery(t, eventBody("evt_complete", EventInquiryCompleted))); status != http.StatusOK {
		t.Errorf("status %d, want 200", status)
	}
	if reported := log.all(); len(reported) != 1 || !strings.Contains(reported[0].Error(), "store down") || !strings.Contains(reported[0].Error(), "evt_complete") {
		t.Errorf("reported %v, want the Complete error naming the event", reported)
	}
	if diff := cmp.Diff([]string{"claim evt_complete", "complete evt_complete"}, d.ops()); diff != "" {
		t.Errorf("deduper calls (-want +got):\n%s", diff)
	}
}

func TestWebhookHandlerAnswersFromTheClaim(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		claim ClaimResult
		want  int
	}{
		{ClaimDone, http.StatusOK},
		{ClaimInProgress, http.StatusConflict},
		{ClaimResult(7), http.StatusInternalServerError}, // a Deduper answering nonsense is not trusted
	} {
		t.Run(tc.claim.String(), func(t *testing.T) {
			t.Parallel()
			d := newFailingDeduper()
			d.claimResult = tc.claim
			h := newTestHandler(t, WithDeduper(d))
			var calls atomic.Int32
			h.On(EventInquiryCompleted, func(context.Context, *Event) error { calls.Add(1); return nil })
			if status, _ := serve(h, delivery(t, eventBody("evt_answer", EventInquiryCompleted))); status != tc.want {
				t.Errorf("status %d, want %d", status, tc.want)
			}
			if calls.Load() != 0 {
				t.Error("the function ran without ClaimAcquired")
			}
			if diff := cmp.Diff([]string{"claim evt_answer"}, d.ops()); diff != "" {
				t.Errorf("deduper calls (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWebhookHandlerUnregisteredTouchesNoDeduper(t *testing.T) {
	t.Parallel()
	d := newFailingDeduper()
	h := newTestHandler(t, WithDeduper(d))
	if status, _ := serve(h, delivery(t, eventBody("evt_none", EventInquiryDeclined))); status != http.StatusOK {
		t.Errorf("status %d, want 200", status)
	}
	if ops := d.ops(); len(ops) != 0 {
		t.Errorf("deduper calls %v for an unregistered event, want none", ops)
	}
}

// SkipComplete spares the Complete round trip when the function's transaction did it,
// and changes nothing when the function fails.
func TestWebhookHandlerSkipComplete(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		id      string // given to SkipComplete
		fnErr   error
		wantOps []string
		want    int
	}{
		{"same event", "evt_skip", nil, []string{"claim evt_skip"}, http.StatusOK},
		{"another event", "evt_other", nil, []string{"claim evt_skip", "complete evt_skip"}, http.StatusOK},
		{"function fails after it", "evt_skip", errors.New("rolled back"), []string{"claim evt_skip", "release evt_skip"}, http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := newFailingDeduper()
			h := newTestHandler(t, WithDeduper(d))
			var skipped bool
			h.On(EventInquiryCompleted, func(ctx context.Context, ev *Event) error {
				skipped = SkipComplete(ctx, tc.id)
				return tc.fnErr
			})
			if status, _ := serve(h, delivery(t, eventBody("evt_skip", EventInquiryCompleted))); status != tc.want {
				t.Errorf("status %d, want %d", status, tc.want)
			}
			if skipped != (tc.id == "evt_skip") {
				t.Errorf("SkipComplete = %v", skipped)
			}
			if diff := cmp.Diff(tc.wantOps, d.ops()); diff != "" {
				t.Errorf("deduper calls (-want +got):\n%s", diff)
			}
		})
	}
	if SkipComplete(context.Background(), "evt_1") {
		t.Error("SkipComplete outside a delivery reported true")
	}
}

func TestWebhookHandlerProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shared := NewMemoryDeduper(0)
	h := NewWebhookHandler(nil, WithDeduper(shared)) // Process needs no verifier
	var ran []string
	errBoom := errors.New("boom")
	h.On(EventInquiryCompleted, func(_ context.Context, ev *Event) error {
		ran = append(ran, ev.ID)
		if ev.ID == "evt_fail" {
			return errBoom
		}
		return nil
	})
	ev := func(id string, name EventName) *Event { return &Event{ID: id, Name: name} }

	if err := h.Process(ctx, ev("evt_1", EventInquiryCompleted)); err != nil {
		t.Errorf("first run: %v", err)
	}
	if err := h.Process(ctx, ev("evt_1", EventInquiryCompleted)); err != nil {
		t.Errorf("done before: %v, want nil", err)
	}
	if err := h.Process(ctx, ev("evt_2", EventInquiryDeclined)); err != nil {
		t.Errorf("unregistered: %v, want nil", err)
	}
	if _, err := shared.Claim(ctx, "evt_busy", "elsewhere", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := h.Process(ctx, ev("evt_busy", EventInquiryCompleted)); !errors.Is(err, ErrEventInProgress) || !strings.Contains(err.Error(), "evt_busy") {
		t.Errorf("in progress elsewhere: %v, want ErrEventInProgress naming the event", err)
	}
	if err := h.Process(ctx, ev("evt_fail", EventInquiryCompleted)); !errors.Is(err, errBoom) {
		t.Errorf("failing function: %v, want its error", err)
	}
	if got, _ := shared.Claim(ctx, "evt_fail", "next", time.Hour); got != ClaimAcquired {
		t.Errorf("after a failure the claim is %v, want released (acquired by the next)", got)
	}
	for _, bad := range []*Event{nil, {Name: EventInquiryCompleted}} {
		if err := h.Process(ctx, bad); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("Process(%+v) = %v, want ErrInvalidParams", bad, err)
		}
	}
	if diff := cmp.Diff([]string{"evt_1", "evt_fail"}, ran); diff != "" {
		t.Errorf("ran (-want +got):\n%s", diff)
	}
}

// A Claim whose answer is lost after the store took the event (the request's context
// ended mid-round-trip, a connection dropped) is given back: nobody will run the event
// under that owner, so Persona's retry runs it rather than being told 409 until the
// lease ends.
func TestWebhookHandlerReleasesAClaimWhoseAnswerWasLost(t *testing.T) {
	t.Parallel()
	d := newFailingDeduper()
	d.claimAnswerLost = context.Canceled
	var log errorLog
	h := newTestHandler(t, WithDeduper(d), log.option())
	var runs atomic.Int32
	h.On(EventInquiryCompleted, func(context.Context, *Event) error { runs.Add(1); return nil })
	body := eventBody("evt_lost", EventInquiryCompleted)
	if status, _ := serve(h, delivery(t, body)); status != http.StatusInternalServerError {
		t.Fatalf("status %d with the claim's answer lost, want 500", status)
	}
	d.claimAnswerLost = nil
	if status, _ := serve(h, delivery(t, body)); status != http.StatusOK || runs.Load() != 1 {
		t.Fatalf("the retry: status %d, %d runs; want 200 and one run", status, runs.Load())
	}
	if diff := cmp.Diff([]string{"claim evt_lost", "release evt_lost", "claim evt_lost", "complete evt_lost"}, d.ops()); diff != "" {
		t.Errorf("deduper calls (-want +got):\n%s", diff)
	}
	if reported := log.all(); len(reported) != 1 || !errors.Is(reported[0], context.Canceled) {
		t.Errorf("reported %v, want the Claim's error alone", reported)
	}
}

// When the failed Claim took nothing, the Release that follows it is refused
// (ErrClaimNotHeld): that is no news, and is not reported.
func TestWebhookHandlerFailedClaimReportsOnlyItsError(t *testing.T) {
	t.Parallel()
	d := newFailingDeduper()
	d.claimErr = errors.New("store down")
	var log errorLog
	h := newTestHandler(t, WithDeduper(d), log.option())
	h.On(EventInquiryCompleted, func(context.Context, *Event) error { return nil })
	if status, _ := serve(h, delivery(t, eventBody("evt_down", EventInquiryCompleted))); status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", status)
	}
	if reported := log.all(); len(reported) != 1 || errors.Is(reported[0], ErrClaimNotHeld) || !strings.Contains(reported[0].Error(), "store down") {
		t.Errorf("reported %v, want the Claim's error alone", reported)
	}
}
