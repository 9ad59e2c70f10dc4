package connect_test

// Retries: which answers are retried, with which key and body, how long the client
// waits, and that every failed answer is read and closed before the next attempt. On
// httpmock; TestRetriesReuseTheConnection checks the connection over real HTTP.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// attempt is what the fake Persona saw of one attempt.
type attempt struct {
	at   time.Time
	idem string // its Idempotency-Key
	body []byte
}

// attemptLog records every attempt its responders answer.
type attemptLog struct {
	mu   sync.Mutex
	seen []attempt
}

// answer records each request, then answers it with next.
func (l *attemptLog) answer(t testing.TB, next httpmock.Responder) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		a := attempt{at: time.Now(), idem: r.Header.Get("Idempotency-Key"), body: requestBody(t, r)}
		l.mu.Lock()
		l.seen = append(l.seen, a)
		l.mu.Unlock()
		return next(r)
	}
}

// all returns the attempts seen so far.
func (l *attemptLog) all() []attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]attempt(nil), l.seen...)
}

// A POST that fails transiently is retried with the same Idempotency-Key and body.
func TestRetryRecoversWithSameKeyAndBody(t *testing.T) {
	t.Parallel()
	created := specFixture(t, "connect-share-token.json")
	wantBody := specFixture(t, "create-share-token.json")
	tests := []struct {
		name  string
		first httpmock.Responder
	}{
		{"dropped connection", dropConnection},
		{"503", respond(http.StatusServiceUnavailable, errorBody(503))},
		{"502", respond(http.StatusBadGateway, []byte("<html>bad gateway</html>"))},
		{"504", respond(http.StatusGatewayTimeout, errorBody(504))},
		{"429 without RateLimit-Reset", respond(http.StatusTooManyRequests, errorBody(429))},
	}
	for _, tt := range tests {
		for _, callerKey := range []string{"", "caller-key-1"} {
			t.Run(fmt.Sprintf("%s/key=%q", tt.name, callerKey), func(t *testing.T) {
				t.Parallel()
				c, mt := setup(t)
				var log attemptLog
				mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath),
					log.answer(t, tt.first.Then(tt.first).Then(respond(http.StatusCreated, created))))
				var opts []connect.RequestOption
				if callerKey != "" {
					opts = append(opts, connect.WithIdempotencyKey(callerKey))
				}
				if err := createToken(ctxT(t), c, opts...); err != nil {
					t.Fatalf("Create: %v", err)
				}
				seen := log.all()
				if len(seen) != 3 {
					t.Fatalf("Persona saw %d attempts, want 3", len(seen))
				}
				if seen[0].idem == "" || (callerKey != "" && seen[0].idem != callerKey) {
					t.Errorf("first Idempotency-Key = %q, want the caller's %q or a random one", seen[0].idem, callerKey)
				}
				for i, a := range seen {
					if a.idem != seen[0].idem {
						t.Errorf("attempt %d Idempotency-Key = %q, want %q as on attempt 1", i+1, a.idem, seen[0].idem)
					}
					testJSON(t, fmt.Sprintf("attempt %d body", i+1), a.body, wantBody)
				}
			})
		}
	}
}

// Which statuses are retried, per method: network errors, 429, 502, 503, 504 and 500
// on GET only. The default is 2 retries, so a retried status is tried 3 times.
func TestRetryPolicyByStatus(t *testing.T) {
	t.Parallel()
	sentinels := map[int]error{
		400: connect.ErrBadRequest, 401: connect.ErrUnauthorized, 403: connect.ErrForbidden,
		404: connect.ErrNotFound, 409: connect.ErrConflict, 422: connect.ErrUnprocessable,
		429: connect.ErrRateLimited, 500: connect.ErrServer, 502: connect.ErrServer,
		503: connect.ErrServer, 504: connect.ErrServer,
	}
	tests := []struct {
		status       int
		method       string
		wantAttempts int
	}{
		{400, "GET", 1}, {400, "POST", 1},
		{401, "GET", 1}, {401, "POST", 1},
		{403, "GET", 1}, {403, "POST", 1},
		{404, "GET", 1}, {404, "POST", 1},
		{409, "GET", 1}, {409, "POST", 1},
		{422, "GET", 1}, {422, "POST", 1},
		{429, "GET", 3}, {429, "POST", 3},
		{500, "GET", 3}, {500, "POST", 1}, // Persona replays a stored POST 500
		{501, "GET", 1}, {501, "POST", 1},
		{502, "GET", 3}, {502, "POST", 3},
		{503, "GET", 3}, {503, "POST", 3},
		{504, "GET", 3}, {504, "POST", 3},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %d", tt.method, tt.status), func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			path, send := exampleCall(tt.method)
			mt.RegisterResponder(tt.method, mockURL(path), respond(tt.status, errorBody(tt.status)))
			err := send(ctxT(t), c)
			apiErr := mustAPIError(t, err)
			if apiErr.StatusCode != tt.status || apiErr.Method != tt.method {
				t.Errorf("APIError = %s %d, want %s %d", apiErr.Method, apiErr.StatusCode, tt.method, tt.status)
			}
			if s, ok := sentinels[tt.status]; ok && !errors.Is(err, s) {
				t.Errorf("errors.Is(err, %v) = false", s)
			}
			if got := mt.GetTotalCallCount(); got != tt.wantAttempts {
				t.Errorf("Persona saw %d attempts, want %d", got, tt.wantAttempts)
			}
		})
	}
}

func TestMaxRetriesZeroDisablesRetries(t *testing.T) {
	t.Parallel()
	for name, first := range map[string]httpmock.Responder{
		"503":     respond(http.StatusServiceUnavailable, errorBody(503)),
		"429":     respond(http.StatusTooManyRequests, errorBody(429)),
		"dropped": dropConnection,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t, connect.WithMaxRetries(0))
			mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), first.Then(respond(http.StatusOK, specFixture(t, "connect-share-token.json"))))
			if err := getToken(ctxT(t), c); err == nil {
				t.Fatal("Get succeeded, want the first attempt's error")
			}
			if got := calls(mt, http.MethodGet, getTokenPath); got != 1 {
				t.Errorf("Persona saw %d attempts, want 1", got)
			}
		})
	}
}

// A 429 waits at least RateLimit-Reset seconds before the next attempt (a lower bound
// only: a slow machine may wait longer).
func TestRateLimitResetIsWaited(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	var log attemptLog
	mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), log.answer(t,
		respond(http.StatusTooManyRequests, errorBody(429), "RateLimit-Reset: 1", "RateLimit-Limit: 300", "RateLimit-Remaining: 0").
			Then(respond(http.StatusOK, specFixture(t, "connect-share-token-redeemed.json")))))
	if err := getToken(ctxT(t), c); err != nil {
		t.Fatalf("Get: %v", err)
	}
	seen := log.all()
	if len(seen) != 2 {
		t.Fatalf("Persona saw %d attempts, want 2", len(seen))
	}
	if gap := seen[1].at.Sub(seen[0].at); gap < time.Second {
		t.Errorf("second attempt came %v after the 429, want at least RateLimit-Reset (1s)", gap)
	}
}

// On statuses other than 429, RateLimit-Reset describes the rate window and is not a
// reason to wait: a 503 carrying a 30s reset is retried at backoff speed. Were the
// header honoured, the 30s wait would pass the 10s deadline and the 503 would be
// returned instead.
func TestRateLimitResetIgnoredOnOtherStatuses(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath),
		respond(http.StatusServiceUnavailable, errorBody(503), "RateLimit-Reset: 30").
			Then(respond(http.StatusOK, specFixture(t, "connect-share-token-redeemed.json"))))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := getToken(ctx, c); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got := calls(mt, http.MethodGet, getTokenPath); got != 2 {
		t.Errorf("Persona saw %d attempts, want 2", got)
	}
}

// A context cancelled while waiting to retry ends the wait at once; the error wraps
// both the context's error and the last *APIError.
func TestRetryWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	answered := make(chan struct{}, 1)
	tooMany := respond(http.StatusTooManyRequests, errorBody(429), "RateLimit-Reset: 30")
	mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), func(r *http.Request) (*http.Response, error) {
		defer func() { answered <- struct{}{} }()
		return tooMany(r)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- createToken(ctx, c) }()
	<-answered
	time.Sleep(50 * time.Millisecond) // let the client start its 30s wait
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Create still waiting 10s after the context was cancelled")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) = false", err)
	}
	var apiErr *connect.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
		t.Errorf("error %v does not wrap the 429 *APIError", err)
	}
	if !errors.Is(err, connect.ErrRateLimited) {
		t.Errorf("errors.Is(err, ErrRateLimited) = false")
	}
	if got := calls(mt, http.MethodPost, createTokenPath); got != 1 {
		t.Errorf("Persona saw %d attempts, want 1", got)
	}
}

// A wait the context's deadline or WithMaxRetryWait would not allow is not started:
// the *APIError comes back at once.
func TestRetryWaitTooLongReturnsAtOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		timeout time.Duration
		opts    []connect.Option
	}{
		// The reset (30s) passes the deadline (2s). A client that slept would come
		// back at 2s with DeadlineExceeded.
		{name: "past the context deadline", timeout: 2 * time.Second},
		// The deadline (45s) would allow the wait, WithMaxRetryWait (2s) does not. A
		// client that slept would try a second time after 30s.
		{name: "over WithMaxRetryWait", timeout: 45 * time.Second, opts: []connect.Option{connect.WithMaxRetryWait(2 * time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t, tt.opts...)
			mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), respond(http.StatusTooManyRequests, errorBody(429), "RateLimit-Reset: 30"))
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			err := getToken(ctx, c)
			var apiErr *connect.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("error = %v, want the 429 *APIError", err)
			}
			if apiErr.RateLimitReset != 30*time.Second {
				t.Errorf("RateLimitReset = %v, want 30s", apiErr.RateLimitReset)
			}
			if errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error wraps context.DeadlineExceeded: the client slept instead of giving up")
			}
			if got := calls(mt, http.MethodGet, getTokenPath); got != 1 {
				t.Errorf("Persona saw %d attempts, want 1", got)
			}
		})
	}
}

// bodyTracker hands out response bodies and records, each time a request is sent, how
// many of those handed out before are not yet settled (read to their end and closed).
type bodyTracker struct {
	mu            sync.Mutex
	bodies        []*watchedBody
	unsettledSent []int // at each request
}

// answer wraps next's body in a watchedBody.
func (bt *bodyTracker) answer(next httpmock.Responder) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		bt.mu.Lock()
		bt.unsettledSent = append(bt.unsettledSent, bt.unsettledLocked())
		bt.mu.Unlock()
		resp, err := next(r)
		if err != nil {
			return nil, err
		}
		b := &watchedBody{r: resp.Body}
		bt.mu.Lock()
		bt.bodies = append(bt.bodies, b)
		bt.mu.Unlock()
		resp.Body = b
		return resp, nil
	}
}

func (bt *bodyTracker) unsettledLocked() int {
	n := 0
	for _, b := range bt.bodies {
		if !b.settled() {
			n++
		}
	}
	return n
}

// Every failed answer is read to its end and closed before the next attempt, so that
// its connection can be reused; the successful one is too, before the call returns.
// The 503's body is longer than the 1 MiB the client reads of an error: the rest is
// drained.
func TestFailedResponsesSettledBeforeRetry(t *testing.T) {
	t.Parallel()
	big := []byte(`{"errors":[{"title":"Service Unavailable","details":"` + strings.Repeat("x", 1<<20+16<<10) + `"}]}`)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			var bt bodyTracker
			path, send := exampleCall(method)
			mt.RegisterResponder(method, mockURL(path), bt.answer(
				respond(http.StatusServiceUnavailable, big).
					Then(respond(http.StatusTooManyRequests, errorBody(429))).
					Then(respond(http.StatusOK, specFixture(t, "connect-share-token.json")))))
			if err := send(ctxT(t), c); err != nil {
				t.Fatalf("call: %v", err)
			}
			bt.mu.Lock()
			defer bt.mu.Unlock()
			if diff := cmp.Diff([]int{0, 0, 0}, bt.unsettledSent); diff != "" {
				t.Errorf("answers not yet read and closed when each attempt was sent (-want +got):\n%s", diff)
			}
			if n := bt.unsettledLocked(); n != 0 {
				t.Errorf("%d answers left unread or open after the call", n)
			}
		})
	}
}

// countingListener counts the connections a server accepted.
type countingListener struct {
	net.Listener
	accepted atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted.Add(1)
	}
	return c, err
}

// Over real HTTP: a call retried after a 503 and a 502 sends all its attempts on one
// connection, the one the call before it used.
func TestRetriesReuseTheConnection(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: l}
	srv := newPersona(t, connecttest.WithListener(cl))
	c, log := logClient(t, srv.Server, srv.src, connect.WithRetryBackoff(time.Millisecond, time.Millisecond))
	tok, err := c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: srv.cxn, SourceID: srv.inq})
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNext(http.MethodGet, "/connect/share-tokens/*", 1, http.StatusServiceUnavailable)
	srv.FailNext(http.MethodGet, "/connect/share-tokens/*", 1, http.StatusBadGateway)
	if _, err := c.ShareTokens.Get(ctxT(t), tok.ID); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if n := log.count("GET /connect/share-tokens/{id}"); n != 3 {
		t.Fatalf("Get sent %d attempts, want 3 (a 503, a 502, the token)", n)
	}
	if n := cl.accepted.Load(); n != 1 {
		t.Errorf("the server accepted %d connections for the Create and the Get's three attempts, want 1", n)
	}
}

// A 429's RateLimit-Reset is honoured whatever its size: a value too large for the
// client (1e6 s and up, Inf, NaN) returns the *APIError at once instead of being taken
// for "no header" and retried at backoff speed; a negative or unparsable one falls
// back to the normal backoff. Without RateLimit-Reset, Retry-After (seconds or an
// HTTP-date) sets the wait.
func TestRateLimitHintsOfAnySize(t *testing.T) {
	t.Parallel()
	inAnHour := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	anHourAgo := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name     string
		headers  []string
		attempts int           // 1: the 429 at once; 2: retried, then the 200
		reset    time.Duration // the *APIError's RateLimitReset, when attempts is 1
		leastGap time.Duration // least gap between the attempts, when attempts is 2
	}{
		{name: "reset 1e6 seconds", headers: []string{"RateLimit-Reset: 1000000"}, attempts: 1, reset: 1e6 * time.Second},
		{name: "reset 1e6 in exponent form", headers: []string{"RateLimit-Reset: 1e6"}, attempts: 1, reset: 1e6 * time.Second},
		{name: "reset 1e300", headers: []string{"RateLimit-Reset: 1e300"}, attempts: 1, reset: maxDuration},
		{name: "reset Inf", headers: []string{"RateLimit-Reset: Inf"}, attempts: 1, reset: maxDuration},
		{name: "reset NaN", headers: []string{"RateLimit-Reset: NaN"}, attempts: 1, reset: maxDuration},
		{name: "reset negative", headers: []string{"RateLimit-Reset: -5"}, attempts: 2},
		{name: "reset garbage", headers: []string{"RateLimit-Reset: soon"}, attempts: 2},
		{name: "retry-after seconds", headers: []string{"Retry-After: 1"}, attempts: 2, leastGap: time.Second},
		{name: "retry-after over the max wait", headers: []string{"Retry-After: 3600"}, attempts: 1},
		{name: "retry-after date in an hour", headers: []string{"Retry-After: " + inAnHour}, attempts: 1},
		{name: "retry-after date passed", headers: []string{"Retry-After: " + anHourAgo}, attempts: 2},
		{name: "reset wins over retry-after", headers: []string{"RateLimit-Reset: 0", "Retry-After: 3600"}, attempts: 2},
		{name: "garbage reset, retry-after used", headers: []string{"RateLimit-Reset: x", "Retry-After: 3600"}, attempts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			var log attemptLog
			mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), log.answer(t,
				respond(http.StatusTooManyRequests, errorBody(429), tt.headers...).
					Then(respond(http.StatusOK, specFixture(t, "connect-share-token-redeemed.json")))))
			err := getToken(ctxT(t), c)
			seen := log.all()
			if len(seen) != tt.attempts {
				t.Fatalf("Persona saw %d attempts, want %d (error %v)", len(seen), tt.attempts, err)
			}
			if tt.attempts == 2 {
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if gap := seen[1].at.Sub(seen[0].at); gap < tt.leastGap {
					t.Errorf("second attempt came %v after the 429, want at least %v", gap, tt.leastGap)
				}
				return
			}
			var apiErr *connect.APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("error = %v, want the 429 *APIError", err)
			}
			if tt.reset != 0 && apiErr.RateLimitReset != tt.reset {
				t.Errorf("RateLimitReset = %v, want %v", apiErr.RateLimitReset, tt.reset)
			}
		})
	}
}

// maxDuration is what RateLimitReset holds for a value too large to represent.
const maxDuration = time.Duration(1<<63 - 1)
