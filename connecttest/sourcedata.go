package connecttest

import "strings"

// sourceData is the PII-filtered snapshot a destination peeks at
// (persona-openapi/components/schemas/source-data*.yaml).
type sourceData struct {
	Type               string             `json:"type"`
	ID                 string             `json:"id"`
	PeekableAttributes peekableAttributes `json:"peekable-attributes"`
	RelatedObjects     any                `json:"related-objects,omitempty"` // inquiries only: []
}

// peekableAttributes are scalar attributes and, for inquiries, accounts and
// transactions, a nested fields bag, each entry a {visibility, value} wrapper.
type peekableAttributes struct {
	Status      peeked  `json:"status"`
	CountryCode *peeked `json:"country-code,omitempty"` // verifications only
	Fields      any     `json:"fields,omitempty"`       // map[string]peeked, {} when empty; verifications have none
}

// peeked is what a peek shows of one attribute: the value, or only whether it is set.
type peeked struct {
	Visibility string `json:"visibility"` // full or presence
	Value      any    `json:"value"`
}

// newSourceData is obj's source-data. A redacted or deleted source shows only its
// status.
func newSourceData(obj *sourceObject) *sourceData {
	k := obj.kind.info()
	out := sourceData{Type: "connect/source-data/" + k.typ, ID: obj.id, PeekableAttributes: peekableAttributes{Status: peeked{"full", k.status}}}
	if obj.kind == kindVerification {
		out.PeekableAttributes.CountryCode = &peeked{"full", "US"}
	} else {
		fields := map[string]peeked{}
		for _, f := range obj.fields {
			entry := peeked{"full", f.value}
			if f.presence {
				entry = peeked{"presence", f.value != nil}
			}
			if !obj.redacted && !obj.deleted {
				fields[strings.ReplaceAll(f.name, "_", "-")] = entry
			}
		}
		out.PeekableAttributes.Fields = fields
	}
	if obj.kind == kindInquiry {
		out.RelatedObjects = []any{}
	}
	return &out
}
