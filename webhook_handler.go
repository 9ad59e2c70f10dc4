package connect

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// maxWebhookBody is the largest delivery a WebhookHandler reads. Persona's events are
// a few KiB; the cap keeps a forged request from costing more than one MiB of memory
// and of hashing.
const maxWebhookBody = 1 << 20

// WebhookHandler is an http.Handler for Persona webhook deliveries. It verifies the
// signature, decodes the event, claims it through its Deduper and answers from the
// claim:
//
//   - 405 for any method but POST; 413 for a body over 1 MiB (the rest is not read);
//   - 400 for a missing, malformed or wrong signature and for a signed body that is not
//     an event;
//   - 200 for an event nobody registered a function for (it is not claimed, so a
//     redelivery after you register one runs it);
//   - 200 without running anything when the claim is ClaimDone: the event was handled
//     before, here or on another replica sharing the Deduper;
//   - 409 when the claim is ClaimInProgress: another delivery holds a live lease on the
//     event. Persona counts any 2xx as delivered, so a 200 here would lose the event if
//     that run then failed; Persona retries the 409 later, when the run has either
//     succeeded (then 200) or failed and released its claim (then it runs);
//   - when the claim is ClaimAcquired, the function runs with a context that ends when
//     the lease ends (WithLease, default 60 s), then the event is completed and the
//     answer is 200; an error or panic releases the claim and answers 500, so Persona
//     retries. If Complete itself fails after the function succeeded, the error goes to
//     the error handler and the answer is still 200: the work is done, and at worst a
//     redelivery or Replay after the lease runs it again;
//   - 500 when claiming fails; a claim the store made even so (its answer was lost)
//     is released, so that the retry runs the event.
//
// Each delivery claims under a fresh random owner, so a replica whose lease ran out and
// was taken over cannot complete or release the event under the new holder's feet.
//
// Persona counts a delivery as failed when no 2xx arrives within 5 seconds, and the
// function runs before the answer is written: put slow work on your own queue and
// return. Response bodies are short fixed texts that never echo the request.
//
// A WebhookHandler is safe for concurrent use, including registering functions while
// it serves. The zero value is not usable: call NewWebhookHandler.
type WebhookHandler struct {
	v       atomic.Pointer[Verifier] // SetVerifier swaps it while deliveries run
	dedupe  Deduper
	lease   time.Duration
	onError func(context.Context, error)

	mu   sync.RWMutex
	regs map[EventName]registration // what handle runs for a name (workflows.go)

	// No in-process set of running events: the Deduper's lease answers
	// ClaimInProgress to a duplicate while the first delivery runs, and only the owner
	// of a claim may release it, which is what such a set used to guard. A second,
	// per-process source of truth would only disagree with the shared one.
}

// defaultLease is how long a delivery holds its claim unless WithLease says otherwise:
// far beyond Persona's 5-second answer window, short enough that a crashed replica
// delays its events by a minute, not by a retry step of Persona's (up to 32 hours).
const defaultLease = 60 * time.Second

// settleTimeout bounds Complete and Release, which run on a context that outlives the
// request (the claim must be settled even when the client has gone) and so need a
// limit of their own.
const settleTimeout = 10 * time.Second

// errLeaseEnded is the cause of a function's context ending with its lease.
var errLeaseEnded = errors.New("connect: the event's lease ended")

// handlerConfig is what the HandlerOptions set.
type handlerConfig struct {
	dedupe  Deduper
	lease   time.Duration
	onError func(context.Context, error)
}

// HandlerOption configures a WebhookHandler: NewWebhookHandler takes them.
type HandlerOption func(*handlerConfig)

// WithDeduper is a HandlerOption for NewWebhookHandler: it replaces the default
// deduplication, a NewMemoryDeduper of DefaultDedupeCapacity ids per process, for
// example with pgdedupe or redisdedupe, which replicas of your server share. nil keeps
// the default.
func WithDeduper(d Deduper) HandlerOption {
	return func(c *handlerConfig) { c.dedupe = d }
}

// WithLease is a HandlerOption for NewWebhookHandler: it sets how long a delivery holds
// its claim on an event (default 60 s; d <= 0 keeps it). The function's context ends
// with the lease, and once it has ended another delivery may take the event over, so a
// function still running then may run twice: choose a lease well above your function's
// longest run.
func WithLease(d time.Duration) HandlerOption {
	return func(c *handlerConfig) {
		if d > 0 {
			c.lease = d
		}
	}
}

// WithErrorHandler is a HandlerOption for NewWebhookHandler: it sets a function told
// why a delivery was not answered with 200: a verification or parse error (400), an
// event in progress elsewhere (409), or a failed claim, callback error, callback panic
// (a *PanicError, with the stack) or failed release (500); and why a delivery answered
// 200 could not be marked done (a failed Complete). Use it to log; it runs before the
// answer is written, so keep it quick. The errors never contain a signature, a secret
// or the body.
func WithErrorHandler(fn func(ctx context.Context, err error)) HandlerOption {
	return func(c *handlerConfig) { c.onError = fn }
}

// NewWebhookHandler returns a handler that verifies deliveries with v. Register
// functions with On and OnShareToken, then mount it on the URL you gave Persona.
// A nil v makes every POST answer 500 (Process and Replay need no verifier).
func NewWebhookHandler(v *Verifier, opts ...HandlerOption) *WebhookHandler {
	cfg := handlerConfig{lease: defaultLease}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.dedupe == nil {
		cfg.dedupe = NewMemoryDeduper(DefaultDedupeCapacity)
	}
	h := &WebhookHandler{
		dedupe:  cfg.dedupe,
		lease:   cfg.lease,
		onError: cfg.onError,
		regs:    make(map[EventName]registration),
	}
	h.v.Store(v)
	return h
}

// SetVerifier makes h verify deliveries with v from now on, for a secret rotation
// without a restart: give it a Verifier of both secrets when RotateSecret returns,
// and one of the new secret alone once the old one has expired. Deliveries already
// being verified finish with the Verifier they started with; the functions and the
// Deduper stay as they are. A nil v makes every POST answer 500, as in
// NewWebhookHandler.
func (h *WebhookHandler) SetVerifier(v *Verifier) {
	h.v.Store(v)
}

// On registers fn for events named name, replacing any function registered for that
// name before; a nil fn removes the registration. fn receives the request's context,
// ended early when the delivery's lease ends. Its error (or panic) makes the handler
// answer 500 so that Persona retries.
func (h *WebhookHandler) On(name EventName, fn func(context.Context, *Event) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if fn == nil {
		delete(h.regs, name) // the workflows' functions for name go too
		return
	}
	h.regs[name] = registration{own: fn}
}

// OnShareToken registers fn for a share-token event (the EventShareToken* names),
// decoding the payload as the receiving organization sees the token. A payload that
// is not a share token is an error of the callback: 500, and Persona retries. A nil fn
// removes the registration.
func (h *WebhookHandler) OnShareToken(name EventName, fn func(context.Context, *Event, *ShareToken) error) {
	if fn == nil {
		h.On(name, nil)
		return
	}
	h.On(name, func(ctx context.Context, ev *Event) error {
		tok, err := ev.ShareToken()
		if err != nil {
			return err
		}
		return fn(ctx, ev, tok)
	})
}

// ServeHTTP implements http.Handler; the statuses are listed on WebhookHandler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	v := h.v.Load()
	if v == nil {
		h.fail(ctx, w, http.StatusInternalServerError, errors.New("connect: webhook handler has no verifier"))
		return
	}
	header := r.Header.Get(SignatureHeader)
	if header == "" {
		// Checked before reading: an unsigned body is not worth a MiB of memory.
		h.fail(ctx, w, http.StatusBadRequest, ErrMissingSignature)
		return
	}
	if r.ContentLength > maxWebhookBody {
		h.fail(ctx, w, http.StatusRequestEntityTooLarge, fmt.Errorf("connect: webhook body of %d bytes is over %d", r.ContentLength, maxWebhookBody))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(ctx, w, http.StatusRequestEntityTooLarge, fmt.Errorf("connect: webhook body is over %d bytes", maxWebhookBody))
			return
		}
		h.fail(ctx, w, http.StatusBadRequest, wrapError("read webhook body", err))
		return
	}
	ev, err := v.ConstructEvent(body, header)
	if err != nil {
		h.fail(ctx, w, http.StatusBadRequest, err)
		return
	}
	switch out, err := h.handle(ctx, ev); {
	case out == outcomeInProgress:
		h.fail(ctx, w, http.StatusConflict, err)
	case err != nil:
		h.fail(ctx, w, http.StatusInternalServerError, err)
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// Process runs one event through the same claims and functions as ServeHTTP, for
// events that did not arrive as a delivery (from the Events API: see Replay; such
// events are not signed, and need no verifier). It returns nil when the function ran
// and succeeded, when the event was done before, and when no function is registered
// for its name; an error wrapping ErrEventInProgress when another delivery holds a live
// lease on it; the function's error, or a *PanicError for its panic (its claim
// released), otherwise. A nil event, or one without an id, is an error wrapping
// ErrInvalidParams.
func (h *WebhookHandler) Process(ctx context.Context, ev *Event) error {
	_, err := h.process(ctx, ev)
	return err
}

// process is Process, telling what happened for Replay's counts.
func (h *WebhookHandler) process(ctx context.Context, ev *Event) (handling, error) {
	if ev == nil {
		return 0, invalidParam("event", "must not be nil")
	}
	if ev.ID == "" {
		return 0, invalidParam("event id", "must not be empty")
	}
	return h.handle(ctx, ev)
}

// handling is what handling one event came to.
type handling int

const (
	outcomeUnregistered handling = iota + 1 // no function for its name: not claimed
	outcomeRan                              // claimed, run, succeeded
	outcomeDone                             // done before: nothing ran
	outcomeInProgress                       // another delivery holds a live lease
	outcomeFailed                           // the claim or the function failed
)

// handle is the one path every event takes, from ServeHTTP and from Process: claim,
// then answer from the claim. The error is set for outcomeInProgress and outcomeFailed.
func (h *WebhookHandler) handle(ctx context.Context, ev *Event) (handling, error) {
	h.mu.RLock()
	reg, registered := h.regs[ev.Name]
	h.mu.RUnlock()
	if !registered {
		// Not claimed on purpose: claiming would spend a dedupe slot, and would make a
		// redelivery that arrives after the name is registered do nothing.
		return outcomeUnregistered, nil
	}
	owner, err := newClaimOwner()
	if err != nil {
		return outcomeFailed, wrapError("claim event "+ev.ID, err)
	}
	// The lease is counted from before the Claim is sent: whatever clock the Deduper
	// uses starts it later, so the function's context never outlives the claim.
	leaseEnd := time.Now().Add(h.lease)
	res, err := h.dedupe.Claim(ctx, ev.ID, owner, h.lease)
	if err != nil {
		// A failed Claim may still have taken the event: what was lost can be its
		// answer, not its write (the request's context ended, or the connection
		// dropped, after the store acted). Nobody runs the event under this owner, so
		// give back whatever it took, or every retry would be told 409 until the lease
		// ends. A Claim that took nothing makes the Release ErrClaimNotHeld: no news.
		err = wrapError("claim event "+ev.ID, err)
		if !errors.Is(err, ErrInvalidParams) {
			if rerr := h.release(ctx, ev.ID, owner); rerr != nil && !errors.Is(rerr, ErrClaimNotHeld) {
				err = errors.Join(err, rerr)
			}
		}
		return outcomeFailed, err
	}
	switch res {
	case ClaimDone:
		return outcomeDone, nil
	case ClaimInProgress:
		return outcomeInProgress, wrapError("event "+ev.ID, ErrEventInProgress)
	case ClaimAcquired:
	default:
		return outcomeFailed, fmt.Errorf("connect: claim event %s: the deduper answered %v", ev.ID, res)
	}

	run := &runningDelivery{eventID: ev.ID}
	runCtx, cancel := context.WithDeadlineCause(context.WithValue(ctx, runningDeliveryKey{}, run), leaseEnd, errLeaseEnded)
	defer cancel()
	if err := h.dispatch(runCtx, reg.run, ev, owner); err != nil {
		if rerr := h.release(ctx, ev.ID, owner); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return outcomeFailed, err
	}
	if run.completedInTx.Load() {
		return outcomeRan, nil // the function's own transaction marked it done
	}
	sctx, scancel := settleContext(ctx)
	defer scancel()
	if err := h.dedupe.Complete(sctx, ev.ID, owner); err != nil {
		h.report(ctx, wrapError("complete event "+ev.ID+" after its function succeeded", err))
	}
	return outcomeRan, nil
}

// release gives the claim back on a context that survives the request's end.
func (h *WebhookHandler) release(ctx context.Context, eventID, owner string) error {
	sctx, cancel := settleContext(ctx)
	defer cancel()
	if err := h.dedupe.Release(sctx, eventID, owner); err != nil {
		return wrapError("release event "+eventID, err)
	}
	return nil
}

// settleContext keeps ctx's values but not its cancellation, bounded by settleTimeout:
// a claim is settled even when the client has gone.
func settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}

// newClaimOwner returns 128 random bits in hex: one owner per delivery.
func newClaimOwner() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make a claim owner: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// PanicError is the error a WebhookHandler reports (WithErrorHandler) when a function
// it ran panicked. The delivery answered 500, so Persona retries it. Its text is the
// event and the panic value; the stack, which net/http would have logged for a panic
// it caught, is kept apart in Stack, for a log that wants it.
type PanicError struct {
	EventName EventName
	EventID   string
	Value     any    // what the function panicked with
	Stack     []byte // the goroutine's stack at the panic, as runtime/debug.Stack writes it
}

// Error implements error: "connect: webhook function for inquiry.completed (event
// evt_...) panicked: boom". The value is escaped like the name: a panic message may
// quote the event it was handling, and with it a line break Persona sent.
func (e *PanicError) Error() string {
	return fmt.Sprintf("connect: webhook function for %s (event %s) panicked: %s",
		printable(string(e.EventName)), printable(e.EventID), printable(fmt.Sprint(e.Value)))
}

// Unwrap returns the panic value when it is an error (panic(err), or a runtime error
// such as a nil dereference), so that errors.Is and errors.As reach it; nil otherwise.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// dispatch runs fn, turning a panic into an error so that the claim is released and
// Persona retries. http.ErrAbortHandler is re-raised after the release, since it is
// how a handler asks net/http to drop the connection on purpose.
func (h *WebhookHandler) dispatch(ctx context.Context, fn func(context.Context, *Event) error, ev *Event, owner string) (err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			if rerr := h.release(ctx, ev.ID, owner); rerr != nil {
				h.report(ctx, rerr)
			}
			panic(p)
		}
		err = &PanicError{EventName: ev.Name, EventID: ev.ID, Value: p, Stack: debug.Stack()}
	}()
	if err := fn(ctx, ev); err != nil {
		return wrapError(fmt.Sprintf("webhook function for %s (event %s)", printable(string(ev.Name)), ev.ID), err)
	}
	return nil
}

// runningDelivery is what a function's context knows of the delivery running it.
type runningDelivery struct {
	eventID       string
	completedInTx atomic.Bool
}

type runningDeliveryKey struct{}

// SkipComplete is for Deduper implementations that mark an event done inside the
// function's own database transaction, such as pgdedupe's CompleteTx, which calls it
// for you. Called with the context a WebhookHandler gave the function running eventID,
// it tells the handler not to call Deduper.Complete once the function returns nil (one
// round trip fewer: the transaction did it). It reports whether ctx is such a context;
// elsewhere it does nothing. If the function returns an error, the claim is released
// as usual. A function that rolls back after this call must return an error.
func SkipComplete(ctx context.Context, eventID string) bool {
	run, ok := ctx.Value(runningDeliveryKey{}).(*runningDelivery)
	if !ok || run.eventID != eventID {
		return false
	}
	run.completedInTx.Store(true)
	return true
}

// report hands err to the error handler, if any.
func (h *WebhookHandler) report(ctx context.Context, err error) {
	if h.onError != nil {
		h.onError(ctx, err)
	}
}

// fail reports err and answers status with a fixed text.
func (h *WebhookHandler) fail(ctx context.Context, w http.ResponseWriter, status int, err error) {
	h.report(ctx, err)
	msg := http.StatusText(status)
	if status == http.StatusBadRequest {
		msg = "invalid webhook delivery"
	}
	http.Error(w, msg, status)
}
