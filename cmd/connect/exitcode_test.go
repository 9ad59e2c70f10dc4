package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// Every exit code a script can branch on, each from a real cause.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	redeemed := w.createToken(t)
	mustRun(t, w.as(w.dst), "share-tokens", "redeem", redeemed.ID)
	mustRun(t, w.as(w.dst), "share-tokens", "wait", redeemed.ID)
	created := w.createToken(t)

	// A port nothing listens on, for a network failure.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + l.Addr().String() + "/api/v1"
	l.Close()

	limited := connecttest.NewServer(connecttest.WithRateLimit(1, time.Hour))
	defer limited.Close()
	lo := limited.NewOrganization("Limited")
	limitedEnv := []string{"PERSONA_BASE_URL=" + limited.URL, "PERSONA_API_KEY=" + lo.APIKey}
	mustRun(t, limitedEnv, "connections", "list") // the one request of the hour

	w.srv.FailNext("GET", "/connect/connections", 3, 503) // the first try and the SDK's 2 retries

	for _, tc := range []runCase{
		{"ok", w.as(w.src), []string{"share-tokens", "get", created.ID}, exitOK, ""},
		{"conflict is another error", w.as(w.src), []string{"share-tokens", "expire", redeemed.ID}, exitError, "409 Conflict"},
		{"unknown flag", w.as(w.src), []string{"share-tokens", "get", "--colour", created.ID}, exitUsage, "flag provided but not defined: -colour"},
		{"unknown command", w.as(w.src), []string{"share-token", "get"}, exitUsage, `unknown command "share-token"`},
		{"missing argument", w.as(w.src), []string{"share-tokens", "get"}, exitUsage, "takes one share token id, got 0 arguments"},
		{"invalid id", w.as(w.src), []string{"share-tokens", "get", "inq_x"}, exitUsage, "must start with cnst_"},
		{"not found", w.as(w.src), []string{"share-tokens", "get", "cnst_nothing"}, exitNotFound, "404 Not Found: Record not found (request req_"},
		{"unauthorized", []string{"PERSONA_BASE_URL=" + w.srv.URL, "PERSONA_API_KEY=persona_sandbox_wrong"}, []string{"share-tokens", "get", created.ID}, exitUnauthorized, "401 Unauthorized"},
		{"forbidden", w.as(w.dst), []string{"share-tokens", "expire", created.ID}, exitUnauthorized, "403 Forbidden"},
		{"server error", w.as(w.src), []string{"connections", "list"}, exitRetryable, "503 Service Unavailable"},
		{"rate limited", limitedEnv, []string{"connections", "list"}, exitRetryable, "429 Too Many Requests"},
		{"network", []string{"PERSONA_BASE_URL=" + deadURL, "PERSONA_API_KEY=persona_sandbox_x"}, []string{"connections", "list"}, exitRetryable, "connection refused"},
		{"invalid signature", []string{"HOOK_SECRET=wbhsec_x"}, []string{"webhooks", "verify", "--secret-env", "HOOK_SECRET", "--header", "t=1,v1=" + strings.Repeat("0", 64)}, exitInvalidSignature, "webhook timestamp outside the tolerance"},
	} {
		r := run(t, tc.env, "{}", tc.args...)
		tc.check(t, r)
		if tc.code != exitOK && r.stdout != "" {
			t.Errorf("%s: a failure printed data: %q", tc.name, r.stdout)
		}
	}
}

// outcomeUnknown stands for an SDK error type that wraps the transport's error, such
// as the request error an SDK change adds: the exit code must see through it.
type outcomeUnknown struct{ err error }

func (e *outcomeUnknown) Error() string {
	return "connect: POST /connect/share-tokens: outcome unknown"
}
func (e *outcomeUnknown) Unwrap() error { return e.err }

func TestExitCodeClassification(t *testing.T) {
	t.Parallel()
	notFound := &connect.APIError{StatusCode: 404}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"usage", usagef("bad"), exitUsage},
		{"invalid params", fmt.Errorf("x: %w", connect.ErrInvalidParams), exitUsage},
		{"signature", &signatureError{err: connect.ErrNoValidSignature}, exitInvalidSignature},
		{"404", fmt.Errorf("wrapped: %w", notFound), exitNotFound},
		{"401", &connect.APIError{StatusCode: 401}, exitUnauthorized},
		{"403", &connect.APIError{StatusCode: 403}, exitUnauthorized},
		{"409", &connect.APIError{StatusCode: 409}, exitError},
		{"422", &connect.APIError{StatusCode: 422}, exitError},
		{"429", &connect.APIError{StatusCode: 429}, exitRetryable},
		{"500", &connect.APIError{StatusCode: 500}, exitRetryable},
		{"deadline", fmt.Errorf("w: %w", context.DeadlineExceeded), exitRetryable},
		{"deadline while a 404 was the last answer", fmt.Errorf("%w after %w", context.DeadlineExceeded, notFound), exitNotFound},
		{"url error", &url.Error{Op: "Get", URL: "http://x", Err: io.EOF}, exitRetryable},
		{"net error", refused, exitRetryable},
		{"transport error under another SDK type", &outcomeUnknown{err: &url.Error{Op: "Post", URL: "http://x", Err: refused}}, exitRetryable},
		{"interrupted", fmt.Errorf("w: %w", context.Canceled), exitError},
		{"interrupted in flight", &url.Error{Op: "Get", URL: "http://x", Err: context.Canceled}, exitError},
		{"interrupted while waiting to retry a 503", fmt.Errorf("%w after %w", context.Canceled, &connect.APIError{StatusCode: 503}), exitError},
		{"hinted", &hintedError{err: &connect.APIError{StatusCode: 503}, hint: "retry"}, exitRetryable},
		{"plain", errors.New("connect: something"), exitError},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("%s: exitCode = %d, want %d", tc.name, got, tc.want)
		}
	}
}
