package jsonapi

import "encoding/json"

// Persona answers the SDK in kebab case because the SDK asks for it (Key-Inflection:
// kebab), but a webhook's keys follow the inflection chosen in Persona's dashboard, and
// an event's payload the organization's setting: kebab, camel or snake. Unmarshal is
// the one place where the SDK folds keys, so that one set of kebab-case struct tags
// decodes all three.

// Unmarshal decodes doc into v, whose struct tags spell keys in kebab case, whatever
// the inflection of doc's keys: camel and snake keys are folded to kebab first
// ("createdAt" and "created_at" become "created-at"). A json.RawMessage in v holds the
// folded text. On a kebab document folding costs one scan and no allocation.
func Unmarshal(doc []byte, v any) error {
	return json.Unmarshal(KebabKeys(doc), v)
}

// KebabKeys returns doc with every object key rewritten in kebab case. String values
// are left alone, and so are escape sequences inside keys. When no key needs a change,
// doc itself is returned and nothing is allocated: the API's own answers take that
// path. doc must be valid JSON; on invalid input the result is unspecified but never
// panics, and the decoder that reads it reports the error. connecttest folds the
// request bodies it reads with it, as Persona accepts keys in any of the three cases.
func KebabKeys(doc []byte) []byte {
	var out []byte // nil until the first key that changes
	copied := 0    // doc[:copied] has been copied to out
	// stack of containers: true for an object. A string starts a key when the innermost
	// container is an object and the previous structural byte is '{' or ','.
	var stackBuf [32]bool
	stack := stackBuf[:0]
	expectKey := false
	for i := 0; i < len(doc); i++ {
		switch c := doc[i]; c {
		case '{':
			stack = append(stack, true)
			expectKey = true
		case '[':
			stack = append(stack, false)
			expectKey = false
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			expectKey = false
		case ',':
			expectKey = len(stack) > 0 && stack[len(stack)-1]
		case ':':
			expectKey = false
		case '"':
			end := stringEnd(doc, i)
			if end == len(doc) { // unterminated: nothing more to fold
				i = end
				break
			}
			if expectKey && needsKebab(doc[i+1:end]) {
				if out == nil {
					out = make([]byte, 0, len(doc)+len(doc)/8)
				}
				out = append(out, doc[copied:i+1]...)
				out = appendKebab(out, doc[i+1:end])
				copied = end
			}
			expectKey = false
			i = end
		}
	}
	if out == nil {
		return doc
	}
	return append(out, doc[copied:]...)
}

// stringEnd returns the index of the closing quote of the string opening at start,
// or len(doc) when it is unterminated.
func stringEnd(doc []byte, start int) int {
	for j := start + 1; j < len(doc); j++ {
		switch doc[j] {
		case '\\':
			j++
		case '"':
			return j
		}
	}
	return len(doc)
}

// needsKebab reports whether a raw key may need a change: it has an underscore, an
// upper-case ASCII letter, or an escape (whose hex digits appendKebab leaves alone, and
// which may hold nothing to change: the copy is then equal).
func needsKebab(key []byte) bool {
	for _, c := range key {
		if c == '_' || c == '\\' || (c >= 'A' && c <= 'Z') {
			return true
		}
	}
	return false
}

// appendKebab appends key in kebab case: "_" becomes "-", and an upper-case letter
// becomes "-" and its lower case (not at the start, nor after a separator); escape
// sequences are copied as they are.
func appendKebab(out, key []byte) []byte {
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '\\':
			// An escape is copied whole: "\u004A" is a "J", not a "-a".
			n := 2
			if i+1 < len(key) && key[i+1] == 'u' {
				n = 6
			}
			n = min(n, len(key)-i)
			out = append(out, key[i:i+n]...)
			i += n - 1
		case c == '_':
			out = append(out, '-')
		case c >= 'A' && c <= 'Z':
			if i > 0 && key[i-1] != '_' && key[i-1] != '-' {
				out = append(out, '-')
			}
			out = append(out, c+('a'-'A'))
		default:
			out = append(out, c)
		}
	}
	return out
}
