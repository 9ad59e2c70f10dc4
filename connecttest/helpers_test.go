package connecttest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/persona-connect/connect-go/connecttest"
	"github.com/persona-connect/connect-go/internal/spectest"
)

// rawClient talks to the fake with plain net/http, so the fake's own tests do not
// depend on the SDK.
type rawClient struct {
	t   *testing.T
	srv *connecttest.Server
	key string
}

// rawResp is an answer with its body decoded as generic JSON.
type rawResp struct {
	status int
	header http.Header
	body   []byte
	doc    map[string]any
}

func newRaw(t *testing.T, srv *connecttest.Server, o *connecttest.Organization) rawClient {
	return rawClient{t: t, srv: srv, key: o.APIKey}
}

// do sends method path (relative to the base URL) with body and extra headers given as
// name, value pairs.
func (c rawClient) do(method, path, body string, headers ...string) rawResp {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.srv.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := rawResp{status: resp.StatusCode, header: resp.Header, body: b}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r.doc); err != nil {
			c.t.Fatalf("%s %s: body is not a JSON object: %v: %s", method, path, err, b)
		}
	}
	return r
}

// must checks the status and returns the response.
func (r rawResp) must(t *testing.T, status int) rawResp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	return r
}

// get walks the decoded body: keys for objects, ints for arrays.
func (r rawResp) get(path ...any) any { return walk(r.doc, path...) }

func (r rawResp) str(path ...any) string {
	s, _ := r.get(path...).(string)
	return s
}

func walk(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// firstError is the first item of an {"errors": [...]} body.
func (r rawResp) firstError() map[string]any {
	m, _ := r.get("errors", 0).(map[string]any)
	return m
}

func createBody(cxn, src string, extra ...string) string {
	attrs := fmt.Sprintf(`"connection-id":%q,"source-id":%q`, cxn, src)
	for _, e := range extra {
		attrs += "," + e
	}
	return `{"data":{"attributes":{` + attrs + `}}}`
}

// world is a source and a destination organization with an active connection and an
// inquiry to share.
type world struct {
	srv      *connecttest.Server
	src, dst *connecttest.Organization
	cxn, inq string
	s, d     rawClient // raw clients of src and dst
}

func newWorld(t *testing.T, opts ...connecttest.ServerOption) *world {
	t.Helper()
	srv := connecttest.NewServer(opts...)
	t.Cleanup(srv.Close)
	w := &world{srv: srv, src: srv.NewOrganization("Source Bank"), dst: srv.NewOrganization("Dest Lender")}
	w.cxn = srv.CreateConnection(w.src, w.dst)
	w.inq = srv.CreateInquiry(w.src)
	w.s, w.d = newRaw(t, srv, w.src), newRaw(t, srv, w.dst)
	return w
}

// create makes a share token of w.inq as the source and returns its id.
func (w *world) create(t *testing.T) string {
	t.Helper()
	return w.s.do("POST", "/connect/share-tokens", createBody(w.cxn, w.inq)).must(t, 201).str("data", "id")
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitStatus polls a token as c until it has status.
func waitStatus(t *testing.T, c rawClient, id, status string) rawResp {
	t.Helper()
	var r rawResp
	eventually(t, "token "+id+" to be "+status, func() bool {
		r = c.do("GET", "/connect/share-tokens/"+id, "")
		return r.str("data", "attributes", "status") == status
	})
	return r
}

// example returns the value of components/examples/<name>, decoded as JSON.
func example(t *testing.T, name string) map[string]any {
	t.Helper()
	m, _ := spectest.Value(t, "components/examples/"+name, "value").(map[string]any)
	if m == nil {
		t.Fatalf("%s has no value", name)
	}
	return m
}

// schema returns a YAML file of the spec, decoded as JSON.
func schema(t *testing.T, rel string) map[string]any {
	t.Helper()
	m, _ := spectest.Value(t, rel).(map[string]any)
	return m
}

// jsonType names a decoded JSON value's type as the spec does.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// sameShape reports how got differs in shape from the spec example want: every object
// must have exactly the example's keys, and every value the example's JSON type; a
// null on either side matches a string or an object (nullable attributes and
// relationship data). Ids and timestamps differ, so values are not compared, except
// the JSON:API "type" members.
func sameShape(want, got any, path string) []string {
	if want == nil || got == nil {
		if want == nil && got == nil {
			return nil
		}
		other := jsonType(want)
		if want == nil {
			other = jsonType(got)
		}
		if other == "string" || other == "object" {
			return nil
		}
		return []string{fmt.Sprintf("%s: %s vs %s", path, jsonType(want), jsonType(got))}
	}
	if jsonType(want) != jsonType(got) {
		return []string{fmt.Sprintf("%s: want %s, got %s", path, jsonType(want), jsonType(got))}
	}
	var diffs []string
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for _, k := range sortedKeys(w) {
			if _, ok := g[k]; !ok {
				diffs = append(diffs, path+"."+k+": missing")
				continue
			}
			diffs = append(diffs, sameShape(w[k], g[k], path+"."+k)...)
		}
		for _, k := range sortedKeys(g) {
			if _, ok := w[k]; !ok {
				diffs = append(diffs, path+"."+k+": not in the example")
			}
		}
		// The resource's own type must match; related types ("user" vs "api-key") may not.
		if t, ok := w["type"].(string); ok && resourcePath.MatchString(path) && g["type"] != t {
			diffs = append(diffs, fmt.Sprintf("%s.type: want %q, got %v", path, t, g["type"]))
		}
	case []any:
		g := got.([]any)
		if len(w) > 0 && len(g) == 0 {
			diffs = append(diffs, path+": empty, the example is not")
		}
		for i := range g {
			if len(w) > 0 {
				diffs = append(diffs, sameShape(w[min(i, len(w)-1)], g[i], fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return diffs
}

// resourcePath matches the path of a top-level resource: ".data" or ".data[3]".
var resourcePath = regexp.MustCompile(`^\.data(\[\d+\])?$`)

// checkSchema reports where v breaks schema s: type, const, required,
// additionalProperties: false, properties and items, following $ref into files next to
// base. allOf/oneOf compositions are not followed.
func checkSchema(t *testing.T, s map[string]any, v any, path string) []string {
	t.Helper()
	var diffs []string
	if types := schemaTypes(s["type"]); len(types) > 0 {
		jt := jsonType(v)
		okType := false
		for _, ty := range types {
			if ty == jt || (ty == "integer" && jt == "number") {
				okType = true
			}
		}
		if !okType {
			return []string{fmt.Sprintf("%s: %s, want %v", path, jt, types)}
		}
	}
	if c, ok := s["const"]; ok && c != v {
		diffs = append(diffs, fmt.Sprintf("%s: %v, want const %v", path, v, c))
	}
	switch vv := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range asList(s["required"]) {
			if _, ok := vv[r.(string)]; !ok {
				diffs = append(diffs, path+"."+r.(string)+": required, missing")
			}
		}
		for _, k := range sortedKeys(vv) {
			sub, known := props[k].(map[string]any)
			if !known {
				if s["additionalProperties"] == false {
					diffs = append(diffs, path+"."+k+": not allowed by the schema")
				}
				continue
			}
			if ref, ok := sub["$ref"].(string); ok && strings.HasPrefix(ref, "./") {
				sub = schema(t, "components/schemas/"+strings.TrimPrefix(ref, "./"))
			}
			diffs = append(diffs, checkSchema(t, sub, vv[k], path+"."+k)...)
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range vv {
				diffs = append(diffs, checkSchema(t, items, e, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	}
	return diffs
}

func schemaTypes(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			out = append(out, fmt.Sprint(e))
		}
		return out
	}
	return nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
