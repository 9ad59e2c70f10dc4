package connect

import (
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// config is what the Options set; New validates each Option as it applies it.
type config struct {
	baseURL      *url.URL
	httpClient   *http.Client
	apiVersion   string
	maxRetries   int
	maxRetryWait time.Duration
	userAgent    string
	logger       *slog.Logger
	backoffMin   time.Duration
	backoffMax   time.Duration
	pollInterval time.Duration
}

// Option configures a Client: New takes them. Options are validated: New returns the
// first error. It is one of four option families sharing the With prefix (see the
// package documentation, "Options"): RequestOption configures one call, VerifierOption
// a Verifier and HandlerOption a WebhookHandler.
type Option func(*config) error

// WithBaseURL is an Option for New: it sets the API root (default DefaultBaseURL), e.g.
// a connecttest server's URL. It must be https, except for loopback hosts (localhost,
// 127.0.0.0/8, ::1), so that the API key never crosses a network in the clear.
func WithBaseURL(u string) Option {
	return func(c *config) error {
		parsed, err := url.Parse(u)
		if err != nil || parsed.Host == "" {
			return invalidParam("base URL", "must be an absolute URL")
		}
		if parsed.User != nil || parsed.RawQuery != "" || parsed.Fragment != "" {
			return invalidParam("base URL", "must not carry user info, a query or a fragment")
		}
		switch parsed.Scheme {
		case "https":
		case "http":
			if !isLoopback(parsed.Hostname()) {
				return invalidParam("base URL", "must use https (plain http only for loopback hosts)")
			}
		default:
			return invalidParam("base URL", "must use https")
		}
		parsed.Path = strings.TrimRight(parsed.Path, "/")
		parsed.RawPath = ""
		c.baseURL = parsed
		return nil
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WithHTTPClient is an Option for New: it sets the HTTP client. The client is copied
// and the copy is used, so the caller's client is never mutated. The default is a
// pooled go-cleanhttp client with explicit timeouts that keeps up to 100 idle
// connections to the API host.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return invalidParam("HTTP client", "must not be nil")
		}
		cp := *hc
		c.httpClient = &cp
		return nil
	}
}

// WithAPIVersion is an Option for New: it sets the Persona-Version header (default
// DefaultAPIVersion). An empty value, or one with a control character, makes New return
// an error wrapping ErrInvalidParams.
func WithAPIVersion(v string) Option {
	return func(c *config) error {
		if strings.TrimSpace(v) == "" || hasControl(v) {
			return invalidParam("API version", "must be non-empty, without control characters")
		}
		c.apiVersion = v
		return nil
	}
}

// WithMaxRetries is an Option for New: it sets how many times a failed request is
// retried (default 2; 0 turns retries off). Only network errors, 429, 502, 503, 504
// and, for GETs, 500 are retried.
func WithMaxRetries(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return invalidParam("max retries", "must not be negative")
		}
		c.maxRetries = n
		return nil
	}
}

// WithMaxRetryWait is an Option for New: it sets the longest single wait before a retry
// (default 60s). When the server asks for a longer wait (a 429's RateLimit-Reset, else
// its Retry-After), the *APIError is returned at once instead.
func WithMaxRetryWait(d time.Duration) Option {
	return positive("max retry wait", d, func(c *config) *time.Duration { return &c.maxRetryWait })
}

// WithRetryBackoff is an Option for New: it sets the first backoff interval and the cap
// on any one interval (defaults 500ms and 8s). Each wait is randomized by ±50% and
// doubles per retry. A 429's RateLimit-Reset (else its Retry-After) still sets the
// least wait.
func WithRetryBackoff(initial, max time.Duration) Option {
	return func(c *config) error {
		if initial <= 0 || max < initial {
			return invalidParam("retry backoff", "needs 0 < initial <= max")
		}
		c.backoffMin, c.backoffMax = initial, max
		return nil
	}
}

// WithPollInterval is an Option for New: it sets the first interval between the polls
// of ShareTokens.Wait (default 250ms); later intervals grow by half each time up to 5s.
func WithPollInterval(d time.Duration) Option {
	return positive("poll interval", d, func(c *config) *time.Duration { return &c.pollInterval })
}

// positive is an Option setting the duration field points to, refusing d <= 0 with an
// error naming what.
func positive(what string, d time.Duration, field func(*config) *time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalidParam(what, "must be positive")
		}
		*field(c) = d
		return nil
	}
}

// WithUserAgent is an Option for New: it appends appInfo (e.g. "acme-backend/1.4") to
// the SDK's User-Agent. A control character (tab, NUL, DEL, a line break...) makes New
// return an error wrapping ErrInvalidParams.
func WithUserAgent(appInfo string) Option {
	return func(c *config) error {
		if hasControl(appInfo) {
			return invalidParam("user agent", "must not contain control characters")
		}
		c.userAgent = strings.TrimSpace(appInfo)
		return nil
	}
}

// WithLogger is an Option for New: it sets a logger for debug lines: method, path,
// status, request id and attempt. Keys, header values, bodies and end-user data are
// never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return invalidParam("logger", "must not be nil")
		}
		c.logger = l
		return nil
	}
}

// RequestOption configures one call: every method of the services takes them as its
// last arguments (List and Wait too), and so does Client.Do.
type RequestOption func(*requestConfig)

type requestConfig struct {
	idempotencyKey string
	responseInto   *Response  // WithResponseInto
	operation      *Operation // WithOperation (Client.Do only)
}

// newRequestConfig is what opts set, applied in order; a nil option is skipped.
func newRequestConfig(opts []RequestOption) requestConfig {
	var rc requestConfig
	for _, o := range opts {
		if o != nil {
			o(&rc)
		}
	}
	return rc
}

// WithIdempotencyKey is a RequestOption for any call: it sets the Idempotency-Key of a
// POST (by default a random 128-bit key per call). Persona replays the stored answer
// for 24 hours for a reused key, so a caller that persists the key can retry a call
// after a crash without creating a second share token. Ignored on GETs.
func WithIdempotencyKey(key string) RequestOption {
	return func(r *requestConfig) { r.idempotencyKey = key }
}
