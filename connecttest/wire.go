package connecttest

import (
	"bytes"
	"encoding/json"
	"time"
)

// The JSON:API documents the fake writes, as typed structs for encoding/json. Field
// order follows the spec's examples, so bodies read like them and are stable byte for
// byte. Nothing here is shared with the SDK's decoder, so that a bug common to both
// cannot hide.

// document is an answer: data alone for one resource, as in the spec's examples; data
// and the links to the neighbouring pages for a list; errors alone for a failure.
type document struct {
	Data   any         `json:"data,omitempty"`
	Links  *pageLinks  `json:"links,omitempty"`
	Errors []errorItem `json:"errors,omitempty"`
}

// pageLinks are relative links; null on the first and last page.
type pageLinks struct {
	Prev *string `json:"prev"`
	Next *string `json:"next"`
}

// resource is a JSON:API resource object.
type resource struct {
	Type          string `json:"type"`
	ID            string `json:"id"`
	Attributes    any    `json:"attributes"`
	Relationships any    `json:"relationships,omitempty"`
}

// identifier is a JSON:API resource identifier: {"type": ..., "id": ...}.
type identifier struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// relationship is {"data": identifier}; a nil Data is {"data": null}.
type relationship struct {
	Data *identifier `json:"data"`
}

func relation(typ, id string) *relationship {
	return &relationship{&identifier{Type: typ, ID: id}}
}

// marshal encodes v, one of this package's wire types. '<', '>' and '&' (links carry
// '&') are written as they are, not as \u003c..., as Persona writes them.
func marshal(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// The wire types hold only strings, numbers, bools and valid raw JSON.
		panic("connecttest: cannot encode " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// timestamp renders t as Persona does: UTC, milliseconds, "Z".
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func nullTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	return nullable(timestamp(*t))
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
