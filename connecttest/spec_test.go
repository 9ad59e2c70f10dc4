package connecttest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// checkResource compares a single-resource answer with a spec example and with the
// resource's schema; the document may hold only data (and included).
func checkResource(t *testing.T, r rawResp, exampleFile, schemaFile string) {
	t.Helper()
	for _, d := range sameShape(example(t, exampleFile), any(r.doc), "") {
		t.Errorf("shape vs %s: %s", exampleFile, d)
	}
	for k := range r.doc {
		if k != "data" && k != "included" && k != "links" {
			t.Errorf("top-level member %q is not in the spec", k)
		}
	}
	sch := schema(t, "components/schemas/"+schemaFile)
	switch data := r.get("data").(type) {
	case []any:
		for _, item := range data {
			for _, d := range checkSchema(t, sch, item, "data[]") {
				t.Errorf("schema %s: %s", schemaFile, d)
			}
		}
	default:
		for _, d := range checkSchema(t, sch, data, "data") {
			t.Errorf("schema %s: %s", schemaFile, d)
		}
	}
}

func TestShareTokenAnswersMatchTheSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []connecttest.ServerOption
		status  int
		example string
		run     func(t *testing.T, w *world) rawResp
	}{
		{"create", nil, 201, "connect-share-token.yaml", func(t *testing.T, w *world) rawResp {
			return w.s.do("POST", "/connect/share-tokens", createBody(w.cxn, w.inq))
		}},
		{"redeem clone", []connecttest.ServerOption{connecttest.WithRedeemDelay(time.Hour)}, 202,
			"connect-share-token-clone-object-pending.yaml", func(t *testing.T, w *world) rawResp {
				return w.d.do("POST", "/connect/share-tokens/"+w.create(t)+"/redeem", `{"data":{"attributes":{}}}`)
			}},
		{"redeem hydrate", []connecttest.ServerOption{connecttest.WithRedeemDelay(time.Hour)}, 202,
			"connect-share-token-hydrate-object-pending.yaml", func(t *testing.T, w *world) rawResp {
				dest := w.srv.CreateInquiry(w.dst)
				return w.d.do("POST", "/connect/share-tokens/"+w.create(t)+"/redeem", `{"data":{"attributes":{"destination-id":"`+dest+`"}}}`)
			}},
		{"retrieve redeemed", nil, 200, "connect-share-token-redeemed.yaml", func(t *testing.T, w *world) rawResp {
			id := w.create(t)
			dest := w.srv.CreateInquiry(w.dst)
			w.d.do("POST", "/connect/share-tokens/"+id+"/redeem", `{"data":{"attributes":{"destination-id":"`+dest+`"}}}`).must(t, 202)
			return waitStatus(t, w.d, id, "redeemed")
		}},
		{"retrieve failed", nil, 200, "connect-share-token-failed.yaml", func(t *testing.T, w *world) rawResp {
			id := w.create(t)
			w.srv.FailRedemption(id, connect.FailureImportFailed)
			dest := w.srv.CreateInquiry(w.dst)
			w.d.do("POST", "/connect/share-tokens/"+id+"/redeem", `{"data":{"attributes":{"destination-id":"`+dest+`"}}}`).must(t, 202)
			return waitStatus(t, w.d, id, "failed")
		}},
		{"expire", nil, 200, "connect-share-token-expired.yaml", func(t *testing.T, w *world) rawResp {
			return w.s.do("POST", "/connect/share-tokens/"+w.create(t)+"/expire", "")
		}},
		{"list", nil, 200, "connect-share-token-list.yaml", func(t *testing.T, w *world) rawResp {
			// The example lists an outbound created token and an older inbound redeemed one:
			// make the destination a source of its own to a third organization.
			third := w.srv.NewOrganization("Third")
			back := w.srv.CreateConnection(third, w.src)
			theirs := w.srv.CreateInquiry(third)
			in := newRaw(t, w.srv, third).do("POST", "/connect/share-tokens", createBody(back, theirs)).must(t, 201).str("data", "id")
			dest := w.srv.CreateInquiry(w.src)
			w.s.do("POST", "/connect/share-tokens/"+in+"/redeem", `{"data":{"attributes":{"destination-id":"`+dest+`"}}}`).must(t, 202)
			waitStatus(t, w.s, in, "redeemed")
			w.create(t)
			return w.s.do("GET", "/connect/share-tokens?page%5Bsize%5D=1", "")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, tc.opts...)
			r := tc.run(t, w).must(t, tc.status)
			if tc.name == "list" {
				// page[size]=1 gives one page of each direction: check both against the example.
				second := w.s.do("GET", strings.TrimPrefix(r.str("links", "next"), "/api/v1"), "").must(t, 200)
				r.doc["data"] = append(r.get("data").([]any), second.get("data", 0))
			}
			checkResource(t, r, tc.example, "connect-share-token.yaml")
		})
	}
}

func TestPeekSourceDataMatchesTheSpec(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := w.create(t)
	r := w.d.do("GET", "/connect/share-tokens/"+id+"?peek-source-data=true", "").must(t, 200)
	sd, _ := r.get("data", "attributes", "source-data").(map[string]any)
	if sd == nil {
		t.Fatalf("no source-data for the destination: %s", r.body)
	}
	for _, d := range checkSchema(t, schema(t, "components/schemas/source-data-base.yaml"), sd, "source-data") {
		t.Error(d)
	}
	if sd["type"] != "connect/source-data/inquiry" || sd["id"] != w.inq {
		t.Errorf("source-data is %v %v, want connect/source-data/inquiry %s", sd["type"], sd["id"], w.inq)
	}
	// Every peekable attribute, nested fields included, is a {visibility, value} wrapper.
	attr := schema(t, "components/schemas/source-data-peekable-attribute.yaml")
	variants := asList(attr["oneOf"])
	checkWrapper := func(name string, v any) {
		m, _ := v.(map[string]any)
		vis, _ := m["visibility"].(string)
		for _, variant := range variants {
			vm := variant.(map[string]any)
			if walk(vm, "properties", "visibility", "const") == vis {
				for _, d := range checkSchema(t, vm, m, name) {
					t.Error(d)
				}
				return
			}
		}
		t.Errorf("%s: visibility %q is neither full nor presence", name, vis)
	}
	peek, _ := sd["peekable-attributes"].(map[string]any)
	fields, _ := peek["fields"].(map[string]any)
	if len(fields) == 0 {
		t.Error("an inquiry's source-data has no fields")
	}
	for k, v := range peek {
		if k != "fields" {
			checkWrapper(k, v)
		}
	}
	for k, v := range fields {
		checkWrapper("fields."+k, v)
	}
	// The source never sees source-data; lists never carry it.
	if r := w.s.do("GET", "/connect/share-tokens/"+id+"?peek-source-data=true", "").must(t, 200); r.get("data", "attributes", "source-data") != nil {
		t.Error("the source organization got source-data")
	}
	if r := w.d.do("GET", "/connect/share-tokens?peek-source-data=true", "").must(t, 200); r.get("data", 0, "attributes", "source-data") != nil {
		t.Error("a list carries source-data")
	}
}

func TestConnectionAnswersMatchTheSpec(t *testing.T) {
	t.Parallel()
	srv := connecttest.NewServer()
	t.Cleanup(srv.Close)
	a, b, c := srv.NewOrganization("A"), srv.NewOrganization("B"), srv.NewOrganization("C")
	ra := newRaw(t, srv, a)
	r := ra.do("POST", "/connect/connections", `{"data":{"attributes":{"destination-organization-id":"`+b.ID+`"}}}`).must(t, 201)
	checkResource(t, r, "connect-connection.yaml", "connect-connection.yaml")
	id := r.str("data", "id")
	if got := r.str("data", "attributes", "status"); got != "pending" {
		t.Errorf("new connection is %q, want pending", got)
	}
	checkResource(t, newRaw(t, srv, b).do("GET", "/connect/connections/"+id, "").must(t, 200), "connect-connection.yaml", "connect-connection.yaml")
	checkResource(t, ra.do("POST", "/connect/connections/"+id+"/deactivate", "").must(t, 200), "connect-connection-inactive.yaml", "connect-connection.yaml")
	checkResource(t, ra.do("POST", "/connect/connections/"+id+"/reactivate", "").must(t, 200), "connect-connection.yaml", "connect-connection.yaml")
	// The list example holds an active connection and an older pending one.
	srv.CreateConnection(c, a)
	srv.AcceptConnection(id)
	list := ra.do("GET", "/connect/connections", "").must(t, 200)
	checkResource(t, list, "connect-connection-list.yaml", "connect-connection.yaml")
	if n := len(list.get("data").([]any)); n != 2 {
		t.Errorf("a sees %d connections, want 2 (outbound and inbound)", n)
	}
}

func TestEventAnswersMatchTheSpec(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := w.create(t)
	paths := schema(t, "paths/events.yaml")
	listExample := walk(paths, "get", "responses", "200", "content", "application/json", "examples", "Success", "value")
	list := w.d.do("GET", "/events", "").must(t, 200)
	// The example's events have no context (event.yaml allows it) and an inquiry payload
	// without relationships: compare example keys as a subset of ours, and ours with the
	// schema.
	for _, d := range subsetShape(listExample, any(list.doc), "") {
		t.Errorf("list vs example: %s", d)
	}
	ev := schema(t, "components/schemas/event.yaml")
	for i, item := range list.get("data").([]any) {
		for _, d := range checkSchema(t, ev, item, "data[]") {
			t.Errorf("event %d: %s", i, d)
		}
	}
	if got := list.str("data", 0, "attributes", "payload", "data", "id"); got != id {
		t.Errorf("event payload is about %q, want %s", got, id)
	}
	evID := list.str("data", 0, "id")
	one := w.d.do("GET", "/events/"+evID, "").must(t, 200)
	getExample := walk(schema(t, "paths/events_{event-id}.yaml"), "get", "responses", "200", "content", "application/json", "examples", "Success", "value")
	for _, d := range subsetShape(getExample, any(one.doc), "") {
		t.Errorf("get vs example: %s", d)
	}
	for _, d := range checkSchema(t, ev, one.get("data"), "data") {
		t.Error(d)
	}
	// Another organization's event is not found.
	w.s.do("GET", "/events/"+evID, "").must(t, 404)
}

// subsetShape is sameShape where got may have keys the example lacks.
func subsetShape(want, got any, path string) []string {
	var out []string
	for _, d := range sameShape(want, got, path) {
		if !strings.HasSuffix(d, "not in the example") {
			out = append(out, d)
		}
	}
	return out
}

func TestErrorBodiesMatchTheSpec(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		file   string
		run    func(t *testing.T, w *world) rawResp
	}{
		{400, "bad-request.yaml", func(t *testing.T, w *world) rawResp {
			return w.s.do("POST", "/connect/share-tokens", createBody(w.cxn, w.inq, `"color":"red"`))
		}},
		{400, "bad-request.yaml", func(t *testing.T, w *world) rawResp { // a missing attribute
			return w.s.do("POST", "/connect/share-tokens", `{"data":{"attributes":{"connection-id":"`+w.cxn+`"}}}`)
		}},
		{401, "unauthorized.yaml", func(t *testing.T, w *world) rawResp {
			return rawClient{t: t, srv: w.srv, key: "persona_sandbox_wrong"}.do("GET", "/connect/share-tokens", "")
		}},
		{403, "forbidden.yaml", func(t *testing.T, w *world) rawResp {
			return w.s.do("POST", "/connect/share-tokens/"+w.create(t)+"/redeem", "")
		}},
		{404, "not-found.yaml", func(t *testing.T, w *world) rawResp {
			return w.s.do("GET", "/connect/share-tokens/cnst_doesnotexist", "")
		}},
		{409, "conflict.yaml", func(t *testing.T, w *world) rawResp {
			id := w.create(t)
			w.s.do("POST", "/connect/share-tokens/"+id+"/expire", "").must(t, 200)
			return w.s.do("POST", "/connect/share-tokens/"+id+"/expire", "")
		}},
		{422, "unprocessable-entity.yaml", func(t *testing.T, w *world) rawResp {
			return w.s.do("POST", "/connect/share-tokens", createBody(w.cxn, w.inq, `"expires-in-seconds":59`))
		}},
		{429, "too-many-requests.yaml", func(t *testing.T, w *world) rawResp {
			w.s.do("GET", "/connect/share-tokens", "").must(t, 200)
			return w.s.do("GET", "/connect/share-tokens", "")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			var opts []connecttest.ServerOption
			if tc.status == 429 {
				opts = append(opts, connecttest.WithRateLimit(1, time.Minute))
			}
			w := newWorld(t, opts...)
			r := tc.run(t, w).must(t, tc.status)
			spec := schema(t, "components/responses/"+tc.file)
			content := walk(spec, "content", "application/json")
			for _, d := range checkSchema(t, walk(content, "schema").(map[string]any), any(r.doc), "") {
				t.Errorf("schema: %s", d)
			}
			examples, _ := walk(content, "examples").(map[string]any)
			for _, ex := range examples {
				for _, d := range subsetShape(walk(ex, "value"), any(r.doc), "") {
					t.Errorf("vs example: %s", d)
				}
			}
			if e := r.firstError(); e["title"] == "" || e["title"] == nil {
				t.Errorf("error without a title: %s", r.body)
			}
			if tc.status == 422 && walk(r.firstError(), "source", "pointer") != "/data/attributes/expires-in-seconds" {
				t.Errorf("422 pointer: %s", r.body)
			}
			if tc.status == 429 && r.firstError()["title"] != "Rate limit exceeded" {
				t.Errorf("429 title: %s", r.body)
			}
			checkHeaders(t, r, tc.status != 401, w.src)
		})
	}
}

// checkHeaders checks the headers every authenticated answer carries (and that an
// unauthenticated one carries none of them).
func checkHeaders(t *testing.T, r rawResp, authenticated bool, o *connecttest.Organization) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	names := []string{"Request-Id", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Persona-Environment-Id", "Persona-Organization-Id"}
	for _, h := range names {
		if got := r.header.Get(h); (got != "") != authenticated {
			t.Errorf("header %s = %q on a response with authenticated=%v", h, got, authenticated)
		}
	}
	if !authenticated {
		return
	}
	if !strings.HasPrefix(r.header.Get("Request-Id"), "req_") || !strings.HasPrefix(r.header.Get("Persona-Environment-Id"), "env_") {
		t.Errorf("ids: Request-Id %q, Persona-Environment-Id %q", r.header.Get("Request-Id"), r.header.Get("Persona-Environment-Id"))
	}
	if got := r.header.Get("Persona-Organization-Id"); got != o.ID {
		t.Errorf("Persona-Organization-Id %q, want %s", got, o.ID)
	}
}

func TestEveryOperationAnswersWithHeadersAndStatus(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connecttest.WithRedeemDelay(0))
	id := w.create(t)
	expiring := w.create(t)
	evID := ""
	steps := []struct {
		c            rawClient
		method, path string
		body         string
		status       int
	}{
		{w.s, "GET", "/connect/share-tokens", "", 200},
		{w.s, "POST", "/connect/share-tokens", createBody(w.cxn, w.inq), 201},
		{w.d, "GET", "/connect/share-tokens/" + id, "", 200},
		{w.d, "POST", "/connect/share-tokens/" + id + "/redeem", "", 202},
		{w.s, "POST", "/connect/share-tokens/" + expiring + "/expire", "", 200},
		{w.s, "GET", "/connect/connections", "", 200},
		{w.d, "GET", "/connect/connections/" + w.cxn, "", 200},
		{w.d, "POST", "/connect/connections/" + w.cxn + "/deactivate", "", 200},
		{w.s, "POST", "/connect/connections/" + w.cxn + "/reactivate", "", 200},
		{w.s, "POST", "/connect/connections", `{"data":{"attributes":{"destination-organization-id":"` + w.srv.NewOrganization("X").ID + `"}}}`, 201},
		{w.s, "GET", "/events", "", 200},
	}
	for _, st := range steps {
		r := st.c.do(st.method, st.path, st.body)
		if r.status != st.status {
			t.Errorf("%s %s: %d, want %d: %s", st.method, st.path, r.status, st.status, r.body)
		}
		org := w.src
		if st.c.key == w.dst.APIKey {
			org = w.dst
		}
		checkHeaders(t, r, true, org)
		if st.path == "/events" {
			evID = r.str("data", 0, "id")
		}
	}
	checkHeaders(t, w.s.do("GET", "/events/"+evID, "").must(t, 200), true, w.src)
	for _, bad := range []string{"/nope", "/connect/share-tokens/x/y/z"} {
		w.s.do("GET", bad, "").must(t, http.StatusNotFound)
	}
	w.s.do("DELETE", "/connect/share-tokens/"+id, "").must(t, http.StatusMethodNotAllowed)
}
