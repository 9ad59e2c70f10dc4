package connect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// maxWebhookBody is the largest delivery a WebhookHandler reads. Persona's events are
// a few KiB; the cap keeps a forged request from costing more than one MiB of memory
// and of hashing.
const maxWebhookBody = 1 << 20

// WebhookHandler is an http.Handler for Persona webhook deliveries. It verifies the
// signature, decodes the event, deduplicates it by id and calls the function
// registered for its name:
//
//   - 405 for any method but POST; 413 for a body over 1 MiB (the rest is not read);
//   - 400 for a missing, malformed or wrong signature and for a signed body that is not
//     an event;
//   - 200 for an event nobody registered a function for (it is not claimed, so a
//     redelivery after you register one runs it);
//   - 409 for a duplicate of an event whose function is still running in this handler:
//     Persona counts any 2xx as delivered, so answering 200 here would lose the event
//     if that first run then failed; Persona retries the 409 later, when the first run
//     has either succeeded (then 200) or failed and released its claim (then it runs);
//   - 200 without running anything for an event already claimed and finished (a
//     duplicate, or one another instance sharing the Deduper has claimed);
//   - 500 when claiming fails, or when the function returns an error or panics; the
//     claim is released first, so Persona's retry runs the function again;
//   - 200 when the function returns nil.
//
// Persona counts a delivery as failed when no 2xx arrives within 5 seconds, and the
// function runs before the answer is written: put slow work on your own queue and
// return. Response bodies are short fixed texts that never echo the request.
//
// A WebhookHandler is safe for concurrent use, including registering functions while
// it serves.
type WebhookHandler struct {
	v       *Verifier
	dedupe  Deduper
	onError func(context.Context, error)

	mu  sync.RWMutex
	fns map[EventName]func(context.Context, *Event) error

	// running holds the ids of events whose function runs now in this handler. It is
	// checked before the Deduper, so a duplicate that arrives meanwhile is told to come
	// back (409) rather than acknowledged, and so a run never releases a claim that a
	// later delivery made after the Deduper forgot the first one.
	runMu   sync.Mutex
	running map[string]bool
}

// handlerConfig is what the HandlerOptions set.
type handlerConfig struct {
	dedupe  Deduper
	onError func(context.Context, error)
}

// HandlerOption configures a WebhookHandler.
type HandlerOption func(*handlerConfig)

// WithDeduper replaces the default deduplication, a NewMemoryDeduper of
// DefaultDedupeCapacity ids per process, for example with one that several instances
// of your server share. nil keeps the default.
func WithDeduper(d Deduper) HandlerOption {
	return func(c *handlerConfig) { c.dedupe = d }
}

// WithErrorHandler sets a function told why a delivery was not answered with 200: a
// verification or parse error (400), or a failed claim, callback error, callback panic
// or failed release (500). Use it to log; it runs before the answer is written, so
// keep it quick. The errors never contain a signature, a secret or the body.
func WithErrorHandler(fn func(ctx context.Context, err error)) HandlerOption {
	return func(c *handlerConfig) { c.onError = fn }
}

// NewWebhookHandler returns a handler that verifies deliveries with v. Register
// functions with On and OnShareToken, then mount it on the URL you gave Persona.
// A nil v makes every POST answer 500.
func NewWebhookHandler(v *Verifier, opts ...HandlerOption) *WebhookHandler {
	var cfg handlerConfig
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if cfg.dedupe == nil {
		cfg.dedupe = NewMemoryDeduper(DefaultDedupeCapacity)
	}
	return &WebhookHandler{
		v:       v,
		dedupe:  cfg.dedupe,
		onError: cfg.onError,
		fns:     make(map[EventName]func(context.Context, *Event) error),
		running: make(map[string]bool),
	}
}

// On registers fn for events named name, replacing any function registered for that
// name before; a nil fn removes the registration. fn receives the request's context.
// Its error (or panic) makes the handler answer 500 so that Persona retries.
func (h *WebhookHandler) On(name EventName, fn func(context.Context, *Event) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if fn == nil {
		delete(h.fns, name)
		return
	}
	h.fns[name] = fn
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
	if h.v == nil {
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
		h.fail(ctx, w, http.StatusBadRequest, fmt.Errorf("connect: read webhook body: %w", err))
		return
	}
	ev, err := h.v.ConstructEvent(body, header)
	if err != nil {
		h.fail(ctx, w, http.StatusBadRequest, err)
		return
	}

	h.mu.RLock()
	fn := h.fns[ev.Name]
	h.mu.RUnlock()
	if fn == nil {
		// Not claimed on purpose: claiming would spend a dedupe slot, and would make a
		// redelivery that arrives after the name is registered do nothing.
		w.WriteHeader(http.StatusOK)
		return
	}

	if !h.startRun(ev.ID) {
		h.fail(ctx, w, http.StatusConflict, fmt.Errorf("connect: event %s is already being handled", ev.ID))
		return
	}
	defer h.endRun(ev.ID) // after any Release below: see running

	claimed, err := h.dedupe.Claim(ctx, ev.ID)
	if err != nil {
		h.fail(ctx, w, http.StatusInternalServerError, wrapError("claim event "+ev.ID, err))
		return
	}
	if !claimed {
		w.WriteHeader(http.StatusOK) // a duplicate: the first delivery runs (or ran) it
		return
	}
	if err := h.dispatch(ctx, fn, ev); err != nil {
		// The claim goes back even when the client has gone: Release gets a context
		// that keeps the request's values but not its cancellation.
		if rerr := h.dedupe.Release(context.WithoutCancel(ctx), ev.ID); rerr != nil {
			err = errors.Join(err, wrapError("release event "+ev.ID, rerr))
		}
		h.fail(ctx, w, http.StatusInternalServerError, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// startRun marks id as running here; false when it already is.
func (h *WebhookHandler) startRun(id string) bool {
	h.runMu.Lock()
	defer h.runMu.Unlock()
	if h.running[id] {
		return false
	}
	h.running[id] = true
	return true
}

func (h *WebhookHandler) endRun(id string) {
	h.runMu.Lock()
	defer h.runMu.Unlock()
	delete(h.running, id)
}

// dispatch runs fn, turning a panic into an error so that the claim is released and
// Persona retries. http.ErrAbortHandler is re-raised after the release, since it is
// how a handler asks net/http to drop the connection on purpose.
func (h *WebhookHandler) dispatch(ctx context.Context, fn func(context.Context, *Event) error, ev *Event) (err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			_ = h.dedupe.Release(context.WithoutCancel(ctx), ev.ID)
			panic(p)
		}
		err = fmt.Errorf("connect: webhook function for %s (event %s) panicked: %v", ev.Name, ev.ID, p)
	}()
	if err := fn(ctx, ev); err != nil {
		return wrapError(fmt.Sprintf("webhook function for %s (event %s)", ev.Name, ev.ID), err)
	}
	return nil
}

// fail reports err and answers status with a fixed text.
func (h *WebhookHandler) fail(ctx context.Context, w http.ResponseWriter, status int, err error) {
	if h.onError != nil {
		h.onError(ctx, err)
	}
	msg := http.StatusText(status)
	if status == http.StatusBadRequest {
		msg = "invalid webhook delivery"
	}
	http.Error(w, msg, status)
}
