package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/persona-connect/connect-go/internal/jsonapi"
)

// Do calls any Persona endpoint, typed by this SDK or not, through the same pipeline
// as the typed methods: the Authorization, Persona-Version, Key-Inflection and
// User-Agent headers, an Idempotency-Key on POST (WithIdempotencyKey, else a random one
// reused by every retry), the same retries and waits, *APIError for a non-2xx answer,
// and WithResponseInto.
//
// method is GET, POST, PUT, PATCH or DELETE. path is relative to the base URL and may
// carry a query, which is sent as given: "/inquiries/inq_123?include=verifications".
// A path that already starts with the base URL's path is relative to its host, as
// Persona's links are: a links.next such as "/api/v1/inquiries?page%5Bafter%5D=inq_123"
// is called as it comes (under a base URL that puts a proxy's prefix before /api/v1,
// behind that prefix). An absolute URL is accepted only under the base URL; one to
// another origin is refused before any I/O, since the request would carry the API key
// there, and so are dot segments ("." or "..", escaped or not), control characters,
// backslashes and fragments. Errors wrap ErrInvalidParams and name the field.
//
// PUT, PATCH and DELETE carry no Idempotency-Key, and are retried as GET is, but for a
// 500: Persona's updates set attributes, so a repeat leaves the state the first left.
//
// body is nil for no body; a []byte or json.RawMessage, sent as is (it must be valid
// JSON); or any other value, encoded with encoding/json. GET takes no body. out
// receives a 2xx answer: nil discards it; a *json.RawMessage gets the body verbatim;
// any other pointer is decoded into with encoding/json, after camelCase and snake_case
// keys are folded to kebab-case as for the typed methods (Persona answers in kebab case
// anyway: the SDK asks for it). An empty 2xx body leaves out as it was. A body that does
// not fit out is a *RequestError naming out's type and, for a value of the wrong kind,
// the field; never the value, which may be an end user's (encoding/json's own text
// quotes a number or a time it could not store).
//
// The requests carry the Operation{Name: "Do"} with an empty Route (a raw path holds
// ids, which must not become span names or metric labels); name the call with
// WithOperation to give tracing a route template.
func (c *Client) Do(ctx context.Context, method, path string, body, out any, opts ...RequestOption) error {
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return invalidParam("method", "must be GET, POST, PUT, PATCH or DELETE")
	}
	u, rel, err := c.resolvePath(path)
	if err != nil {
		return err
	}
	encoded, err := encodeDoBody(method, body)
	if err != nil {
		return err
	}
	target, err := doTarget(out)
	if err != nil {
		return err
	}
	rc := newRequestConfig(opts)
	op := Operation{Name: "Do"}
	if rc.operation != nil {
		if err := rc.operation.validate(); err != nil {
			return err
		}
		op = *rc.operation
	}
	cl := &call{method: method, url: u, path: rel, body: encoded, into: rc.responseInto}
	if method == http.MethodPost {
		if cl.idem, err = idempotencyKey(rc.idempotencyKey); err != nil {
			return err
		}
	}
	return c.do(withOperation(ctx, op.Name, op.Route), cl, target)
}

// WithOperation is a RequestOption for Client.Do: it names the call for transports that
// trace or measure it (see Operation): Name like "Inquiries.Get", Route the path
// template with "{id}" for ids, "/inquiries/{id}". Never put an id in either: they
// become span names and metric labels. An empty Name keeps "Do". Do refuses a Route
// that does not start with "/" or holds a query, and a Name or Route with control
// characters, with an error wrapping ErrInvalidParams. The typed methods name their own
// operations and ignore it.
func WithOperation(op Operation) RequestOption {
	return func(r *requestConfig) { r.operation = &op }
}

func (op *Operation) validate() error {
	if op.Name == "" {
		op.Name = "Do"
	}
	if hasControl(op.Name) || hasControl(op.Route) {
		return invalidParam("operation", "must not contain control characters")
	}
	if op.Route != "" && (!strings.HasPrefix(op.Route, "/") || strings.ContainsAny(op.Route, "?#")) {
		return invalidParam("operation route", "must be a path template starting with / without a query")
	}
	return nil
}

// resolvePath turns Do's path into the absolute URL to call and the path relative to
// the base URL (for errors and logs, without the query).
func (c *Client) resolvePath(path string) (*url.URL, string, error) {
	switch {
	case strings.TrimSpace(path) == "":
		return nil, "", invalidParam("path", "must not be empty")
	case hasControl(path) || strings.ContainsAny(path, " \\"):
		return nil, "", invalidParam("path", "must not contain spaces, backslashes or control characters")
	case strings.Contains(path, "#"):
		return nil, "", invalidParam("path", "must not carry a fragment")
	}
	ref, err := url.Parse(path)
	if err != nil {
		return nil, "", invalidParam("path", "is not a valid URL path")
	}
	var u *url.URL
	if ref.Scheme != "" || ref.Host != "" {
		// An absolute URL ("https://host/...") or a scheme-relative one ("//host/...").
		if ref.Scheme == "" {
			ref.Scheme = c.base.Scheme
		}
		if ref.User != nil || !sameOrigin(ref, c.base) {
			return nil, "", invalidParam("path", "must not point to another origin than the base URL's: the request would carry the API key there")
		}
		u = ref
	} else {
		if !strings.HasPrefix(path, "/") {
			return nil, "", invalidParam("path", `must start with "/" (it is relative to the base URL)`)
		}
		// Appending the caller's text to the base URL keeps its escaping and its query
		// exactly as given. Persona's links (links.next, "/api/v1/events?page%5Bafter%5D=...")
		// are relative to its host and already hold the base URL's path, or its end
		// (personaLink): such a path is appended to the origin instead, as paginate
		// resolves them, or it would be sent to /api/v1/api/v1/...
		prefix := c.base.String()
		if onBase, ok := c.personaLink(path); ok {
			prefix, path = c.base.Scheme+"://"+c.base.Host, onBase
		} else if bp := c.base.EscapedPath(); bp != "" && strings.HasPrefix(path, bp+"/") {
			prefix = c.base.Scheme + "://" + c.base.Host
		}
		if u, err = url.Parse(prefix + path); err != nil {
			return nil, "", invalidParam("path", "is not a valid URL path")
		}
	}
	basePath := c.base.EscapedPath()
	rel, under := strings.CutPrefix(u.EscapedPath(), basePath+"/")
	if !under {
		return nil, "", invalidParam("path", "must lie under the base URL")
	}
	for _, seg := range strings.Split(strings.TrimPrefix(u.Path, c.base.Path+"/"), "/") {
		if seg == "." || seg == ".." {
			return nil, "", invalidParam("path", "must not contain . or .. segments")
		}
	}
	if strings.Trim(rel, "/") == "" {
		return nil, "", invalidParam("path", "must name an endpoint under the base URL")
	}
	return u, "/" + rel, nil
}

// encodeDoBody encodes Do's body once; every attempt resends these bytes.
func encodeDoBody(method string, body any) ([]byte, error) {
	var b []byte
	switch v := body.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		b = v
	case []byte:
		b = v
	default:
		enc, err := json.Marshal(body)
		if err != nil {
			// Not the encoder's text: a MarshalJSON error may quote the value.
			return nil, invalidParam("body", fmt.Sprintf("of type %T cannot be encoded as JSON", body))
		}
		b = enc
	}
	if b == nil {
		return nil, nil // a nil []byte or json.RawMessage is no body
	}
	if method == http.MethodGet {
		return nil, invalidParam("body", "must be nil on GET")
	}
	if !json.Valid(b) {
		return nil, invalidParam("body", "must be valid JSON")
	}
	return bytes.Clone(b), nil // the caller may change its slice while retries run
}

// bodyDecoder is a decode target that reads a 2xx body itself (decodeBody, request.go,
// hands it the bytes instead of calling json.Unmarshal).
type bodyDecoder interface {
	decodeBody(body []byte) error
}

// doTarget checks Do's out before any I/O and wraps it for decodeBody.
func doTarget(out any) (any, error) {
	switch v := out.(type) {
	case nil:
		return nil, nil
	case *json.RawMessage:
		if v == nil {
			return nil, invalidParam("out", "must be nil or a non-nil pointer")
		}
		return rawTarget{v}, nil
	}
	if rv := reflect.ValueOf(out); rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, invalidParam("out", "must be nil or a non-nil pointer")
	}
	return jsonTarget{out}, nil
}

// rawTarget copies the body verbatim: the buffer it comes in is reused.
type rawTarget struct{ dst *json.RawMessage }

func (t rawTarget) decodeBody(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	*t.dst = bytes.Clone(body)
	return nil
}

// jsonTarget decodes as the typed methods do, keys folded to kebab-case.
type jsonTarget struct{ dst any }

func (t jsonTarget) decodeBody(body []byte) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := jsonapi.Unmarshal(body, t.dst); err != nil {
		return fmt.Errorf("decode into %T: %w", t.dst, valueFree(err))
	}
	return nil
}
