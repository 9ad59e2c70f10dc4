package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/examples/internal/demo"
)

// pushTimeout bounds the push to the partner: Persona counts a delivery as failed when
// no 2xx arrives within 5 seconds, and Create comes first.
const pushTimeout = 3 * time.Second

// backend is the source organization's service: when an end user completes an
// inquiry, it shares the inquiry with the partner and pushes the token id to the
// partner's own API.
type backend struct {
	client       *connect.Client
	connectionID string       // cxn_...: which partner receives the inquiries
	shareURL     string       // the destination's POST /share-tokens
	hc           *http.Client // for the push
	log          func(format string, args ...any)
}

func newBackend(client *connect.Client, connectionID, shareURL string, log func(format string, args ...any)) *backend {
	return &backend{client: client, connectionID: connectionID, shareURL: shareURL, hc: &http.Client{Timeout: pushTimeout}, log: log}
}

// webhookHandler is Persona's webhook endpoint, verified with v.
//
// AutoShare makes one token per inquiry.completed event, however often Persona
// delivers it and on whichever instance: the token's Idempotency-Key derives from the
// event id. A real service would check before sharing that the end user agreed to
// share with this partner, and, to be sure never to share twice past Persona's
// 24-hour key window, record the token id against the inquiry in its database (see
// connect.AutoShareConfig).
func (b *backend) webhookHandler(v *connect.Verifier, opts ...connect.HandlerOption) (http.Handler, error) {
	opts = append([]connect.HandlerOption{connect.WithErrorHandler(func(_ context.Context, err error) {
		// These errors never carry a signature, a secret or the body: safe to print.
		b.log("webhook delivery not answered 200: %v", err)
	})}, opts...)
	h := connect.NewWebhookHandler(v, opts...)
	if err := connect.AutoShare(h, b.client, connect.AutoShareConfig{ConnectionID: b.connectionID, Shared: b.push}); err != nil {
		return nil, err
	}
	return h, nil
}

// push is AutoShare's Shared: it sends {"share_token_id": id} to the destination's
// API. An error answers Persona 500; its retry hands push the same token, and the
// destination redeems a token once however many times it arrives. A refusal (4xx) is
// logged and not retried: the body is as valid as it will ever be.
func (b *backend) push(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
	b.log("%s %s: share token %s for %s, status %s", ev.Name, ev.ID, tok.ID, ev.Object.ID, tok.Status)
	resp, err := demo.PushShareToken(ctx, b.hc, b.shareURL, tok.ID)
	if err != nil {
		return err
	}
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		b.log("pushed %s to the destination: %s", tok.ID, resp.Status)
		return nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
		b.log("pushed %s to the destination: %s, refused; not retried", tok.ID, resp.Status)
		return nil
	default:
		return fmt.Errorf("push %s: the destination answered %s", tok.ID, resp.Status)
	}
}
