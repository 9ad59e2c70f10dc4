// Command source is a source organization's backend for Persona Connect. When
// Persona's inquiry.completed webhook arrives, connect.AutoShare creates a share token
// of that inquiry over the connection to a partner, and the backend sends the token id
// to the partner's own HTTP API (see examples/destination for the other end).
//
// With no environment it runs a scripted demo on connecttest, the in-memory Persona
// that ships with this module (no account, no network), and exits:
//
//	go run ./examples/source
//
// Acme Bank (this backend) completes two inquiries; each becomes a share token for
// Beta Lending, pushed to a stand-in for Beta Lending's API. The demo then checks, as
// Beta Lending, that each pushed id is an inbound token it can see.
//
// Against Persona, set the following; it then serves POST /webhooks/persona until
// SIGINT or SIGTERM:
//
//	PERSONA_API_KEY         the source organization's API key
//	PERSONA_WEBHOOK_SECRET  the secret (wbhsec_...) of a webhook pointed at /webhooks/persona
//	                        and subscribed to inquiry.completed; during a secret
//	                        rotation, both secrets separated by a comma
//	CONNECTION_ID           the cxn_ connection to the partner
//	DESTINATION_SHARE_URL   the partner's endpoint, e.g. https://partner.example/share-tokens
//	PERSONA_BASE_URL        optional; default https://api.withpersona.com/api/v1
//	LISTEN_ADDR             optional; default :8080
//
// It never prints the API key, the webhook secret or a signature.
package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/persona-connect/connect-go/examples/internal/demo"
)

func main() { demo.Main("source", loadConfig, run) }

// config is the program's settings; see the package documentation.
type config struct {
	demo.Env
	ConnectionID string
	ShareURL     string
}

// loadConfig reads the environment. Errors name the variable, never its value.
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		Env:          demo.LoadEnv(getenv),
		ConnectionID: strings.TrimSpace(getenv("CONNECTION_ID")),
		ShareURL:     strings.TrimSpace(getenv("DESTINATION_SHARE_URL")),
	}
	if err := cfg.CheckLive(demo.Var{Name: "CONNECTION_ID", Value: cfg.ConnectionID}, demo.Var{Name: "DESTINATION_SHARE_URL", Value: cfg.ShareURL}); err != nil {
		return config{}, err
	}
	if !cfg.Live() {
		return cfg, nil // the demo ignores the rest
	}
	if !strings.HasPrefix(cfg.ConnectionID, "cxn_") {
		return config{}, errors.New("CONNECTION_ID must be a cxn_ id")
	}
	if u, err := url.Parse(cfg.ShareURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return config{}, errors.New("DESTINATION_SHARE_URL must be an http or https URL")
	}
	return cfg, nil
}

// run is the program: the demo on connecttest, or the live service until ctx ends.
func run(ctx context.Context, cfg config, w io.Writer) error {
	if !cfg.Live() {
		_, err := runDemo(ctx, w)
		return err
	}
	tl := demo.NewTimeline(w)
	client, verifier, err := cfg.Connect("source")
	if err != nil {
		return err
	}
	b := newBackend(client, cfg.ConnectionID, cfg.ShareURL, func(format string, args ...any) { tl.Log("source", format, args...) })
	hook, err := b.webhookHandler(verifier)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/persona", hook)
	return demo.Serve(ctx, cfg.Env, mux, tl, "source", "Persona at "+cfg.BaseURL+", sharing over "+cfg.ConnectionID)
}
