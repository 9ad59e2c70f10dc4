// Command destination is a destination organization's backend for Persona Connect. It
// takes share token ids from two places, its own partner API (the source pushes them)
// and Persona's connect/share-token.inbound-created webhook, redeems each token once
// however many times it arrives, and follows each redemption to its end in the
// background: redeemed (into which object), failed (why) or expired.
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
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	connect "github.com/persona-connect/connect-go"
)

func main() {
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "destination:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !cfg.live() {
		// The demo ends on its own; the bound only keeps a broken run from hanging.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "destination:", err)
		os.Exit(1)
	}
}

// config is the program's settings; see the package documentation.
type config struct {
	APIKey         string
	WebhookSecrets []string
	BaseURL        string
	ListenAddr     string
	DestinationID  string
	FieldMappings  []connect.FieldMapping
	WaitTimeout    time.Duration

	transport http.RoundTripper // tests: the transport to Persona; nil for the SDK's
	onListen  func(addr string) // tests: told where the live server listens
}

// live reports whether to run against Persona rather than the demo.
func (c config) live() bool { return c.APIKey != "" }

// redeemParams are the parameters of every Redeem: clone, or hydrate the configured
// object.
func (c config) redeemParams() connect.RedeemShareTokenParams {
	return connect.RedeemShareTokenParams{DestinationID: c.DestinationID, FieldMappings: c.FieldMappings}
}

// loadConfig reads the environment. Errors name the variable, never its value.
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		APIKey:        strings.TrimSpace(getenv("PERSONA_API_KEY")),
		BaseURL:       getenv("PERSONA_BASE_URL"),
		ListenAddr:    getenv("LISTEN_ADDR"),
		DestinationID: strings.TrimSpace(getenv("DESTINATION_OBJECT_ID")),
		WaitTimeout:   5 * time.Minute,
	}
	for _, s := range strings.Split(getenv("PERSONA_WEBHOOK_SECRET"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.WebhookSecrets = append(cfg.WebhookSecrets, s)
		}
	}
	if (cfg.APIKey == "") != (len(cfg.WebhookSecrets) == 0) {
		return config{}, errors.New("set both PERSONA_API_KEY and PERSONA_WEBHOOK_SECRET to run against Persona, or neither for the demo")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = connect.DefaultBaseURL
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = ":8080"
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
	if !cfg.live() {
		_, err := demo(ctx, cfg, w)
		return err
	}
	return serve(ctx, cfg, w)
}

// serve runs the backend against Persona until ctx ends, then shuts down gracefully:
// requests in flight finish, background waits stop.
func serve(ctx context.Context, cfg config, w io.Writer) error {
	tl := newTimeline(w)
	opts := []connect.Option{connect.WithBaseURL(cfg.BaseURL), connect.WithUserAgent("connect-go-example-destination")}
	if cfg.transport != nil {
		opts = append(opts, connect.WithHTTPClient(&http.Client{Transport: cfg.transport, Timeout: 30 * time.Second}))
	}
	client, err := connect.New(cfg.APIKey, opts...)
	if err != nil {
		return err
	}
	verifier, err := connect.NewVerifier(cfg.WebhookSecrets)
	if err != nil {
		return err
	}
	b := newBackend(ctx, client, cfg.redeemParams(), cfg.WaitTimeout, tl.note)
	mux := http.NewServeMux()
	b.mountAPI(mux)
	b.mountWebhook(mux, verifier)

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	mode := "clone"
	if cfg.DestinationID != "" {
		mode = "hydrate " + cfg.DestinationID
	}
	tl.log("destination", "listening on %s (Persona at %s, redeeming by %s)", ln.Addr(), cfg.BaseURL, mode)
	if cfg.onListen != nil {
		cfg.onListen(ln.Addr().String())
	}

	select {
	case err := <-served:
		b.close()
		return err
	case <-ctx.Done():
	}
	tl.log("destination", "shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	b.close() // the waits see ctx done and return
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// timeline prints one line per thing that happened, safe for concurrent use.
type timeline struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func newTimeline(w io.Writer) *timeline { return &timeline{w: w, start: time.Now()} }

func (t *timeline) log(side, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "%6.3fs  %-11s  %s\n", time.Since(t.start).Seconds(), side, fmt.Sprintf(format, args...))
}

// note prints one of the backend's notes.
func (t *timeline) note(n note) { t.log("destination", "%s", describe(n)) }

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
		return n.Token + by + ": already in hand, not redeemed again"
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
