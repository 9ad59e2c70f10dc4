package connect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/persona-connect/connect-go/internal/retry"
)

// Persona's no-code Workflows create a share token when an inquiry completes and
// redeem it when it arrives. AutoShare and AutoRedeem do the same from a
// WebhookHandler, with the traps of doing it by hand (a key that survives Persona's
// retries, a redeem that arrives twice, a token someone already redeemed) handled.

// AutoShareConfig configures AutoShare: the partner that receives a share token of
// each inquiry, the events that trigger it, and what to do with each token.
//
// One event makes one token for each partner. The Idempotency-Key of every Create
// derives from the event id and ConnectionID, so all deliveries of one event (Persona's
// retries, a duplicate that reaches another replica, a replay) ask Persona for the same
// token and get the first one back; two AutoShare configs for two partners make two
// tokens. The key's derivation is part of this contract: it does not change between
// versions of this module.
//
// Persona keeps an idempotency key for 24 hours and replays what it answered first
// under it: the token, and also a 4xx or a 5xx (not a 401 or a 429). It retries a
// failing delivery for about 51 hours. So:
//   - within 24 hours of the first Create, a retry never makes a second token, but a
//     Create that failed (a 5xx, a 422 while the connection was inactive) fails the same
//     way on every retry: the token is made by Persona's last retry, about 51 hours
//     after the event, or by a replay of it after that;
//   - past 24 hours the key protects nothing. For an event more than 23 hours old
//     (by time.Now: connecttest's Advance does not make an event old), AutoShare first
//     lists the connection's tokens created since the event (one request per 100
//     tokens) and passes the newest one of the event's inquiry to Shared instead of
//     making another. A token of that inquiry over ConnectionID made by other means
//     (the Dashboard, your own Create) in that time is taken too.
//
// A service that must never share an inquiry twice, whatever happens, also records the
// token id against the inquiry in its own database from Shared: when another token is
// recorded already, it expires the new one (ShareTokensService.Expire) and returns nil
// without passing it on.
type AutoShareConfig struct {
	// ConnectionID (cxn_...) is the active connection to the partner that receives the
	// tokens. Required.
	ConnectionID string
	// On lists the inquiry events that share the inquiry, each an inquiry.* name, at
	// most once. nil means EventInquiryCompleted; an empty, non-nil list is refused.
	On []EventName
	// ExpiresIn is each token's time to live: 0 for Persona's default (14 days), else
	// whole seconds from 1 minute to 21 days.
	ExpiresIn time.Duration
	// Shared is called with each token, for example to send tok.ID to the partner's
	// API. Its error fails the delivery (500), Persona retries, and the retry's Create
	// returns the same token, so Shared is called again with it: make it safe to
	// repeat. nil does nothing more: the partner learns of the token from its own
	// connect/share-token.inbound-created webhook.
	Shared func(ctx context.Context, ev *Event, tok *ShareToken) error
}

// AutoShare registers on h, for each event of cfg.On, a function that creates a share
// token of the event's inquiry over cfg.ConnectionID with c, then calls cfg.Shared
// with it. c must be the source organization's client. See AutoShareConfig for what
// holds under Persona's retries.
//
// An event whose payload is not an inquiry is an error of the function: the delivery
// answers 500. Errors of Create and of Shared do the same, so Persona retries.
//
// AutoShare adds to what h runs: the functions of another AutoShare for another
// partner, or of AutoRedeem, for the same event all run, whatever each returns; a
// function registered before by On or OnShareToken runs after them, and only when they
// all succeeded, so that one which marks the event done in its own transaction
// (pgdedupe's CompleteTx) does so only once nothing else for the event can fail. The
// delivery fails when any of them fails, and the retry runs them all again. A later On
// or OnShareToken for the same name replaces them all. Mark the event done only from
// that function, never from Shared: another partner's function may still fail after it.
//
// A bad config is refused with an error wrapping ErrInvalidParams that names the
// field: a nil h or c, an empty or malformed ConnectionID, an empty or repeating On or
// a name in it that is not an inquiry.* event, an ExpiresIn that Create would refuse.
// Nothing is registered then.
func AutoShare(h *WebhookHandler, c *Client, cfg AutoShareConfig) error {
	if err := checkWorkflowArgs(h, c); err != nil {
		return err
	}
	if err := validateID("ConnectionID", cfg.ConnectionID, connectionPrefixes); err != nil {
		return err
	}
	names, err := inquiryEvents(cfg.On)
	if err != nil {
		return err
	}
	if err := validateTTL("ExpiresIn", cfg.ExpiresIn); err != nil {
		return err
	}
	s := &autoShare{tokens: c.ShareTokens, connectionID: cfg.ConnectionID, expiresIn: cfg.ExpiresIn, shared: cfg.Shared}
	for _, name := range names {
		addFunction(h, name, s.share)
	}
	return nil
}

// inquiryType is the JSON:API type of an inquiry, the only source AutoShare shares.
const inquiryType = "inquiry"

// errNotInquiry is the error of AutoShare's function for other payloads.
var errNotInquiry = errors.New("connect: event payload is not an inquiry")

// keyReplayWindow is how long Persona replays the answer stored under an
// Idempotency-Key (API-NOTES, "Idempotency and rate limits"). AutoShare looks for an
// existing token an hour before it ends: the margin covers clock skew between this
// host and Persona, and the seconds between an event and its first Create.
const (
	keyReplayWindow = 24 * time.Hour
	lookupAfter     = keyReplayWindow - time.Hour
)

// inquiryEvents validates AutoShareConfig.On and applies its default.
func inquiryEvents(on []EventName) ([]EventName, error) {
	if on == nil {
		return []EventName{EventInquiryCompleted}, nil
	}
	if len(on) == 0 {
		return nil, invalidParam("On", "must not be empty (nil for inquiry.completed)")
	}
	seen := make(map[EventName]bool, len(on))
	for i, name := range on {
		field := fmt.Sprintf("On[%d]", i)
		rest, ok := strings.CutPrefix(string(name), "inquiry.")
		if !ok || rest == "" || hasControl(rest) || strings.IndexFunc(rest, unicode.IsSpace) >= 0 {
			return nil, invalidParam(field, fmt.Sprintf("must be an inquiry.* event name, not %.60q", name))
		}
		if seen[name] {
			return nil, invalidParam(field, "repeats "+string(name))
		}
		seen[name] = true
	}
	return append([]EventName(nil), on...), nil
}

// autoShare is one AutoShare registration.
type autoShare struct {
	tokens       *ShareTokensService
	connectionID string
	expiresIn    time.Duration
	shared       func(context.Context, *Event, *ShareToken) error
}

// share is the function AutoShare registers.
func (s *autoShare) share(ctx context.Context, ev *Event) error {
	if ev.ID == "" {
		// The key derives from the id: without one, unrelated events would share a key.
		return invalidParam("event id", "must not be empty")
	}
	if ev.Object.Type != inquiryType {
		return fmt.Errorf("%w: event %s is about a %.40q", errNotInquiry, ev.ID, ev.Object.Type)
	}
	if err := validateID("payload inquiry id", ev.Object.ID, []string{"inq_"}); err != nil {
		return wrapError("auto-share event "+ev.ID, err)
	}
	// The inquiry id and the token's id are Persona's text, quoted escaped in the
	// errors below (errors.go, printable): validateID lets a format character such as
	// a bidi override through.
	inq := printable(ev.Object.ID)
	var tok *ShareToken
	if !ev.CreatedAt.IsZero() && time.Since(ev.CreatedAt) > lookupAfter {
		found, err := s.madeSince(ctx, ev)
		if err != nil {
			return wrapError(fmt.Sprintf("auto-share %s over %s: look for a token made since event %s", inq, s.connectionID, ev.ID), err)
		}
		tok = found
	}
	if tok == nil {
		made, err := s.tokens.Create(ctx, CreateShareTokenParams{
			ConnectionID: s.connectionID,
			SourceID:     ev.Object.ID,
			ExpiresIn:    s.expiresIn,
		}, WithIdempotencyKey(autoShareKey(ev.ID, s.connectionID)))
		if err != nil {
			what := fmt.Sprintf("auto-share %s over %s", inq, s.connectionID)
			if storedAnswer(err) {
				// Said, or a "Connection is not active" replayed after the connection
				// came back reads as a lie in the log.
				what += " (Persona replays this answer to the event's Idempotency-Key until 24 hours after its first Create)"
			}
			return wrapError(what, err)
		}
		tok = made
	}
	if s.shared == nil {
		return nil
	}
	if err := s.shared(ctx, ev, tok); err != nil {
		return wrapError(fmt.Sprintf("auto-share %s over %s: Shared(%s)", inq, s.connectionID, printable(tok.ID)), err)
	}
	return nil
}

// storedAnswer reports whether err is an answer of Persona's that its idempotency
// layer stores for the key and replays (retry.Stored), rather than a failure that left
// the outcome unknown; but not a 409, which under a key every replica derives may be
// another replica's Create still in flight under it.
func storedAnswer(err error) bool {
	var apiErr *APIError
	if errors.Is(err, ErrOutcomeUnknown) || !errors.As(err, &apiErr) {
		return false
	}
	return retry.Stored(apiErr.StatusCode) && apiErr.StatusCode != http.StatusConflict
}

// madeSince returns a token of the event's inquiry over the connection created at or
// after the event, or nil. List is newest first, so it stops at the first older token.
func (s *autoShare) madeSince(ctx context.Context, ev *Event) (*ShareToken, error) {
	params := &ListShareTokensParams{ConnectionID: s.connectionID, Direction: Outbound, PageSize: maxPageSize}
	for tok, err := range s.tokens.List(ctx, params) {
		if err != nil {
			return nil, err
		}
		if tok.CreatedAt.Before(ev.CreatedAt) {
			return nil, nil
		}
		if tok.Source != nil && tok.Source.ID == ev.Object.ID {
			return tok, nil
		}
	}
	return nil, nil
}

// autoShareKey is the Idempotency-Key of AutoShare's Create for one event and one
// connection. A connection id holds no NUL (validateID), so the hashed input cannot
// be read two ways.
func autoShareKey(eventID, connectionID string) string {
	sum := sha256.Sum256([]byte(eventID + "\x00" + connectionID))
	return "connect-go-autoshare-v1-" + hex.EncodeToString(sum[:16])
}

// AutoRedeemConfig configures AutoRedeem.
type AutoRedeemConfig struct {
	// Params returns the parameters of the redeem of tok: the zero value clones, a
	// DestinationID hydrates that object (with FieldMappings if you need them). Its
	// error fails the delivery (500) and Persona retries. nil clones every token.
	Params func(ctx context.Context, tok *ShareToken) (RedeemShareTokenParams, error)
	// Accepted is called with the pending token when Persona accepts a redeem (202).
	// Persona refuses a redeem while the token is pending or redeemed, so it runs once
	// per redemption across all deliveries and replicas, unless the answer to that
	// redeem was lost (then a retry finds the token pending and calls nothing). A
	// failed redemption sends no event: follow the token from here
	// (ShareTokensService.Wait, on your own queue) when you need to know. It has no
	// error to return since the redemption has started either way. nil does nothing.
	Accepted func(ctx context.Context, ev *Event, tok *ShareToken)
	// Redeemed is called on connect/share-token.inbound-redeemed with the redeemed
	// token (tok.Destination is the object it made or hydrated). Its error fails the
	// delivery and Persona retries, so make it safe to repeat. As with AutoShare's
	// Shared, mark the event done in your own transaction (pgdedupe's CompleteTx) from
	// a function registered with On for that event before AutoRedeem (a later On
	// replaces the workflow's), which runs once Redeemed has succeeded, not from
	// Redeemed. nil registers nothing for that event.
	Redeemed func(ctx context.Context, ev *Event, tok *ShareToken) error
	// Unredeemable is called with the token, as Get read it back, when Persona refused
	// the redeem because the token is expired or failed. No retry could change that,
	// so the event then counts as done, and Replay goes on past it, instead of failing
	// every delivery until Persona gives up. nil hands the refusal to the handler's
	// error handler (WithErrorHandler) instead.
	Unredeemable func(ctx context.Context, ev *Event, tok *ShareToken)
}

// AutoRedeem registers on h a function that redeems, with c, every token announced by
// connect/share-token.inbound-created, and, when cfg.Redeemed is set, one that calls
// it on connect/share-token.inbound-redeemed. c must be the destination
// organization's client.
//
// A redeem that Persona refuses with 409 or 422 counts as done only when the token
// turns out, read back with Get, to be pending or redeemed already: an earlier
// delivery whose answer was lost, another replica, a Workflow or a redeem by hand got
// there first. A token read back expired or failed can never be redeemed: it goes to
// cfg.Unredeemable, and the event counts as done. Any other refusal (the connection is
// not active, the hydrate target is wrong) is an error: the delivery answers 500 and
// Persona retries. Each redeem goes out under a fresh Idempotency-Key on purpose:
// Persona replays a stored 5xx for 24 hours, so a key fixed per token would turn one
// server error into a day of failures, and the token's own status already makes a
// second redeem harmless.
//
// Redemption is asynchronous: cfg.Accepted hears of it when it starts, and
// inbound-redeemed follows when it succeeds; a failed redemption sends no event.
//
// Like AutoShare, it adds to what h runs for those events. A nil h or c is refused
// with an error wrapping ErrInvalidParams, and nothing is registered.
func AutoRedeem(h *WebhookHandler, c *Client, cfg AutoRedeemConfig) error {
	if err := checkWorkflowArgs(h, c); err != nil {
		return err
	}
	r := &autoRedeem{tokens: c.ShareTokens, params: cfg.Params, accepted: cfg.Accepted, redeemed: cfg.Redeemed}
	r.unredeemable = func(ctx context.Context, ev *Event, tok *ShareToken, refused error) {
		if cfg.Unredeemable != nil {
			cfg.Unredeemable(ctx, ev, tok)
		} else {
			h.report(ctx, refused)
		}
	}
	addFunction(h, EventShareTokenInboundCreated, r.redeem)
	if cfg.Redeemed != nil {
		addFunction(h, EventShareTokenInboundRedeemed, r.notify)
	}
	return nil
}

// autoRedeem is one AutoRedeem registration.
type autoRedeem struct {
	tokens   *ShareTokensService
	params   func(context.Context, *ShareToken) (RedeemShareTokenParams, error)
	accepted func(context.Context, *Event, *ShareToken)
	redeemed func(context.Context, *Event, *ShareToken) error
	// unredeemable hears of a token that expired or failed first (cfg.Unredeemable,
	// or the handler's error handler).
	unredeemable func(context.Context, *Event, *ShareToken, error)
}

// redeem is the function AutoRedeem registers for inbound-created.
func (r *autoRedeem) redeem(ctx context.Context, ev *Event) error {
	tok, err := ev.ShareToken()
	if err != nil {
		return err
	}
	// The id and the status are Persona's text, quoted escaped in the errors below
	// (errors.go, printable): Redeem refuses an id with a line break, but its error
	// would have quoted it as it came.
	id := printable(tok.ID)
	var params RedeemShareTokenParams
	if r.params != nil {
		if params, err = r.params(ctx, tok); err != nil {
			return wrapError("auto-redeem "+id+": Params", err)
		}
	}
	pending, err := r.tokens.Redeem(ctx, tok.ID, params)
	switch {
	case err == nil:
		if r.accepted != nil {
			r.accepted(ctx, ev, pending)
		}
		return nil
	case !errors.Is(err, ErrConflict) && !errors.Is(err, ErrUnprocessable):
		return wrapError("auto-redeem "+id, err)
	}
	// The status code alone does not say why: a 422 also answers a connection that is
	// not active. The token's status does.
	now, gerr := r.tokens.Get(ctx, tok.ID)
	if gerr != nil {
		return wrapError(fmt.Sprintf("auto-redeem %s (reading it back failed too: %s)", id, strings.TrimPrefix(gerr.Error(), "connect: ")), err)
	}
	refused := wrapError(fmt.Sprintf("auto-redeem %s (status %s)", id, printable(string(now.Status))), err)
	switch now.Status {
	case ShareTokenPending, ShareTokenRedeemed:
		return nil
	case ShareTokenExpired, ShareTokenFailed:
		r.unredeemable(ctx, ev, now, refused)
		return nil
	}
	return refused
}

// notify is the function AutoRedeem registers for inbound-redeemed.
func (r *autoRedeem) notify(ctx context.Context, ev *Event) error {
	tok, err := ev.ShareToken()
	if err != nil {
		return err
	}
	if err := r.redeemed(ctx, ev, tok); err != nil {
		return wrapError("auto-redeem "+printable(tok.ID)+": Redeemed", err)
	}
	return nil
}

// checkWorkflowArgs refuses a nil handler or client.
func checkWorkflowArgs(h *WebhookHandler, c *Client) error {
	if h == nil {
		return invalidParam("handler", "must not be nil")
	}
	if c == nil || c.ShareTokens == nil {
		return invalidParam("client", "must not be nil (use New)")
	}
	return nil
}

// registration is what a WebhookHandler runs for one event name: the function of On
// or OnShareToken, and those the workflows added.
type registration struct {
	own       func(context.Context, *Event) error
	workflows []func(context.Context, *Event) error
}

// run runs every workflow function, whatever each returns, so that one partner's
// failure does not hold back another's share; then, only when they all succeeded, own.
// own comes last because it may mark the event done in its own transaction
// (pgdedupe's CompleteTx): run before a workflow function that then failed, it would
// have made the retry find the event done and skip that function for good.
func (r registration) run(ctx context.Context, ev *Event) error {
	errs := make([]error, 0, len(r.workflows))
	for _, fn := range r.workflows {
		errs = append(errs, fn(ctx, ev))
	}
	if err := errors.Join(errs...); err != nil || r.own == nil {
		return err
	}
	return r.own(ctx, ev)
}

// addFunction adds a workflow's fn to what h runs for name (registration.run).
func addFunction(h *WebhookHandler, name EventName, fn func(context.Context, *Event) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.regs[name]
	r.workflows = append(slices.Clip(r.workflows), fn)
	h.regs[name] = r
}
