package connect_test

// The fake Persona of the unit tests is httpmock, used the way its documentation
// shows. setup returns a client whose HTTP client has a fresh httpmock.MockTransport
// (given with WithHTTPClient: httpmock.Activate swaps http.DefaultTransport, which a
// cleanhttp client never uses) and the transport. A test registers a responder for
// each request it expects, mt.RegisterResponder(method, mockURL(path), ...), so the
// method and the path are checked by the match; it checks the rest of what the client
// sent inside the responder with testHeader, testQuery and testJSONBody, and counts the
// calls with GetCallCountInfo (calls). A request nobody registered fails the test.
//
// httpmock rather than an httptest server, because what these tests are about is the
// SDK's own logic (what it sends, how it reads an answer, when it retries): a scripted
// answer, a dropped connection or a body that breaks off is one responder, with no
// port, no goroutine and nothing that depends on timing. What only a real connection
// shows (connection reuse, a refused dial, TLS, timeouts) is tested over connecttest,
// as are the integration tests and the Examples (integration_test.go).

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	connect "github.com/persona-connect/connect-go"
)

// testAPIKey is distinctive so that a leak is easy to grep for in any output.
const testAPIKey = "persona_sandbox_KEY-7c1d9e2f4a6b8c0d-SECRET"

// mockBaseURL is the base URL of the clients setup makes: https on a host that is not
// loopback, as in production; httpmock answers without any network.
const mockBaseURL = "https://api.persona.test/api/v1"

// errUnexpected is what the transport answers a request nobody registered.
var errUnexpected = errors.New("httpmock: no responder registered for this request")

// setup returns a client of the fake Persona and its transport, with no responder
// registered: until the test registers some, any request fails the test. opts come
// after the base URL, the transport and a fast retry backoff (1ms to 5ms), so they may
// replace any of them.
func setup(t testing.TB, opts ...connect.Option) (*connect.Client, *httpmock.MockTransport) {
	t.Helper()
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		return nil, errUnexpected
	})
	c, err := connect.New(testAPIKey, append([]connect.Option{
		connect.WithBaseURL(mockBaseURL),
		connect.WithHTTPClient(&http.Client{Transport: mt}),
		connect.WithRetryBackoff(time.Millisecond, 5*time.Millisecond),
	}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, mt
}

// noIOClient is a client of the fake Persona with no responder registered: for calls
// that must be refused before any I/O, since any request fails the test.
func noIOClient(t testing.TB) *connect.Client {
	t.Helper()
	c, _ := setup(t)
	return c
}

// mockURL is the URL of path (relative to the base URL) on the fake Persona, as
// RegisterResponder and GetCallCountInfo name it.
func mockURL(path string) string { return mockBaseURL + path }

// calls is how many requests the responder registered for method and path answered.
func calls(mt *httpmock.MockTransport, method, path string) int {
	return mt.GetCallCountInfo()[method+" "+mockURL(path)]
}

// respond answers status with body, as Persona does: Content-Type application/json and
// a Request-Id of req_<status>. headers are "Name: value" pairs set on top; "Name:"
// with no value removes that header.
func respond(status int, body []byte, headers ...string) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewBytesResponse(status, body)
		resp.Header.Set("Content-Type", "application/json")
		resp.Header.Set("Request-Id", "req_"+strconv.Itoa(status))
		for _, h := range headers {
			k, v, _ := strings.Cut(h, ":")
			if v = strings.TrimSpace(v); v == "" {
				resp.Header.Del(k)
			} else {
				resp.Header.Set(k, v)
			}
		}
		return resp, nil
	}
}

// errorBody is a spec-shaped error body for status.
func errorBody(status int) []byte {
	return []byte(`{"errors":[{"title":` + strconv.Quote(http.StatusText(status)) + `,"details":"scripted"}]}`)
}

// dropConnection is a connection reset after the request went out, before any answer
// came back: the client cannot know whether Persona applied it. The error is the one
// net returns for it.
func dropConnection(*http.Request) (*http.Response, error) {
	return nil, &net.OpError{Op: "read", Net: "tcp", Addr: personaAddr, Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

// refuseConnection is a dial nobody answered: nothing was sent. The error is the one
// net returns for it ("dial tcp ...: connect: connection refused").
func refuseConnection(*http.Request) (*http.Response, error) {
	return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: personaAddr, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

// personaAddr is the address the fake's network errors name.
var personaAddr = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 443}

// cutBody answers status with a Content-Length for the whole of body, but the body
// breaks off half way with io.ErrUnexpectedEOF, as when the connection closes mid-body.
func cutBody(status int, body []byte) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewBytesResponse(status, nil)
		resp.Header.Set("Content-Type", "application/json")
		resp.ContentLength = int64(len(body))
		resp.Body = io.NopCloser(io.MultiReader(strings.NewReader(string(body[:len(body)/2])), errReader{io.ErrUnexpectedEOF}))
		return resp, nil
	}
}

// errReader is a reader that fails with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// watchedBody is a response body that records how much of it the client read, whether
// it read to the end, and whether it closed it.
type watchedBody struct {
	r io.Reader

	mu          sync.Mutex
	n           int64
	eof, closed bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.mu.Lock()
	b.n += int64(n)
	b.eof = b.eof || err == io.EOF
	b.mu.Unlock()
	return n, err
}

func (b *watchedBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// state is how many bytes the client read, whether it read to the end and whether it
// closed the body.
func (b *watchedBody) state() (read int64, eof, closed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n, b.eof, b.closed
}

// settled reports whether the client read the body to its end and closed it, which is
// what lets net/http reuse the connection.
func (b *watchedBody) settled() bool {
	_, eof, closed := b.state()
	return eof && closed
}

// holdUntilCancelled tells the test the request arrived, then holds it until the
// client goes away: the request was sent, and its outcome is unknown to the client.
func holdUntilCancelled(arrived chan<- struct{}) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		arrived <- struct{}{}
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
}

// The test* checks below run inside responders, on the goroutine that sends the
// request, so they report with Errorf and never stop the test.
// testHeader checks one header; want "" means the header must be absent.
func testHeader(t testing.TB, r *http.Request, name, want string) {
	t.Helper()
	got, present := r.Header[http.CanonicalHeaderKey(name)]
	switch {
	case want == "" && present:
		t.Errorf("header %s = %q, want it absent", name, got)
	case want != "" && (len(got) != 1 || got[0] != want):
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}

// testQuery checks the request's whole query; a nil want means no query at all.
func testQuery(t testing.TB, r *http.Request, want url.Values) {
	t.Helper()
	got := r.URL.Query()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

// requestBody reads the request's body; nil when it has none.
func requestBody(t testing.TB, r *http.Request) []byte {
	t.Helper()
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Errorf("reading the request body: %v", err)
	}
	return b
}

// testJSONBody checks that the request's body equals the want JSON document
// semantically (object key order and whitespace do not matter).
func testJSONBody(t testing.TB, r *http.Request, want []byte) {
	t.Helper()
	testJSON(t, "request body", requestBody(t, r), want)
}

// testJSON checks that got equals the want JSON document semantically.
func testJSON(t testing.TB, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s %q is not JSON: %v", what, got, err)
		return
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Errorf("want %q is not JSON: %v", want, err) // Errorf: responders run on the client's goroutine
		return
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

// mustAPIError is the *APIError err wraps; without one it fails t.
func mustAPIError(t testing.TB, err error) *connect.APIError {
	t.Helper()
	var apiErr *connect.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("error = %v, want an *APIError", err)
	}
	return apiErr
}

// ctxT returns a context that ends with the test, bounded by a generous timeout so
// that a hung test fails instead of blocking the run.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// firstErr ranges over an iterator and returns its first error (nil if none), stopping
// after limit items when limit > 0.
func firstErr[T any](seq func(func(T, error) bool), limit int) error {
	n := 0
	for _, err := range seq {
		if err != nil {
			return err
		}
		n++
		if limit > 0 && n >= limit {
			return nil
		}
	}
	return nil
}

// concurrently calls f(0) to f(n-1), each in a goroutine of its own, and returns their
// results, in that order, once every one has returned.
func concurrently[T any](n int, f func(i int) T) []T {
	out := make([]T, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = f(i)
		}()
	}
	wg.Wait()
	return out
}

// collectAll ranges over an iterator and returns its items and its error.
func collectAll[T any](seq func(func(T, error) bool)) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// call is one client call, as table tests hold it; opts go to the SDK method.
type call func(ctx context.Context, c *connect.Client, opts ...connect.RequestOption) error

// with is cl with opts, given after those of the caller.
func (cl call) with(opts ...connect.RequestOption) call {
	return func(ctx context.Context, c *connect.Client, more ...connect.RequestOption) error {
		return cl(ctx, c, slices.Concat(more, opts)...)
	}
}

// createWith is a Create with p.
func createWith(p connect.CreateShareTokenParams) call {
	return func(ctx context.Context, c *connect.Client, opts ...connect.RequestOption) error {
		_, err := c.ShareTokens.Create(ctx, p, opts...)
		return err
	}
}

// redeemWith is a Redeem of token id with p.
func redeemWith(id string, p connect.RedeemShareTokenParams) call {
	return func(ctx context.Context, c *connect.Client, opts ...connect.RequestOption) error {
		_, err := c.ShareTokens.Redeem(ctx, id, p, opts...)
		return err
	}
}

// createConnectionWith is a Connections.Create with p.
func createConnectionWith(p connect.CreateConnectionParams) call {
	return func(ctx context.Context, c *connect.Client, opts ...connect.RequestOption) error {
		_, err := c.Connections.Create(ctx, p, opts...)
		return err
	}
}

// listTokens, listConnections and listEvents are a List with p that stops at its
// first token, connection or event, or its error: one request.
func listTokens(p connect.ListShareTokensParams) call {
	return func(ctx context.Context, c *connect.Client, opts ...connect.RequestOption) error {
		return firstErr(c.ShareTokens.List(ctx, &p, opts...), 1)
	}
}

func listConnections(p connect.ListConnectionsParams) call {
	return func(ctx context.Context, c *connect.Client, opts ...connect.RequestOption) error {
		return firstErr(c.Connections.List(ctx, &p, opts...), 1)
	}
}

func listEvents(p connect.ListEventsParams) call {
	return func(ctx context.Context, c *connect.Client, opts ...connect.RequestOption) error {
		return firstErr(c.Events.List(ctx, &p, opts...), 1)
	}
}

// idCall is a call of a method that takes an id, as the tests of every such method run
// it.
type idCall func(ctx context.Context, c *connect.Client, id string, opts ...connect.RequestOption) error

// onID is the idCall of a service method that takes an id, given as a method
// expression, (*connect.ShareTokensService).Get, with the function that picks its
// service from a client.
func onID[S, T any](service func(*connect.Client) S, method func(S, context.Context, string, ...connect.RequestOption) (T, error)) idCall {
	return func(ctx context.Context, c *connect.Client, id string, opts ...connect.RequestOption) error {
		_, err := method(service(c), ctx, id, opts...)
		return err
	}
}

// on is the call with id.
func (ic idCall) on(id string) call {
	return func(ctx context.Context, c *connect.Client, opts ...connect.RequestOption) error {
		return ic(ctx, c, id, opts...)
	}
}

// The services, for onID.
func shareTokens(c *connect.Client) *connect.ShareTokensService { return c.ShareTokens }
func connections(c *connect.Client) *connect.ConnectionsService { return c.Connections }
func events(c *connect.Client) *connect.EventsService           { return c.Events }

// createToken is a Create of the spec's example params.
func createToken(ctx context.Context, c *connect.Client, opts ...connect.RequestOption) error {
	_, err := c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: "cxn_ABC123", SourceID: "inq_ABC123"}, opts...)
	return err
}

// getToken is a Get of the spec's example token.
func getToken(ctx context.Context, c *connect.Client, opts ...connect.RequestOption) error {
	_, err := c.ShareTokens.Get(ctx, "cnst_ABC123", opts...)
	return err
}

// Routes of the calls createToken and getToken make.
const (
	createTokenPath = "/connect/share-tokens"
	getTokenPath    = "/connect/share-tokens/cnst_ABC123"
)

// exampleCall is the example call of method, createToken for a POST and getToken for
// a GET, with the path it goes to.
func exampleCall(method string) (path string, send call) {
	if method == http.MethodPost {
		return createTokenPath, createToken
	}
	return getTokenPath, getToken
}
