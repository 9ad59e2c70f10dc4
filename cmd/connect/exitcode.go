package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	connect "github.com/persona-connect/connect-go"
)

// Exit codes (DESIGN.md, "The connect command"): scripts branch on them, so each
// names a kind of failure, not a place in the code.
const (
	exitOK               = 0
	exitError            = 1 // anything below does not describe
	exitUsage            = 2 // bad flags or arguments, or input the SDK refused before sending it
	exitNotFound         = 3 // 404: absent, or not visible to this organization
	exitUnauthorized     = 4 // 401 or 403: a wrong key, or the wrong side of a connection
	exitRetryable        = 5 // 429, 5xx, a network failure or a timeout: worth trying again
	exitInvalidSignature = 6 // webhooks verify: the signature does not hold
)

// usageError is a mistake in how the command was called. It is printed with the
// command's usage and exits with exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// signatureError is a failed verification by webhooks verify. It wraps the SDK's
// sentinel, whose text never holds a signature or a secret.
type signatureError struct{ err error }

func (e *signatureError) Error() string { return e.err.Error() }
func (e *signatureError) Unwrap() error { return e.err }

// exitCode classifies err. An interrupt comes first, then API statuses: an error that
// wraps both a deadline and the last *APIError (the SDK's "context ended while waiting
// to retry") is described by the status Persona gave. Transport failures are recognised
// by the standard library's types only (net.Error, *url.Error,
// context.DeadlineExceeded), so that the SDK may wrap them in its own error types (a
// request error, an outcome that is unknown) without changing the exit code. That test
// is broad: a syscall.Errno has Timeout and Temporary methods too, so errors of local
// I/O (reading a key file or stdin, binding the fake's port) are formatted with %v, not
// wrapped, lest a missing file read as a network failure worth retrying.
func exitCode(err error) int {
	var ue *usageError
	var se *signatureError
	var urlErr *url.Error
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue), errors.Is(err, connect.ErrInvalidParams):
		return exitUsage
	case errors.Is(err, context.Canceled):
		// An interrupt (Ctrl-C, SIGTERM) ends the run's context, and the SDK's error
		// then wraps a *url.Error or the last answer too: the person stopped it, which
		// is no failure worth retrying whatever was in flight.
		return exitError
	case errors.As(err, &se):
		return exitInvalidSignature
	case errors.Is(err, connect.ErrNotFound):
		return exitNotFound
	case errors.Is(err, connect.ErrUnauthorized), errors.Is(err, connect.ErrForbidden):
		return exitUnauthorized
	case errors.Is(err, connect.ErrRateLimited), errors.Is(err, connect.ErrServer):
		return exitRetryable
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, new(net.Error)), errors.As(err, &urlErr):
		return exitRetryable
	}
	return exitError
}
