// Package spectest reads Persona's OpenAPI spec for the tests of the SDK and of
// connecttest, straight from its YAML, so that every fixture is the spec itself and no
// copy can drift from it.
//
// The spec is not part of the module: it lies in the project's shared/ folder beside
// the checkout (../shared/persona-openapi from the module root, or ../../shared from a
// worktree one level deeper). Without it the tests that need it skip, saying why;
// under CI=true they fail, since in CI a missing spec means the check did not run.
package spectest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"gopkg.in/yaml.v3"
)

// modulePath is the root module's path, which marks the module root in go.mod.
const modulePath = "github.com/persona-connect/connect-go"

// Dir returns the directory of the spec (the one holding components/ and paths/). When
// there is none beside the checkout it skips tb, or fails it under CI=true.
func Dir(tb testing.TB) string {
	tb.Helper()
	if root, ok := moduleRoot(); ok {
		for _, up := range []string{"..", "../.."} {
			dir := filepath.Join(root, up, "shared", "persona-openapi")
			if st, err := os.Stat(dir); err == nil && st.IsDir() {
				return dir
			}
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatal("shared/persona-openapi not found beside the checkout")
	}
	tb.Skip("shared/persona-openapi not found beside the checkout; spec comparison skipped")
	return ""
}

// moduleRoot walks up from the working directory (a package's directory under go test)
// to the directory whose go.mod declares modulePath.
func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.HasPrefix(b, []byte("module "+modulePath+"\n")) {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// JSON returns, encoded as JSON, the value at path in file (relative to Dir, e.g.
// "paths/events.yaml"). Each step of path is a mapping key, an index into a sequence,
// or "*" for the only entry of a mapping (an error response's single example, whose
// key varies). A missing step fails tb.
func JSON(tb testing.TB, file string, path ...string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(tb), file))
	if err != nil {
		tb.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		tb.Fatalf("%s: %v", file, err)
	}
	for _, step := range path {
		switch node := v.(type) {
		case map[string]any:
			if step == "*" && len(node) == 1 {
				for _, only := range node {
					v = only
				}
				continue
			}
			var ok bool
			if v, ok = node[step]; !ok {
				tb.Fatalf("%s: no %q in %v", file, step, path)
			}
		case []any:
			i, err := strconv.Atoi(step)
			if err != nil || i < 0 || i >= len(node) {
				tb.Fatalf("%s: no item %q in %v", file, step, path)
			}
			v = node[i]
		default:
			tb.Fatalf("%s: %q of %v steps into a scalar", file, step, path)
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("%s %v: not JSON: %v", file, path, err)
	}
	return out
}

// Value is JSON decoded as encoding/json decodes into any: objects as map[string]any,
// arrays as []any, numbers as float64.
func Value(tb testing.TB, file string, path ...string) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(JSON(tb, file, path...), &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

// Example returns the value of components/examples/name (e.g.
// "connect-share-token.yaml") as JSON.
func Example(tb testing.TB, name string) []byte {
	tb.Helper()
	return JSON(tb, "components/examples/"+name, "value")
}
