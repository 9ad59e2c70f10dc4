package connect_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	connect "github.com/persona-connect/connect-go"
)

// What the tests of ShareToken's and Event's Format and LogValue share: end-user data to
// look for, and the checks that it stays out.

// piiName is end-user data in a peeked token's SourceData: it must never reach output.
const piiName = "Jane-Q-Doe-PII"

// assertNoPII fails when s shows SourceData's values, as text or hex-encoded.
func assertNoPII(t *testing.T, what, s string) {
	t.Helper()
	for _, leak := range []string{piiName, "peekable", hex.EncodeToString([]byte(piiName)), strings.ToUpper(hex.EncodeToString([]byte(piiName)))} {
		if strings.Contains(s, leak) {
			t.Errorf("%s shows end-user data (%q): %s", what, leak, s)
		}
	}
}

// Format prints a mirror struct kept by hand (shareTokenFields, eventFields): a field
// added to the type and not to its mirror fails here.
func TestFormatMirrorsNameEveryField(t *testing.T) {
	t.Parallel()
	checkMirrorNamesEveryField[connect.ShareToken](t)
	checkMirrorNamesEveryField[connect.Event](t)
}

// checkMirrorNamesEveryField fails unless %+v of a zero T names every field of T, in
// order: T's Format prints a mirror struct kept by hand, and a field added to T but
// not to its mirror would silently vanish from output.
func checkMirrorNamesEveryField[T any](t *testing.T) {
	t.Helper()
	var zero T
	out := fmt.Sprintf("%+v", zero)
	rest := out
	typ := reflect.TypeFor[T]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name + ":"
		at := strings.Index(rest, name)
		if at < 0 {
			t.Fatalf("%%+v = %s; want %s after the fields before it", out, name)
		}
		rest = rest[at+len(name):]
	}
}

// checkLogged logs args with slog's text and JSON handlers and fails when either
// output shows end-user data (assertNoPII) or lacks one of want.
func checkLogged(t *testing.T, args []any, want ...string) {
	t.Helper()
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(newHandler(&buf)).Info("logged", args...)
		out := buf.String()
		assertNoPII(t, name, out)
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s log %s; want it to show %q", name, out, w)
			}
		}
	}
}
