package connectotel

import (
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Every method the semantic conventions name is recorded as their constant; any other
// (a lower-case one too: methods are case-sensitive) is _OTHER.
func TestMethodAttr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		method string
		want   attribute.KeyValue
		known  bool
	}{
		{"", semconv.HTTPRequestMethodGet, true},
		{http.MethodGet, semconv.HTTPRequestMethodGet, true},
		{http.MethodPost, semconv.HTTPRequestMethodPost, true},
		{http.MethodPut, semconv.HTTPRequestMethodPut, true},
		{http.MethodPatch, semconv.HTTPRequestMethodPatch, true},
		{http.MethodDelete, semconv.HTTPRequestMethodDelete, true},
		{http.MethodHead, semconv.HTTPRequestMethodHead, true},
		{http.MethodOptions, semconv.HTTPRequestMethodOptions, true},
		{http.MethodConnect, semconv.HTTPRequestMethodConnect, true},
		{http.MethodTrace, semconv.HTTPRequestMethodTrace, true},
		{"get", semconv.HTTPRequestMethodOther, false},
		{"PURGE", semconv.HTTPRequestMethodOther, false},
	} {
		if got, known := methodAttr(tc.method); got != tc.want || known != tc.known {
			t.Errorf("methodAttr(%q) = %v, %v; want %v, %v", tc.method, got, known, tc.want, tc.known)
		}
	}
}
