package connecttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
)

// shape is the strict form a request body must have: like Persona's schemas with
// additionalProperties: false, any member not listed is a 400.
type shape struct {
	kind     shapeKind
	members  map[string]*shape // objects
	required []string          // objects: members that must be present (400 if not)
	item     *shape            // arrays
}

type shapeKind int

const (
	shapeObject shapeKind = iota
	shapeString
	shapeInteger
	shapeArray
)

func objectOf(members map[string]*shape, required ...string) *shape {
	return &shape{kind: shapeObject, members: members, required: required}
}

func stringShape() *shape  { return &shape{kind: shapeString} }
func integerShape() *shape { return &shape{kind: shapeInteger} }
func arrayOf(item *shape) *shape {
	return &shape{kind: shapeArray, item: item}
}

// parseBody decodes body and checks it against want. An empty body is an empty object.
// A failure is a 400 answer whose details name the member, as Persona's do
// ("data.attributes.name is missing").
func parseBody(body []byte, want *shape) (map[string]any, *response) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		r := fail(http.StatusBadRequest, "request body is not valid JSON")
		return nil, &r
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		r := fail(http.StatusBadRequest, "request body has data after its JSON value")
		return nil, &r
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		r := fail(http.StatusBadRequest, "request body must be a JSON object")
		return nil, &r
	}
	if msg := checkShape(m, want, ""); msg != "" {
		r := fail(http.StatusBadRequest, msg)
		return nil, &r
	}
	return m, nil
}

// checkShape returns what is wrong with v at path, or "". JSON null is accepted
// anywhere and means absent.
func checkShape(v any, want *shape, path string) string {
	if v == nil {
		return ""
	}
	name := path
	if name == "" {
		name = "body"
	}
	switch want.kind {
	case shapeString:
		if _, ok := v.(string); !ok {
			return name + " must be a string"
		}
	case shapeInteger:
		n, ok := v.(json.Number)
		if !ok {
			return name + " must be an integer"
		}
		if _, err := n.Int64(); err != nil {
			return name + " must be an integer"
		}
	case shapeArray:
		list, ok := v.([]any)
		if !ok {
			return name + " must be an array"
		}
		for i, e := range list {
			if msg := checkShape(e, want.item, path+"["+strconv.Itoa(i)+"]"); msg != "" {
				return msg
			}
		}
	case shapeObject:
		m, ok := v.(map[string]any)
		if !ok {
			return name + " must be an object"
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, known := want.members[k]
			if !known {
				return join(path, k) + " is not a permitted member"
			}
			if msg := checkShape(m[k], sub, join(path, k)); msg != "" {
				return msg
			}
		}
		for _, k := range want.required {
			if m[k] == nil {
				return join(path, k) + " is missing"
			}
		}
	}
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// lookup walks nested objects; it returns nil when any step is absent.
func lookup(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}

// lookupString is lookup for a string member; "" when absent.
func lookupString(m map[string]any, keys ...string) string {
	s, _ := lookup(m, keys...).(string)
	return s
}
