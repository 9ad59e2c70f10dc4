// Command quickstart runs Persona Connect end to end on connecttest, the in-memory
// Persona that ships with this module: no account, no network, no flags.
//
// A source organization shares a completed inquiry with a destination organization.
// The destination's webhook handler redeems every inbound share token as it arrives
// (the code version of Persona's auto-redeem Workflow); the source waits for the
// redemption. Both print what they saw:
//
//	go run ./examples/quickstart
package main

import (
	"context"
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

// timeline prints one line per thing a side saw, safe for the webhook goroutines.
type timeline struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (t *timeline) log(side, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "%6.3fs  %-11s  %s\n", time.Since(t.start).Seconds(), side, fmt.Sprintf(format, args...))
}

// run is the whole quickstart; it returns once both sides have seen the redemption.
func run(ctx context.Context, w io.Writer) error {
	tl := &timeline{w: w, start: time.Now()}

	persona := connecttest.NewServer()
	defer persona.Close()
	source := persona.NewOrganization("Acme Bank")
	dest := persona.NewOrganization("Beta Lending")
	cxn := persona.CreateConnection(source, dest)
	inq := persona.CreateInquiry(source)
	tl.log("setup", "fake Persona at %s: %s shares with %s over %s", persona.URL, source.Name, dest.Name, cxn)

	srcClient, err := connect.New(source.APIKey, connect.WithBaseURL(persona.URL), connect.WithPollInterval(20*time.Millisecond))
	if err != nil {
		return err
	}
	dstClient, err := connect.New(dest.APIKey, connect.WithBaseURL(persona.URL))
	if err != nil {
		return err
	}

	// Each organization runs its own webhook endpoint on loopback; connecttest signs
	// and delivers to them as Persona would. Each side reports the redeemed token on
	// its channel, so the timeline is complete before run returns.
	redeemed := make(chan *connect.ShareToken, 1)
	sourceSawRedeemed := make(chan struct{}, 1)
	dstHandler, err := webhookEndpoint(persona, dest, func(h *connect.WebhookHandler) {
		h.OnShareToken(connect.EventShareTokenInboundCreated, func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
			tl.log("destination", "%s: %s is %s, redeeming it (clone)", ev.Name, tok.ID, tok.Status)
			tok, err := dstClient.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{})
			if err != nil {
				return err // 500: Persona retries the delivery
			}
			tl.log("destination", "redeem accepted: %s is %s", tok.ID, tok.Status)
			return nil
		})
		h.OnShareToken(connect.EventShareTokenInboundRedeemed, func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
			tl.log("destination", "%s: %s is %s into %s", ev.Name, tok.ID, tok.Status, refID(tok.Destination))
			select {
			case redeemed <- tok:
			default:
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	defer dstHandler.Close()
	srcHandler, err := webhookEndpoint(persona, source, func(h *connect.WebhookHandler) {
		h.OnShareToken(connect.EventShareTokenOutboundCreated, func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
			tl.log("source", "%s: %s is %s", ev.Name, tok.ID, tok.Status)
			return nil
		})
		h.OnShareToken(connect.EventShareTokenOutboundRedeemed, func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
			tl.log("source", "%s: %s is %s", ev.Name, tok.ID, tok.Status)
			select {
			case sourceSawRedeemed <- struct{}{}:
			default:
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	defer srcHandler.Close()

	tok, err := srcClient.ShareTokens.Create(ctx, connect.CreateShareTokenParams{
		ConnectionID: cxn,
		SourceID:     inq,
		ExpiresIn:    24 * time.Hour,
	})
	if err != nil {
		return err
	}
	tl.log("source", "created %s for %s, status %s", tok.ID, refID(tok.Source), tok.Status)

	final, err := srcClient.ShareTokens.Wait(ctx, tok.ID)
	if err != nil {
		return err
	}
	tl.log("source", "Wait returned: %s is %s", final.ID, final.Status)
	if final.Status != connect.ShareTokenRedeemed {
		return fmt.Errorf("share token ended %s (%s)", final.Status, final.FailureReason)
	}
	var got *connect.ShareToken
	select {
	case got = <-redeemed:
	case <-ctx.Done():
		return fmt.Errorf("destination never saw the redemption: %w", ctx.Err())
	}
	select {
	case <-sourceSawRedeemed:
	case <-ctx.Done():
		return fmt.Errorf("source never saw the redemption: %w", ctx.Err())
	}
	tl.log("done", "%s shared %s with %s as %s", source.Name, inq, dest.Name, refID(got.Destination))
	return nil
}

// refID is a relationship's id, or "(none)" when the relationship is absent.
func refID(r *connect.Ref) string {
	if r == nil {
		return "(none)"
	}
	return r.Type + " " + r.ID
}

// webhookEndpoint starts a loopback HTTP server for org's webhooks, registers it with
// the fake, and lets register add the callbacks. The mux is filled in after the fake
// issues the secret, which the verifier needs.
func webhookEndpoint(persona *connecttest.Server, org *connecttest.Organization, register func(*connect.WebhookHandler)) (*httptest.Server, error) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	secret := persona.AddWebhook(org, srv.URL+"/webhooks/persona")
	verifier, err := connect.NewVerifier([]string{secret})
	if err != nil {
		srv.Close()
		return nil, err
	}
	h := connect.NewWebhookHandler(verifier)
	register(h)
	mux.Handle("/webhooks/persona", h)
	return srv, nil
}
