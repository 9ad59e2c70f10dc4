package connect

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
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
// request id; never a header value, the API key or a request body.
type APIError struct {
	StatusCode int
	Method     string
	Path       string // relative to the base URL, without the query
	RequestID  string // the Request-Id header: quote it to Persona support
	// IdempotencyKey is the key the request was sent with (POST only), so a caller can
	// retry the same logical call later without creating a second object.
	IdempotencyKey string
	// RateLimitReset is the RateLimit-Reset header: the time until the rate window resets.
	RateLimitReset time.Duration
	Errors         []ErrorDetail
}

// ErrorDetail is one entry of Persona's {"errors": [...]} body.
type ErrorDetail struct {
	Title   string
	Details string
	Pointer string          // source.pointer on 422s, e.g. "/data/attributes/source-id"
	Meta    json.RawMessage // error-specific metadata, verbatim
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "connect: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if len(e.Errors) > 0 {
		d := e.Errors[0]
		if d.Title != "" {
			b.WriteString(": ")
			b.WriteString(d.Title)
		}
		if d.Details != "" {
			b.WriteString(": ")
			b.WriteString(d.Details)
		}
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request %s)", e.RequestID)
	}
	return b.String()
}

// Is reports whether target is the sentinel for e's status code, so that
// errors.Is(err, connect.ErrNotFound) works on a wrapped *APIError.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrUnprocessable:
		return e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500
	}
	return false
}

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
