package connect_test

// Retries end to end, through real HTTP servers (httptest), not mocks: the connection
// handling (drops, reuse, body closing) is part of what is tested.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// attemptRecord is what the server saw of one attempt.
type attemptRecord struct {
	at     time.Time
	idem   string
	body   string
	remote string
}

// scriptServer answers the n-th request with the n-th step (the last step repeats) and
// records every attempt.
type scriptServer struct {
	*httptest.Server
	mu       sync.Mutex
	attempts []attemptRecord
	steps    []http.HandlerFunc
}

func newScriptServer(t testing.TB, steps ...http.HandlerFunc) *scriptServer {
	t.Helper()
	s := &scriptServer{steps: steps}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.attempts = append(s.attempts, attemptRecord{at: time.Now(), idem: r.Header.Get("Idempotency-Key"), body: string(body), remote: r.RemoteAddr})
		step := s.steps[min(len(s.attempts), len(s.steps))-1]
		s.mu.Unlock()
		step(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptServer) records() []attemptRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]attemptRecord(nil), s.attempts...)
}

// client returns a client of the server with fast backoff; opts come last.
func (s *scriptServer) client(t testing.TB, opts ...connect.Option) *connect.Client {
	t.Helper()
	all := append([]connect.Option{
		connect.WithBaseURL(s.URL + "/api/v1"),
		connect.WithRetryBackoff(time.Millisecond, 5*time.Millisecond),
	}, opts...)
	c, err := connect.New(testAPIKey, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// respond answers with status, the given body and headers as "Name: value" pairs.
func respond(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ": ")
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", fmt.Sprintf("req_%d", status))
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// errorBody is a spec-shaped error body for status.
func errorBody(status int) string {
	return fmt.Sprintf(`{"errors":[{"title":%q,"details":"scripted"}]}`, http.StatusText(status))
}

// dropConnection closes the connection without answering.
func dropConnection(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

func createToken(ctx context.Context, c *connect.Client, opts ...connect.RequestOption) error {
	_, err := c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: "cxn_ABC123", SourceID: "inq_ABC123"}, opts...)
	return err
}

func getToken(ctx context.Context, c *connect.Client, _ ...connect.RequestOption) error {
	_, err := c.ShareTokens.Get(ctx, "cnst_ABC123")
	return err
}

// A POST that fails transiently is retried with the same Idempotency-Key and body.
func TestRetryRecoversWithSameKeyAndBody(t *testing.T) {
	t.Parallel()
	created := string(specFixture(t, "connect-share-token.json"))
	tests := []struct {
		name  string
		first http.HandlerFunc
	}{
		{"dropped connection", dropConnection},
		{"503", respond(http.StatusServiceUnavailable, errorBody(503))},
		{"502", respond(http.StatusBadGateway, "<html>bad gateway</html>")},
		{"504", respond(http.StatusGatewayTimeout, errorBody(504))},
		{"429 without RateLimit-Reset", respond(http.StatusTooManyRequests, errorBody(429))},
	}
	for _, tt := range tests {
		for _, callerKey := range []string{"", "caller-key-1"} {
			t.Run(fmt.Sprintf("%s/key=%q", tt.name, callerKey), func(t *testing.T) {
				t.Parallel()
				srv := newScriptServer(t, tt.first, tt.first, respond(http.StatusCreated, created))
				var opts []connect.RequestOption
				if callerKey != "" {
					opts = append(opts, connect.WithIdempotencyKey(callerKey))
				}
				if err := createToken(ctxT(t), srv.client(t), opts...); err != nil {
					t.Fatalf("Create: %v", err)
				}
				recs := srv.records()
				if len(recs) != 3 {
					t.Fatalf("server saw %d attempts, want 3", len(recs))
				}
				if recs[0].idem == "" || (callerKey != "" && recs[0].idem != callerKey) {
					t.Errorf("first Idempotency-Key = %q, want the caller's %q or a random one", recs[0].idem, callerKey)
				}
				for i, r := range recs {
					if r.idem != recs[0].idem {
						t.Errorf("attempt %d Idempotency-Key = %q, want %q as on attempt 1", i+1, r.idem, recs[0].idem)
					}
					testJSONBody(t, []byte(r.body), specFixture(t, "create-share-token.json"))
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
	calls := map[string]func(context.Context, *connect.Client, ...connect.RequestOption) error{
		http.MethodGet:  getToken,
		http.MethodPost: createToken,
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
			srv := newScriptServer(t, respond(tt.status, errorBody(tt.status)))
			err := calls[tt.method](ctxT(t), srv.client(t))
			var apiErr *connect.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error = %v, want an *APIError", err)
			}
			if apiErr.StatusCode != tt.status || apiErr.Method != tt.method {
				t.Errorf("APIError = %s %d, want %s %d", apiErr.Method, apiErr.StatusCode, tt.method, tt.status)
			}
			if s, ok := sentinels[tt.status]; ok && !errors.Is(err, s) {
				t.Errorf("errors.Is(err, %v) = false", s)
			}
			if got := len(srv.records()); got != tt.wantAttempts {
				t.Errorf("server saw %d attempts, want %d", got, tt.wantAttempts)
			}
		})
	}
}

func TestMaxRetriesZeroDisablesRetries(t *testing.T) {
	t.Parallel()
	for name, step := range map[string]http.HandlerFunc{
		"503":     respond(http.StatusServiceUnavailable, errorBody(503)),
		"429":     respond(http.StatusTooManyRequests, errorBody(429)),
		"dropped": dropConnection,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newScriptServer(t, step, respond(http.StatusOK, string(specFixture(t, "connect-share-token.json"))))
			if err := getToken(ctxT(t), srv.client(t, connect.WithMaxRetries(0))); err == nil {
				t.Fatal("Get succeeded, want the first attempt's error")
			}
			if got := len(srv.records()); got != 1 {
				t.Errorf("server saw %d attempts, want 1", got)
			}
		})
	}
}

// A 429 waits at least RateLimit-Reset seconds before the next attempt, measured on the
// server (a lower bound only: a slow machine may wait longer).
func TestRateLimitResetIsWaited(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t,
		respond(http.StatusTooManyRequests, errorBody(429), "RateLimit-Reset: 1", "RateLimit-Limit: 300", "RateLimit-Remaining: 0"),
		respond(http.StatusOK, string(specFixture(t, "connect-share-token-redeemed.json"))))
	if err := getToken(ctxT(t), srv.client(t)); err != nil {
		t.Fatalf("Get: %v", err)
	}
	recs := srv.records()
	if len(recs) != 2 {
		t.Fatalf("server saw %d attempts, want 2", len(recs))
	}
	if gap := recs[1].at.Sub(recs[0].at); gap < time.Second {
		t.Errorf("second attempt came %v after the 429, want at least RateLimit-Reset (1s)", gap)
	}
}

// On statuses other than 429, RateLimit-Reset describes the rate window and is not a
// reason to wait: a 503 carrying a 30s reset is retried at backoff speed. Were the
// header honoured, the 30s wait would pass the 10s deadline and the 503 would be
// returned instead.
func TestRateLimitResetIgnoredOnOtherStatuses(t *testing.T) {
	t.Parallel()
	srv := newScriptServer(t,
		respond(http.StatusServiceUnavailable, errorBody(503), "RateLimit-Reset: 30"),
		respond(http.StatusOK, string(specFixture(t, "connect-share-token-redeemed.json"))))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := getToken(ctx, srv.client(t)); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got := len(srv.records()); got != 2 {
		t.Errorf("server saw %d attempts, want 2", got)
	}
}

// A context cancelled while waiting to retry ends the wait at once; the error wraps
// both the context's error and the last *APIError.
func TestRetryWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	seen := make(chan struct{}, 1)
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		respond(http.StatusTooManyRequests, errorBody(429), "RateLimit-Reset: 30")(w, r)
		seen <- struct{}{}
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- createToken(ctx, srv.client(t)) }()
	<-seen
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
	if got := len(srv.records()); got != 1 {
		t.Errorf("server saw %d attempts, want 1", got)
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
			srv := newScriptServer(t, respond(http.StatusTooManyRequests, errorBody(429), "RateLimit-Reset: 30"))
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			err := getToken(ctx, srv.client(t, tt.opts...))
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
			if got := len(srv.records()); got != 1 {
				t.Errorf("server saw %d attempts, want 1", got)
			}
		})
	}
}

// bodyTrackingTransport counts the response bodies handed out and not yet closed, and
// records how many were open when each request started.
type bodyTrackingTransport struct {
	base       http.RoundTripper
	mu         sync.Mutex
	open       int
	openAtSend []int
}

func (b *bodyTrackingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b.mu.Lock()
	b.openAtSend = append(b.openAtSend, b.open)
	b.mu.Unlock()
	resp, err := b.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.open++
	b.mu.Unlock()
	resp.Body = &trackedBody{ReadCloser: resp.Body, t: b}
	return resp, nil
}

type trackedBody struct {
	io.ReadCloser
	t    *bodyTrackingTransport
	once sync.Once
}

func (b *trackedBody) Close() error {
	b.once.Do(func() {
		b.t.mu.Lock()
		b.t.open--
		b.t.mu.Unlock()
	})
	return b.ReadCloser.Close()
}

// Every failed response is closed before the next attempt, and drained so that the
// connection is reused.
func TestFailedResponsesClosedBeforeRetry(t *testing.T) {
	t.Parallel()
	big := `{"errors":[{"title":"Service Unavailable","details":"` + strings.Repeat("x", 16<<10) + `"}]}`
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			srv := newScriptServer(t,
				respond(http.StatusServiceUnavailable, big),
				respond(http.StatusTooManyRequests, errorBody(429)),
				respond(http.StatusOK, string(specFixture(t, "connect-share-token.json"))))
			tr := &bodyTrackingTransport{base: srv.Client().Transport}
			c := srv.client(t, connect.WithHTTPClient(&http.Client{Transport: tr}))
			call := getToken
			if method == http.MethodPost {
				call = createToken
			}
			if err := call(ctxT(t), c); err != nil {
				t.Fatalf("call: %v", err)
			}
			tr.mu.Lock()
			defer tr.mu.Unlock()
			if want := []int{0, 0, 0}; fmt.Sprint(tr.openAtSend) != fmt.Sprint(want) {
				t.Errorf("open bodies when each attempt was sent = %v, want %v", tr.openAtSend, want)
			}
			if tr.open != 0 {
				t.Errorf("%d response bodies left open after the call", tr.open)
			}
			recs := srv.records()
			for i, r := range recs {
				if r.remote != recs[0].remote {
					t.Errorf("attempt %d came from %s, attempt 1 from %s: the connection was not reused", i+1, r.remote, recs[0].remote)
				}
			}
		})
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
			srv := newScriptServer(t,
				respond(http.StatusTooManyRequests, errorBody(429), tt.headers...),
				respond(http.StatusOK, string(specFixture(t, "connect-share-token-redeemed.json"))))
			err := getToken(ctxT(t), srv.client(t))
			recs := srv.records()
			if len(recs) != tt.attempts {
				t.Fatalf("server saw %d attempts, want %d (error %v)", len(recs), tt.attempts, err)
			}
			if tt.attempts == 2 {
				if err != nil {
					t.Fatalf("Get: %v", err)
				}
				if gap := recs[1].at.Sub(recs[0].at); gap < tt.leastGap {
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
