package connect_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
)

// errorClient is a client that never retries, whose createToken and getToken are
// answered with status, body and headers (as for respond), and the log of the attempts.
func errorClient(t testing.TB, status int, body string, headers ...string) (*connect.Client, *attemptLog) {
	t.Helper()
	c, mt := setup(t, connect.WithMaxRetries(0))
	log := &attemptLog{}
	answer := log.answer(t, respond(status, []byte(body), headers...))
	mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), answer)
	mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), answer)
	return c, log
}

func TestAPIErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		reqID  string
		call   call
		want   string
	}{
		{
			name:   "title and details",
			status: http.StatusUnprocessableEntity,
			body:   `{"errors":[{"title":"Record invalid","details":"Source can't be blank","source":{"pointer":"/data/attributes/source-id"}},{"title":"second"}]}`,
			reqID:  "req_123",
			call:   createToken,
			want:   "connect: POST /connect/share-tokens: 422 Unprocessable Entity: Record invalid: Source can't be blank (request req_123)",
		},
		{
			name:   "title only (spec 401)",
			status: http.StatusUnauthorized,
			body:   string(specFixture(t, "error-unauthorized.json")),
			reqID:  "req_401",
			call:   getToken,
			want:   "connect: GET /connect/share-tokens/cnst_ABC123: 401 Unauthorized: Must be authenticated to access this endpoint (request req_401)",
		},
		{
			name:   "not JSON, no request id",
			status: http.StatusBadGateway,
			body:   "<html>upstream down</html>",
			call:   getToken,
			want:   "connect: GET /connect/share-tokens/cnst_ABC123: 502 Bad Gateway",
		},
		{
			name:   "detail spelling",
			status: http.StatusConflict,
			body:   `{"errors":[{"title":"Conflict","detail":"Record not unique"}]}`,
			reqID:  "req_409",
			call:   createToken,
			want:   "connect: POST /connect/share-tokens: 409 Conflict: Conflict: Record not unique (request req_409)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := errorClient(t, tt.status, tt.body, "Request-Id: "+tt.reqID) // none when empty
			if got := mustAPIError(t, tt.call(ctxT(t), c)).Error(); got != tt.want {
				t.Errorf("Error() =\n  %s\nwant\n  %s", got, tt.want)
			}
		})
	}
}

// Error bodies decode into ErrorDetails, and the *APIError carries the call, the
// request id, the idempotency key and the rate limit reset.
func TestAPIErrorFields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		body    string
		headers []string // as for respond
		call    call
		want    *connect.APIError // IdempotencyKey "random" = any 32-hex key
	}{
		{
			name: "422 with pointer and meta", status: 422,
			body: `{"errors":[{"title":"Record invalid","details":"Source can't be blank",
				"source":{"pointer":"/data/attributes/source-id"},"meta":{"attribute":"source-id","codes":[1,2]}}]}`,
			headers: []string{"Request-Id: req_123", "RateLimit-Reset: 42"},
			call:    call(createToken).with(connect.WithIdempotencyKey("order-7")),
			want: &connect.APIError{
				StatusCode: 422, Method: "POST", Path: "/connect/share-tokens", RequestID: "req_123",
				IdempotencyKey: "order-7", RateLimitReset: 42 * time.Second,
				Errors: []connect.ErrorDetail{{
					Title: "Record invalid", Details: "Source can't be blank", Pointer: "/data/attributes/source-id",
					Meta: json.RawMessage(`{"attribute":"source-id","codes":[1,2]}`),
				}},
			},
		},
		{
			name: "details wins over detail", status: 409,
			body: `{"errors":[{"title":"Conflict","details":"plural","detail":"singular"},{"title":"Stale object error","detail":"only singular"}]}`,
			call: createToken,
			want: &connect.APIError{
				StatusCode: 409, Method: "POST", Path: "/connect/share-tokens", RequestID: "req_409", IdempotencyKey: "random",
				Errors: []connect.ErrorDetail{{Title: "Conflict", Details: "plural"}, {Title: "Stale object error", Details: "only singular"}},
			},
		},
		{
			// Nullable members are absent: a null meta is no metadata.
			name: "null meta and source", status: 404,
			body: `{"errors":[{"title":"Record not found","details":null,"meta":null,"source":null}]}`,
			call: getToken,
			want: &connect.APIError{
				StatusCode: 404, Method: "GET", Path: "/connect/share-tokens/cnst_ABC123", RequestID: "req_404",
				Errors: []connect.ErrorDetail{{Title: "Record not found"}},
			},
		},
		{
			// Decoding is lenient: one member of an unexpected type loses that member,
			// not every error of the answer.
			name: "a member of another type", status: 422,
			body: `{"errors":[{"title":"Record invalid","details":"Source can't be blank","source":{"pointer":"/data/attributes/source-id"}},` +
				`{"title":["not","a","string"],"details":"second"},{"title":"third","source":"not an object"}]}`,
			call: getToken,
			want: &connect.APIError{
				StatusCode: 422, Method: "GET", Path: "/connect/share-tokens/cnst_ABC123", RequestID: "req_422",
				Errors: []connect.ErrorDetail{
					{Title: "Record invalid", Details: "Source can't be blank", Pointer: "/data/attributes/source-id"},
					{Details: "second"},
					{Title: "third"},
				},
			},
		},
		{
			name: "unparsable RateLimit-Reset", status: 503, body: "", call: getToken,
			headers: []string{"RateLimit-Reset: soon"},
			want:    &connect.APIError{StatusCode: 503, Method: "GET", Path: "/connect/share-tokens/cnst_ABC123", RequestID: "req_503"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testAPIError(t, tt.status, tt.body, tt.headers, tt.call, tt.want)
		})
	}
}

// The spec's error examples decode into ErrorDetails. Each answers the example call of
// its method, which the *APIError names, with a POST's random idempotency key.
func TestAPIErrorFromSpecExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture string
		status  int
		method  string
		headers []string      // as for respond
		reset   time.Duration // the RateLimitReset the headers give
		want    []connect.ErrorDetail
	}{
		{fixture: "error-bad-request.json", status: 400, method: "GET",
			want: []connect.ErrorDetail{{Title: "Bad Request", Details: "data.attributes.type must be a string"}}},
		{fixture: "error-unauthorized.json", status: 401, method: "GET",
			want: []connect.ErrorDetail{{Title: "Must be authenticated to access this endpoint"}}},
		{fixture: "error-forbidden.json", status: 403, method: "GET",
			want: []connect.ErrorDetail{{Title: "Forbidden", Details: "IP address is not permitted access to current environment"}}},
		{fixture: "error-not-found.json", status: 404, method: "GET",
			want: []connect.ErrorDetail{{Title: "Record not found"}}},
		{fixture: "error-conflict.json", status: 409, method: "POST",
			want: []connect.ErrorDetail{{Title: "Conflict", Details: "Resource already exists as an active resource"}}},
		{fixture: "error-unprocessable-entity.json", status: 422, method: "POST",
			want: []connect.ErrorDetail{{Title: "Unprocessable entity", Details: "Invalid confirmation code"}}},
		{fixture: "error-too-many-requests.json", status: 429, method: "GET", headers: rateHeaders("300", "0", "17"), reset: 17 * time.Second,
			want: []connect.ErrorDetail{{Title: "Rate limit exceeded",
				Details: "You have hit your rate limit of 300 requests / min. Please reach out to support@withpersona.com if you need this changed."}}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			path, send := exampleCall(tt.method)
			want := &connect.APIError{
				StatusCode: tt.status, Method: tt.method, Path: path, RequestID: "req_" + strconv.Itoa(tt.status),
				RateLimitReset: tt.reset, Errors: tt.want,
			}
			if tt.method == http.MethodPost {
				want.IdempotencyKey = "random"
			}
			testAPIError(t, tt.status, string(specFixture(t, tt.fixture)), tt.headers, send, want)
		})
	}
}

// testAPIError answers send with status, body and headers (as for respond), once, and
// checks the *APIError it returns against want, whose IdempotencyKey "random" stands
// for the 32-hex key the client made.
func testAPIError(t *testing.T, status int, body string, headers []string, send call, want *connect.APIError) {
	t.Helper()
	c, log := errorClient(t, status, body, headers...)
	apiErr := mustAPIError(t, send(ctxT(t), c))
	w := *want
	if w.IdempotencyKey == "random" {
		sent := log.all()[0].idem
		if !randomIdempotencyKey.MatchString(sent) {
			t.Errorf("sent Idempotency-Key %q, want 32 hex digits", sent)
		}
		w.IdempotencyKey = sent
	}
	if diff := cmp.Diff(&w, apiErr); diff != "" {
		t.Errorf("APIError mismatch (-want +got):\n%s", diff)
	}
}

// errors.Is matches exactly the sentinel of the status, and ErrServer for any 5xx.
func TestAPIErrorIsSentinels(t *testing.T) {
	t.Parallel()
	sentinels := []error{
		connect.ErrBadRequest, connect.ErrUnauthorized, connect.ErrForbidden, connect.ErrNotFound,
		connect.ErrConflict, connect.ErrUnprocessable, connect.ErrRateLimited, connect.ErrServer,
	}
	want := map[int]error{
		400: connect.ErrBadRequest, 401: connect.ErrUnauthorized, 403: connect.ErrForbidden,
		404: connect.ErrNotFound, 409: connect.ErrConflict, 422: connect.ErrUnprocessable,
		429: connect.ErrRateLimited, 500: connect.ErrServer, 501: connect.ErrServer,
		502: connect.ErrServer, 503: connect.ErrServer, 504: connect.ErrServer,
		418: nil, 405: nil,
	}
	for status, match := range want {
		c, _ := errorClient(t, status, string(errorBody(status)))
		err := getToken(ctxT(t), c)
		for _, s := range sentinels {
			if got := errors.Is(err, s); got != (s == match) {
				t.Errorf("status %d: errors.Is(err, %v) = %v, want %v", status, s, got, s == match)
			}
		}
		if errors.Is(err, connect.ErrInvalidParams) {
			t.Errorf("status %d: an API error matches ErrInvalidParams", status)
		}
	}
}

// An error body is read up to 1 MiB only: a misbehaving proxy answering 5 MiB must not
// make the client buffer it. After the capped read the client drains at most 64 KiB
// more to try to keep the connection (request.go, maxDrain), so the bound checked is
// 1 MiB + 64 KiB.
func TestAPIErrorBodyReadIsCapped(t *testing.T) {
	t.Parallel()
	const served = 5 << 20
	const limit = 1<<20 + 64<<10
	body := &watchedBody{r: io.LimitReader(strings.NewReader(strings.Repeat(`{"errors":[`, served/11+1)), served)}
	c, mt := setup(t, connect.WithMaxRetries(0))
	mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), func(r *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: http.StatusInternalServerError, Status: "500 Internal Server Error",
			Header: http.Header{"Request-Id": {"req_big"}}, Body: body, ContentLength: served, Request: r,
		}, nil
	})
	err := createToken(ctxT(t), c)
	var apiErr *connect.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 || apiErr.RequestID != "req_big" {
		t.Fatalf("error = %v, want the 500 *APIError", err)
	}
	n, _, closed := body.state()
	if n > limit {
		t.Errorf("client read %d bytes of a %d-byte error body, want at most %d", n, served, limit)
	}
	if !closed {
		t.Error("error body not closed")
	}
}

// A hostile or broken answer cannot write control characters through Error(): titles
// and details with line breaks, terminal escapes, NUL, DEL, bidi overrides or bytes
// that are not UTF-8 come out escaped, so a log line cannot be forged or recoloured.
// The decoded ErrorDetail keeps the text verbatim for code that wants it.
func TestAPIErrorTextEscapesControlCharacters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, title, details, reqID string
		want                        string
	}{
		{
			name: "forged log line", title: "Bad\nlevel=ERROR msg=\"admin logged in\"", details: "x\r\ny",
			want: `connect: POST /connect/share-tokens: 422 Unprocessable Entity: Bad\nlevel=ERROR msg="admin logged in": x\r\ny`,
		},
		{
			name: "terminal colours", title: "\x1b[31mred\x1b[0m", details: "bell\a nul\x00 del\x7f",
			want: `connect: POST /connect/share-tokens: 422 Unprocessable Entity: \x1b[31mred\x1b[0m: bell\a nul\x00 del\x7f`,
		},
		{
			name: "bidi override and line separator", title: "abc\u202edcba", details: "one\u2028two\u0085",
			want: `connect: POST /connect/share-tokens: 422 Unprocessable Entity: abc\u202edcba: one\u2028two\u0085`,
		},
		{
			// encoding/json turns a bad byte of the body into U+FFFD; a header keeps it.
			name: "not UTF-8", title: "caf\xe9", details: "ok \u00e9", reqID: "req_\xe9",
			want: "connect: POST /connect/share-tokens: 422 Unprocessable Entity: caf\uFFFD: ok \u00e9 (request req_\\xe9)",
		},
		{
			name: "tab in the request id", title: "t", reqID: "req_1\tinjected",
			want: `connect: POST /connect/share-tokens: 422 Unprocessable Entity: t (request req_1\tinjected)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The body is built by hand: encoding/json would replace the invalid byte.
			body := `{"errors":[{"title":"` + jsonEscapeKeepingBytes(tt.title) + `","details":"` + jsonEscapeKeepingBytes(tt.details) + `"}]}`
			c, _ := errorClient(t, http.StatusUnprocessableEntity, body, "Request-Id: "+tt.reqID) // none when empty
			apiErr := mustAPIError(t, createToken(ctxT(t), c))
			got := apiErr.Error()
			if got != tt.want {
				t.Errorf("Error() =\n  %s\nwant\n  %s", got, tt.want)
			}
			for _, r := range got {
				if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
					t.Errorf("Error() contains %U", r)
				}
			}
			if d := apiErr.Errors[0]; d.Title != strings.ToValidUTF8(tt.title, "\uFFFD") {
				t.Errorf("ErrorDetail.Title = %q, want the server's text %q", d.Title, tt.title)
			}
		})
	}
}

// jsonEscapeKeepingBytes escapes s for a JSON string literal the way a careless server
// would: control characters as \u escapes, other bytes (invalid UTF-8 too) as they are.
func jsonEscapeKeepingBytes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
