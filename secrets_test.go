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
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
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

// Error texts never show the key: API errors, transport errors of every kind,
// validation errors and context errors.
func TestErrorsHideKey(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	plain := newScriptServer(t, respond(http.StatusOK, "{}"))
	echo := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		// A hostile or buggy server echoing the request's headers into its error body.
		respond(http.StatusUnauthorized, fmt.Sprintf(`{"errors":[{"title":"bad","details":"meta"}],"echo":%q}`, r.Header.Get("Authorization")))(w, r)
	})
	dropper := newScriptServer(t, dropConnection)

	newClient := func(base string, opts ...connect.Option) *connect.Client {
		c, err := connect.New(testAPIKey, append([]connect.Option{
			connect.WithBaseURL(base), connect.WithRetryBackoff(time.Millisecond, time.Millisecond),
		}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		err  func() error
	}{
		{"API error", func() error { return createToken(ctxT(t), echo.client(t)) }},
		{"connection refused", func() error { return getToken(ctxT(t), newClient(closedURL)) }},
		{"dropped connection", func() error { return createToken(ctxT(t), dropper.client(t)) }},
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
		{"context cancelled", func() error { return getToken(cancelled, newClient(plain.URL)) }},
		{"validation", func() error {
			_, err := noIOClient(t).ShareTokens.Get(ctxT(t), " ")
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
			_, err := newClient(plain.URL).ShareTokens.Get(ctxT(t), testAPIKey+"/x")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.err()
			if err == nil {
				t.Fatal("no error")
			}
			assertNoKey(t, "error text", err.Error())
			assertNoKey(t, "error %+v", fmt.Sprintf("%+v", err))
			var apiErr *connect.APIError
			if errors.As(err, &apiErr) {
				assertNoKey(t, "APIError %#v", fmt.Sprintf("%#v", apiErr))
			}
		})
	}
}

// The debug logger shows method, path, status, request id and attempt, and never the
// key nor anything from a request or response body.
func TestDebugLogHidesKeyAndBodies(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	logOpt := connect.WithLogger(logger)

	created := newScriptServer(t, respond(http.StatusCreated, string(specFixture(t, "connect-share-token.json"))))
	flaky := newScriptServer(t, respond(http.StatusServiceUnavailable, errorBody(503)),
		respond(http.StatusAccepted, string(specFixture(t, "connect-share-token-hydrate-object-pending.json"))))
	invalid := newScriptServer(t, respond(http.StatusUnprocessableEntity,
		`{"errors":[{"title":"Record invalid","details":"inq_BODYSRC cannot be shared"}]}`))
	dropper := newScriptServer(t, dropConnection)

	ctx := ctxT(t)
	params := connect.CreateShareTokenParams{ConnectionID: "cxn_BODYCONN", SourceID: "inq_BODYSRC"}
	if _, err := created.client(t, logOpt).ShareTokens.Create(ctx, params); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := flaky.client(t, logOpt).ShareTokens.Redeem(ctx, "cnst_DEF456", connect.RedeemShareTokenParams{
		DestinationID: "inq_BODYDEST",
		FieldMappings: []connect.FieldMapping{{SourceFieldName: "field_BODYSRC", DestinationFieldName: "field_BODYDEST"}},
	}); err != nil {
		t.Fatalf("Redeem: %v", err)
	}
	if _, err := invalid.client(t, logOpt).ShareTokens.Create(ctx, params); err == nil {
		t.Fatal("Create against a 422 succeeded")
	}
	if _, err := dropper.client(t, logOpt, connect.WithMaxRetries(1)).ShareTokens.Create(ctx, params); err == nil {
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
	srv := newScriptServer(t, respond(http.StatusOK, string(specFixture(t, "connect-share-token-redeemed.json"))))
	jar, _ := cookiejar.New(nil)
	redirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	transport := srv.Client().Transport
	hc := &http.Client{Transport: transport, Timeout: 7 * time.Second, CheckRedirect: redirect, Jar: jar}
	check := func(when string) {
		t.Helper()
		if hc.Transport != transport || hc.Timeout != 7*time.Second || hc.Jar != jar ||
			reflect.ValueOf(hc.CheckRedirect).Pointer() != reflect.ValueOf(redirect).Pointer() {
			t.Errorf("caller's http.Client changed %s: %+v", when, *hc)
		}
	}
	c := srv.client(t, connect.WithHTTPClient(hc))
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

	hc.Transport = failingTransport{t}
	if err := getToken(ctxT(t), c); err != nil {
		t.Fatalf("Get after the caller changed its client: %v", err)
	}
}
