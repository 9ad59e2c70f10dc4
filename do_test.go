package connect_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
)

func TestDoSendsThroughThePipeline(t *testing.T) {
	t.Parallel()
	body := []byte(`{"data":{"type":"inquiry","id":"inq_1","attributes":{"status":"completed","createdAt":"2024-01-02T03:04:05.000Z"}}}`)
	c, mt := setup(t)
	answer := respond(http.StatusOK, body)
	var queries []string
	mt.RegisterResponder(http.MethodGet, mockURL("/inquiries/inq_1"), func(r *http.Request) (*http.Response, error) {
		queries = append(queries, r.URL.RawQuery) // one call at a time
		testHeader(t, r, "Authorization", "Bearer "+testAPIKey)
		testHeader(t, r, "Persona-Version", connect.DefaultAPIVersion)
		testHeader(t, r, "Key-Inflection", "kebab")
		testHeader(t, r, "Accept", "application/json")
		testHeader(t, r, "Idempotency-Key", "")
		testHeader(t, r, "Content-Type", "")
		if b := requestBody(t, r); len(b) != 0 {
			t.Errorf("GET sent a body: %q", b)
		}
		return answer(r)
	})
	var raw json.RawMessage
	if err := c.Do(ctxT(t), http.MethodGet, "/inquiries/inq_1?include=verifications&fields[inquiry]=status", nil, &raw); err != nil {
		t.Fatal(err)
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
	// The query is sent as given, brackets unescaped.
	if diff := cmp.Diff([]string{"include=verifications&fields[inquiry]=status", "", ""}, queries); diff != "" {
		t.Errorf("queries sent (-want +got):\n%s", diff)
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
			c, mt := setup(t)
			answer := respond(http.StatusCreated, []byte(`{}`))
			mt.RegisterResponder(http.MethodPost, mockURL("/inquiries"), func(r *http.Request) (*http.Response, error) {
				if b := requestBody(t, r); string(b) != tt.want {
					t.Errorf("body %q, want %q", b, tt.want)
				}
				testHeader(t, r, "Content-Type", "application/json")
				if !randomIdempotencyKey.MatchString(r.Header.Get("Idempotency-Key")) {
					t.Errorf("POST without a random Idempotency-Key: %v", r.Header)
				}
				return answer(r)
			})
			if err := c.Do(ctxT(t), http.MethodPost, "/inquiries", tt.body, nil); err != nil {
				t.Fatal(err)
			}
			if n := calls(mt, http.MethodPost, "/inquiries"); n != 1 {
				t.Errorf("sent %d times, want once", n)
			}
		})
	}
	c, mt := setup(t)
	for _, m := range []string{http.MethodPatch, http.MethodPut, http.MethodDelete} {
		answer := respond(http.StatusOK, []byte(`{}`))
		mt.RegisterResponder(m, mockURL("/inquiries/inq_1"), func(r *http.Request) (*http.Response, error) {
			if b := requestBody(t, r); string(b) != `{"data":{}}` {
				t.Errorf("%s: body %q, want it as given", r.Method, b)
			}
			testHeader(t, r, "Idempotency-Key", "") // POST only
			return answer(r)
		})
		if err := c.Do(ctxT(t), m, "/inquiries/inq_1", []byte(`{"data":{}}`), nil, connect.WithIdempotencyKey("ignored")); err != nil {
			t.Fatal(err)
		}
		if n := calls(mt, m, "/inquiries/inq_1"); n != 1 {
			t.Errorf("%s sent %d times, want once", m, n)
		}
	}
}

// A POST keeps one Idempotency-Key over its retries; the caller's key wins.
func TestDoRetriesWithOneKey(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	var keys []string
	script := respond(http.StatusServiceUnavailable, errorBody(503)).Then(respond(http.StatusCreated, []byte(`{"data":{"id":"x"}}`)))
	mt.RegisterResponder(http.MethodPost, mockURL("/accounts"), func(r *http.Request) (*http.Response, error) {
		keys = append(keys, r.Header.Get("Idempotency-Key")) // one attempt at a time
		return script(r)
	})
	var resp connect.Response
	if err := c.Do(ctxT(t), http.MethodPost, "/accounts", map[string]any{}, nil, connect.WithResponseInto(&resp)); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != keys[1] || resp.IdempotencyKey != keys[0] || resp.Attempts != 2 || resp.StatusCode != 201 {
		t.Errorf("keys %q; Response %+v", keys, resp)
	}
	keys = nil
	if err := c.Do(ctxT(t), http.MethodPost, "/accounts", nil, nil, connect.WithIdempotencyKey("mine")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"mine"}, keys); diff != "" {
		t.Errorf("Idempotency-Key sent (-want +got):\n%s", diff)
	}
}

func TestDoAPIError(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/inquiries/inq_1"), respond(http.StatusNotFound, specFixture(t, "error-not-found.json")))
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
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodDelete, mockURL("/inquiries/inq_1"), respond(http.StatusNoContent, nil))
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

// An absolute URL under the base URL is called as is.
func TestDoAbsoluteURLUnderTheBase(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/connect/share-tokens?page%5Bafter%5D=cnst_1"), respond(http.StatusOK, []byte(`{"data":[]}`)))
	if err := c.Do(ctxT(t), http.MethodGet, mockBaseURL+"/connect/share-tokens?page%5Bafter%5D=cnst_1", nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := calls(mt, http.MethodGet, "/connect/share-tokens?page%5Bafter%5D=cnst_1"); n != 1 {
		t.Errorf("sent %d times, want once", n)
	}
}

// A redirect to another origin is refused as for the typed methods: the key stays home.
func TestDoRefusesCrossOriginRedirects(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/x"), respond(http.StatusFound, nil, "Location: https://elsewhere.test/api/v1/x"))
	// Nothing is registered on elsewhere.test: a request there fails the test.
	if err := c.Do(ctxT(t), http.MethodGet, "/x", nil, nil); err == nil || !strings.Contains(err.Error(), "another origin") {
		t.Errorf("err = %v, want the redirect refused", err)
	}
}

// Over connecttest: Do reads what the typed methods read, gets *APIError for unknown
// routes, retries, and names its requests "Do" unless WithOperation names them.
func TestDoOnConnecttest(t *testing.T) {
	t.Parallel()
	srv := newPersona(t)
	cxn, inq := srv.cxn, srv.inq
	c, rec := logClient(t, srv.Server, srv.src, connect.WithRetryBackoff(time.Millisecond, time.Millisecond))
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

// Persona's links are relative to its host, "/api/v1/connect/share-tokens?page%5Bafter%5D=...",
// not to the base URL: Do takes one as it comes, so that an endpoint the SDK has no List
// for can be paged through with Do alone.
func TestDoFollowsPersonasLinks(t *testing.T) {
	t.Parallel()
	srv := newPersona(t)
	c, err := srv.NewClient(srv.src)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	var want []string
	for range 2 {
		tok, err := c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: srv.cxn, SourceID: srv.inq})
		if err != nil {
			t.Fatal(err)
		}
		want = append([]string{tok.ID}, want...) // newest first
	}
	var got []string
	path := "/connect/share-tokens?page[size]=1"
	for range 3 {
		var page struct {
			Data []struct {
				ID string `json:"id"`
			} `json:"data"`
			Links struct {
				Next string `json:"next"`
			} `json:"links"`
		}
		if err := c.Do(ctx, http.MethodGet, path, nil, &page); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		for _, d := range page.Data {
			got = append(got, d.ID)
		}
		if path = page.Links.Next; path == "" {
			break
		}
		if !strings.HasPrefix(path, "/api/v1/") {
			t.Fatalf("links.next = %q, want Persona's host-relative form", path)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tokens listed through Do (-want +got):\n%s", diff)
	}
}
