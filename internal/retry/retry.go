// Package retry decides whether and how long to wait before retrying an HTTP request to
// Persona, over cenkalti/backoff/v4's exponential backoff with jitter. It knows HTTP
// statuses and methods, nothing about Persona's resources.
package retry

import (
	"context"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Policy is a retry policy. The zero value retries nothing.
type Policy struct {
	MaxRetries int           // retries after the first attempt
	MaxWait    time.Duration // the longest single wait; a longer one gives up instead
	Initial    time.Duration // first backoff interval, before jitter
	Max        time.Duration // cap on a backoff interval, before jitter
}

// Retryable reports whether a response status is worth another attempt. 429 and the
// gateway statuses are transient. A 500 is retried on GET only: Persona stores the first
// answer to an Idempotency-Key, 5xx included, and replays it, so retrying a POST 500
// with the same key would only replay the same failure.
func Retryable(method string, status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusInternalServerError:
		return method == http.MethodGet
	}
	return false
}

// Stored reports whether Persona's idempotency layer keeps an answer of status under
// its Idempotency-Key and replays it to that key for 24 hours (API-NOTES): every 4xx
// but a 401 and a 429, which come before the layer, and a 500. The gateway statuses
// come from in front of Persona; a 2xx is stored too, but is no failure to advise on.
func Stored(status int) bool {
	switch {
	case status == http.StatusUnauthorized, status == http.StatusTooManyRequests:
		return false
	case status == http.StatusInternalServerError:
		return true
	}
	return status >= 400 && status < 500
}

// Schedule is the backoff state of one logical call.
type Schedule struct {
	p Policy
	b *backoff.ExponentialBackOff
	n int
}

// Start begins the schedule of one logical call.
func (p Policy) Start() *Schedule {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = p.Initial
	b.MaxInterval = p.Max
	b.Multiplier = 2
	b.RandomizationFactor = 0.5
	b.MaxElapsedTime = 0 // the retry count and the context bound the call, not elapsed time
	b.Reset()
	return &Schedule{p: p, b: b}
}

// Verdict says what to do after a failed attempt.
type Verdict int

// Verdicts.
const (
	GiveUp      Verdict = iota // no retries left, or the status is not retryable
	WaitTooLong                // the server asked for a wait longer than MaxWait or the deadline
	Retry                      // wait, then try again
)

// Next returns what to do after a failed attempt and, for Retry, how long to wait.
// atLeast is a server hint (RateLimit-Reset on a 429) below which the wait never goes.
// deadline, when set, is the context's deadline: a wait that would pass it is not
// started, so the caller gets the server's error at once instead of a timeout later.
func (s *Schedule) Next(atLeast time.Duration, deadline time.Time, hasDeadline bool) (Verdict, time.Duration) {
	if s.n >= s.p.MaxRetries {
		return GiveUp, 0
	}
	s.n++
	// Our own backoff is capped at MaxWait; only a server that demands more than
	// MaxWait (atLeast) makes us give up.
	wait := min(s.b.NextBackOff(), s.p.MaxWait)
	if atLeast > s.p.MaxWait {
		return WaitTooLong, atLeast
	}
	wait = max(wait, atLeast)
	if hasDeadline && time.Until(deadline) < wait {
		return WaitTooLong, wait
	}
	return Retry, wait
}

// Sleep waits for d or until ctx ends, whichever is first, and returns ctx.Err() in
// the second case. It never leaves a timer running.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
