// Package jsonapi is the small part of JSON:API that Persona's REST API speaks: documents
// with one resource or a list of them, resource identifiers, relationships, pagination
// links and error objects.
//
// Decoding is lenient on purpose. Persona answers the SDK in kebab case because the SDK
// asks for it, but webhook payloads follow the inflection chosen in Persona's dashboard
// (kebab, camel or snake), so attribute keys are folded to one canonical form before
// lookup. Nothing here knows about share tokens or any other resource kind.
package jsonapi

import (
	"encoding/json"
	"strings"
)

// Document is a response body: data is a single resource, a list, or null.
type Document struct {
	Data     json.RawMessage   `json:"data"`
	Included []json.RawMessage `json:"included,omitempty"`
	Links    Links             `json:"links"`
}

// Links are the pagination links of a list document. Persona sends relative URLs
// (/api/v1/...) and null on the last page.
type Links struct {
	Next string `json:"next"`
	Prev string `json:"prev"`
}

// Identifier names one resource: the "data" of a relationship.
type Identifier struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Relationship holds a to-one relationship. Data is nil when the relationship is
// present with "data": null (a destination while a clone is still pending).
type Relationship struct {
	Data *Identifier `json:"data"`
}

// Resource is one resource object with its attributes and relationships still keyed
// by canonical names (see Canonical).
type Resource struct {
	Type          string
	ID            string
	Attributes    Attributes
	Relationships map[string]Relationship
}

// Attributes maps canonical attribute names to their raw JSON values.
type Attributes map[string]json.RawMessage

// UnmarshalJSON decodes a resource whose keys may be in any inflection.
func (r *Resource) UnmarshalJSON(b []byte) error {
	var raw struct {
		Type          string                     `json:"type"`
		ID            string                     `json:"id"`
		Attributes    map[string]json.RawMessage `json:"attributes"`
		Relationships map[string]json.RawMessage `json:"relationships"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	r.Type, r.ID = raw.Type, raw.ID
	r.Attributes = make(Attributes, len(raw.Attributes))
	for k, v := range raw.Attributes {
		r.Attributes[Canonical(k)] = v
	}
	r.Relationships = make(map[string]Relationship, len(raw.Relationships))
	for k, v := range raw.Relationships {
		// Only to-one relationships are read. A to-many one ("data": [...]) or any
		// other shape a newer API adds is skipped, not an error: one unknown
		// relationship must not make the whole resource undecodable.
		var rel Relationship
		if json.Unmarshal(v, &rel) != nil {
			continue
		}
		r.Relationships[Canonical(k)] = rel
	}
	return nil
}

// Canonical folds a key in kebab, camel or snake case to one form: lower case with
// the word separators removed ("created-at", "createdAt" and "created_at" all become
// "createdat"). Persona's attribute names never differ only by a separator, so the
// folding loses nothing.
func Canonical(key string) string {
	needs := false
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c == '-' || c == '_' || (c >= 'A' && c <= 'Z') {
			needs = true
			break
		}
	}
	if !needs {
		return key
	}
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '-' || c == '_':
			continue
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + ('a' - 'A'))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// String returns the string attribute named by its canonical key; "" when it is
// absent or null. ok is false only when the value is present but not a string.
func (a Attributes) String(key string) (s string, ok bool) {
	v, present := a[key]
	if !present || isNull(v) {
		return "", true
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

// Raw returns the raw value of an attribute, or nil when it is absent or null.
func (a Attributes) Raw(key string) json.RawMessage {
	v := a[key]
	if isNull(v) {
		return nil
	}
	return v
}

// Ref returns the identifier of a relationship, or nil when it is absent or null.
// Any of the given canonical names is accepted, the first present one wins: older
// Persona guides name the share token's connection "connect-connection".
func (r *Resource) Ref(names ...string) *Identifier {
	for _, n := range names {
		if rel, ok := r.Relationships[n]; ok {
			return rel.Data
		}
	}
	return nil
}

func isNull(v json.RawMessage) bool {
	return len(v) == 0 || string(v) == "null"
}

// ErrorDocument is an error response body.
type ErrorDocument struct {
	Errors []ErrorObject `json:"errors"`
}

// ErrorObject is one entry of an error response. Persona documents "details" (plural);
// "detail" is the JSON:API spelling and is accepted too.
type ErrorObject struct {
	Title   string          `json:"title"`
	Details string          `json:"details"`
	Detail  string          `json:"detail"`
	Meta    json.RawMessage `json:"meta"`
	Source  struct {
		Pointer string `json:"pointer"`
	} `json:"source"`
}

// Request is a request body: Connect requests carry only attributes and, on redeem,
// meta. No type and no id (see persona-openapi/paths/connect_*.yaml).
type Request struct {
	Data RequestData `json:"data"`
	Meta any         `json:"meta,omitempty"`
}

// RequestData is the "data" member of a request body.
type RequestData struct {
	Attributes any `json:"attributes"`
}
