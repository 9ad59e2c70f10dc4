package connecttest

import "strings"

// sourceData is the PII-filtered snapshot a destination peeks at
// (persona-openapi/components/schemas/source-data*.yaml): scalar attributes and, for
// inquiries, accounts and transactions, a nested "fields" bag, each entry a
// {visibility, value} wrapper; inquiries add related-objects. A redacted or deleted
// source shows only its status.
func sourceData(obj *sourceObject) object {
	k := obj.kind.info()
	full := func(v any) object { return object{{"visibility", "full"}, {"value", v}} }
	peekable := object{{"status", full(k.status)}}
	hidden := obj.redacted || obj.deleted
	if obj.kind == kindVerification {
		peekable = append(peekable, member{"country-code", full("US")})
	} else {
		var fields object
		for _, f := range obj.fields {
			if hidden {
				break
			}
			entry := full(f.value)
			if f.presence {
				entry = object{{"visibility", "presence"}, {"value", f.value != nil}}
			}
			fields = append(fields, member{strings.ReplaceAll(f.name, "_", "-"), entry})
		}
		if fields == nil {
			fields = object{}
		}
		peekable = append(peekable, member{"fields", fields})
	}
	out := object{{"type", k.sourceData}, {"id", obj.id}, {"peekable-attributes", peekable}}
	if obj.kind == kindInquiry {
		out = append(out, member{"related-objects", []object{}})
	}
	return out
}
