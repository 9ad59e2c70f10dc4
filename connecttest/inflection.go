package connecttest

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// Key-Inflection (policy.go): the fake writes every answer in kebab case, and
// rewrites it here when a request asks for camel or snake keys. It is its own code,
// not the SDK's: the SDK only ever reads kebab, so a bug shared with it could not hide
// here, and the fake's speed does not matter.

// inflection is a Key-Inflection the fake rewrites answers for: "camel" or "snake";
// "" stands for kebab, in which the fake writes them.
type inflection string

// parseInflection reads a Key-Inflection header: "" and "kebab" ask for nothing
// (kebab, ok), "camel" and "snake" for themselves; anything else is not ok.
func parseInflection(v string) (to inflection, ok bool) {
	switch v {
	case "", "kebab":
		return "", true
	case "camel", "snake":
		return inflection(v), true
	}
	return "", false
}

// rename spells a kebab key in to: "created-at" is "createdAt" or "created_at".
func (to inflection) rename(key string) string {
	if to == "snake" {
		return strings.ReplaceAll(key, "-", "_")
	}
	words := strings.Split(key, "-")
	for i := 1; i < len(words); i++ {
		if w := words[i]; w != "" && w[0] >= 'a' && w[0] <= 'z' {
			words[i] = string(w[0]-('a'-'A')) + w[1:]
		}
	}
	return strings.Join(words, "")
}

// rekey rewrites every object key of doc, a JSON document the fake wrote, in to's
// case, token by token, keeping the order of members and every value as it was.
func (to inflection) rekey(doc []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var out bytes.Buffer
	str := json.NewEncoder(&out) // strings as marshal writes them: '<', '>', '&' kept
	str.SetEscapeHTML(false)
	type container struct {
		object bool
		n      int // tokens so far: in an object, keys and values alternate
	}
	var stack []*container
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out.Bytes()
		}
		if err != nil {
			panic("connecttest: rekey an answer: " + err.Error()) // the fake's own JSON
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			out.WriteByte(byte(d))
			continue
		}
		key := false
		if len(stack) > 0 {
			c := stack[len(stack)-1]
			switch {
			case c.object && c.n%2 == 1:
				out.WriteByte(':')
			case c.n > 0:
				out.WriteByte(',')
			}
			key = c.object && c.n%2 == 0
			c.n++
		}
		switch v := tok.(type) {
		case json.Delim:
			out.WriteByte(byte(v))
			stack = append(stack, &container{object: v == '{'})
		case string:
			if key {
				v = to.rename(v)
			}
			_ = str.Encode(v)           // a string always encodes
			out.Truncate(out.Len() - 1) // Encode's newline
		case json.Number:
			out.WriteString(v.String())
		case bool:
			out.WriteString(strconv.FormatBool(v))
		case nil:
			out.WriteString("null")
		}
	}
}
