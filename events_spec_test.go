package connect_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/persona-connect/connect-go/internal/spectest"
)

// eventNameConstants reads the package's own source and returns every constant
// declared with type EventName, by value. Reading the source rather than a list kept in
// this test means a name cannot be "covered" by the test alone.
func eventNameConstants(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "EventName" {
					continue
				}
				for i, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: constant %s is not a string literal", name, vs.Names[i].Name)
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					consts[s] = vs.Names[i].Name
				}
			}
		}
	}
	return consts
}

// TestEventNamesCoverTheSpec fails when a name of the spec's enabled-events enum that a
// Connect integration meets (connect/* and inquiry.*) has no EventName constant, and
// when a constant names something the enum does not list.
func TestEventNamesCoverTheSpec(t *testing.T) {
	t.Parallel()
	var enum []string
	enumJSON := spectest.JSON(t, "components/schemas/webhook-request-attributes.yaml", "properties", "enabled-events", "items", "enum")
	if err := json.Unmarshal(enumJSON, &enum); err != nil {
		t.Fatal(err)
	}
	relevant := map[string]bool{}
	for _, name := range enum {
		if strings.HasPrefix(name, "inquiry.") || strings.HasPrefix(name, "connect/") {
			relevant[name] = true
		}
	}
	// The 2025-12-08 spec lists 4 connect/ and 15 inquiry. names; far fewer means the
	// enum was not found where this test looks.
	if len(relevant) < 19 {
		t.Fatalf("found %d connect/ and inquiry. names in enabled-events (of %d), want at least 19", len(relevant), len(enum))
	}
	consts := eventNameConstants(t)
	for name := range relevant {
		if _, ok := consts[name]; !ok {
			t.Errorf("enabled-events lists %q, which has no EventName constant", name)
		}
	}
	for value, ident := range consts {
		if !relevant[value] {
			t.Errorf("constant %s = %q is not a connect/ or inquiry. name of enabled-events", ident, value)
		}
	}
}
