// Command source is a source organization's backend for Persona Connect. When
// Persona's inquiry.completed webhook arrives, it creates a share token of that
// inquiry over the connection to a partner and sends the token id to the partner's
// own HTTP API (see examples/destination for the other end).
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
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
		fmt.Fprintln(os.Stderr, "source:", err)
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
		fmt.Fprintln(os.Stderr, "source:", err)
		os.Exit(1)
	}
}

// config is the program's settings; see the package documentation.
type config struct {
	APIKey         string
	WebhookSecrets []string
	ConnectionID   string
	ShareURL       string
	BaseURL        string
	ListenAddr     string

	onListen func(addr string) // tests: told where the live server listens
}

// live reports whether to run against Persona rather than the demo.
func (c config) live() bool { return c.APIKey != "" }

// loadConfig reads the environment. Errors name the variable, never its value.
func loadConfig(getenv func(string) string) (config, error) {
	cfg := config{
		APIKey:       strings.TrimSpace(getenv("PERSONA_API_KEY")),
		ConnectionID: strings.TrimSpace(getenv("CONNECTION_ID")),
		ShareURL:     strings.TrimSpace(getenv("DESTINATION_SHARE_URL")),
		BaseURL:      getenv("PERSONA_BASE_URL"),
		ListenAddr:   getenv("LISTEN_ADDR"),
	}
	for _, s := range strings.Split(getenv("PERSONA_WEBHOOK_SECRET"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			cfg.WebhookSecrets = append(cfg.WebhookSecrets, s)
		}
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = connect.DefaultBaseURL
	}
	if cfg.ListenAddr == "" {
		cfg.ListenAddr = ":8080"
	}
	if cfg.APIKey == "" && len(cfg.WebhookSecrets) == 0 {
		return cfg, nil // the demo; it ignores the rest
	}
	var missing []string
	for _, v := range []struct{ name, value string }{
		{"PERSONA_API_KEY", cfg.APIKey}, {"PERSONA_WEBHOOK_SECRET", strings.Join(cfg.WebhookSecrets, ",")},
		{"CONNECTION_ID", cfg.ConnectionID}, {"DESTINATION_SHARE_URL", cfg.ShareURL},
	} {
		if v.value == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return config{}, fmt.Errorf("to run against Persona, also set %s", strings.Join(missing, ", "))
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
	if !cfg.live() {
		_, err := demo(ctx, w)
		return err
	}
	return serve(ctx, cfg, w)
}

// pushTimeout bounds a push on its own; handlerBudget bounds it together with Create.
const pushTimeout = 3 * time.Second

// serve runs the webhook endpoint against Persona until ctx ends, then shuts down
// gracefully: deliveries in flight finish.
func serve(ctx context.Context, cfg config, w io.Writer) error {
	tl := newTimeline(w)
	client, err := connect.New(cfg.APIKey, connect.WithBaseURL(cfg.BaseURL), connect.WithUserAgent("connect-go-example-source"))
	if err != nil {
		return err
	}
	verifier, err := connect.NewVerifier(cfg.WebhookSecrets)
	if err != nil {
		return err
	}
	b := &backend{
		client: client, connectionID: cfg.ConnectionID, shareURL: cfg.ShareURL,
		hc:  &http.Client{Timeout: pushTimeout},
		log: func(format string, args ...any) { tl.log("source", format, args...) },
	}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/persona", b.webhookHandler(verifier))

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tl.log("source", "listening on %s (Persona at %s, sharing over %s)", ln.Addr(), cfg.BaseURL, cfg.ConnectionID)
	if cfg.onListen != nil {
		cfg.onListen(ln.Addr().String())
	}
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	tl.log("source", "shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
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
