package connecttest

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// The fake writes its JSON with this small encoder instead of sharing any code with the
// SDK's decoder, so that a bug common to both cannot hide. Objects keep their key order
// (the spec examples' order), which also makes bodies stable byte for byte.

// object is a JSON object whose members keep the order they were added in.
type object []member

// member is one key and value of an object.
type member struct {
	key   string
	value any
}

// rawJSON is an already encoded JSON value, written verbatim.
type rawJSON []byte

// marshal encodes v: nil, string, bool, int, int64, time.Time, *time.Time, object,
// []object, []any, rawJSON.
func marshal(v any) []byte { return appendJSON(nil, v) }

func appendJSON(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case time.Time:
		return appendString(b, formatTime(v))
	case *time.Time:
		if v == nil {
			return append(b, "null"...)
		}
		return appendString(b, formatTime(*v))
	case rawJSON:
		if len(v) == 0 {
			return append(b, "null"...)
		}
		return append(b, v...)
	case object:
		b = append(b, '{')
		for i, m := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m.key)
			b = append(b, ':')
			b = appendJSON(b, m.value)
		}
		return append(b, '}')
	case []object:
		b = append(b, '[')
		for i, o := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, o)
		}
		return append(b, ']')
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	}
	// Only this package builds values to encode; reaching here is a bug in it.
	panic(fmt.Sprintf("connecttest: cannot encode %T", v))
}

// appendString writes s as a JSON string: quotes, backslashes and control characters
// escaped, invalid UTF-8 replaced by U+FFFD, everything else (including '&', '<' and
// '/', which appear in links) as is.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// ref is a JSON:API resource identifier: {"type": ..., "id": ...}.
func ref(typ, id string) object {
	return object{{"type", typ}, {"id", id}}
}

// relationship wraps an identifier (or nil for {"data": null}) as a relationship.
func relationship(id any) object {
	return object{{"data", id}}
}
