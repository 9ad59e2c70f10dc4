package connect_test

import (
	"errors"
	"net/http"
	"testing"

	connect "github.com/persona-connect/connect-go"
)

// A redirect to another origin would carry the bearer key there (net/http keeps
// Authorization for the same host on another port): the SDK refuses it, sends nothing
// there (a request anywhere else fails the test), and does not retry the refusal.
func TestRedirectToAnotherOriginIsRefused(t *testing.T) {
	t.Parallel()
	for name, location := range map[string]string{
		"another port": "https://api.persona.test:8443/api/v1/connect/share-tokens/cnst_1",
		"another host": "https://elsewhere.test/api/v1/connect/share-tokens/cnst_1",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodGet, mockURL("/connect/share-tokens/cnst_1"), respond(http.StatusFound, nil, "Location: "+location))
			_, err := c.ShareTokens.Get(ctxT(t), "cnst_1")
			if err == nil {
				t.Fatal("Get followed a redirect to another origin")
			}
			if n := calls(mt, http.MethodGet, "/connect/share-tokens/cnst_1"); n != 1 {
				t.Errorf("the refused request was sent %d times, want 1 (a refusal is not transient)", n)
			}
			var apiErr *connect.APIError
			if errors.As(err, &apiErr) {
				t.Errorf("error is an *APIError (%v), want the refusal", err)
			}
		})
	}
}

// A redirect within the configured origin is followed as net/http would, with the
// Authorization header.
func TestRedirectWithinTheOriginIsFollowed(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/connect/share-tokens/cnst_1"), respond(http.StatusFound, nil, "Location: /api/v1/connect/share-tokens/cnst_2"))
	answer := respond(http.StatusOK, []byte(`{"data":{"type":"connect/share-token","id":"cnst_2","attributes":{"status":"created"}}}`))
	mt.RegisterResponder(http.MethodGet, mockURL("/connect/share-tokens/cnst_2"), func(r *http.Request) (*http.Response, error) {
		testHeader(t, r, "Authorization", "Bearer "+testAPIKey)
		return answer(r)
	})
	tok, err := c.ShareTokens.Get(ctxT(t), "cnst_1")
	if err != nil || tok.ID != "cnst_2" {
		t.Fatalf("Get = %v, %v; want cnst_2", tok, err)
	}
}
