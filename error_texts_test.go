package connect_test

// Every error text says "connect:" once, at its start, and never "(request )" without
// a Request-Id. The errors come from every layer that words one: option and param
// validation, the verifier, event parsing, API and request errors, pagination and Wait.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	connect "github.com/persona-connect/connect-go"
)

// checkErrorText fails unless text starts with "connect: " and has no second one. A
// net error's "connect: connection refused" names the syscall, not this package.
func checkErrorText(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	text := err.Error()
	ours := strings.Count(text, "connect: ") - strings.Count(text, "connect: connection ")
	switch {
	case !strings.HasPrefix(text, "connect: "):
		t.Errorf("%s: %q does not start with connect:", what, text)
	case ours != 1:
		t.Errorf("%s: %q says connect: %d times", what, text, ours)
	case strings.Contains(text, "(request )"):
		t.Errorf("%s: %q has an empty request id", what, text)
	}
}

func TestErrorTextsSayConnectOnce(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	errs := map[string]error{}
	add := func(what string, err error) { errs[what] = err }
	second := func(_ any, err error) error { return err }

	// New and its options.
	add("New: empty key", second(connect.New("")))
	add("New: control character", second(connect.New("k\x00")))
	add("New: base URL", second(connect.New("k", connect.WithBaseURL("http://example.com"))))
	add("New: user agent", second(connect.New("k", connect.WithUserAgent("a\tb"))))

	// The verifier.
	add("NewVerifier: no secret", second(connect.NewVerifier(nil)))
	add("NewVerifier: empty secret", second(connect.NewVerifier([]string{"wbhsec_a", " "})))
	add("NewVerifier: tolerance", second(connect.NewVerifier([]string{"wbhsec_a"}, connect.WithTolerance(0))))
	add("NewVerifier: clock", second(connect.NewVerifier([]string{"wbhsec_a"}, connect.WithClock(nil))))
	v := newVerifier(t, []string{"wbhsec_a"})
	body := []byte(`{"data":{"type":"event","id":"evt_1","attributes":{"name":"inquiry.completed","created-at":"2025-12-08T10:00:00.000Z","payload":{"data":{"type":"inquiry","id":"inq_1","attributes":{}}}}}}`)
	now := time.Now()
	add("Verify: missing", v.Verify(body, ""))
	add("Verify: malformed", v.Verify(body, "t=1,v1=zz"))
	add("Verify: too long", v.Verify(body, strings.Repeat("t", 5000)))
	add("Verify: stale", v.Verify(body, connect.SignHeader(body, "wbhsec_a", now.Add(-time.Hour))))
	add("Verify: wrong secret", v.Verify(body, connect.SignHeader(body, "wbhsec_b", now)))
	add("ConstructEvent: not an event", second(v.ConstructEvent([]byte(`{}`), connect.SignHeader([]byte(`{}`), "wbhsec_a", now))))
	add("ConstructEvent: empty secret", second(connect.ConstructEvent(body, "", "")))

	// Events.
	add("ParseEvent: not JSON", second(connect.ParseEvent([]byte("nope"))))
	add("ParseEvent: no data", second(connect.ParseEvent([]byte(`{}`))))
	add("ParseEvent: no name", second(connect.ParseEvent([]byte(`{"data":{"type":"event","id":"evt_1","attributes":{}}}`))))
	ev, err := connect.ParseEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	add("Event.ShareToken: an inquiry", second(ev.ShareToken()))

	// Validation before any I/O.
	c := noIOClient(t)
	add("Create: params", second(c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: "inq_1", SourceID: "inq_1"})))
	add("Create: idempotency key", second(c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: "cxn_1", SourceID: "inq_1"}, connect.WithIdempotencyKey(" "))))
	add("Get: id", second(c.ShareTokens.Get(ctx, "cnst_a/b")))
	add("List: params", firstErr(c.ShareTokens.List(ctx, &connect.ListShareTokensParams{PageSize: 1000}), 0))

	// Answers and their absence.
	created := specFixture(t, "connect-share-token.json")
	for name, answer := range map[string]httpmock.Responder{
		"404 without request id":  respond(404, nil, "Request-Id:"),
		"404":                     respond(404, errorBody(404)),
		"dropped":                 dropConnection,
		"refused":                 refuseConnection,
		"cut body":                cutBody(201, created),
		"not JSON, no request id": respond(201, []byte("<html>"), "Request-Id:"),
		"not JSON":                respond(201, []byte("<html>")),
		"null data":               respond(201, []byte(`{"data":null}`)),
		"token without id":        respond(201, []byte(`{"data":{"type":"connect/share-token"}}`)),
		"dropped then 503":        httpmock.Responder(dropConnection).Then(respond(503, errorBody(503))),
	} {
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), answer)
		mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), answer)
		add("Create: "+name, createToken(ctx, c))
		add("Get: "+name, getToken(ctx, c))
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	add("Create: context ended before sending", createToken(cancelled, c))
	add("Create: context ended while waiting", func() error {
		c, mt := setup(t)
		answered := make(chan struct{}, 1)
		tooMany := respond(429, errorBody(429), "RateLimit-Reset: 30")
		mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), func(r *http.Request) (*http.Response, error) {
			defer func() { answered <- struct{}{} }()
			return tooMany(r)
		})
		ctx, cancel := context.WithCancel(ctx)
		go func() { <-answered; cancel() }()
		return createToken(ctx, c)
	}())
	add("Wait: context ended", func() error {
		c, mt := setup(t, connect.WithPollInterval(time.Hour))
		mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), respond(200, created))
		ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err := c.ShareTokens.Wait(ctx, "cnst_ABC123")
		return err
	}())

	// Pagination.
	list := func(pages map[string][]string, next map[string]string) error {
		c, mt := setup(t)
		servePages(mt, pages, next)
		return firstErr(c.ShareTokens.List(ctx, nil), 0)
	}
	add("List: cycle", list(map[string][]string{"": {"cnst_a"}, "cnst_a": {"cnst_b"}}, map[string]string{"cnst_a": "/api/v1/connect/share-tokens"}))
	add("List: other origin", list(map[string][]string{"": {"cnst_a"}}, map[string]string{"": "https://evil.example/api/v1/connect/share-tokens"}))
	badItem, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/connect/share-tokens"), respond(200, []byte(`{"data":[{"type":"connect/share-token"}],"links":{}}`)))
	add("List: token without id", firstErr(badItem.ShareTokens.List(ctx, nil), 0))

	for what, err := range errs {
		checkErrorText(t, what, err)
	}
}

// ErrNotShareToken is what Event.ShareToken returns for any other payload.
func TestEventShareTokenErrNotShareToken(t *testing.T) {
	t.Parallel()
	ev, err := connect.ParseEvent([]byte(`{"data":{"type":"event","id":"evt_1","attributes":{"name":"inquiry.completed","created-at":"2025-12-08T10:00:00.000Z","payload":{"data":{"type":"inquiry","id":"inq_1","attributes":{}}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.ShareToken(); !errors.Is(err, connect.ErrNotShareToken) {
		t.Errorf("ShareToken of an inquiry event = %v, want ErrNotShareToken", err)
	}
}

// The webhook handler's errors, as its error handler sees them, say connect: once too,
// also when they wrap an error of this package returned by the user's function.
func TestWebhookHandlerErrorTextsSayConnectOnce(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, []string{"wbhsec_a"})
	var got []error
	h := connect.NewWebhookHandler(v, connect.WithErrorHandler(func(_ context.Context, err error) { got = append(got, err) }))
	h.On(connect.EventInquiryCompleted, func(context.Context, *connect.Event) error { return connect.ErrRateLimited })
	body := `{"data":{"type":"event","id":"evt_1","attributes":{"name":"inquiry.completed","created-at":"2025-12-08T10:00:00.000Z","payload":{"data":{"type":"inquiry","id":"inq_1","attributes":{}}}}}}`
	for _, header := range []string{connect.SignHeader([]byte(body), "wbhsec_a", time.Now()), "t=1,v1=zz"} {
		req := httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(body))
		req.Header.Set(connect.SignatureHeader, header)
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if len(got) != 2 {
		t.Fatalf("error handler saw %d errors, want 2: %v", len(got), got)
	}
	if !errors.Is(got[0], connect.ErrRateLimited) {
		t.Errorf("function error %v does not wrap what the function returned", got[0])
	}
	for i, err := range got {
		checkErrorText(t, fmt.Sprintf("handler error %d", i+1), err)
	}
}
