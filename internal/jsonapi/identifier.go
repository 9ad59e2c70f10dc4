package jsonapi

// Identifier reads the "type" and "id" members of the JSON object doc without a full
// decode: an event's payload.data is kept verbatim, and decoding it a second time with
// encoding/json only to learn its type and id cost more than the rest of the event.
//
// It returns what json.Unmarshal into a struct{Type, ID string} with those json tags
// would: members matched in any ASCII letter case, the last one winning, null leaving
// the value empty. ok is false, and the caller must decode with encoding/json (which
// also words the errors), unless doc is an object whose keys are ASCII without escapes
// and whose type and id are null or ASCII strings without escapes. doc must be valid
// JSON, as json.Unmarshal of the enclosing document has already checked.
func Identifier(doc []byte) (typ, id string, ok bool) {
	i := skipSpace(doc, 0)
	if i == len(doc) || doc[i] != '{' {
		return "", "", false
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		return "", "", true
	}
	for i < len(doc) && doc[i] == '"' {
		end := stringEnd(doc, i)
		if end == len(doc) || !plainASCII(doc[i+1:end]) {
			return "", "", false
		}
		key := doc[i+1 : end]
		i = skipSpace(doc, end+1)
		if i == len(doc) || doc[i] != ':' {
			return "", "", false
		}
		i = skipSpace(doc, i+1)
		var dst *string
		switch {
		case equalFoldASCII(key, "type"):
			dst = &typ
		case equalFoldASCII(key, "id"):
			dst = &id
		}
		if dst != nil {
			switch {
			case i < len(doc) && doc[i] == '"':
				end := stringEnd(doc, i)
				if end == len(doc) || !plainASCII(doc[i+1:end]) {
					return "", "", false
				}
				*dst = string(doc[i+1 : end])
				i = end + 1
			case len(doc)-i >= 4 && string(doc[i:i+4]) == "null":
				i += 4
			default:
				return "", "", false
			}
		} else if i = valueEnd(doc, i); i < 0 {
			return "", "", false
		}
		i = skipSpace(doc, i)
		if i == len(doc) {
			return "", "", false
		}
		switch doc[i] {
		case ',':
			i = skipSpace(doc, i+1)
		case '}':
			return typ, id, skipSpace(doc, i+1) == len(doc)
		default:
			return "", "", false
		}
	}
	return "", "", false
}

// skipSpace returns the index of the first byte at or after i that is not JSON
// whitespace.
func skipSpace(doc []byte, i int) int {
	for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just past the JSON value starting at doc[i], or -1 when
// it does not end inside doc. doc is valid JSON, so counting brackets outside strings
// finds the end of an object or array.
func valueEnd(doc []byte, i int) int {
	depth := 0
	for ; i < len(doc); i++ {
		switch doc[i] {
		case '"':
			if i = stringEnd(doc, i); i == len(doc) {
				return -1
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth--; depth < 0 {
				return i // the end of the enclosing container: a scalar ended here
			}
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i // a number, true, false or null ended here
			}
		}
	}
	if depth == 0 {
		return i
	}
	return -1
}

// plainASCII reports whether a raw string has no escape and no byte outside ASCII, so
// that its bytes are exactly what encoding/json would decode.
func plainASCII(s []byte) bool {
	for _, c := range s {
		if c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// equalFoldASCII reports whether the ASCII key equals the lower-case name in any
// letter case, as encoding/json matches an ASCII key to a field name.
func equalFoldASCII(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}
