package connecttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
)

// decodeBody decodes a request body into v, a struct of the members the operation's
// spec lists (additionalProperties: false), or returns the 400 of a body that does not
// fit (policy.go), whose details name the member in Persona's words
// ("data.attributes.type must be a string"). An empty body is {}.
func decodeBody(body []byte, v any) *response {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) || errors.Is(err, io.ErrUnexpectedEOF) {
		return badRequest("request body is not valid JSON")
	}
	if _, next := dec.Token(); !errors.Is(next, io.EOF) {
		return badRequest("request body has data after its JSON value")
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case string(body) == "null", errors.As(err, &typeErr) && typeErr.Field == "":
		return badRequest("request body must be a JSON object")
	case typeErr != nil:
		return badRequest(typeErr.Field + " must be " + jsonKind(typeErr.Type))
	case err != nil:
		// DisallowUnknownFields words it `json: unknown field "name"`, without the path.
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return badRequest(strings.Trim(name, `"`) + " is not a permitted member")
		}
		return badRequest("request body is not valid JSON")
	}
	return nil
}

// jsonKind names the JSON type a Go field of type t takes.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64:
		return "an integer"
	case reflect.Slice:
		return "an array"
	}
	return "an object"
}

func badRequest(details string) *response {
	r := fail(http.StatusBadRequest, details)
	return &r
}

// attributesBody is a request body whose one member is data.attributes, of type A.
type attributesBody[A any] struct {
	Data struct {
		Attributes A `json:"attributes"`
	} `json:"data"`
}

// emptyBody is the body of operations whose spec has none: the fake accepts nothing,
// {} or {"data":{"attributes":{}}}.
type emptyBody = attributesBody[struct{}]
