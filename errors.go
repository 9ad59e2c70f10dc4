package connect

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/persona-connect/connect-go/internal/safetext"
)

// Sentinels for the HTTP statuses Persona answers with. Match them with errors.Is; the
// *APIError itself carries the details (errors.As).
var (
	ErrBadRequest    = errors.New("connect: bad request")          // 400
	ErrUnauthorized  = errors.New("connect: unauthorized")         // 401: the API key is wrong or revoked
	ErrForbidden     = errors.New("connect: forbidden")            // 403: not allowed for this organization, or a quota
	ErrNotFound      = errors.New("connect: not found")            // 404: absent, or not visible to this organization
	ErrConflict      = errors.New("connect: conflict")             // 409: duplicate or concurrent change
	ErrUnprocessable = errors.New("connect: unprocessable entity") // 422: invalid action or parameter
	ErrRateLimited   = errors.New("connect: rate limited")         // 429
	ErrServer        = errors.New("connect: server error")         // any 5xx
)

// ErrInvalidParams is wrapped by every client-side validation error. Such an error is
// returned before any network I/O and names the field and the rule it broke.
var ErrInvalidParams = errors.New("connect: invalid params")

// APIError is a non-2xx answer from Persona. Its Error text names the method, the path
// relative to the base URL, the status, the first error's title and details and the
// request id, with control characters escaped so that a hostile answer cannot forge a
// log line; never another header value, the API key or a request body. An API key the
// answer echoes (a proxy quoting the Authorization header, say) is replaced by
// "[redacted]" in every field of it that the *APIError keeps.
type APIError struct {
	StatusCode int
	Method     string
	Path       string // relative to the base URL, without the query
	RequestID  string // the Request-Id header: quote it to Persona support
	// IdempotencyKey is the key the request was sent with (POST only), so a caller can
	// retry the same logical call later without creating a second object. Persona
	// stores a refusal under the key too (a 400, 403, 404, 409 or 422), and a 500, and
	// replays it for 24 hours: once its cause is fixed, such a call goes through only
	// with a new key. A refusal made nothing; after a 500, look first for what the
	// call would have made (README, "After a failed Create"). A 401, a 429 and the
	// gateway statuses come from in front of the idempotency layer and are not stored.
	// (A 409 that may mean an earlier attempt still runs under the key is no
	// *APIError alone: it matches ErrOutcomeUnknown.)
	IdempotencyKey string
	// RateLimitReset is the RateLimit-Reset header: the time until the rate window
	// resets. A value too large for a Duration (or Inf, NaN) is the largest Duration;
	// an absent, negative or unparsable one is 0.
	RateLimitReset time.Duration
	Errors         []ErrorDetail
}

// ErrorDetail is one entry of Persona's {"errors": [...]} body.
type ErrorDetail struct {
	Title   string
	Details string
	Pointer string          // source.pointer on 422s, e.g. "/data/attributes/source-id"
	Meta    json.RawMessage // error-specific metadata, verbatim; nil when absent or null
}

// Error implements error. The server's title and details, and the Request-Id, are
// written with control characters escaped (see printable).
func (e *APIError) Error() string {
	return "connect: " + e.Method + " " + e.Path + ": " + e.answer()
}

// answer describes the status and the server's first error, without the call: the part
// of Error that a *RequestError repeats when an answer ended the call.
func (e *APIError) answer() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Errors) > 0 {
		d := e.Errors[0]
		if d.Title != "" {
			b.WriteString(": ")
			b.WriteString(printable(d.Title))
		}
		if d.Details != "" {
			b.WriteString(": ")
			b.WriteString(printable(d.Details))
		}
	}
	if e.RequestID != "" {
		b.WriteString(" (request ")
		b.WriteString(printable(e.RequestID))
		b.WriteByte(')')
	}
	return b.String()
}

// printable escapes text from Persona's answers for an error text (see safetext):
// error texts end up in logs, and a hostile answer must not forge a log line or
// recolour a terminal.
func printable(s string) string { return safetext.Escape(s) }

// statusSentinels are the sentinels of single statuses, by status; ErrServer stands for
// every 5xx.
var statusSentinels = map[error]int{
	ErrBadRequest:    http.StatusBadRequest,
	ErrUnauthorized:  http.StatusUnauthorized,
	ErrForbidden:     http.StatusForbidden,
	ErrNotFound:      http.StatusNotFound,
	ErrConflict:      http.StatusConflict,
	ErrUnprocessable: http.StatusUnprocessableEntity,
	ErrRateLimited:   http.StatusTooManyRequests,
}

// Is reports whether target is the sentinel for e's status code, so that
// errors.Is(err, connect.ErrNotFound) works on a wrapped *APIError.
func (e *APIError) Is(target error) bool {
	if target == ErrServer {
		return e.StatusCode >= 500
	}
	status, ok := statusSentinels[target]
	return ok && e.StatusCode == status
}

// wrapError returns an error that reads "connect: <context>: <err>" and unwraps to err.
// err's own leading "connect: " (every sentinel and every error of this package has
// one) is left out, so that the text says it once.
func wrapError(context string, err error) error {
	return &contextError{context: context, err: err}
}

type contextError struct {
	context string
	err     error
}

func (e *contextError) Error() string {
	return "connect: " + e.context + ": " + strings.TrimPrefix(e.err.Error(), "connect: ")
}

func (e *contextError) Unwrap() error { return e.err }

// invalidParam builds a validation error that names the field and the rule.
func invalidParam(field, rule string) error {
	return fmt.Errorf("%w: %s %s", ErrInvalidParams, field, rule)
}

// Webhook verification errors. Verify wraps exactly one of them; none of their texts
// ever contains a signature, expected or received.
var (
	ErrMissingSignature        = errors.New("connect: missing " + SignatureHeader + " header")
	ErrInvalidSignatureHeader  = errors.New("connect: malformed " + SignatureHeader + " header")
	ErrNoValidSignature        = errors.New("connect: no valid signature in " + SignatureHeader + " header")
	ErrTimestampOutOfTolerance = errors.New("connect: webhook timestamp outside the tolerance")
	ErrEmptySecret             = errors.New("connect: empty webhook secret")
)
