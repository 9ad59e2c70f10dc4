package connect_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// A redirect to another origin would carry the bearer key there (net/http keeps
// Authorization for the same host on another port): the SDK refuses it, sends nothing
// there, and does not retry the refusal.
func TestRedirectToAnotherOriginIsRefused(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, other.URL+"/api/v1/connect/share-tokens/cnst_1", http.StatusFound)
	}))
	defer srv.Close()
	c, err := connect.New("key_redirect", connect.WithBaseURL(srv.URL+"/api/v1"), connect.WithRetryBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ShareTokens.Get(context.Background(), "cnst_1")
	if err == nil {
		t.Fatal("Get followed a redirect to another origin")
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other origin got %d requests, want 0", n)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the refused request was sent %d times, want 1 (a refusal is not transient)", n)
	}
	var apiErr *connect.APIError
	if errors.As(err, &apiErr) {
		t.Errorf("error is an *APIError (%v), want the refusal", err)
	}
}

// A redirect within the configured origin is followed as net/http would.
func TestRedirectWithinTheOriginIsFollowed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/connect/share-tokens/cnst_1" {
			http.Redirect(w, r, "/api/v1/connect/share-tokens/cnst_2", http.StatusFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer key_redirect" {
			t.Errorf("Authorization lost on a same-origin redirect")
		}
		_, _ = w.Write([]byte(`{"data":{"type":"connect/share-token","id":"cnst_2","attributes":{"status":"created"}}}`))
	}))
	defer srv.Close()
	c, err := connect.New("key_redirect", connect.WithBaseURL(srv.URL+"/api/v1"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.ShareTokens.Get(context.Background(), "cnst_1")
	if err != nil || tok.ID != "cnst_2" {
		t.Fatalf("Get = %v, %v; want cnst_2", tok, err)
	}
}
