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

func (c *config) invalid(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// WithClock sets the server's clock (default time.Now). The clock stamps every
// timestamp, decides TTL expiry, idempotency retention, rate-limit windows and the
// webhook signature's t. Server.Advance moves it forward on top of now.
func WithClock(now func() time.Time) ServerOption {
	return func(c *config) {
		if now == nil {
			c.invalid("WithClock: nil clock")
			return
		}
		c.clock = now
	}
}

// WithRedeemDelay sets how long a redemption stays pending before it is redeemed or
// failed (default 20ms, real time). Zero finishes it as soon as its goroutine runs.
func WithRedeemDelay(d time.Duration) ServerOption {
	return func(c *config) {
		if d < 0 {
			c.invalid("WithRedeemDelay: negative delay %v", d)
			return
		}
		c.redeemDelay = d
	}
}

// WithRedeemFailure makes every redemption fail with reason (source_not_found,
// source_redacted, import_failed or unrecoverable_error). Server.FailRedemption does
// the same for one token.
func WithRedeemFailure(reason connect.FailureReason) ServerOption {
	return func(c *config) {
		if !validFailureReason(reason) {
			c.invalid("WithRedeemFailure: unknown failure reason %q", reason)
			return
		}
		c.redeemFailure = reason
	}
}

// WithWebhookRetryDelay sets the wait before the first retry of a failed delivery
// (default 20ms); each of the 7 retries waits twice as long as the one before.
func WithWebhookRetryDelay(d time.Duration) ServerOption {
	return positive("WithWebhookRetryDelay: delay", d, func(c *config) *time.Duration { return &c.webhookRetryDelay })
}

// WithWebhookTimeout sets how long one delivery attempt may take before it counts as
// failed (default 5s, Persona's window).
func WithWebhookTimeout(d time.Duration) ServerOption {
	return positive("WithWebhookTimeout: timeout", d, func(c *config) *time.Duration { return &c.webhookTimeout })
}

// positive is an option that sets the duration field returns to d, which must be more
// than zero; what names it in the complaint.
func positive(what string, d time.Duration, field func(*config) *time.Duration) ServerOption {
	return func(c *config) {
		if d <= 0 {
			c.invalid("%s %v must be positive", what, d)
			return
		}
		*field(c) = d
	}
}

// WithRateLimit allows n requests per window per organization (default 300 per
// minute); request n+1 within a window answers 429. Windows run on the server clock.
func WithRateLimit(n int, window time.Duration) ServerOption {
	return func(c *config) {
		if n <= 0 || window <= 0 {
			c.invalid("WithRateLimit: %d per %v must both be positive", n, window)
			return
		}
		c.rateLimit, c.rateWindow = n, window
	}
}

// WithListener makes the server accept connections on l instead of on a fresh
// 127.0.0.1 port, e.g. one a program bound to a fixed address with net.Listen, so that
// code outside the test process knows where to find the fake. Server.URL follows l's
// address ("http://<l.Addr()>/api/v1"); a client of this SDK accepts plain http only on
// loopback hosts. The server owns l from then on: Close closes it.
func WithListener(l net.Listener) ServerOption {
	return func(c *config) {
		if l == nil {
			c.invalid("WithListener: nil listener")
			return
		}
		c.listener = l
	}
}

func validFailureReason(r connect.FailureReason) bool {
	switch r {
	case connect.FailureSourceNotFound, connect.FailureSourceRedacted,
		connect.FailureImportFailed, connect.FailureUnrecoverableError:
		return true
	}
	return false
}
