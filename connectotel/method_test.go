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

// url.template is the route under what precedes it in the path; a path that does not
// end in the route's shape keeps the route as given.
func TestURLTemplate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ path, route, want string }{
		{"/api/v1/connect/share-tokens", "/connect/share-tokens", "/api/v1/connect/share-tokens"},
		{"/api/v1/connect/share-tokens/cnst_1/redeem", "/connect/share-tokens/{id}/redeem", "/api/v1/connect/share-tokens/{id}/redeem"},
		{"/proxy/persona/api/v1/events/evt_1", "/events/{id}", "/proxy/persona/api/v1/events/{id}"},
		{"/connect/share-tokens/cnst_1", "/connect/share-tokens/{id}", "/connect/share-tokens/{id}"}, // no base path
		{"/api/v1/connect/share-tokens/cnst_1", "/connect/share-tokens/{id}/redeem", "/connect/share-tokens/{id}/redeem"},
		{"/api/v1/connect/connections/cxn_1", "/connect/share-tokens/{id}", "/connect/share-tokens/{id}"},
		{"/api/v1/connect/share-tokens/", "/connect/share-tokens/{id}", "/connect/share-tokens/{id}"}, // empty id
		{"/api/v1/inquiries/inq_1/approve", "/inquiries/{id}", "/inquiries/{id}"},
		{"", "/events", "/events"},
	} {
		if got := urlTemplate(tc.path, tc.route); got != tc.want {
			t.Errorf("urlTemplate(%q, %q) = %q, want %q", tc.path, tc.route, got, tc.want)
		}
	}
}
