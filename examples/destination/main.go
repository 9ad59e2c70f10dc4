// Command destination is a destination organization's backend for Persona Connect. It
// takes share token ids from two places, Persona's connect/share-token.inbound-created
// webhook (redeemed by connect.AutoRedeem) and its own partner API (the source pushes
// them), redeems each token once however many times it arrives, and reports how each
// redemption ended: redeemed (into which object), failed (why) or expired. At start it
// follows again every inbound token still pending, so a restart loses no outcome.
//
// With no environment it runs a scripted demo on connecttest, the in-memory Persona
// that ships with this module (no account, no network), and exits:
//
//	go run ./examples/destination
//
// Acme Bank (source) shares three inquiries with Beta Lending (this backend): token C
// is expired before it is pushed, token A is pushed and also announced by webhook
// (redeemed once, by clone), token B is pushed and its redemption fails
// (import_failed). A summary per token ends the output.
//
// Against Persona, set PERSONA_API_KEY and PERSONA_WEBHOOK_SECRET; it then serves until
// SIGINT or SIGTERM:
//
//	PERSONA_API_KEY         the destination organization's API key
//	PERSONA_WEBHOOK_SECRET  the secret (wbhsec_...) of a webhook pointed at /webhooks/persona
//	                        and subscribed to connect/share-token.inbound-created and
//	                        connect/share-token.inbound-redeemed; during a secret
//	                        rotation, both secrets separated by a comma
//	PERSONA_BASE_URL        optional; default https://api.withpersona.com/api/v1
//	LISTEN_ADDR             optional; default :8080
//	DESTINATION_OBJECT_ID   optional act_, inq_ or txn_ id: hydrate that object instead
//	                        of cloning (a real service would pick the applicant's own)
//	FIELD_MAPPINGS          optional, hydrate only: source=destination field names,
//	                        comma-separated, e.g. address_street_1=street_address
//	WAIT_TIMEOUT            optional; how long to follow one redemption, default 5m
//
// Routes:
//
//	POST /share-tokens      {"share_token_id": "cnst_..."}: 202 in hand, 400 malformed,
//	                        502 Persona unreachable (push again later)
//	POST /webhooks/persona  Persona's signed deliveries
//
// It never prints the API key, the webhook secret or a signature.
package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/examples/internal/demo"
)

func main() { demo.Main("destination", loadConfig, run) }

// config is the program's settings; see the package documentation.
type config struct {
	demo.Env
	DestinationID string
	FieldMappings []connect.FieldMapping
	WaitTimeout   time.Duration

	transport http.RoundTripper // tests: the transport to Persona; nil for the SDK's
}

// redeemParams are the parameters of every Redeem: clone, or hydrate the configured
// object.
func (c config) redeemParams() connect.RedeemShareTokenParams {
	return connect.RedeemShareTokenParams{DestinationID: c.DestinationID, FieldMappings: c.FieldMappings}
}

// loadConfig reads the environment. Errors name the variable, never its value.
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		Env:           demo.LoadEnv(getenv),
		DestinationID: strings.TrimSpace(getenv("DESTINATION_OBJECT_ID")),
		WaitTimeout:   5 * time.Minute,
	}
	if err := cfg.CheckLive(); err != nil {
		return config{}, err
	}
	if id := cfg.DestinationID; id != "" && !strings.HasPrefix(id, "act_") && !strings.HasPrefix(id, "inq_") && !strings.HasPrefix(id, "txn_") {
		return config{}, errors.New("DESTINATION_OBJECT_ID must be an act_, inq_ or txn_ id")
	}
	if v := strings.TrimSpace(getenv("FIELD_MAPPINGS")); v != "" {
		if cfg.DestinationID == "" {
			return config{}, errors.New("FIELD_MAPPINGS needs DESTINATION_OBJECT_ID: mappings apply to hydrate only")
		}
		for _, pair := range strings.Split(v, ",") {
			src, dst, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok || src == "" || dst == "" {
				return config{}, errors.New("FIELD_MAPPINGS must be source=destination pairs separated by commas")
			}
			cfg.FieldMappings = append(cfg.FieldMappings, connect.FieldMapping{SourceFieldName: src, DestinationFieldName: dst})
		}
	}
	if v := getenv("WAIT_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return config{}, errors.New("WAIT_TIMEOUT must be a positive duration such as 5m")
		}
		cfg.WaitTimeout = d
	}
	return cfg, nil
}

// run is the program: the demo on connecttest, or the live service until ctx ends.
func run(ctx context.Context, cfg config, w io.Writer) error {
	if !cfg.Live() {
		_, err := runDemo(ctx, cfg, w)
		return err
	}
	tl := demo.NewTimeline(w)
	var opts []connect.Option
	if cfg.transport != nil {
		opts = append(opts, connect.WithHTTPClient(&http.Client{Transport: cfg.transport, Timeout: 30 * time.Second}))
	}
	client, verifier, err := cfg.Connect("destination", opts...)
	if err != nil {
		return err
	}
	b := newBackend(ctx, client, cfg.redeemParams(), cfg.WaitTimeout, noteTo(tl))
	mux := http.NewServeMux()
	b.mountAPI(mux)
	// One process remembers its own deliveries. Behind a load balancer, every replica
	// gets the same Deduper on a store they share instead, such as PostgreSQL or Redis.
	if err := b.mountWebhook(mux, verifier, connect.NewMemoryDeduper(0)); err != nil {
		return err
	}
	// Redemptions still pending from before this process started (a deploy, a crash)
	// are followed again. Without the list the service still runs; those tokens are
	// then reported by inbound-redeemed only, and a failed one not at all.
	if err := b.resume(ctx); err != nil {
		tl.Log("destination", "not following the redemptions pending at start: %v", err)
	}
	mode := "clone"
	if cfg.DestinationID != "" {
		mode = "hydrate " + cfg.DestinationID
	}
	err = demo.Serve(ctx, cfg.Env, mux, tl, "destination", "Persona at "+cfg.BaseURL+", redeeming by "+mode)
	b.close() // the background waits end with ctx
	return err
}

// noteTo prints the backend's notes on tl.
func noteTo(tl *demo.Timeline) func(note) {
	return func(n note) { tl.Log("destination", "%s", describe(n)) }
}

// describe says a note in words.
func describe(n note) string {
	by := ""
	if n.Via != "" {
		by = " (by " + n.Via + ")"
	}
	switch n.Outcome {
	case outcomeArrived:
		return n.Token + " arrived by " + n.Via
	case outcomeDuplicate:
		return n.Token + by + ": " + n.Detail + ", not redeemed again"
	case outcomeRedeeming:
		return n.Token + by + ": " + n.Detail + ", following it in the background"
	case outcomeNotified:
		return "connect/share-token.inbound-redeemed: " + n.Token + " is " + n.Detail + " into " + refString(n.Object)
	case outcomeBadHook:
		return "webhook delivery refused: " + n.Detail
	}
	return n.Token + by + " " + result(n)
}

// result says how a token ended, or what went wrong, without naming the token.
func result(n note) string {
	switch n.Outcome {
	case outcomeRedeemed:
		return "redeemed " + n.Detail + " into " + refString(n.Object)
	case outcomeExpired:
		return "expired " + n.Detail
	}
	return string(n.Outcome) + ": " + n.Detail
}

// refString is a relationship as "type id", or "(none)".
func refString(r *connect.Ref) string {
	if r == nil {
		return "(none)"
	}
	return r.Type + " " + r.ID
}
