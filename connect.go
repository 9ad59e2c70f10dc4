package connect

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"

	"github.com/persona-connect/connect-go/internal/retry"
)

// Defaults.
const (
	DefaultBaseURL    = "https://api.withpersona.com/api/v1"
	DefaultAPIVersion = "2025-12-08" // sent as Persona-Version
	SignatureHeader   = "Persona-Signature"
)

// Version is this SDK's version, sent in the User-Agent.
const Version = "0.1.0"

const (
	defaultMaxRetries   = 2
	defaultMaxRetryWait = 60 * time.Second
	defaultTimeout      = 60 * time.Second
	defaultMaxIdleConns = 100 // idle connections kept to the API host, as cleanhttp keeps in all
	defaultBackoffMin   = 500 * time.Millisecond
	defaultBackoffMax   = 8 * time.Second
	defaultPollInterval = 250 * time.Millisecond
	maxPollInterval     = 5 * time.Second
)

// Client calls Persona Connect for one organization (one API key). It is safe for
// concurrent use; make one and share it.
type Client struct {
	ShareTokens *ShareTokensService
	Connections *ConnectionsService
	Events      *EventsService
	Webhooks    *WebhooksService

	authorization func() string // "Bearer <key>", see New; only ever written into the Authorization header
	base          *url.URL
	hc            *http.Client
	apiVersion    string
	userAgent     string
	retry         retry.Policy
	pollInterval  time.Duration
	logger        *slog.Logger
}

// New returns a client that authenticates with apiKey. An empty key, a key with a
// control character, or an invalid Option returns an error wrapping ErrInvalidParams.
func New(apiKey string, opts ...Option) (*Client, error) {
	if strings.TrimSpace(apiKey) == "" {
		return nil, invalidParam("API key", "must not be empty")
	}
	if hasControl(apiKey) {
		// net/http refuses such a header value on every request, which the retry loop
		// would take for a network error and retry with backoff.
		return nil, invalidParam("API key", "must not contain control characters (tab, NUL, DEL, line breaks...)")
	}
	cfg := config{
		apiVersion:   DefaultAPIVersion,
		maxRetries:   defaultMaxRetries,
		maxRetryWait: defaultMaxRetryWait,
		backoffMin:   defaultBackoffMin,
		backoffMax:   defaultBackoffMax,
		pollInterval: defaultPollInterval,
	}
	if err := WithBaseURL(DefaultBaseURL)(&cfg); err != nil {
		return nil, err
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.httpClient == nil {
		cfg.httpClient = cleanhttp.DefaultPooledClient()
		cfg.httpClient.Timeout = defaultTimeout
		// cleanhttp keeps GOMAXPROCS+1 idle connections per host, and every request
		// goes to one host: 32 goroutines sharing a Client on 2 cores closed and
		// redialled connections all along (TestSharedClientReusesConnections).
		if t, ok := cfg.httpClient.Transport.(*http.Transport); ok {
			t.MaxIdleConnsPerHost = defaultMaxIdleConns
		}
	}
	// cfg.httpClient is our own copy (WithHTTPClient copies), so this changes nothing
	// the caller holds.
	cfg.httpClient.CheckRedirect = sameOriginRedirects(cfg.baseURL, cfg.httpClient.CheckRedirect)
	ua := "connect-go/" + Version + " " + strings.Replace(runtime.Version(), "go", "go/", 1)
	if cfg.userAgent != "" {
		ua += " " + cfg.userAgent
	}
	authorization := "Bearer " + apiKey
	c := &Client{
		// The key lives only in this closure. fmt prints a func as an address and
		// can never reach what it captured, so no verb shows the key even on values
		// Format cannot intercept: a Client copied by value (%+v of *c), or a *Client
		// in an unexported field printed with a verb it does not support (%s there
		// gives "%!s(*connect.Client=&{...})", which expands the fields).
		authorization: func() string { return authorization },
		base:          cfg.baseURL,
		hc:            cfg.httpClient,
		apiVersion:    cfg.apiVersion,
		userAgent:     ua,
		retry: retry.Policy{
			MaxRetries: cfg.maxRetries,
			MaxWait:    cfg.maxRetryWait,
			Initial:    cfg.backoffMin,
			Max:        cfg.backoffMax,
		},
		pollInterval: cfg.pollInterval,
		logger:       cfg.logger,
	}
	c.ShareTokens = &ShareTokensService{c: c}
	c.Connections = &ConnectionsService{c: c}
	c.Events = &EventsService{c: c}
	c.Webhooks = &WebhooksService{c: c}
	return c, nil
}

// String describes the client without its API key.
func (c *Client) String() string {
	return fmt.Sprintf("connect.Client{BaseURL: %s, APIVersion: %s}", c.base, c.apiVersion)
}

// GoString is String: %#v must not print the API key either.
func (c *Client) GoString() string { return c.String() }

// Format makes every fmt verb (%v, %+v, %#v, %s, %q, ...) print String.
func (c *Client) Format(f fmt.State, _ rune) { fmt.Fprint(f, c.String()) }

// ShareTokensService creates, redeems, reads and expires share tokens.
type ShareTokensService struct{ c *Client }

// ConnectionsService lists, reads, creates, deactivates and reactivates connections.
type ConnectionsService struct{ c *Client }

// EventsService reads past events, to replay deliveries a webhook missed.
type EventsService struct{ c *Client }

// errCrossOriginRedirect is the refusal of a redirect to another origin; it is never
// retried.
var errCrossOriginRedirect = errors.New("connect: refusing a redirect to another origin")

// errMethodChangingRedirect is the refusal of a redirect that net/http would follow
// with another method; like errCrossOriginRedirect, it is never retried.
var errMethodChangingRedirect = errors.New("connect: refusing a redirect that would resend the request with another method")

// sameOriginRedirects refuses a redirect away from the base URL's origin before the
// caller's own policy (or net/http's default of 10 hops) is asked. net/http keeps the
// Authorization header on a redirect to the same host on another port, which would
// carry the API key somewhere the caller never configured. It refuses as well a
// redirect that changes the method: net/http follows a 301, 302 or 303 of a POST (or
// PUT, PATCH, DELETE) with a GET of the Location, without the body, and that GET's
// answer would be returned as the call's, a Create or a Redeem that a proxy sent to a
// token's URL reporting that token as if the POST had been applied.
func sameOriginRedirects(base *url.URL, next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, base) {
			return fmt.Errorf("%w (%s://%s)", errCrossOriginRedirect, req.URL.Scheme, req.URL.Host)
		}
		if len(via) > 0 && req.Method != via[0].Method {
			status := 0
			if req.Response != nil {
				status = req.Response.StatusCode
			}
			return fmt.Errorf("%w (%s answered %d)", errMethodChangingRedirect, via[0].Method, status)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("connect: stopped after 10 redirects")
		}
		return nil
	}
}
