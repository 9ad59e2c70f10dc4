package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// handlerBudget bounds the work of one delivery, Create and push together: Persona
// counts a delivery as failed when no 2xx arrives within 5 seconds.
const handlerBudget = 4 * time.Second

// backend is the source organization's service: when an end user completes an
// inquiry, it creates a share token over the connection to the partner and pushes the
// token id to the partner's own API.
type backend struct {
	client       *connect.Client
	connectionID string       // cxn_...: which partner receives the inquiries
	shareURL     string       // the destination's POST /share-tokens
	hc           *http.Client // for the push
	log          func(format string, args ...any)
}

// webhookHandler is Persona's webhook endpoint, verified with v.
func (b *backend) webhookHandler(v *connect.Verifier, opts ...connect.HandlerOption) http.Handler {
	opts = append([]connect.HandlerOption{connect.WithErrorHandler(func(_ context.Context, err error) {
		// These errors never carry a signature, a secret or the body: safe to print.
		b.log("webhook delivery not answered 200: %v", err)
	})}, opts...)
	h := connect.NewWebhookHandler(v, opts...)
	h.On(connect.EventInquiryCompleted, b.onInquiryCompleted)
	return h
}

// onInquiryCompleted shares the completed inquiry with the partner. An error answers
// the delivery 500, so Persona delivers it again; that is safe because of the
// idempotency key below.
func (b *backend) onInquiryCompleted(ctx context.Context, ev *connect.Event) error {
	if ev.Object.Type != "inquiry" || !strings.HasPrefix(ev.Object.ID, "inq_") {
		b.log("%s %s is about %s %s, not an inquiry: ignored", ev.Name, ev.ID, ev.Object.Type, ev.Object.ID)
		return nil
	}
	// A real service would check here that the end user agreed to share with this
	// partner; CONNECTION_ID names the partner.
	ctx, cancel := context.WithTimeout(ctx, handlerBudget)
	defer cancel()

	// The key is derived from the event id, so every delivery of this event asks for
	// the same token: when Persona redelivers it (our 500, a timeout, or its own at
	// least once delivery), after the handler's dedupe has forgotten it or after a
	// restart, Create replays the first answer instead of making a second token.
	// Persona keeps a key 24 hours while it retries a failing delivery for about two
	// days: a service that must never share twice also records the token id against
	// the inquiry in its own database. The price of a fixed key: Persona stores a 5xx
	// under it too, so after a server error on Create the retries within those 24
	// hours replay that 5xx, and the token is made by a retry after the key expires
	// (Persona's 7th, about 51 hours in). A service that cannot wait that long keeps
	// the key in its database and picks a new one after a 5xx.
	tok, err := b.client.ShareTokens.Create(ctx, connect.CreateShareTokenParams{
		ConnectionID: b.connectionID,
		SourceID:     ev.Object.ID,
	}, connect.WithIdempotencyKey("share-"+ev.ID))
	if err != nil {
		if permanent(err) {
			// Persona stored this answer under the key: a retry would only replay it.
			b.log("%s: not shared: %v", ev.Object.ID, err)
			return nil
		}
		return err
	}
	b.log("%s %s: created %s for %s, status %s", ev.Name, ev.ID, tok.ID, ev.Object.ID, tok.Status)

	if err := b.push(ctx, tok.ID); err != nil {
		// Persona redelivers the event; Create then returns this same token and the
		// push is tried again. The destination redeems a token once however many
		// times it arrives.
		return fmt.Errorf("push %s: %w", tok.ID, err)
	}
	return nil
}

// permanent reports whether a Create error will not go away by asking again: the
// request itself is wrong (400), the inquiry or connection is not there (404), or
// Persona refused the action (409, 422; e.g. the connection is not active). 401, 403,
// 429, 5xx and network errors may pass: the delivery is retried.
func permanent(err error) bool {
	for _, target := range []error{connect.ErrInvalidParams, connect.ErrBadRequest, connect.ErrNotFound, connect.ErrConflict, connect.ErrUnprocessable} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// push sends {"share_token_id": id} to the destination's API. A refusal (4xx) is
// logged and not retried; a 5xx, 408, 429 or network error is returned.
func (b *backend) push(ctx context.Context, id string) error {
	body, err := json.Marshal(map[string]string{"share_token_id": id})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.shareURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // only to reuse the connection
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		b.log("pushed %s to the destination: %s", id, resp.Status)
		return nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		// Our body is as valid as it will ever be: sending it again cannot help.
		b.log("pushed %s to the destination: %s, refused; not retried", id, resp.Status)
		return nil
	default:
		return fmt.Errorf("the destination answered %s", resp.Status)
	}
}
