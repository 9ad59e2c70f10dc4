package connect

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/persona-connect/connect-go/internal/retry"
)

// Response is what Persona answered to the last attempt of a call, for callers that
// need more than the decoded resource: the Request-Id to quote to Persona support,
// the rate limit left, the Idempotency-Key a POST was sent with. Ask for it with
// WithResponseInto.
type Response struct {
	// StatusCode is the HTTP status of the last attempt; 0 when it got no answer (a
	// network error, a timeout).
	StatusCode int
	// Header is the last answer's header; nil when it got no answer. It holds no
	// secret of the caller's (Persona sends none back), but it may name the
	// organization (Persona-Organization-Id).
	Header http.Header
	// RequestID is the Request-Id header, "" without an answer.
	RequestID string
	// IdempotencyKey is the key a POST was sent with (the caller's, or the random one
	// the SDK made), the same on every attempt; "" for other methods.
	IdempotencyKey string
	// Attempts is how many requests the call sent: 1, plus one per retry.
	Attempts int
	// RateLimit is the rate limit the last answer reported; zero without an answer or
	// without the headers.
	RateLimit RateLimit
}

// RateLimit is Persona's rate-limit state as the RateLimit-* headers of an answer
// report it (persona-openapi/components/headers/rate-limit-*.yaml).
type RateLimit struct {
	Limit     int           // RateLimit-Limit: requests allowed per window
	Remaining int           // RateLimit-Remaining: requests left in this window
	Reset     time.Duration // RateLimit-Reset: time until the window resets
}

// WithResponseInto is a RequestOption for any call: it makes the call fill *dst with
// what Persona answered: status, headers, Request-Id, rate limit, the POST's
// Idempotency-Key and the number of attempts. It is filled on success and on an
// *APIError alike, from the last attempt; when the last attempt got no answer at all (a
// network error or timeout after the retries), dst holds Attempts and IdempotencyKey,
// with StatusCode 0 and Header nil. For List, dst describes the last page fetched (its
// own attempts); for ShareTokens.Wait, the last poll. A call refused before any I/O (an
// error wrapping ErrInvalidParams) leaves dst as it was. dst must not be shared by
// calls that run at the same time; nil is ignored.
func WithResponseInto(dst *Response) RequestOption {
	return func(r *requestConfig) { r.responseInto = dst }
}

// recordAttempt fills the caller's Response, if any, with what attempt got: resp is nil
// when no answer came. Each attempt replaces what the one before it wrote, so the
// Response always describes the last one.
func (cl *call) recordAttempt(resp *http.Response, attempt int) {
	if cl.into == nil {
		return
	}
	*cl.into = Response{IdempotencyKey: cl.idem, Attempts: attempt}
	if resp == nil {
		return
	}
	cl.into.StatusCode = resp.StatusCode
	cl.into.Header = resp.Header
	cl.into.RequestID = resp.Header.Get("Request-Id")
	cl.into.RateLimit = RateLimit{
		Limit:     headerInt(resp.Header, "RateLimit-Limit"),
		Remaining: headerInt(resp.Header, "RateLimit-Remaining"),
		Reset:     rateLimitReset(resp.Header),
	}
}

// headerInt reads a non-negative integer header; 0 when absent or malformed.
func headerInt(h http.Header, name string) int {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(name)))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// rateLimitReset reads RateLimit-Reset as APIError.RateLimitReset does; 0 when absent
// or unparsable.
func rateLimitReset(h http.Header) time.Duration {
	d, _ := retry.ParseRateLimitReset(h.Get("RateLimit-Reset"))
	return d
}
