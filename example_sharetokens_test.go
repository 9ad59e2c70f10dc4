package connect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
)

// exampleServer stands in for Persona in the examples: it answers pattern with status
// and a response example of the spec, kept as JSON under testdata/spec because an
// Example cannot skip when the spec is absent. Real code points the client at Persona,
// or at a connecttest server, instead.
func exampleServer(pattern string, status int, fixture string) *httptest.Server {
	body, err := os.ReadFile(filepath.Join("testdata", "spec", fixture))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(pattern, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
	return httptest.NewServer(mux)
}

// TestExampleBodiesAreTheSpecs proves that every body under testdata/spec, which the
// examples serve, equals the spec example it copies.
func TestExampleBodiesAreTheSpecs(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "spec", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example bodies under testdata/spec (%v)", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var copied, spec any
		if err := json.Unmarshal(b, &copied); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := json.Unmarshal(specFixture(t, filepath.Base(f)), &spec); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(spec, copied); diff != "" {
			t.Errorf("%s differs from the spec (-spec +copy):\n%s", f, diff)
		}
	}
}

// A source organization shares a completed inquiry over an active connection.
func ExampleShareTokensService_Create() {
	srv := exampleServer("POST /api/v1/connect/share-tokens", http.StatusCreated, "connect-share-token.json")
	defer srv.Close()

	client, err := connect.New("persona_sandbox_...", connect.WithBaseURL(srv.URL+"/api/v1"))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := client.ShareTokens.Create(context.Background(), connect.CreateShareTokenParams{
		ConnectionID: "cxn_ABC123",
		SourceID:     "inq_ABC123",
		ExpiresIn:    24 * time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.ID, tok.Status, tok.Direction)
	fmt.Println("connection", tok.ConnectionID, "source", tok.Source.Type, tok.Source.ID)
	// Output:
	// cnst_ABC123 created outbound
	// connection cxn_ABC123 source inquiry inq_ABC123
}

// The destination organization hydrates one of its inquiries with the shared data.
// Redemption is asynchronous: the token comes back pending.
func ExampleShareTokensService_Redeem() {
	srv := exampleServer("POST /api/v1/connect/share-tokens/cnst_DEF456/redeem", http.StatusAccepted,
		"connect-share-token-hydrate-object-pending.json")
	defer srv.Close()

	client, err := connect.New("persona_sandbox_...", connect.WithBaseURL(srv.URL+"/api/v1"))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := client.ShareTokens.Redeem(context.Background(), "cnst_DEF456", connect.RedeemShareTokenParams{
		DestinationID: "inq_XYZ789",
		FieldMappings: []connect.FieldMapping{{SourceFieldName: "address_street_1", DestinationFieldName: "street_address"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.ID, tok.Status, tok.RedeemMode, "into", tok.Destination.Type, tok.Destination.ID)
	// Output:
	// cnst_DEF456 pending hydrate into inquiry inq_XYZ789
}

// Wait polls a pending token until it is redeemed, expired or failed; bound it with
// the context.
func ExampleShareTokensService_Wait() {
	pending, _ := os.ReadFile(filepath.Join("testdata", "spec", "connect-share-token-clone-object-pending.json"))
	redeemed, _ := os.ReadFile(filepath.Join("testdata", "spec", "connect-share-token-redeemed.json"))
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if polls.Add(1) < 3 {
			_, _ = w.Write(pending)
			return
		}
		_, _ = w.Write(redeemed)
	}))
	defer srv.Close()

	client, err := connect.New("persona_sandbox_...",
		connect.WithBaseURL(srv.URL+"/api/v1"),
		connect.WithPollInterval(10*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := client.ShareTokens.Wait(ctx, "cnst_ABC123")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.ID, tok.Status, "at", tok.RedeemedAt.Format(time.RFC3339), "after", polls.Load(), "polls")
	// Output:
	// cnst_ABC123 redeemed at 2023-08-17T23:30:15Z after 3 polls
}
