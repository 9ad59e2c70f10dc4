package spectest_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/persona-connect/connect-go/internal/spectest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The YAML arrives as encoding/json would decode the same example written as JSON:
// quoted timestamps stay strings, YAML null is JSON null, integers are numbers.
func TestExampleConvertsYAMLToJSON(t *testing.T) {
	t.Parallel()
	got := spectest.Value(t, "components/examples/connect-share-token.yaml", "value", "data", "attributes")
	want := map[string]any{
		"status": "created", "direction": "outbound",
		"created-at": "2023-08-17T23:18:13.000Z", "updated-at": "2023-08-17T23:18:13.000Z",
		"pending-at": nil, "redeemed-at": nil, "expires-at": nil, "failed-at": nil,
		"failure-reason": nil, "redeem-mode": nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	if got, want := string(spectest.Example(t, "rotate-webhook-secret.yaml")), `{"meta":{"expires-in-seconds":15}}`; got != want {
		t.Errorf("rotate-webhook-secret.yaml = %s, want %s", got, want)
	}
}

// Steps go through sequences by index and through a mapping's only entry with "*".
func TestJSONSteps(t *testing.T) {
	t.Parallel()
	redeem := "paths/connect_share-tokens_{share-token-id}_redeem.yaml"
	if got, want := string(spectest.JSON(t, redeem, "post", "x-fern-examples", "1", "request")), `{"data":{"attributes":{"destination-id":"inq_XYZ789"}}}`; got != want {
		t.Errorf("second x-fern request = %s, want %s", got, want)
	}
	got := spectest.Value(t, "components/responses/bad-request.yaml", "content", "application/json", "examples", "*", "value")
	want := map[string]any{"errors": []any{map[string]any{"title": "Bad Request", "details": "data.attributes.type must be a string"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bad-request example (-want +got):\n%s", diff)
	}
}
