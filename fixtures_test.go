package connect_test

import (
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/spectest"
)

// specFixture returns one example of Persona's spec as JSON, read from the spec's YAML
// (internal/spectest; without the spec beside the checkout the test skips). name is the
// example's file under components/examples with .json for .yaml
// ("connect-share-token.json"), "error-<name>.json" for the example of
// components/responses/<name>.yaml, or one of the inline examples named below.
func specFixture(t testing.TB, name string) []byte {
	t.Helper()
	const redeem = "paths/connect_share-tokens_{share-token-id}_redeem.yaml"
	success := []string{"get", "responses", "200", "content", "application/json", "examples", "Success", "value"}
	switch name {
	case "events-list.json":
		return spectest.JSON(t, "paths/events.yaml", success...)
	case "events-retrieve.json":
		return spectest.JSON(t, "paths/events_{event-id}.yaml", success...)
	case "redeem-share-token.x-fern-examples.clone-an-object.request.json":
		return spectest.JSON(t, redeem, "post", "x-fern-examples", "0", "request")
	case "redeem-share-token.x-fern-examples.clone-an-object.response.json":
		return spectest.JSON(t, redeem, "post", "x-fern-examples", "0", "response", "body")
	case "redeem-share-token.x-fern-examples.hydrate-an-object.request.json":
		return spectest.JSON(t, redeem, "post", "x-fern-examples", "1", "request")
	case "redeem-share-token.x-fern-examples.hydrate-an-object.response.json":
		return spectest.JSON(t, redeem, "post", "x-fern-examples", "1", "response", "body")
	}
	base := strings.TrimSuffix(name, ".json")
	if response, ok := strings.CutPrefix(base, "error-"); ok {
		return spectest.JSON(t, "components/responses/"+response+".yaml", "content", "application/json", "examples", "*", "value")
	}
	return spectest.Example(t, base+".yaml")
}

// ptime parses an RFC 3339 time for expected structs.
func ptime(t testing.TB, s string) *time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return &v
}

// newVerifier is connect.NewVerifier, failing the test on an error.
func newVerifier(t testing.TB, secrets []string, opts ...connect.VerifierOption) *connect.Verifier {
	t.Helper()
	v, err := connect.NewVerifier(secrets, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
