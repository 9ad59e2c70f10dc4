package connect_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// assertNoKey fails when s shows the API key, raw or hex-encoded, or a bearer header.
func assertNoKey(t *testing.T, what, s string) {
	t.Helper()
	for _, leak := range []string{testAPIKey, hex.EncodeToString([]byte(testAPIKey)), "Bearer"} {
		if strings.Contains(s, leak) {
			t.Errorf("%s shows %q:\n%s", what, leak, s)
		}
	}
}

func TestClientFormattingHidesKey(t *testing.T) {
	t.Parallel()
	c, err := connect.New(testAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	type exported struct{ Client *connect.Client }
	type unexported struct{ client *connect.Client }
	type byValue struct{ C connect.Client }
	values := map[string]any{
		"*Client":                    c,
		"Client value":               *c,
		"struct with *Client":        exported{c},
		"struct with unexported ptr": unexported{c},
		"struct with Client value":   byValue{*c},
		"slice of *Client":           []*connect.Client{c},
		"map of *Client":             map[string]*connect.Client{"c": c},
		"ShareTokensService":         c.ShareTokens,
		"ShareTokensService value":   *c.ShareTokens,
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			assertNoKey(t, fmt.Sprintf("%s with %s", name, verb), fmt.Sprintf(verb, v))
		}
	}
	// slog's JSONHandler marshals values: only the exported services show.
	b, err := json.Marshal(values)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	assertNoKey(t, "JSON", string(b))
	if s := fmt.Sprint(c); !strings.Contains(s, connect.DefaultBaseURL) {
		t.Errorf("fmt.Sprint(client) = %q, want it to name the base URL", s)
	}
}

// Error texts never show the key: API errors, transport errors, validation errors and
// context errors. TestTransportErrorsHideKey has the errors of a real connection.
func TestErrorsHideKey(t *testing.T) {
	t.Parallel()
	// answered is a client whose createToken and getToken get answer.
	answered := func(answer httpmock.Responder) *connect.Client {
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), answer)
		mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), answer)
		return c
	}
	// A hostile or buggy server echoing the request's headers into its error body.
	echo := func(r *http.Request) (*http.Response, error) {
		body := fmt.Sprintf(`{"errors":[{"title":"bad","details":"meta"}],"echo":%q}`, r.Header.Get("Authorization"))
		return respond(http.StatusUnauthorized, []byte(body))(r)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		err  func() error
	}{
		{"API error", func() error { return createToken(ctxT(t), answered(echo)) }},
		{"connection refused", func() error { return getToken(ctxT(t), answered(refuseConnection)) }},
		{"dropped connection", func() error { return createToken(ctxT(t), answered(dropConnection)) }},
		{"context cancelled", func() error {
			c, _ := setup(t)
			return getToken(cancelled, c)
		}},
		{"validation", func() error {
			c, _ := setup(t)
			_, err := c.ShareTokens.Get(ctxT(t), " ")
			return err
		}},
		{"New with a multi-line key", func() error {
			_, err := connect.New(testAPIKey + "\r\n")
			return err
		}},
		{"New with a bad option", func() error {
			_, err := connect.New(testAPIKey, connect.WithBaseURL("http://"+testAPIKey+".example"))
			return err
		}},
		{"bad ID", func() error {
			c, _ := setup(t)
			_, err := c.ShareTokens.Get(ctxT(t), testAPIKey+"/x")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assertErrorHidesKey(t, tt.err())
		})
	}
}

// Over real HTTP, the errors net/http makes never show the key either: a refused dial,
// TLS spoken to a plain-HTTP server, a client timeout and a context deadline.
func TestTransportErrorsHideKey(t *testing.T) {
	t.Parallel()
	slow := connecttest.NewServer()
	t.Cleanup(slow.Close)
	slow.AddLatency(10 * time.Second) // Close ends the wait
	closed := connecttest.NewServer()
	closedURL := closed.URL
	closed.Close()
	plain := connecttest.NewServer()
	t.Cleanup(plain.Close)
	newClient := func(base string, opts ...connect.Option) *connect.Client {
		c, err := connect.New(testAPIKey, append([]connect.Option{
			connect.WithBaseURL(base), connect.WithRetryBackoff(time.Millisecond, time.Millisecond),
		}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	tests := []struct {
		name string
		err  func() error
	}{
		{"connection refused", func() error { return getToken(ctxT(t), newClient(closedURL)) }},
		{"TLS to a plain server", func() error {
			return getToken(ctxT(t), newClient(strings.Replace(plain.URL, "http://", "https://", 1)))
		}},
		{"client timeout", func() error {
			return getToken(ctxT(t), newClient(slow.URL, connect.WithHTTPClient(&http.Client{Timeout: 20 * time.Millisecond})))
		}},
		{"context deadline", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			return getToken(ctx, newClient(slow.URL))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assertErrorHidesKey(t, tt.err())
		})
	}
}

// assertErrorHidesKey fails unless err is an error whose text, %+v and (for an
// *APIError) %#v show no key.
func assertErrorHidesKey(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	assertNoKey(t, "error text", err.Error())
	assertNoKey(t, "error %+v", fmt.Sprintf("%+v", err))
	var apiErr *connect.APIError
	if errors.As(err, &apiErr) {
		assertNoKey(t, "APIError %#v", fmt.Sprintf("%#v", apiErr))
	}
}

// The debug logger shows method, path, status, request id and attempt, and never the
// key nor anything from a request or response body.
func TestDebugLogHidesKeyAndBodies(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	logOpt := connect.WithLogger(logger)

	c, mt := setup(t, logOpt, connect.WithMaxRetries(1))
	mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath),
		respond(http.StatusCreated, specFixture(t, "connect-share-token.json")).
			Then(respond(http.StatusUnprocessableEntity, []byte(`{"errors":[{"title":"Record invalid","details":"inq_BODYSRC cannot be shared"}]}`))).
			Then(dropConnection))
	mt.RegisterResponder(http.MethodPost, mockURL("/connect/share-tokens/cnst_DEF456/redeem"),
		respond(http.StatusServiceUnavailable, errorBody(503)).
			Then(respond(http.StatusAccepted, specFixture(t, "connect-share-token-hydrate-object-pending.json"))))

	ctx := ctxT(t)
	params := connect.CreateShareTokenParams{ConnectionID: "cxn_BODYCONN", SourceID: "inq_BODYSRC"}
	if _, err := c.ShareTokens.Create(ctx, params); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := c.ShareTokens.Redeem(ctx, "cnst_DEF456", connect.RedeemShareTokenParams{
		DestinationID: "inq_BODYDEST",
		FieldMappings: []connect.FieldMapping{{SourceFieldName: "field_BODYSRC", DestinationFieldName: "field_BODYDEST"}},
	}); err != nil {
		t.Fatalf("Redeem: %v", err)
	}
	if _, err := c.ShareTokens.Create(ctx, params); err == nil {
		t.Fatal("Create against a 422 succeeded")
	}
	if _, err := c.ShareTokens.Create(ctx, params); err == nil {
		t.Fatal("Create against a dropping server succeeded")
	}

	out := buf.String()
	assertNoKey(t, "debug log", out)
	for _, secret := range []string{
		"cxn_BODYCONN", "inq_BODYSRC", "inq_BODYDEST", "field_BODYSRC", "field_BODYDEST", // request bodies
		"cxn_ABC123", "inq_XYZ789", "user_ABC123", // response bodies
		"Idempotency", "Authorization",
	} {
		if strings.Contains(out, secret) {
			t.Errorf("debug log contains %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		"level=DEBUG", "method=POST", "path=/connect/share-tokens ", "path=/connect/share-tokens/cnst_DEF456/redeem",
		"status=201", "status=503", "status=202", "status=422", "request_id=req_201", "request_id=req_503",
		"attempt=1", "attempt=2",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("debug log lacks %q:\n%s", want, out)
		}
	}
}

// WithHTTPClient copies the caller's client: its fields are the same after New and
// after requests, and changing it later does not change the SDK's.
func TestWithHTTPClientCopiesCallersClient(t *testing.T) {
	t.Parallel()
	_, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), respond(http.StatusOK, specFixture(t, "connect-share-token-redeemed.json")))
	mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), respond(http.StatusCreated, specFixture(t, "connect-share-token.json")))
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	redirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var transport http.RoundTripper = mt
	hc := &http.Client{Transport: transport, Timeout: 7 * time.Second, CheckRedirect: redirect, Jar: jar}
	check := func(when string) {
		t.Helper()
		if hc.Transport != transport || hc.Timeout != 7*time.Second || hc.Jar != jar ||
			reflect.ValueOf(hc.CheckRedirect).Pointer() != reflect.ValueOf(redirect).Pointer() {
			t.Errorf("caller's http.Client changed %s: %+v", when, *hc)
		}
	}
	c, err := connect.New(testAPIKey, connect.WithBaseURL(mockBaseURL), connect.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	check("by New")
	for range 2 {
		if err := getToken(ctxT(t), c); err != nil {
			t.Fatalf("Get: %v", err)
		}
	}
	if err := createToken(ctxT(t), c); err != nil {
		t.Fatalf("Create: %v", err)
	}
	check("by requests")

	hc.Transport = httpmock.NewMockTransport() // answers nothing: the SDK must not be using it
	if err := getToken(ctxT(t), c); err != nil {
		t.Fatalf("Get after the caller changed its client: %v", err)
	}
}

// A server or a proxy that echoes the request's Authorization header into its error
// answer (title, details, pointer, meta or Request-Id) does not get the key into the
// *APIError: not into its text, %+v or %#v, nor into the fields a caller logs.
func TestAPIErrorHidesAnEchoedKey(t *testing.T) {
	t.Parallel()
	echo := func(r *http.Request) (*http.Response, error) {
		auth := r.Header.Get("Authorization")
		key := strings.TrimPrefix(auth, "Bearer ")
		body, err := json.Marshal(map[string]any{"errors": []any{map[string]any{
			"title":   "Invalid API key " + key,
			"details": "the header was " + auth,
			"source":  map[string]string{"pointer": "/headers/" + key},
			"meta":    map[string]string{"key": key},
		}}})
		if err != nil {
			return nil, err
		}
		return respond(http.StatusUnauthorized, body, "Request-Id: req_"+key)(r)
	}
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), echo)
	mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), echo)
	for name, err := range map[string]error{"GET": getToken(ctxT(t), c), "POST": createToken(ctxT(t), c)} {
		t.Run(name, func(t *testing.T) {
			assertErrorHidesKey(t, err)
			apiErr := mustAPIError(t, err)
			assertNoKey(t, "APIError %#v", fmt.Sprintf("%#v", *apiErr))
			b, jerr := json.Marshal(apiErr)
			if jerr != nil {
				t.Fatal(jerr)
			}
			assertNoKey(t, "APIError as JSON", string(b))
			if len(apiErr.Errors) != 1 || !strings.HasPrefix(apiErr.Errors[0].Title, "Invalid API key ") {
				t.Errorf("Errors = %+v; want the title kept, the key taken out", apiErr.Errors)
			}
		})
	}
}

// A Request-Id that echoes the key (a hostile or broken server, a proxy quoting the
// request's headers) does not get it into the debug log, nor into WithResponseInto's
// Response.
func TestDebugLogHidesAnEchoedKey(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mt := setup(t, connect.WithLogger(logger), connect.WithMaxRetries(0))
	// Read here, not in the responder: without the spec beside the checkout, specFixture
	// skips the test, which works only from the test's own goroutine.
	token := specFixture(t, "connect-share-token-redeemed.json")
	echo := func(r *http.Request) (*http.Response, error) {
		return respond(http.StatusOK, token, "Request-Id: req_"+r.Header.Get("Authorization"))(r)
	}
	mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), echo)
	var resp connect.Response
	if err := getToken(ctxT(t), c, connect.WithResponseInto(&resp)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	assertNoKey(t, "debug log", out)
	assertNoKey(t, "Response", fmt.Sprintf("%+v", resp))
	if !strings.Contains(out, `"request_id":"req_[redacted]"`) {
		t.Errorf("debug log lacks the redacted request id:\n%s", out)
	}
}
