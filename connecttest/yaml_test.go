package connecttest_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// A tiny reader for the YAML subset of the spec files in ../../shared/persona-openapi
// (block mappings and sequences, quoted and plain scalars, block scalars, empty flow
// collections), so that the tests compare the fake against the spec itself. No YAML
// library is available, and these files need no more.

// yamlLine is one non-blank, non-comment line.
type yamlLine struct {
	indent int
	text   string // without the indentation
	num    int
}

type yamlReader struct {
	lines []yamlLine
	pos   int
}

// readYAMLFile parses the file at path.
func readYAMLFile(path string) (any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseYAML(string(b))
}

func parseYAML(src string) (v any, err error) {
	r := &yamlReader{}
	for i, raw := range strings.Split(src, "\n") {
		text := strings.TrimRight(raw, " \t\r")
		trimmed := strings.TrimLeft(text, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			// Blank lines matter only inside block scalars; keep them as empty markers.
			r.lines = append(r.lines, yamlLine{indent: -1, num: i + 1})
			continue
		}
		r.lines = append(r.lines, yamlLine{indent: len(text) - len(trimmed), text: trimmed, num: i + 1})
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("yaml: %v", p)
		}
	}()
	r.skipBlank()
	if r.pos >= len(r.lines) {
		return nil, nil
	}
	return r.block(r.lines[r.pos].indent), nil
}

func (r *yamlReader) skipBlank() {
	for r.pos < len(r.lines) && r.lines[r.pos].indent < 0 {
		r.pos++
	}
}

// block reads the mapping or sequence whose lines start at indent.
func (r *yamlReader) block(indent int) any {
	r.skipBlank()
	if strings.HasPrefix(r.lines[r.pos].text, "- ") || r.lines[r.pos].text == "-" {
		return r.sequence(indent)
	}
	return r.mapping(indent)
}

func (r *yamlReader) sequence(indent int) []any {
	out := []any{}
	for {
		r.skipBlank()
		if r.pos >= len(r.lines) {
			return out
		}
		ln := r.lines[r.pos]
		if ln.indent != indent || !(strings.HasPrefix(ln.text, "- ") || ln.text == "-") {
			return out
		}
		rest := strings.TrimPrefix(strings.TrimPrefix(ln.text, "-"), " ")
		if rest == "" {
			r.pos++
			out = append(out, r.block(r.lines[r.pos].indent))
			continue
		}
		if _, _, isMap := splitKey(rest); isMap {
			// "- key: value" opens a mapping whose keys sit two columns in.
			r.lines[r.pos] = yamlLine{indent: indent + 2, text: rest, num: ln.num}
			out = append(out, r.mapping(indent+2))
			continue
		}
		r.pos++
		out = append(out, r.scalarValue(rest, indent))
	}
}

func (r *yamlReader) mapping(indent int) map[string]any {
	out := map[string]any{}
	for {
		r.skipBlank()
		if r.pos >= len(r.lines) {
			return out
		}
		ln := r.lines[r.pos]
		if ln.indent != indent || strings.HasPrefix(ln.text, "- ") {
			return out
		}
		key, rest, isMap := splitKey(ln.text)
		if !isMap {
			panic(fmt.Sprintf("line %d: expected key: value, got %q", ln.num, ln.text))
		}
		r.pos++
		if rest == "" {
			r.skipBlank()
			if r.pos < len(r.lines) && (r.lines[r.pos].indent > indent ||
				(r.lines[r.pos].indent == indent && strings.HasPrefix(r.lines[r.pos].text, "- "))) {
				out[key] = r.block(r.lines[r.pos].indent)
			} else {
				out[key] = nil
			}
			continue
		}
		out[key] = r.scalarValue(rest, indent)
	}
}

// scalarValue reads a scalar that starts with text on a line of a node at indent; block
// scalars and plain multi-line scalars continue on deeper lines.
func (r *yamlReader) scalarValue(text string, indent int) any {
	switch text {
	case "|", "|-", ">", ">-", "|+", ">+":
		var parts []string
		for r.pos < len(r.lines) && (r.lines[r.pos].indent < 0 || r.lines[r.pos].indent > indent) {
			parts = append(parts, r.lines[r.pos].text)
			r.pos++
		}
		sep := " "
		if text[0] == '|' {
			sep = "\n"
		}
		return strings.TrimSpace(strings.Join(parts, sep))
	case "{}":
		return map[string]any{}
	case "[]":
		return []any{}
	}
	if strings.HasPrefix(text, "'") || strings.HasPrefix(text, `"`) {
		for !closedQuote(text) && r.pos < len(r.lines) {
			text += " " + r.lines[r.pos].text
			r.pos++
		}
		return unquote(text)
	}
	// Plain scalars may continue on more-indented lines.
	for r.pos < len(r.lines) && r.lines[r.pos].indent > indent && !strings.HasPrefix(r.lines[r.pos].text, "- ") {
		if _, _, isMap := splitKey(r.lines[r.pos].text); isMap {
			break
		}
		text += " " + r.lines[r.pos].text
		r.pos++
	}
	switch text {
	case "null", "~":
		return nil
	case "true":
		return true
	case "false":
		return false
	}
	if f, err := strconv.ParseFloat(text, 64); err == nil {
		return f
	}
	return text
}

// splitKey splits "key: value" or "key:"; quoted keys lose their quotes.
func splitKey(text string) (key, rest string, ok bool) {
	if strings.HasPrefix(text, "'") || strings.HasPrefix(text, `"`) {
		q := text[:1]
		end := strings.Index(text[1:], q)
		if end < 0 {
			return "", "", false
		}
		after := text[end+2:]
		if after == ":" || strings.HasPrefix(after, ": ") {
			return text[1 : end+1], strings.TrimSpace(strings.TrimPrefix(after, ":")), true
		}
		return "", "", false
	}
	if strings.HasSuffix(text, ":") && !strings.Contains(text, ": ") {
		return text[:len(text)-1], "", true
	}
	i := strings.Index(text, ": ")
	if i <= 0 {
		return "", "", false
	}
	return text[:i], strings.TrimSpace(text[i+2:]), true
}

func closedQuote(text string) bool {
	if len(text) < 2 {
		return false
	}
	q := text[0]
	if text[len(text)-1] != q {
		return false
	}
	if q == '\'' {
		// An even number of trailing quotes after the opening one means '' escapes.
		inner := text[1 : len(text)-1]
		return !strings.HasSuffix(strings.ReplaceAll(inner, "''", ""), "'")
	}
	return !strings.HasSuffix(text[:len(text)-1], `\`)
}

func unquote(text string) string {
	if text[0] == '\'' {
		return strings.ReplaceAll(text[1:len(text)-1], "''", "'")
	}
	s, err := strconv.Unquote(text)
	if err != nil {
		return text[1 : len(text)-1]
	}
	return s
}
