package connecttest

import (
	"fmt"
	"net"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// config is what the ServerOptions set.
type config struct {
	clock             func() time.Time
	redeemDelay       time.Duration
	redeemFailure     connect.FailureReason
	webhookRetryDelay time.Duration
	webhookTimeout    time.Duration
	rateLimit         int
	rateWindow        time.Duration
	listener          net.Listener // nil: a fresh one on 127.0.0.1:0
	problems          []string     // invalid options; NewServer panics with them
}

// ServerOption configures a Server. An invalid option makes NewServer panic with a
// message naming it, as a broken test setup.
type ServerOption func(*config)

// setting is the one shape of every option: set applies it; when valid is false the
// option applies nothing and records the problem, formatted, for NewServer.
func setting(valid bool, set func(*config), format string, args ...any) ServerOption {
	return func(c *config) {
		if !valid {
			c.problems = append(c.problems, fmt.Sprintf(format, args...))
			return
		}
		set(c)
	}
}

// WithClock sets the server's clock (default time.Now). The clock stamps every
// timestamp, decides TTL expiry, idempotency retention, rate-limit windows, when a
// rotated-out secret stops signing, and the webhook signature's t. Server.Advance moves
// it forward on top of now.
func WithClock(now func() time.Time) ServerOption {
	return setting(now != nil, func(c *config) { c.clock = now }, "WithClock: nil clock")
}

// WithRedeemDelay sets how long a redemption stays pending before it is redeemed or
// failed (default 20ms, real time). Zero finishes it as soon as its goroutine runs.
func WithRedeemDelay(d time.Duration) ServerOption {
	return setting(d >= 0, func(c *config) { c.redeemDelay = d }, "WithRedeemDelay: negative delay %v", d)
}

// WithRedeemFailure makes every redemption fail with reason (source_not_found,
// source_redacted, import_failed or unrecoverable_error). Server.FailRedemption does
// the same for one token.
func WithRedeemFailure(reason connect.FailureReason) ServerOption {
	return setting(validFailureReason(reason), func(c *config) { c.redeemFailure = reason },
		"WithRedeemFailure: unknown failure reason %q", reason)
}

// WithWebhookRetryDelay sets the wait before the first retry of a failed delivery
// (default 20ms); each of the 7 retries waits twice as long as the one before.
func WithWebhookRetryDelay(d time.Duration) ServerOption {
	return setting(d > 0, func(c *config) { c.webhookRetryDelay = d }, "WithWebhookRetryDelay: delay %v must be positive", d)
}

// WithWebhookTimeout sets how long one delivery attempt may take before it counts as
// failed (default 5s, Persona's window).
func WithWebhookTimeout(d time.Duration) ServerOption {
	return setting(d > 0, func(c *config) { c.webhookTimeout = d }, "WithWebhookTimeout: timeout %v must be positive", d)
}

// WithRateLimit allows n requests per window per organization (default 300 per
// minute); request n+1 within a window answers 429. Windows run on the server clock.
func WithRateLimit(n int, window time.Duration) ServerOption {
	return setting(n > 0 && window > 0, func(c *config) { c.rateLimit, c.rateWindow = n, window },
		"WithRateLimit: %d per %v must both be positive", n, window)
}

// WithListener makes the server accept connections on l instead of on a fresh
// 127.0.0.1 port, e.g. one a program bound to a fixed address with net.Listen, so that
// code outside the test process knows where to find the fake. Server.URL follows l's
// address ("http://<l.Addr()>/api/v1"); a client of this SDK accepts plain http only on
// loopback hosts. The server owns l from then on: Close closes it.
func WithListener(l net.Listener) ServerOption {
	return setting(l != nil, func(c *config) { c.listener = l }, "WithListener: nil listener")
}

func validFailureReason(r connect.FailureReason) bool {
	switch r {
	case connect.FailureSourceNotFound, connect.FailureSourceRedacted,
		connect.FailureImportFailed, connect.FailureUnrecoverableError:
		return true
	}
	return false
}
