// Command quickstart runs Persona Connect end to end on connecttest, the in-memory
// Persona that ships with this module: no account, no network, no flags.
//
// A source organization shares a completed inquiry with a destination organization.
// connect.AutoShare creates the share token when the inquiry completes and
// connect.AutoRedeem redeems it on arrival: the code version of Persona's Workflows.
// The source waits for the redemption. Both print what they saw:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run is the whole quickstart; it returns once both sides have seen the redemption.
// tl prints one line per thing a side saw; the webhook goroutines call it too.
func run(ctx context.Context, w io.Writer) error {
	var mu sync.Mutex
	start := time.Now()
	tl := func(side, format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "%6.3fs  %-11s  %s\n", time.Since(start).Seconds(), side, fmt.Sprintf(format, args...))
	}

	persona := connecttest.NewServer()
	defer persona.Close()
	source := persona.NewOrganization("Acme Bank")
	dest := persona.NewOrganization("Beta Lending")
	cxn := persona.CreateConnection(source, dest)
	tl("setup", "fake Persona at %s: %s shares with %s over %s", persona.URL, source.Name, dest.Name, cxn)

	srcClient, srcErr := connect.New(source.APIKey, connect.WithBaseURL(persona.URL), connect.WithPollInterval(20*time.Millisecond))
	dstClient, dstErr := connect.New(dest.APIKey, connect.WithBaseURL(persona.URL))
	if err := errors.Join(srcErr, dstErr); err != nil {
		return err
	}

	// Each organization has a webhook endpoint on loopback, to which connecttest
	// delivers as Persona would. The channels (with room for retries) carry what run
	// waits for, so the timeline is complete when it returns.
	shared, redeemed, sourceSaw := make(chan *connect.ShareToken, 8), make(chan *connect.ShareToken, 8), make(chan *connect.ShareToken, 8)

	// The destination redeems every token it is offered: Persona's auto-redeem Workflow.
	dstHandler, err := webhookEndpoint(persona, dest, func(h *connect.WebhookHandler) error {
		return connect.AutoRedeem(h, dstClient, connect.AutoRedeemConfig{
			Params: func(ctx context.Context, tok *connect.ShareToken) (connect.RedeemShareTokenParams, error) {
				tl("destination", "%s: %s is %s, redeeming it (clone)", connect.EventShareTokenInboundCreated, tok.ID, tok.Status)
				return connect.RedeemShareTokenParams{}, nil // clone; a DestinationID hydrates
			},
			Accepted: func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) {
				tl("destination", "redeem accepted: %s is %s", tok.ID, tok.Status)
			},
			Redeemed: func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
				tl("destination", "%s: %s is %s into %s", ev.Name, tok.ID, tok.Status, refID(tok.Destination))
				redeemed <- tok
				return nil
			},
		})
	})
	if err != nil {
		return err
	}
	defer dstHandler.Close()

	// The source shares every completed inquiry: Persona's "create a share token when
	// an inquiry completes" Workflow. Its share-token events are printed.
	srcHandler, err := webhookEndpoint(persona, source, func(h *connect.WebhookHandler) error {
		printEvent := func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
			tl("source", "%s: %s is %s", ev.Name, tok.ID, tok.Status)
			if ev.Name == connect.EventShareTokenOutboundRedeemed {
				sourceSaw <- tok
			}
			return nil
		}
		h.OnShareToken(connect.EventShareTokenOutboundCreated, printEvent)
		h.OnShareToken(connect.EventShareTokenOutboundRedeemed, printEvent)
		return connect.AutoShare(h, srcClient, connect.AutoShareConfig{
			ConnectionID: cxn,
			Shared: func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
				tl("source", "created %s for %s, status %s", tok.ID, refID(tok.Source), tok.Status)
				shared <- tok // a real source may also send tok.ID to the partner here
				return nil
			},
		})
	})
	if err != nil {
		return err
	}
	defer srcHandler.Close()

	inq := persona.CreateInquiry(source) // an end user completes an inquiry: inquiry.completed
	tok, err := await(ctx, shared, "the source to share the inquiry")
	if err != nil {
		return err
	}
	final, err := srcClient.ShareTokens.Wait(ctx, tok.ID)
	if err != nil {
		return err
	}
	tl("source", "Wait returned: %s is %s", final.ID, final.Status)
	if final.Status != connect.ShareTokenRedeemed {
		return fmt.Errorf("share token ended %s (%s)", final.Status, final.FailureReason)
	}
	got, err := await(ctx, redeemed, "the destination to see the redemption")
	if err == nil {
		_, err = await(ctx, sourceSaw, "the source to see the redemption")
	}
	if err != nil {
		return err
	}
	tl("done", "%s shared %s with %s as %s", source.Name, inq, dest.Name, refID(got.Destination))
	return nil
}

// await receives from c, or fails saying what it waited for once ctx ends.
func await(ctx context.Context, c chan *connect.ShareToken, what string) (*connect.ShareToken, error) {
	select {
	case tok := <-c:
		return tok, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
	}
}

// refID is a relationship's id, or "(none)" when the relationship is absent.
func refID(r *connect.Ref) string {
	if r == nil {
		return "(none)"
	}
	return r.Type + " " + r.ID
}

// webhookEndpoint starts a loopback HTTP server for org's webhooks, registers it with
// the fake, and lets register add the functions. The mux is filled in after the fake
// issues the secret, which the verifier needs.
func webhookEndpoint(persona *connecttest.Server, org *connecttest.Organization, register func(*connect.WebhookHandler) error) (*httptest.Server, error) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	secret := persona.AddWebhook(org, srv.URL+"/webhooks/persona")
	verifier, err := connect.NewVerifier([]string{secret})
	if err == nil {
		h := connect.NewWebhookHandler(verifier)
		if err = register(h); err == nil {
			mux.Handle("/webhooks/persona", h)
			return srv, nil
		}
	}
	srv.Close()
	return nil, err
}
