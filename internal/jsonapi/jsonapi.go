// Package jsonapi is the small part of JSON:API that Persona's REST API speaks:
// documents, pagination links, error objects and request envelopes, plus the key
// folding that makes decoding tolerant of Persona's three key inflections. Nothing here
// knows about share tokens or any other resource kind.
package jsonapi

import "encoding/json"

// Links are the pagination links of a list document. Persona sends relative URLs
// (/api/v1/...) and null on the last page, which decodes as "".
type Links struct {
	Next string `json:"next"`
	Prev string `json:"prev"`
}

// Rel is a to-one relationship whose data decodes into T (nil for "data": null, as a
// clone's destination is while the clone is pending).
type Rel[T any] struct {
	Data *T `json:"data"`
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

// Request is a request body. Connect requests carry only attributes and, on redeem,
// meta: no type and no id (see persona-openapi/paths/connect_*.yaml).
type Request[A any] struct {
	Data struct {
		Attributes A `json:"attributes"`
	} `json:"data"`
}

// IsNull reports whether a raw value is absent or the JSON null.
func IsNull(v json.RawMessage) bool {
	return len(v) == 0 || string(v) == "null"
}
