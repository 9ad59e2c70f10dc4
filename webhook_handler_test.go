package connect

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// delivery builds a POST of body signed now with testSecret.
func delivery(tb testing.TB, body []byte) *http.Request {
	tb.Helper()
	r := httptest.NewRequest(http.MethodPost, "/webhooks/persona", bytes.NewReader(body))
	r.Header.Set(SignatureHeader, SignHeader(body, testSecret, time.Now()))
	return r
}

// serve runs one request through h and returns the status and body.
func serve(h http.Handler, r *http.Request) (int, string) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code, rec.Body.String()
}

// errorLog records what a handler's error handler is told; deliveries may report from
// several goroutines.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

// option is the WithErrorHandler that records into l.
func (l *errorLog) option() HandlerOption {
	return WithErrorHandler(func(_ context.Context, err error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.errs = append(l.errs, err)
	})
}

// all returns the errors recorded so far, in order.
func (l *errorLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}

func newTestHandler(tb testing.TB, opts ...HandlerOption) *WebhookHandler {
	tb.Helper()
	v, err := NewVerifier([]string{testSecret})
	if err != nil {
		tb.Fatal(err)
	}
	return NewWebhookHandler(v, opts...)
}

// eventBody is a minimal signed-able event named name with id evt.
func eventBody(evt string, name EventName) []byte {
	return []byte(`{"data":{"type":"event","id":"` + evt + `","attributes":{"name":"` + string(name) +
		`","payload":{"data":{"type":"inquiry","id":"inq_1","attributes":{}}},"created-at":"2024-01-01T00:00:00.000Z"}}}`)
}

func TestWebhookHandlerStatuses(t *testing.T) {
	t.Parallel()
	shareToken := readFixture(t, "share_token_inbound_created.kebab.json")
	errBoom := errors.New("boom")
	// counting registers, for name, a function that counts its runs and returns err.
	counting := func(name EventName, err error) func(*WebhookHandler, *atomic.Int32) {
		return func(h *WebhookHandler, calls *atomic.Int32) {
			h.On(name, func(context.Context, *Event) error { calls.Add(1); return err })
		}
	}
	tests := []struct {
		name     string
		request  func(t *testing.T) *http.Request
		register func(h *WebhookHandler, calls *atomic.Int32)
		want     int
		wantRuns int32
	}{
		{
			name:    "GET is not allowed",
			request: func(t *testing.T) *http.Request { return httptest.NewRequest(http.MethodGet, "/", nil) },
			want:    http.StatusMethodNotAllowed,
		},
		{
			name: "PUT is not allowed even when signed",
			request: func(t *testing.T) *http.Request {
				r := delivery(t, shareToken)
				r.Method = http.MethodPut
				return r
			},
			want: http.StatusMethodNotAllowed,
		},
		{
			name: "missing signature",
			request: func(t *testing.T) *http.Request {
				r := delivery(t, shareToken)
				r.Header.Del(SignatureHeader)
				return r
			},
			want: http.StatusBadRequest,
		},
		{
			name: "malformed signature",
			request: func(t *testing.T) *http.Request {
				r := delivery(t, shareToken)
				r.Header.Set(SignatureHeader, "v1=abc")
				return r
			},
			want: http.StatusBadRequest,
		},
		{
			name: "wrong signature",
			request: func(t *testing.T) *http.Request {
				r := delivery(t, shareToken)
				r.Header.Set(SignatureHeader, SignHeader(shareToken, "wbhsec_other", time.Now()))
				return r
			},
			want: http.StatusBadRequest,
		},
		{
			name: "stale signature",
			request: func(t *testing.T) *http.Request {
				r := delivery(t, shareToken)
				r.Header.Set(SignatureHeader, SignHeader(shareToken, testSecret, time.Now().Add(-time.Hour)))
				return r
			},
			want: http.StatusBadRequest,
		},
		{
			name: "signed body that is not an event",
			request: func(t *testing.T) *http.Request {
				return delivery(t, []byte(`{"data":{"type":"inquiry","id":"inq_1"}}`))
			},
			want: http.StatusBadRequest,
		},
		{
			name: "body over 1 MiB",
			request: func(t *testing.T) *http.Request {
				return delivery(t, append(bytes.Repeat([]byte(" "), 1<<20), shareToken...))
			},
			want: http.StatusRequestEntityTooLarge,
		},
		{
			name: "body over 1 MiB without a Content-Length",
			request: func(t *testing.T) *http.Request {
				r := delivery(t, append(bytes.Repeat([]byte(" "), 1<<20), shareToken...))
				r.ContentLength = -1
				return r
			},
			want: http.StatusRequestEntityTooLarge,
		},
		{
			name: "body of exactly 1 MiB is read",
			request: func(t *testing.T) *http.Request {
				return delivery(t, append(bytes.Repeat([]byte(" "), 1<<20-len(shareToken)), shareToken...))
			},
			register: counting(EventShareTokenInboundCreated, nil),
			want:     http.StatusOK,
			wantRuns: 1,
		},
		{
			name:     "nobody registered the name",
			request:  func(t *testing.T) *http.Request { return delivery(t, shareToken) },
			register: counting(EventInquiryCompleted, nil),
			want:     http.StatusOK,
		},
		{
			name:     "dispatched",
			request:  func(t *testing.T) *http.Request { return delivery(t, shareToken) },
			register: counting(EventShareTokenInboundCreated, nil),
			want:     http.StatusOK,
			wantRuns: 1,
		},
		{
			name:     "callback error",
			request:  func(t *testing.T) *http.Request { return delivery(t, shareToken) },
			register: counting(EventShareTokenInboundCreated, errBoom),
			want:     http.StatusInternalServerError,
			wantRuns: 1,
		},
		{
			name:    "callback panic",
			request: func(t *testing.T) *http.Request { return delivery(t, shareToken) },
			register: func(h *WebhookHandler, calls *atomic.Int32) {
				h.On(EventShareTokenInboundCreated, func(context.Context, *Event) error { calls.Add(1); panic("boom") })
			},
			want:     http.StatusInternalServerError,
			wantRuns: 1,
		},
		{
			name: "share-token callback on a payload that is not a share token",
			request: func(t *testing.T) *http.Request {
				return delivery(t, eventBody("evt_x", EventShareTokenInboundCreated))
			},
			register: func(h *WebhookHandler, calls *atomic.Int32) {
				h.OnShareToken(EventShareTokenInboundCreated, func(context.Context, *Event, *ShareToken) error { calls.Add(1); return nil })
			},
			want: http.StatusInternalServerError,
		},
		{
			name:    "registration removed with nil",
			request: func(t *testing.T) *http.Request { return delivery(t, shareToken) },
			register: func(h *WebhookHandler, calls *atomic.Int32) {
				h.On(EventShareTokenInboundCreated, func(context.Context, *Event) error { calls.Add(1); return nil })
				h.On(EventShareTokenInboundCreated, nil)
			},
			want: http.StatusOK,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			var log errorLog
			h := newTestHandler(t, log.option())
			if tc.register != nil {
				tc.register(h, &calls)
			}
			r := tc.request(t)
			status, body := serve(h, r)
			if status != tc.want {
				t.Errorf("status = %d, want %d (body %q)", status, tc.want, body)
			}
			if got := calls.Load(); got != tc.wantRuns {
				t.Errorf("callback ran %d times, want %d", got, tc.wantRuns)
			}
			if status == http.StatusMethodNotAllowed {
				// A recorder keeps the header map it was given; read it back from a fresh run.
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, tc.request(t))
				if got := rec.Header().Get("Allow"); got != http.MethodPost {
					t.Errorf("Allow = %q, want POST", got)
				}
			}
			// The answer never echoes the request: no signature, no payload data.
			if sig := r.Header.Get(SignatureHeader); len(sig) > 20 && strings.Contains(body, sig[len(sig)-20:]) {
				t.Errorf("response body %q echoes the signature", body)
			}
			for _, leak := range []string{"cnst_ABC123", "evt_ABC123", "cxn_ABC123", "boom", "wbhsec"} {
				if strings.Contains(body, leak) {
					t.Errorf("response body %q contains %q", body, leak)
				}
			}
			reported := log.all()
			if (status != http.StatusOK) != (len(reported) > 0 || status == http.StatusMethodNotAllowed) {
				t.Errorf("status %d with reported errors %v", status, reported)
			}
			for _, err := range reported {
				if strings.Contains(err.Error(), testSecret) {
					t.Errorf("reported error %q contains the secret", err)
				}
			}
		})
	}
}

// endlessReader never ends: a handler that read a whole oversized body would hang.
type endlessReader struct{ n atomic.Int64 }

func (r *endlessReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	r.n.Add(int64(len(p)))
	return len(p), nil
}

func TestWebhookHandlerStopsReadingPastTheLimit(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t)
	src := &endlessReader{}
	r := httptest.NewRequest(http.MethodPost, "/", io.NopCloser(src))
	r.ContentLength = -1
	r.Header.Set(SignatureHeader, SignHeader(nil, testSecret, time.Now()))
	if status, _ := serve(h, r); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d, want 413", status)
	}
	if n := src.n.Load(); n > 1<<20+64<<10 {
		t.Errorf("read %d bytes of an endless body", n)
	}
}

func TestWebhookHandlerPassesTheRequestContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	h := newTestHandler(t)
	var got any
	h.On(EventShareTokenInboundCreated, func(ctx context.Context, _ *Event) error {
		got = ctx.Value(key{})
		return nil
	})
	r := delivery(t, readFixture(t, "share_token_inbound_created.kebab.json"))
	r = r.WithContext(context.WithValue(r.Context(), key{}, "request value"))
	if status, _ := serve(h, r); status != http.StatusOK {
		t.Fatalf("status = %d", status)
	}
	if got != "request value" {
		t.Errorf("callback saw context value %v, want the request's", got)
	}
}

func TestWebhookHandlerShareTokenInflections(t *testing.T) {
	t.Parallel()
	for _, inflection := range []string{"kebab", "camel", "snake"} {
		t.Run(inflection, func(t *testing.T) {
			t.Parallel()
			h := newTestHandler(t)
			var got *ShareToken
			var gotEvent *Event
			h.OnShareToken(EventShareTokenInboundCreated, func(_ context.Context, ev *Event, tok *ShareToken) error {
				gotEvent, got = ev, tok
				return nil
			})
			status, _ := serve(h, delivery(t, readFixture(t, "share_token_inbound_created."+inflection+".json")))
			if status != http.StatusOK {
				t.Fatalf("status = %d", status)
			}
			if diff := cmp.Diff(wantInboundToken(), got); diff != "" {
				t.Errorf("share token (-want +got):\n%s", diff)
			}
			if gotEvent == nil || gotEvent.ID != "evt_ABC123" {
				t.Errorf("event = %+v", gotEvent)
			}
		})
	}
}

func TestWebhookHandlerDuplicateDoesNotRun(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t)
	var calls atomic.Int32
	h.On(EventInquiryCompleted, func(context.Context, *Event) error { calls.Add(1); return nil })
	body := eventBody("evt_dup", EventInquiryCompleted)
	for i := 0; i < 3; i++ {
		if status, _ := serve(h, delivery(t, body)); status != http.StatusOK {
			t.Fatalf("delivery %d: status %d", i+1, status)
		}
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("callback ran %d times for one event delivered three times, want 1", got)
	}
	// Another event still runs.
	serve(h, delivery(t, eventBody("evt_other", EventInquiryCompleted)))
	if got := calls.Load(); got != 2 {
		t.Errorf("callback ran %d times after a second event, want 2", got)
	}
}

func TestWebhookHandlerRetryAfterFailureRunsAgain(t *testing.T) {
	t.Parallel()
	for _, failure := range []string{"error", "panic"} {
		t.Run(failure, func(t *testing.T) {
			t.Parallel()
			h := newTestHandler(t)
			var calls atomic.Int32
			h.On(EventInquiryApproved, func(context.Context, *Event) error {
				if calls.Add(1) == 1 {
					if failure == "panic" {
						panic("first attempt")
					}
					return errors.New("first attempt")
				}
				return nil
			})
			body := eventBody("evt_retry", EventInquiryApproved)
			want := []int{http.StatusInternalServerError, http.StatusOK, http.StatusOK}
			var got []int
			for range want {
				status, _ := serve(h, delivery(t, body))
				got = append(got, status)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
			if n := calls.Load(); n != 2 {
				t.Errorf("callback ran %d times, want 2 (the failure, then the retry; not the duplicate)", n)
			}
		})
	}
}

// wantStatus delivers body, signed now, to h and fails the test unless h answers want;
// what names the delivery in the failure.
func wantStatus(t *testing.T, h http.Handler, body []byte, want int, what string) {
	t.Helper()
	if status, answer := serve(h, delivery(t, body)); status != want {
		t.Errorf("%s: status %d (%q), want %d", what, status, answer, want)
	}
}

// heldRun is a first delivery whose function is held running while the test delivers
// duplicates; release lets it return.
type heldRun struct {
	calls  atomic.Int32 // calls of the function, the held one included
	finish chan struct{}
	first  chan int // the first delivery's status
}

// holdFirstRun registers on h, for inquiry.completed, a function that counts its calls
// and holds the first one until release, which then returns firstErr; later calls
// return nil at once. It delivers body and returns once that first call is running.
func holdFirstRun(t *testing.T, h *WebhookHandler, body []byte, firstErr error) *heldRun {
	t.Helper()
	r := &heldRun{finish: make(chan struct{}), first: make(chan int, 1)}
	started := make(chan struct{})
	h.On(EventInquiryCompleted, func(context.Context, *Event) error {
		if r.calls.Add(1) > 1 {
			return nil
		}
		close(started)
		<-r.finish
		return firstErr
	})
	go func() {
		status, _ := serve(h, delivery(t, body))
		r.first <- status
	}()
	<-started
	return r
}

// release lets the held function return and gives the first delivery's status.
func (r *heldRun) release() int {
	close(r.finish)
	return <-r.first
}

// A duplicate that arrives while the first delivery runs (Persona retries after 5
// seconds; replicas each get a copy) is told to come back, 409, at once: a 2xx would
// tell Persona the event was handled, and it would be lost if that run then failed.
// After a successful run a duplicate is acknowledged without running; after a failed
// one, the next delivery runs the event.
func TestWebhookHandlerDuplicateDuringARun(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		replica   bool // the duplicates go to another handler sharing the Deduper
		firstErr  error
		wantFirst int
		wantCalls int32
	}{
		{"same handler", false, nil, http.StatusOK, 1},
		{"another replica sharing the deduper", true, nil, http.StatusOK, 1},
		{"the first run fails", false, errors.New("database down"), http.StatusInternalServerError, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			shared := NewMemoryDeduper(0)
			h := newTestHandler(t, WithDeduper(shared))
			body := eventBody("evt_held", EventInquiryCompleted)
			run := holdFirstRun(t, h, body, tc.firstErr)
			dup := h
			if tc.replica {
				dup = newTestHandler(t, WithDeduper(shared))
				dup.On(EventInquiryCompleted, func(context.Context, *Event) error { run.calls.Add(1); return nil })
			}
			var wg sync.WaitGroup
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					wantStatus(t, dup, body, http.StatusConflict, "duplicate while the first delivery runs")
				}()
			}
			wg.Wait()
			if status := run.release(); status != tc.wantFirst {
				t.Errorf("first delivery: status %d, want %d", status, tc.wantFirst)
			}
			wantStatus(t, dup, body, http.StatusOK, "delivery after the first")
			if n := run.calls.Load(); n != tc.wantCalls {
				t.Errorf("the function ran %d times, want %d", n, tc.wantCalls)
			}
		})
	}
}

// Registering while deliveries are served is safe (the race detector watches), and
// every delivery is answered 200: whether it meets the function registered or none
// yet, a delivery that does not fail is acknowledged.
func TestWebhookHandlerConcurrentRegistrationAndServing(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			h.On(EventInquiryCompleted, func(context.Context, *Event) error { return nil })
			h.OnShareToken(EventShareTokenInboundCreated, func(context.Context, *Event, *ShareToken) error { return nil })
		}()
		go func(i int) {
			defer wg.Done()
			if status, body := serve(h, delivery(t, eventBody("evt_"+string(rune('a'+i)), EventInquiryCompleted))); status != http.StatusOK {
				t.Errorf("delivery %d during registration: status %d (%s), want 200", i, status, body)
			}
		}(i)
	}
	wg.Wait()
}

// failingDeduper fails Claim, Complete or Release on demand (else it is a
// MemoryDeduper) and records every call with its owner.
type failingDeduper struct {
	claimErr, completeErr, releaseErr error
	claimResult                       ClaimResult // when set, Claim answers it without asking the memory
	claimAnswerLost                   error       // when set, Claim claims in the memory, then answers this error

	mem           *MemoryDeduper
	mu            sync.Mutex
	calls         []dedupeCall
	releaseCtxErr error
}

type dedupeCall struct {
	op, id, owner string
	lease         time.Duration
}

func newFailingDeduper() *failingDeduper { return &failingDeduper{mem: NewMemoryDeduper(0)} }

func (d *failingDeduper) record(c dedupeCall) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, c)
}

func (d *failingDeduper) Claim(ctx context.Context, id, owner string, lease time.Duration) (ClaimResult, error) {
	d.record(dedupeCall{"claim", id, owner, lease})
	if d.claimErr != nil {
		return 0, d.claimErr
	}
	if d.claimResult != 0 {
		return d.claimResult, nil
	}
	res, err := d.mem.Claim(ctx, id, owner, lease)
	if d.claimAnswerLost != nil {
		return 0, d.claimAnswerLost
	}
	return res, err
}

func (d *failingDeduper) Complete(ctx context.Context, id, owner string) error {
	d.record(dedupeCall{op: "complete", id: id, owner: owner})
	if d.completeErr != nil {
		return d.completeErr
	}
	return d.mem.Complete(ctx, id, owner)
}

func (d *failingDeduper) Release(ctx context.Context, id, owner string) error {
	d.record(dedupeCall{op: "release", id: id, owner: owner})
	d.mu.Lock()
	d.releaseCtxErr = ctx.Err()
	d.mu.Unlock()
	if d.releaseErr != nil {
		return d.releaseErr
	}
	return d.mem.Release(ctx, id, owner)
}

// ops lists the operations called, in order, as "op id".
func (d *failingDeduper) ops() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ops []string
	for _, c := range d.calls {
		ops = append(ops, c.op+" "+c.id)
	}
	return ops
}

func TestWebhookHandlerDeduperFailures(t *testing.T) {
	t.Parallel()
	t.Run("claim fails", func(t *testing.T) {
		t.Parallel()
		d := newFailingDeduper()
		d.claimErr = errors.New("store down")
		h := newTestHandler(t, WithDeduper(d))
		var calls atomic.Int32
		h.On(EventInquiryCompleted, func(context.Context, *Event) error { calls.Add(1); return nil })
		if status, _ := serve(h, delivery(t, eventBody("evt_1", EventInquiryCompleted))); status != http.StatusInternalServerError {
			t.Errorf("status = %d, want 500", status)
		}
		if calls.Load() != 0 {
			t.Error("callback ran without a claim")
		}
	})
	t.Run("release after a failure uses a live context", func(t *testing.T) {
		t.Parallel()
		d := newFailingDeduper()
		d.releaseErr = errors.New("store down")
		var reported error
		h := newTestHandler(t, WithDeduper(d), WithErrorHandler(func(_ context.Context, err error) { reported = err }))
		ctx, cancel := context.WithCancel(context.Background())
		h.On(EventInquiryCompleted, func(context.Context, *Event) error {
			cancel() // the client went away while the callback ran
			return errors.New("callback failed")
		})
		r := delivery(t, eventBody("evt_2", EventInquiryCompleted)).WithContext(ctx)
		if status, _ := serve(h, r); status != http.StatusInternalServerError {
			t.Errorf("status = %d, want 500", status)
		}
		if diff := cmp.Diff([]string{"claim evt_2", "release evt_2"}, d.ops()); diff != "" {
			t.Errorf("deduper calls (-want +got):\n%s", diff)
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.releaseCtxErr != nil {
			t.Errorf("Release got a context that is done: %v", d.releaseCtxErr)
		}
		if reported == nil || !strings.Contains(reported.Error(), "callback failed") || !strings.Contains(reported.Error(), "store down") {
			t.Errorf("reported error = %v, want both the callback's and the release's", reported)
		}
	})
}

// panicInWebhookFunction is a named function, so that the stack can be searched for it.
func panicInWebhookFunction(context.Context, *Event) error { panic("boom") }

// A panic reaches the error handler as a *PanicError: the value and the event in its
// text, and the stack of the panic, which net/http would have logged, in Stack.
func TestWebhookHandlerReportsAPanicWithItsStack(t *testing.T) {
	t.Parallel()
	var reported error
	h := newTestHandler(t, WithErrorHandler(func(_ context.Context, err error) { reported = err }))
	h.On(EventInquiryCompleted, panicInWebhookFunction)
	if status, _ := serve(h, delivery(t, eventBody("evt_panic", EventInquiryCompleted))); status != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", status)
	}
	var pe *PanicError
	if !errors.As(reported, &pe) {
		t.Fatalf("reported %v (%T), want a *PanicError", reported, reported)
	}
	if pe.Value != "boom" || pe.EventID != "evt_panic" || pe.EventName != EventInquiryCompleted {
		t.Errorf("PanicError = %+v", pe)
	}
	if want := "connect: webhook function for inquiry.completed (event evt_panic) panicked: boom"; pe.Error() != want {
		t.Errorf("text %q, want %q", pe.Error(), want)
	}
	if !bytes.Contains(pe.Stack, []byte("panicInWebhookFunction")) {
		t.Errorf("the stack does not show where it panicked:\n%s", pe.Stack)
	}
	if pe.Unwrap() != nil {
		t.Errorf("Unwrap of a string panic = %v, want nil", pe.Unwrap())
	}

	// A panic with an error, a runtime one here, is reached through the PanicError.
	h.On(EventInquiryCompleted, func(_ context.Context, ev *Event) error {
		_ = ev.Included[len(ev.Included)+1] // index out of range: a runtime.Error
		return nil
	})
	serve(h, delivery(t, eventBody("evt_panic_err", EventInquiryCompleted)))
	var re runtime.Error
	if !errors.As(reported, &re) || !errors.As(reported, &pe) {
		t.Errorf("reported %v (%T), want a *PanicError that reaches the runtime.Error", reported, reported)
	}
}

// An event name is an open string, so the error texts escape it: a name holding a line
// break does not forge a line in the error handler's log.
func TestWebhookHandlerErrorsEscapeTheEventName(t *testing.T) {
	t.Parallel()
	const name = EventName("inquiry.completed\nlevel=ERROR msg=forged")
	var log errorLog
	h := newTestHandler(t, log.option())
	inJSON := EventName(strings.ReplaceAll(string(name), "\n", `\n`))
	h.On(name, func(context.Context, *Event) error { return errors.New("boom") })
	serve(h, delivery(t, eventBody("evt_named", inJSON)))
	h.On(name, panicInWebhookFunction)
	serve(h, delivery(t, eventBody("evt_named2", inJSON)))
	// A panic value may quote the event too (its name, a status from the payload).
	h.On(name, func(_ context.Context, ev *Event) error { panic("unexpected " + string(ev.Name)) })
	serve(h, delivery(t, eventBody("evt_named3", inJSON)))
	reported := log.all()
	if len(reported) != 3 {
		t.Fatalf("reported %d errors, want 3: %v", len(reported), reported)
	}
	for _, err := range reported {
		if text := err.Error(); strings.Contains(text, "\n") || !strings.Contains(text, `inquiry.completed\nlevel=ERROR`) {
			t.Errorf("the name is not escaped in %q", text)
		}
	}
}

func TestWebhookHandlerAbortHandlerPanicPropagates(t *testing.T) {
	t.Parallel()
	d := newFailingDeduper()
	h := newTestHandler(t, WithDeduper(d))
	h.On(EventInquiryCompleted, func(context.Context, *Event) error { panic(http.ErrAbortHandler) })
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
		if diff := cmp.Diff([]string{"claim evt_abort", "release evt_abort"}, d.ops()); diff != "" {
			t.Errorf("deduper calls (-want +got):\n%s", diff)
		}
		// Released for real: the next delivery runs it.
		if got, _ := d.mem.Claim(context.Background(), "evt_abort", "next", time.Minute); got != ClaimAcquired {
			t.Errorf("claim after the abort = %v, want acquired", got)
		}
	}()
	serve(h, delivery(t, eventBody("evt_abort", EventInquiryCompleted)))
}

func TestWebhookHandlerWithoutVerifier(t *testing.T) {
	t.Parallel()
	h := NewWebhookHandler(nil)
	if status, _ := serve(h, delivery(t, eventBody("evt_1", EventInquiryCompleted))); status != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", status)
	}
}

func TestWebhookHandlerUnregisteredEventIsNotClaimed(t *testing.T) {
	t.Parallel()
	h := newTestHandler(t)
	body := eventBody("evt_later", EventInquiryDeclined)
	if status, _ := serve(h, delivery(t, body)); status != http.StatusOK {
		t.Fatalf("unregistered: status %d, want 200", status)
	}
	// A redelivery after the function is registered (a deploy in between) runs it.
	var calls atomic.Int32
	h.On(EventInquiryDeclined, func(context.Context, *Event) error { calls.Add(1); return nil })
	if status, _ := serve(h, delivery(t, body)); status != http.StatusOK {
		t.Fatalf("registered: status %d, want 200", status)
	}
	if calls.Load() != 1 {
		t.Errorf("callback ran %d times, want 1", calls.Load())
	}
}

// SetVerifier rotates the secret of a handler that is serving: deliveries signed with
// the new secret are refused before and accepted after, with the functions and the
// Deduper kept, and swapping while deliveries run is safe (run with -race).
func TestWebhookHandlerSetVerifierWhileServing(t *testing.T) {
	t.Parallel()
	const newSecret = "wbhsec_rotated_0123456789"
	h := newTestHandler(t)
	var runs atomic.Int32
	h.On(EventInquiryCompleted, func(context.Context, *Event) error { runs.Add(1); return nil })
	signedWithNew := func(evt string) *http.Request {
		body := eventBody(evt, EventInquiryCompleted)
		r := httptest.NewRequest(http.MethodPost, "/webhooks/persona", bytes.NewReader(body))
		r.Header.Set(SignatureHeader, SignHeader(body, newSecret, time.Now()))
		return r
	}
	if status, _ := serve(h, signedWithNew("evt_before")); status != http.StatusBadRequest {
		t.Fatalf("a delivery signed with a secret the verifier lacks: status %d, want 400", status)
	}
	both, err := NewVerifier([]string{testSecret, newSecret})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			serve(h, delivery(t, eventBody(fmt.Sprintf("evt_old_%d", i), EventInquiryCompleted)))
		}()
	}
	h.SetVerifier(both)
	wg.Wait()
	if status, _ := serve(h, signedWithNew("evt_after")); status != http.StatusOK {
		t.Fatalf("after SetVerifier: status %d, want 200", status)
	}
	if status, _ := serve(h, delivery(t, eventBody("evt_old_0", EventInquiryCompleted))); status != http.StatusOK || runs.Load() != 5 {
		t.Errorf("the old secret's redelivery: status %d, %d runs; want 200 and 5 runs (4 old, 1 new, none twice)", status, runs.Load())
	}
}
