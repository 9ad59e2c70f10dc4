package connect_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

func TestDoSendsThroughThePipeline(t *testing.T) {
	t.Parallel()
	body := []byte(`{"data":{"type":"inquiry","id":"inq_1","attributes":{"status":"completed","createdAt":"2024-01-02T03:04:05.000Z"}}}`)
	c, rec := newRecordingClient(t, http.StatusOK, body)
	var raw json.RawMessage
	err := c.Do(ctxT(t), http.MethodGet, "/inquiries/inq_1?include=verifications&fields[inquiry]=status", nil, &raw)
	if err != nil {
		t.Fatal(err)
	}
	r := rec.only(t)
	testMethod(t, r, http.MethodGet)
	if r.URL.Path != "/api/v1/inquiries/inq_1" || r.URL.RawQuery != "include=verifications&fields[inquiry]=status" {
		t.Errorf("URL path %q query %q", r.URL.Path, r.URL.RawQuery)
	}
	testHeader(t, r, "Authorization", "Bearer "+testAPIKey)
	testHeader(t, r, "Persona-Version", connect.DefaultAPIVersion)
	testHeader(t, r, "Key-Inflection", "kebab")
	testHeader(t, r, "Accept", "application/json")
	testHeader(t, r, "Idempotency-Key", "")
	testHeader(t, r, "Content-Type", "")
	if len(r.Body) != 0 {
		t.Errorf("GET sent a body: %q", r.Body)
	}
	// *json.RawMessage gets the body verbatim: camelCase keys stay camelCase.
	if string(raw) != string(body) {
		t.Errorf("raw = %s, want the body verbatim", raw)
	}
	// Any other target decodes with keys folded to kebab-case, as the typed methods do.
	var doc struct {
		Data struct {
			ID         string `json:"id"`
			Attributes struct {
				CreatedAt time.Time `json:"created-at"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if err := c.Do(ctxT(t), http.MethodGet, "/inquiries/inq_1", nil, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Data.ID != "inq_1" || doc.Data.Attributes.CreatedAt.IsZero() {
		t.Errorf("decoded %+v", doc)
	}
	if err := c.Do(ctxT(t), http.MethodGet, "/inquiries/inq_1", nil, nil); err != nil {
		t.Errorf("out nil: %v", err)
	}
}

func TestDoBodies(t *testing.T) {
	t.Parallel()
	type attrs struct {
		Note string `json:"note"`
	}
	for _, tt := range []struct {
		name string
		body any
		want string
	}{
		{"bytes as is", []byte(`{"meta": {"b":1,  "a":2}}`), `{"meta": {"b":1,  "a":2}}`},
		{"raw message as is", json.RawMessage(`[1, 2]`), `[1, 2]`},
		{"a value, encoded", map[string]any{"data": map[string]any{"attributes": attrs{Note: "x"}}}, `{"data":{"attributes":{"note":"x"}}}`},
		{"a string, encoded", "hello", `"hello"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, rec := newRecordingClient(t, http.StatusCreated, []byte(`{}`))
			if err := c.Do(ctxT(t), http.MethodPost, "/inquiries", tt.body, nil); err != nil {
				t.Fatal(err)
			}
			r := rec.only(t)
			if string(r.Body) != tt.want {
				t.Errorf("body %q, want %q", r.Body, tt.want)
			}
			testHeader(t, r, "Content-Type", "application/json")
			if len(r.Header.Get("Idempotency-Key")) != 32 {
				t.Errorf("POST without an Idempotency-Key: %v", r.Header)
			}
		})
	}
	c, rec := newRecordingClient(t, http.StatusOK, []byte(`{}`))
	for _, m := range []string{http.MethodPatch, http.MethodPut, http.MethodDelete} {
		if err := c.Do(ctxT(t), m, "/inquiries/inq_1", []byte(`{"data":{}}`), nil, connect.WithIdempotencyKey("ignored")); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range rec.all() {
		if string(r.Body) != `{"data":{}}` || r.Header.Get("Idempotency-Key") != "" {
			t.Errorf("%s: body %q, Idempotency-Key %q (POST only)", r.Method, r.Body, r.Header.Get("Idempotency-Key"))
		}
	}
}

// A POST keeps one Idempotency-Key over its retries; the caller's key wins.
func TestDoRetriesWithOneKey(t *testing.T) {
	t.Parallel()
	c, rec := newRecordingClient(t, 0, nil)
	rec.responses = []mockResponse{
		{status: 503, body: []byte(`{"errors":[{"title":"Service Unavailable"}]}`)},
		{status: 201, body: []byte(`{"data":{"id":"x"}}`)},
	}
	var resp connect.Response
	if err := c.Do(ctxT(t), http.MethodPost, "/accounts", map[string]any{}, nil, connect.WithResponseInto(&resp)); err != nil {
		t.Fatal(err)
	}
	reqs := rec.all()
	if len(reqs) != 2 || reqs[0].Header.Get("Idempotency-Key") != reqs[1].Header.Get("Idempotency-Key") ||
		resp.IdempotencyKey != reqs[0].Header.Get("Idempotency-Key") || resp.Attempts != 2 || resp.StatusCode != 201 {
		t.Errorf("%d requests; Response %+v", len(reqs), resp)
	}
	c, rec = newRecordingClient(t, 201, []byte(`{}`))
	if err := c.Do(ctxT(t), http.MethodPost, "/accounts", nil, nil, connect.WithIdempotencyKey("mine")); err != nil {
		t.Fatal(err)
	}
	testHeader(t, rec.only(t), "Idempotency-Key", "mine")
}

func TestDoAPIError(t *testing.T) {
	t.Parallel()
	c, _ := newRecordingClient(t, http.StatusNotFound, specFixture(t, "error-not-found.json"))
	var out json.RawMessage
	err := c.Do(ctxT(t), http.MethodGet, "/inquiries/inq_1?include=x", nil, &out)
	var apiErr *connect.APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, connect.ErrNotFound) {
		t.Fatalf("err = %v, want a 404 *APIError", err)
	}
	if apiErr.Method != http.MethodGet || apiErr.Path != "/inquiries/inq_1" || out != nil {
		t.Errorf("APIError %s %s; out %s", apiErr.Method, apiErr.Path, out)
	}
}

// An empty 2xx body (a 204) leaves out as it was.
func TestDoEmptyAnswer(t *testing.T) {
	t.Parallel()
	c, _ := newRecordingClient(t, http.StatusNoContent, nil)
	raw := json.RawMessage(`"before"`)
	if err := c.Do(ctxT(t), http.MethodDelete, "/inquiries/inq_1", nil, &raw); err != nil || string(raw) != `"before"` {
		t.Errorf("raw = %s, err %v", raw, err)
	}
	v := map[string]any{"k": 1}
	if err := c.Do(ctxT(t), http.MethodDelete, "/inquiries/inq_1", nil, &v); err != nil || v["k"] != 1 {
		t.Errorf("v = %v, err %v", v, err)
	}
}

// Everything Do refuses, it refuses before any I/O, naming the field.
func TestDoRefusesBeforeIO(t *testing.T) {
	t.Parallel()
	c := noIOClient(t)
	var out struct{}
	var nilRaw *json.RawMessage
	var nilPtr *struct{}
	for _, tt := range []struct {
		name, method, path string
		body, out          any
		opts               []connect.RequestOption
		field              string
	}{
		{"lower-case method", "get", "/x", nil, nil, nil, "method"},
		{"unknown method", "TRACE", "/x", nil, nil, nil, "method"},
		{"empty path", "GET", "", nil, nil, nil, "path"},
		{"no leading slash", "GET", "inquiries", nil, nil, nil, "path"},
		{"dot dot", "GET", "/inquiries/../accounts", nil, nil, nil, "path"},
		{"escaped dot dot", "GET", "/inquiries/%2e%2E/accounts", nil, nil, nil, "path"},
		{"dot", "GET", "/./inquiries", nil, nil, nil, "path"},
		{"trailing dot dot", "GET", "/inquiries/..", nil, nil, nil, "path"},
		{"control character", "GET", "/inquiries/\x00", nil, nil, nil, "path"},
		{"newline", "GET", "/inquiries\r\nX-Evil: 1", nil, nil, nil, "path"},
		{"space", "GET", "/inquiries /x", nil, nil, nil, "path"},
		{"backslash", "GET", `/inquiries\..\x`, nil, nil, nil, "path"},
		{"fragment", "GET", "/inquiries#x", nil, nil, nil, "path"},
		{"only the base", "GET", "/", nil, nil, nil, "path"},
		{"only a query", "GET", "/?a=b", nil, nil, nil, "path"},
		{"another host", "GET", "https://evil.example/api/v1/inquiries", nil, nil, nil, "path"},
		{"scheme-relative", "GET", "//evil.example/api/v1/inquiries", nil, nil, nil, "path"},
		{"another port", "GET", "https://api.persona.test:8443/api/v1/inquiries", nil, nil, nil, "path"},
		{"another scheme", "GET", "http://api.persona.test/api/v1/inquiries", nil, nil, nil, "path"},
		{"user info", "GET", "https://u:p@api.persona.test/api/v1/inquiries", nil, nil, nil, "path"},
		{"outside the base path", "GET", "https://api.persona.test/api/v2/inquiries", nil, nil, nil, "path"},
		{"absolute with dot dot", "GET", "https://api.persona.test/api/v1/../v2/x", nil, nil, nil, "path"},
		{"a body on GET", "GET", "/x", []byte(`{}`), nil, nil, "body"},
		{"invalid JSON bytes", "POST", "/x", []byte(`{"a":`), nil, nil, "body"},
		{"invalid raw message", "POST", "/x", json.RawMessage(`nope`), nil, nil, "body"},
		{"unencodable body", "POST", "/x", make(chan int), nil, nil, "body"},
		{"out not a pointer", "GET", "/x", nil, out, nil, "out"},
		{"out a nil pointer", "GET", "/x", nil, nilPtr, nil, "out"},
		{"out a nil raw message", "GET", "/x", nil, nilRaw, nil, "out"},
		{"route without slash", "GET", "/x", nil, nil, []connect.RequestOption{connect.WithOperation(connect.Operation{Name: "X.Get", Route: "x/{id}"})}, "operation"},
		{"route with a query", "GET", "/x", nil, nil, []connect.RequestOption{connect.WithOperation(connect.Operation{Route: "/x?id={id}"})}, "operation"},
		{"name with a newline", "GET", "/x", nil, nil, []connect.RequestOption{connect.WithOperation(connect.Operation{Name: "X\nY"})}, "operation"},
		{"bad idempotency key", "POST", "/x", nil, nil, []connect.RequestOption{connect.WithIdempotencyKey("a\nb")}, "idempotency key"},
	} {
		err := c.Do(ctxT(t), tt.method, tt.path, tt.body, tt.out, tt.opts...)
		if !errors.Is(err, connect.ErrInvalidParams) || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%s: %v, want ErrInvalidParams naming %s", tt.name, err, tt.field)
		}
	}
}

// An absolute URL under the base URL (a links.next Persona returned) is called as is.
func TestDoAbsoluteURLUnderTheBase(t *testing.T) {
	t.Parallel()
	c, rec := newRecordingClient(t, http.StatusOK, []byte(`{"data":[]}`))
	if err := c.Do(ctxT(t), http.MethodGet, mockBaseURL+"/connect/share-tokens?page%5Bafter%5D=cnst_1", nil, nil); err != nil {
		t.Fatal(err)
	}
	r := rec.only(t)
	if r.URL.Path != "/api/v1/connect/share-tokens" || r.URL.RawQuery != "page%5Bafter%5D=cnst_1" {
		t.Errorf("URL %s", r.URL)
	}
}

// A redirect to another origin is refused as for the typed methods: the key stays home.
func TestDoRefusesCrossOriginRedirects(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the redirect was followed, with Authorization %q", r.Header.Get("Authorization"))
	}))
	t.Cleanup(other.Close)
	origin := httptest.NewServer(http.RedirectHandler(other.URL+"/api/v1/x", http.StatusFound))
	t.Cleanup(origin.Close)
	c, err := connect.New(testAPIKey, connect.WithBaseURL(origin.URL+"/api/v1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Do(ctxT(t), http.MethodGet, "/x", nil, nil); err == nil || !strings.Contains(err.Error(), "another origin") {
		t.Errorf("err = %v, want the redirect refused", err)
	}
}

// Over connecttest: Do reads what the typed methods read, gets *APIError for unknown
// routes, retries, and names its requests "Do" unless WithOperation names them.
func TestDoOnConnecttest(t *testing.T) {
	t.Parallel()
	srv := connecttest.NewServer()
	t.Cleanup(srv.Close)
	src, dst := srv.NewOrganization("Source"), srv.NewOrganization("Destination")
	cxn := srv.CreateConnection(src, dst)
	inq := srv.CreateInquiry(src)
	rec := &operationRecorder{base: &http.Transport{}}
	t.Cleanup(rec.base.(*http.Transport).CloseIdleConnections)
	c, err := srv.NewClient(src, connect.WithHTTPClient(&http.Client{Transport: rec}), connect.WithRetryBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	var created struct {
		Data struct {
			ID         string `json:"id"`
			Attributes struct {
				Status string `json:"status"`
			} `json:"attributes"`
		} `json:"data"`
	}
	body := map[string]any{"data": map[string]any{"attributes": map[string]any{"connection-id": cxn, "source-id": inq}}}
	if err := c.Do(ctx, http.MethodPost, "/connect/share-tokens", body, &created); err != nil {
		t.Fatal(err)
	}
	if created.Data.Attributes.Status != "created" {
		t.Fatalf("created %+v", created)
	}
	typed, err := c.ShareTokens.Get(ctx, created.Data.ID)
	if err != nil {
		t.Fatal(err)
	}
	rec.take()
	srv.FailNext(http.MethodGet, "/connect/share-tokens/*", 1, http.StatusServiceUnavailable)
	var raw json.RawMessage
	var resp connect.Response
	op := connect.Operation{Name: "ShareTokens.GetRaw", Route: "/connect/share-tokens/{id}"}
	if err := c.Do(ctx, http.MethodGet, "/connect/share-tokens/"+created.Data.ID, nil, &raw,
		connect.WithResponseInto(&resp), connect.WithOperation(op)); err != nil {
		t.Fatal(err)
	}
	if resp.Attempts != 2 || resp.StatusCode != 200 || !strings.HasPrefix(resp.RequestID, "req_") {
		t.Errorf("Response %+v", resp)
	}
	tok, err := connect.ParseEvent([]byte(`{"data":{"type":"event","id":"evt_x","attributes":{"name":"x","payload":` + string(raw) + `}}}`))
	if err != nil {
		t.Fatal(err)
	}
	fromDo, err := tok.ShareToken()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(typed, fromDo); diff != "" {
		t.Errorf("Do's raw token differs from Get's (-Get +Do):\n%s", diff)
	}
	for _, r := range rec.take() {
		if r.Op != op {
			t.Errorf("named Do request carries %+v", r.Op)
		}
	}
	err = c.Do(ctx, http.MethodGet, "/inquiries/"+inq, nil, nil)
	if !errors.Is(err, connect.ErrNotFound) {
		t.Errorf("a route the fake does not serve: %v, want 404", err)
	}
	if r := rec.take(); len(r) != 1 || r[0].Op != (connect.Operation{Name: "Do"}) || r[0].Attempt != 1 {
		t.Errorf("unnamed Do request carries %+v", r)
	}
}
