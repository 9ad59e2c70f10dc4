package connect_test

// Shared helpers of the client tests: a recording httpmock client, go-github style
// request assertions built on go-cmp, spec fixtures and transports that count or forbid
// I/O.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jarcoal/httpmock"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/spectest"
)

// testAPIKey is distinctive so that a leak is easy to grep for in any output.
const testAPIKey = "persona_sandbox_KEY-7c1d9e2f4a6b8c0d-SECRET"

// mockBaseURL is the base URL of httpmock clients: https on a non-loopback host, as in
// production; httpmock answers without any network.
const mockBaseURL = "https://api.persona.test/api/v1"

// specFixture returns one example of Persona's spec as JSON, read from the spec's YAML
// (internal/spectest; without the spec beside the checkout the test skips). name is the
// example's file under components/examples with .json for .yaml
// ("connect-share-token.json"), "error-<name>.json" for the example of
// components/responses/<name>.yaml, or one of the inline examples named below.
func specFixture(t testing.TB, name string) []byte {
	t.Helper()
	const redeem = "paths/connect_share-tokens_{share-token-id}_redeem.yaml"
	success := []string{"get", "responses", "200", "content", "application/json", "examples", "Success", "value"}
	switch name {
	case "events-list.json":
		return spectest.JSON(t, "paths/events.yaml", success...)
	case "events-retrieve.json":
		return spectest.JSON(t, "paths/events_{event-id}.yaml", success...)
	case "redeem-share-token.x-fern-examples.clone-an-object.request.json":
		return spectest.JSON(t, redeem, "post", "x-fern-examples", "0", "request")
	case "redeem-share-token.x-fern-examples.clone-an-object.response.json":
		return spectest.JSON(t, redeem, "post", "x-fern-examples", "0", "response", "body")
	case "redeem-share-token.x-fern-examples.hydrate-an-object.request.json":
		return spectest.JSON(t, redeem, "post", "x-fern-examples", "1", "request")
	case "redeem-share-token.x-fern-examples.hydrate-an-object.response.json":
		return spectest.JSON(t, redeem, "post", "x-fern-examples", "1", "response", "body")
	}
	base := strings.TrimSuffix(name, ".json")
	if response, ok := strings.CutPrefix(base, "error-"); ok {
		return spectest.JSON(t, "components/responses/"+response+".yaml", "content", "application/json", "examples", "*", "value")
	}
	return spectest.Example(t, base+".yaml")
}

// recordedRequest is what a client sent, read in full by the mock transport.
type recordedRequest struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte // nil when the request had no body
}

// recorder is an httpmock transport that records every request and answers each with
// the next scripted response (the last one repeats).
type recorder struct {
	mu        sync.Mutex
	requests  []recordedRequest
	responses []mockResponse
}

type mockResponse struct {
	status int
	body   []byte
	header http.Header
}

// newRecordingClient returns a client over an httpmock transport that answers every
// request with status and body. opts come after the test's base URL and transport.
func newRecordingClient(t testing.TB, status int, body []byte, opts ...connect.Option) (*connect.Client, *recorder) {
	t.Helper()
	rec := &recorder{responses: []mockResponse{{status: status, body: body}}}
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(rec.respond)
	all := append([]connect.Option{
		connect.WithBaseURL(mockBaseURL),
		connect.WithHTTPClient(&http.Client{Transport: mt}),
		connect.WithRetryBackoff(time.Millisecond, 5*time.Millisecond),
	}, opts...)
	c, err := connect.New(testAPIKey, all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, rec
}

func (r *recorder) respond(req *http.Request) (*http.Response, error) {
	rr := recordedRequest{Method: req.Method, URL: req.URL, Header: req.Header.Clone()}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		rr.Body = b
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, rr)
	m := r.responses[min(len(r.requests), len(r.responses))-1]
	resp := httpmock.NewBytesResponse(m.status, m.body)
	resp.Header.Set("Content-Type", "application/json")
	resp.Header.Set("Request-Id", "req_mock")
	for k, v := range m.header {
		resp.Header[k] = v
	}
	return resp, nil
}

// all returns the requests recorded so far.
func (r *recorder) all() []recordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedRequest(nil), r.requests...)
}

// only returns the one request recorded, failing the test unless there is exactly one.
func (r *recorder) only(t testing.TB) recordedRequest {
	t.Helper()
	reqs := r.all()
	if len(reqs) != 1 {
		t.Fatalf("sent %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// testMethod checks the request's method.
func testMethod(t testing.TB, r recordedRequest, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

// testHeader checks one header; want "" means the header must be absent.
func testHeader(t testing.TB, r recordedRequest, name, want string) {
	t.Helper()
	got, present := r.Header[http.CanonicalHeaderKey(name)]
	switch {
	case want == "" && present:
		t.Errorf("header %s = %q, want it absent", name, got)
	case want != "" && (len(got) != 1 || got[0] != want):
		t.Errorf("header %s = %q, want %q", name, got, want)
	}
}

// testJSONBody checks that the request body equals the want JSON document
// semantically (object key order and whitespace do not matter).
func testJSONBody(t testing.TB, body, want []byte) {
	t.Helper()
	var got, exp any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("request body %q is not JSON: %v", body, err)
	}
	if err := json.Unmarshal(want, &exp); err != nil {
		t.Fatalf("want %q is not JSON: %v", want, err)
	}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("request body mismatch (-want +got):\n%s", diff)
	}
}

// noIOClient returns a client whose every request fails the test: for calls that must
// be refused before any I/O.
func noIOClient(t *testing.T) *connect.Client {
	t.Helper()
	c, err := connect.New(testAPIKey,
		connect.WithBaseURL(mockBaseURL),
		connect.WithHTTPClient(&http.Client{Transport: failingTransport{t}}),
		connect.WithMaxRetries(0))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

type failingTransport struct{ t *testing.T }

func (f failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
	return nil, errors.New("test transport: no request expected")
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

// collect ranges over an iterator and returns its items and its error.
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

// ptime parses an RFC 3339 time for expected structs.
func ptime(t testing.TB, s string) *time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return &v
}

// countingBody counts the bytes a client read from a response body and whether it was
// closed.
type countingBody struct {
	r      io.Reader
	mu     sync.Mutex
	n      int64
	closed bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.mu.Lock()
	b.n += int64(n)
	b.mu.Unlock()
	return n, err
}

func (b *countingBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

func (b *countingBody) read() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// ctxT returns a context that ends with the test, bounded by a generous timeout so
// that a hung test fails instead of blocking the run.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
