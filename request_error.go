package connect

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// ErrOutcomeUnknown is matched (errors.Is) by the error of a POST that may have been
// applied although no answer said so: the connection broke after the request was
// sent, more often than the retries allowed; the context ended while the request was
// in flight; a 2xx answer could not be read or decoded; or a gateway in front of
// Persona answered 502 or 504, having perhaps passed the request on. Such an error is a
// *RequestError: retry the call with WithIdempotencyKey(reqErr.IdempotencyKey) and
// Persona replays the first outcome instead of applying the call twice.
var ErrOutcomeUnknown = errors.New("connect: outcome unknown")

// RequestError is a call (POST or GET) that ended without a decodable answer: a
// network error on the last attempt, a context that ended, a 2xx whose body broke off
// or could not be decoded. A POST that may have been applied before the call ended
// also gets one when the last answer was an *APIError, which it then wraps. Its text
// names the call and the cause, never a header, the API key or a body.
type RequestError struct {
	Method string
	Path   string // relative to the base URL, without the query
	// IdempotencyKey is the key a POST was sent with ("" on a GET): retry with
	// WithIdempotencyKey(IdempotencyKey) and nothing is made twice.
	IdempotencyKey string
	// Attempts is how many attempts were sent; 0 when the context ended before the
	// first one.
	Attempts int
	// Err is what ended the call: the transport error (a *url.Error around the
	// net.Error), the context's error (wrapped with the transport error or with the
	// *APIError being retried), the decode error, or the last *APIError. Unwrap
	// returns it.
	Err error

	// outcomeUnknown is set when a POST may have been applied.
	outcomeUnknown bool
}

// Error implements error: "connect: POST /connect/share-tokens: outcome unknown after
// 3 attempts: EOF".
func (e *RequestError) Error() string {
	var b strings.Builder
	b.WriteString("connect: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	switch {
	case e.Attempts == 0:
		b.WriteString(": not sent: ")
	case e.outcomeUnknown:
		b.WriteString(": outcome unknown after ")
	default:
		b.WriteString(": failed after ")
	}
	if e.Attempts > 0 {
		b.WriteString(strconv.Itoa(e.Attempts))
		if e.Attempts == 1 {
			b.WriteString(" attempt: ")
		} else {
			b.WriteString(" attempts: ")
		}
	}
	b.WriteString(causeText(e.Err))
	return b.String()
}

// Unwrap returns Err, so that errors.Is and errors.As see the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// Is reports whether target is ErrOutcomeUnknown and the call was a POST that may have
// been applied.
func (e *RequestError) Is(target error) bool {
	return target == ErrOutcomeUnknown && e.outcomeUnknown
}

// NewIdempotencyKey returns a random 128-bit key as 32 lower-case hex digits, the kind
// of key the SDK makes for a POST called without WithIdempotencyKey. Make one yourself
// and store it before the call when a crash must not lose it. It panics only when the
// system's random source fails, as crypto/rand itself does from Go 1.24 on.
func NewIdempotencyKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("connect: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// contextEnded is a call cut short by its context, during an attempt (cause is the
// transport error) or during the wait before a retry (cause is the failure being
// retried). It unwraps to both.
type contextEnded struct {
	ctx     error // ctx.Err()
	cause   error
	waiting bool
}

func (e *contextEnded) Error() string {
	c := causeText(e.cause)
	switch {
	case e.waiting:
		return e.ctx.Error() + " while waiting to retry after " + c
	case c == e.ctx.Error() || strings.HasSuffix(c, ": "+e.ctx.Error()):
		return c
	}
	return e.ctx.Error() + " (" + c + ")"
}

func (e *contextEnded) Unwrap() []error { return []error{e.ctx, e.cause} }

// causeText is err's text as a *RequestError quotes it: an *APIError as its answer
// alone, a *url.Error without the URL (which would repeat the base URL on every line),
// and anything else without a leading "connect: ", which the RequestError's own text
// already starts with.
func causeText(err error) string {
	switch e := err.(type) {
	case nil:
		return "no cause"
	case *APIError:
		return e.answer()
	case *url.Error:
		return causeText(e.Err)
	}
	return strings.TrimPrefix(err.Error(), "connect: ")
}

// mayHaveBeenSent reports whether a transport error leaves open that the request
// reached the server. Only failures that happen before a byte is written say no: a
// dial that failed (refused, unreachable, DNS) or a TLS handshake that did. Anything
// else (a reset, an EOF, a timeout while waiting for the answer) may come after the
// server read and applied the request. The error is the last of net/http's tries, so
// for a POST the request's trace has the last word (transportError.wrote): a refused
// dial, or a record error, after an earlier try was written says nothing of that try;
// and a trace that saw net/http ask for a connection and never get one saw nothing sent
// (transportError.unsent), whatever the error: a context that ends while dialling comes
// back as the bare context error.
func mayHaveBeenSent(err error) bool {
	var opErr *net.OpError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &dnsErr), errors.As(err, &certErr), errors.As(err, &recordErr):
		return false
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return false
	}
	return true
}
