package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// Where a share token id came from.
const (
	viaAPI     = "api"     // the source pushed it to POST /share-tokens
	viaWebhook = "webhook" // Persona's connect/share-token.inbound-created
)

// outcome is what the backend learned about a token, as it reports it.
type outcome string

// Outcomes. The first group is final for the token; the rest are steps on the way.
const (
	outcomeRedeemed outcome = "redeemed"
	outcomeFailed   outcome = "failed"
	outcomeExpired  outcome = "expired"
	outcomeRefused  outcome = "refused"  // Persona would not redeem it, for a reason other than expiry
	outcomeNotOurs  outcome = "not ours" // no such token, or not one of our connections'
	outcomeGaveUp   outcome = "gave up"  // the wait ended before the token did

	outcomeArrived   outcome = "arrived"
	outcomeDuplicate outcome = "duplicate" // pending or redeemed already: nothing to do
	outcomeRedeeming outcome = "redeeming"
	outcomeRetry     outcome = "will retry"      // a transient error: the sender should try again
	outcomeNotified  outcome = "notified"        // connect/share-token.inbound-redeemed arrived
	outcomeBadHook   outcome = "webhook refused" // a delivery that was not answered 200
)

// final reports whether o ends the backend's work on a token.
func (o outcome) final() bool {
	switch o {
	case outcomeRedeemed, outcomeFailed, outcomeExpired, outcomeRefused, outcomeNotOurs, outcomeGaveUp:
		return true
	}
	return false
}

// note is one line of the backend's report. Object is the destination object of a
// redeemed token; Detail says why, in words.
type note struct {
	Token   string
	Via     string // viaAPI, viaWebhook, or "" for the background wait
	Outcome outcome
	Object  *connect.Ref
	Detail  string
}

// backend is the destination organization's service. Persona's webhook announces
// each token (connect/share-token.inbound-created) and connect.AutoRedeem redeems it;
// the source may also push a token id to our own API, and that path redeems it too.
//
// A token that arrives both ways, or twice either way, is redeemed once, and the
// backend keeps no list of its own to make sure: Persona refuses a second redeem, and
// the refusal is read back from the token's status, which every instance of the
// service sees alike. Deliveries of one webhook event are told apart by the handler's
// Deduper. Every redemption the backend starts, by either path, is followed to its
// end in the background: a failed one sends no event.
type backend struct {
	client      *connect.Client
	redeem      connect.RedeemShareTokenParams // zero: clone; DestinationID set: hydrate
	waitTimeout time.Duration
	report      func(note) // called from request goroutines and waits: must be safe for that

	bg context.Context // run's context: the background waits end with it
	wg sync.WaitGroup  // the background waits

	mu       sync.Mutex
	closed   bool
	watching map[string]bool // tokens a background wait follows: one wait per token
}

// redeemTimeout bounds the Redeem call of the API path: the source waits for our
// answer, and a late one only wastes its retry.
const redeemTimeout = 4 * time.Second

func newBackend(bg context.Context, client *connect.Client, redeem connect.RedeemShareTokenParams, waitTimeout time.Duration, report func(note)) *backend {
	return &backend{client: client, redeem: redeem, waitTimeout: waitTimeout, report: report, bg: bg, watching: map[string]bool{}}
}

// mountAPI adds the partner API on which a source pushes share token ids.
func (b *backend) mountAPI(mux *http.ServeMux) {
	mux.HandleFunc("POST /share-tokens", b.serveShareToken)
}

// mountWebhook adds Persona's webhook endpoint, verified with v. dedupe remembers the
// events handled: with several instances of the service, pass each the same one (a
// Deduper on a database they share) so that a retry reaching another instance is not
// run twice.
func (b *backend) mountWebhook(mux *http.ServeMux, v *connect.Verifier, dedupe connect.Deduper) error {
	h := connect.NewWebhookHandler(v, connect.WithDeduper(dedupe), connect.WithErrorHandler(func(_ context.Context, err error) {
		// These errors never carry a signature or a secret: safe to print.
		b.report(note{Via: viaWebhook, Outcome: outcomeBadHook, Detail: err.Error()})
	}))
	err := connect.AutoRedeem(h, b.client, connect.AutoRedeemConfig{
		Params: func(_ context.Context, tok *connect.ShareToken) (connect.RedeemShareTokenParams, error) {
			b.report(note{Token: tok.ID, Via: viaWebhook, Outcome: outcomeArrived})
			return b.redeem, nil
		},
		Accepted: func(_ context.Context, _ *connect.Event, tok *connect.ShareToken) {
			b.report(note{Token: tok.ID, Via: viaWebhook, Outcome: outcomeRedeeming, Detail: "redeem accepted (" + string(tok.RedeemMode) + ")"})
			b.watch(tok.ID) // a failed redemption sends no event: only the wait sees it
		},
		Redeemed: func(_ context.Context, _ *connect.Event, tok *connect.ShareToken) error {
			b.report(note{Token: tok.ID, Via: viaWebhook, Outcome: outcomeNotified, Object: tok.Destination, Detail: string(tok.Status)})
			return nil
		},
		// The token expired, or an earlier redemption failed, before this delivery:
		// the event is done (answered 200) and this is the token's end. Left nil, the
		// refusal would go to the error handler above as a delivery "not answered
		// 200", with no token named, and the token would never be reported.
		Unredeemable: func(_ context.Context, _ *connect.Event, tok *connect.ShareToken) {
			b.unredeemable(tok, viaWebhook)
		},
	})
	if err != nil {
		return err
	}
	mux.Handle("POST /webhooks/persona", h)
	return nil
}

// shareTokenID is what a share token id looks like; anything else is refused before
// it reaches Persona.
var shareTokenID = regexp.MustCompile(`^cnst_[A-Za-z0-9]{1,64}$`)

// serveShareToken is POST /share-tokens {"share_token_id": "cnst_..."}: 400 for a body
// that is not that, 202 once the token is in hand (also when it turns out to be
// expired or not ours: that is reported here, and the source can do nothing about
// it), 502 when Persona could not be asked (the source should push again later).
//
// A production API would also authenticate the caller (the partner's key, mTLS).
// Without it the worst a stranger can do is make us redeem early a token that is ours
// anyway, but they can spend our Persona rate limit.
func (b *backend) serveShareToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ShareTokenID string `json:"share_token_id"`
	}
	// Unknown members are ignored, so the source may add some without breaking us.
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
	if err := dec.Decode(&req); err != nil || dec.Decode(&struct{}{}) != io.EOF {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be {\"share_token_id\": \"cnst_...\"}"})
		return
	}
	if !shareTokenID.MatchString(req.ShareTokenID) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "share_token_id must be a cnst_ id"})
		return
	}
	if err := b.accept(r.Context(), req.ShareTokenID); err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "could not reach Persona; push the token again later"})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"share_token_id": req.ShareTokenID})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client may be gone
}

// accept redeems a token id pushed to the API. It returns an error only when the
// source should push the id again.
func (b *backend) accept(ctx context.Context, id string) error {
	b.report(note{Token: id, Via: viaAPI, Outcome: outcomeArrived})
	rctx, cancel := context.WithTimeout(ctx, redeemTimeout)
	defer cancel()
	tok, err := b.client.ShareTokens.Redeem(rctx, id, b.redeem)
	switch {
	case err == nil:
		b.report(note{Token: id, Via: viaAPI, Outcome: outcomeRedeeming, Detail: "redeem accepted (" + string(tok.RedeemMode) + ")"})
		b.watch(id)
		return nil
	case errors.Is(err, connect.ErrConflict), errors.Is(err, connect.ErrUnprocessable):
		// Persona will not start a redemption: the token is not `created`, or our
		// hydrate target is wrong. Retrying cannot help, so the source gets a success;
		// Get says why.
		b.explain(rctx, id, err)
		return nil
	case errors.Is(err, connect.ErrNotFound), errors.Is(err, connect.ErrForbidden):
		b.report(note{Token: id, Via: viaAPI, Outcome: outcomeNotOurs, Detail: "no such token on any of our connections"})
		return nil
	default:
		// A 5xx, a 429 after the SDK's retries, a network error or our timeout: the
		// source pushes again. Redeem uses a fresh idempotency key per call on purpose:
		// Persona replays a stored 5xx for 24 hours, so a fixed key per token would
		// turn one server error into a day of failures.
		b.report(note{Token: id, Via: viaAPI, Outcome: outcomeRetry, Detail: err.Error()})
		return err
	}
}

// explain reports why Persona refused to redeem id, from the token's status.
func (b *backend) explain(ctx context.Context, id string, redeemErr error) {
	tok, err := b.client.ShareTokens.Get(ctx, id)
	if err != nil {
		b.report(note{Token: id, Via: viaAPI, Outcome: outcomeRefused, Detail: redeemErr.Error()})
		return
	}
	switch tok.Status {
	case connect.ShareTokenExpired, connect.ShareTokenFailed:
		b.unredeemable(tok, viaAPI)
	case connect.ShareTokenPending:
		// Started by the webhook, another instance, a Workflow or an earlier push of
		// ours whose answer was lost. Nobody may be following it: a lost answer
		// reached no Accepted and no watch, and a failed redemption sends no event.
		// So it is followed here too; watch starts no second wait for a token this
		// instance already follows, so duplicate pushes cost nothing more.
		b.report(note{Token: id, Via: viaAPI, Outcome: outcomeDuplicate, Detail: "a redemption is already under way"})
		b.watch(id)
	case connect.ShareTokenRedeemed:
		b.report(note{Token: id, Via: viaAPI, Outcome: outcomeDuplicate, Detail: "redeemed already"})
		b.finish(tok, viaAPI, "")
	default:
		// Still created: the refusal is about the request (a hydrate target that is not
		// ours, a connection that is not active), and Persona's words say which.
		b.report(note{Token: id, Via: viaAPI, Outcome: outcomeRefused, Detail: redeemErr.Error()})
	}
}

// unredeemable reports tok, which arrived by via and which Persona would not redeem
// because it had expired or an earlier redemption of it had failed.
func (b *backend) unredeemable(tok *connect.ShareToken, via string) {
	if tok.Status == connect.ShareTokenExpired {
		b.finish(tok, via, "before we could redeem it")
		return
	}
	b.finish(tok, via, fmt.Sprintf("by an earlier redemption: %s", tok.FailureReason))
}

// watch follows a pending redemption in the background, bounded by waitTimeout, and
// reports how it ended. The request that started it has long been answered. A token
// already followed is not followed twice.
func (b *backend) watch(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return // shutting down: the token stays pending at Persona, nothing is lost
	}
	if b.watching[id] {
		return
	}
	b.watching[id] = true
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer func() {
			b.mu.Lock()
			delete(b.watching, id)
			b.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(b.bg, b.waitTimeout)
		defer cancel()
		tok, err := b.client.ShareTokens.Wait(ctx, id)
		if err != nil {
			b.report(note{Token: id, Outcome: outcomeGaveUp, Detail: "stopped waiting: " + err.Error()})
			return
		}
		b.finish(tok, "", "")
	}()
}

// finish reports a token that reached its end. detail, when set, replaces the usual
// words for a token that was not redeemed by us.
func (b *backend) finish(tok *connect.ShareToken, via, detail string) {
	n := note{Token: tok.ID, Via: via, Detail: detail}
	switch tok.Status {
	case connect.ShareTokenRedeemed:
		n.Outcome, n.Object = outcomeRedeemed, tok.Destination
		if n.Detail == "" {
			n.Detail = "by " + string(tok.RedeemMode)
		}
	case connect.ShareTokenFailed:
		n.Outcome = outcomeFailed
		if n.Detail == "" {
			n.Detail = string(tok.FailureReason)
		}
	case connect.ShareTokenExpired:
		n.Outcome = outcomeExpired
		if n.Detail == "" {
			n.Detail = "while we waited for it"
		}
	default:
		n.Outcome = outcomeRefused
		if n.Detail == "" {
			n.Detail = "ended " + string(tok.Status)
		}
	}
	b.report(n)
}

// close stops new background waits and waits for the running ones, which end when
// run's context does (or at their own timeout). Stop the HTTP server first.
func (b *backend) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.wg.Wait()
}

// resume follows every inbound token that is pending at Persona, at start: the
// redemptions an earlier process started and stopped following when it ended (a
// deploy, a crash), whose end no event would report if they fail. It follows those
// that others started too (another instance, a Workflow): each instance follows a
// token at most once, and the waits end with the tokens or at waitTimeout.
func (b *backend) resume(ctx context.Context) error {
	params := &connect.ListShareTokensParams{Status: connect.ShareTokenPending, Direction: connect.Inbound, PageSize: 100}
	for tok, err := range b.client.ShareTokens.List(ctx, params) {
		if err != nil {
			return fmt.Errorf("list the pending inbound share tokens: %w", err)
		}
		b.report(note{Token: tok.ID, Outcome: outcomeRedeeming, Detail: "pending at start"})
		b.watch(tok.ID)
	}
	return nil
}
