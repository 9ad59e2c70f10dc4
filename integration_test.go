package connect_test

// The integration tests run the SDK against connecttest over real HTTP on loopback,
// each organization's client made by Server.NewClient. When a test needs to see the
// requests themselves (how many reached Persona, which Operation a tracing transport
// reads), the client's transport is a wireLog.

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// persona is a connecttest server for one test, closed when it ends, with a source and
// a destination organization joined by an active connection, and a completed inquiry of
// the source's.
type persona struct {
	*connecttest.Server
	src, dst *connecttest.Organization
	cxn, inq string
}

func newPersona(t testing.TB, opts ...connecttest.ServerOption) *persona {
	t.Helper()
	srv := connecttest.NewServer(opts...)
	t.Cleanup(srv.Close)
	p := &persona{Server: srv, src: srv.NewOrganization("Source"), dst: srv.NewOrganization("Destination")}
	p.cxn, p.inq = srv.CreateConnection(p.src, p.dst), srv.CreateInquiry(p.src)
	return p
}

// wireLog is an http.RoundTripper between a client and connecttest that logs every
// request the client sends, as a transport that traces or counts would see it.
type wireLog struct {
	next http.RoundTripper

	mu      sync.Mutex
	entries []wireEntry    // since the last take
	counts  map[string]int // every request, by "METHOD /route"
}

// wireEntry is one request the client sent.
type wireEntry struct {
	Method    string
	Route     string // the path relative to /api/v1, with ids as {id}
	Op        connect.Operation
	HasOp     bool // the request's context carried an Operation
	Attempt   int
	RequestID string // the answer's Request-Id; "" when no answer came
}

// logClient returns a client of org on srv whose requests go through a new wireLog over
// a transport of its own, and the log; opts come after the HTTP client.
func logClient(t testing.TB, srv *connecttest.Server, org *connecttest.Organization, opts ...connect.Option) (*connect.Client, *wireLog) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return logClientVia(t, srv, org, tr, opts...)
}

// logClientVia is logClient over the transport next.
func logClientVia(t testing.TB, srv *connecttest.Server, org *connecttest.Organization, next http.RoundTripper, opts ...connect.Option) (*connect.Client, *wireLog) {
	t.Helper()
	log := &wireLog{next: next, counts: map[string]int{}}
	// The timeout bounds a request the fake never answers, so that such a test fails.
	hc := &http.Client{Transport: log, Timeout: 30 * time.Second}
	c, err := srv.NewClient(org, append([]connect.Option{connect.WithHTTPClient(hc)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, log
}

func (l *wireLog) RoundTrip(r *http.Request) (*http.Response, error) {
	e := wireEntry{Method: r.Method, Route: route(r.URL.Path)}
	e.Op, e.HasOp = connect.OperationFromContext(r.Context())
	e.Attempt, _ = connect.AttemptFromContext(r.Context())
	resp, err := l.next.RoundTrip(r)
	if err == nil {
		e.RequestID = resp.Header.Get("Request-Id")
	}
	l.mu.Lock()
	l.entries = append(l.entries, e)
	l.counts[e.Method+" "+e.Route]++
	l.mu.Unlock()
	return resp, err
}

// take returns the requests logged since the last take.
func (l *wireLog) take() []wireEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.entries
	l.entries = nil
	return out
}

// requestIDs is take, reduced to the answers' Request-Ids.
func (l *wireLog) requestIDs() []string {
	var ids []string
	for _, e := range l.take() {
		ids = append(ids, e.RequestID)
	}
	return ids
}

// count is how many requests matched key, "METHOD /route", e.g.
// "POST /connect/share-tokens/{id}/redeem", since the log began.
func (l *wireLog) count(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[key]
}

// route is path relative to /api/v1 with its ids (the segments with an underscore)
// replaced by {id}.
func route(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, "/api/v1"), "/")
	for i, p := range parts {
		if strings.Contains(p, "_") {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}
