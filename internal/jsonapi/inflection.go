package jsonapi

import "encoding/json"

// Persona answers the SDK in kebab case because the SDK asks for it (Key-Inflection:
// kebab), but a webhook's keys follow the inflection chosen in Persona's dashboard, and
// an event's payload the organization's setting: kebab, camel or snake. Unmarshal is
// the one place where the SDK folds keys, so that one set of kebab-case struct tags
// decodes all three; Rekey, under it, is also how connecttest answers a client that
// asks for camel or snake keys, and reads request bodies in any of the three.

// Unmarshal decodes doc into v, whose struct tags spell keys in kebab case, whatever
// the inflection of doc's keys: camel and snake keys are folded to kebab first
// ("createdAt" and "created_at" become "created-at"). A json.RawMessage in v holds the
// folded text. On a kebab document folding costs one scan and no allocation.
func Unmarshal(doc []byte, v any) error {
	return json.Unmarshal(kebabKeys(doc), v)
}

// kebabKeys is Rekey(doc, Kebab), the folding Unmarshal does.
func kebabKeys(doc []byte) []byte { return Rekey(doc, Kebab) }

// Inflection is a case for the keys of a JSON document, as Persona's Key-Inflection
// header names them.
type Inflection uint8

const (
	Kebab Inflection = iota // "created-at", Persona's default
	Camel                   // "createdAt"
	Snake                   // "created_at"
)

// ParseInflection reads a Key-Inflection value: "kebab", "camel" or "snake".
func ParseInflection(s string) (Inflection, bool) {
	switch s {
	case "kebab":
		return Kebab, true
	case "camel":
		return Camel, true
	case "snake":
		return Snake, true
	}
	return Kebab, false
}

// Rekey returns doc with every object key rewritten in the inflection to, from any of
// the three: the fake server answers a client that asks for camel or snake keys with
// it. String values are left alone, and so are escape sequences inside keys. When no
// key needs a change, doc itself is returned and nothing is allocated. doc must be
// valid JSON; on invalid input the result is unspecified but never panics, and the
// decoder that reads it reports the error.
func Rekey(doc []byte, to Inflection) []byte {
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
			if expectKey && (to != Kebab || mayNeedKebab(doc[i+1:end])) && needsRekey(doc[i+1:end], to) {
				out = rewriteKey(out, doc, copied, i, end, to)
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

// rewriteKey appends to out what doc holds from copied to the key's opening quote at
// start, and the key rewritten. It is kept out of Rekey's loop, which a kebab document
// runs through without ever calling it.
func rewriteKey(out, doc []byte, copied, start, end int, to Inflection) []byte {
	if out == nil {
		out = make([]byte, 0, len(doc)+len(doc)/8)
	}
	out = append(out, doc[copied:start+1]...)
	return appendKey(out, doc[start+1:end], to)
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

// escapeLen is how many bytes of key, from i, an escape sequence takes: 6 for \uXXXX,
// 2 for the others, 0 when key[i] does not start one. Escapes are copied as they are:
// their hex digits are not letters of the key.
func escapeLen(key []byte, i int) int {
	switch {
	case key[i] != '\\':
		return 0
	case i+1 < len(key) && key[i+1] == 'u':
		return min(6, len(key)-i)
	}
	return min(2, len(key)-i)
}

// mayNeedKebab is needsRekey's quick test for Kebab, small enough to be inlined in
// Rekey's loop: the SDK folds every answer, nearly always already kebab, and only a key
// with an underscore, an upper-case letter or an escape is looked at again.
func mayNeedKebab(key []byte) bool {
	for _, c := range key {
		if c == '_' || c == '\\' || (c >= 'A' && c <= 'Z') {
			return true
		}
	}
	return false
}

// needsRekey reports whether a raw key has a byte that appendKey would change for to:
// an upper-case ASCII letter or the other inflection's separator for kebab and snake,
// any separator for camel.
func needsRekey(key []byte, to Inflection) bool {
	for i := 0; i < len(key); i++ {
		switch c := key[i]; {
		case c >= 'a' && c <= 'z': // most bytes of a key: checked first
		case c == '\\':
			i += escapeLen(key, i) - 1
		case c == '-':
			if to != Kebab {
				return true
			}
		case c == '_':
			if to != Snake {
				return true
			}
		case c >= 'A' && c <= 'Z':
			if to != Camel {
				return true
			}
		}
	}
	return false
}

// appendKey appends key in the inflection to. Kebab and snake: a separator becomes
// to's, and an upper-case letter becomes to's separator and its lower case (not at the
// start, nor after a separator). Camel: a separator after the start is dropped and the
// letter after it upper-cased; everything else is kept.
func appendKey(out, key []byte, to Inflection) []byte {
	sep := byte('-')
	if to == Snake {
		sep = '_'
	}
	upNext := false // camel: the letter after a separator starts a word
	for i := 0; i < len(key); i++ {
		if n := escapeLen(key, i); n > 0 {
			out = append(out, key[i:i+n]...)
			i += n - 1
			upNext = false
			continue
		}
		c := key[i]
		isSep := c == '-' || c == '_'
		if to == Camel {
			switch {
			case isSep && i > 0:
				upNext = true
			case upNext && c >= 'a' && c <= 'z':
				out = append(out, c-('a'-'A'))
				upNext = false
			default:
				out = append(out, c)
				upNext = false
			}
			continue
		}
		switch {
		case isSep:
			out = append(out, sep)
		case c >= 'A' && c <= 'Z':
			if i > 0 && key[i-1] != '_' && key[i-1] != '-' {
				out = append(out, sep)
			}
			out = append(out, c+('a'-'A'))
		default:
			out = append(out, c)
		}
	}
	return out
}
