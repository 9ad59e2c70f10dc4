package connect_test

// The functions named readme* hold README.md's Go snippets verbatim, so that the
// compiler checks every snippet; TestREADMESnippetsAreHere keeps the two in step.

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

func readmeSource(ctx context.Context) error {
	client, err := connect.New(os.Getenv("PERSONA_API_KEY"))
	if err != nil {
		return err
	}
	tok, err := client.ShareTokens.Create(ctx, connect.CreateShareTokenParams{
		ConnectionID: "cxn_ABC123",
		SourceID:     "inq_ABC123",
		ExpiresIn:    24 * time.Hour, // 0 = Persona's default, 14 days
	})
	if err != nil {
		return err
	}
	// Send tok.ID to the destination over its API, or let its webhook pick it up.
	fmt.Println(tok.ID, tok.Status) // cnst_... created
	return nil
}

func readmeDestination(client *connect.Client) error {
	verifier, err := connect.NewVerifier([]string{os.Getenv("PERSONA_WEBHOOK_SECRET")})
	if err != nil {
		return err
	}
	handler := connect.NewWebhookHandler(verifier)
	handler.OnShareToken(connect.EventShareTokenInboundCreated,
		func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
			// Clone the source into a new object; set DestinationID to hydrate one of yours.
			_, err := client.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{})
			return err // an error answers 500, so Persona retries the delivery
		})
	handler.OnShareToken(connect.EventShareTokenInboundRedeemed,
		func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
			log.Printf("redeemed %s into %s", tok.ID, tok.Destination.ID)
			return nil
		})
	http.Handle("/webhooks/persona", handler)
	return nil
}

func readmeHydrate(ctx context.Context, client *connect.Client) error {
	var tok *connect.ShareToken
	var err error
	tok, err = client.ShareTokens.Redeem(ctx, "cnst_ABC123", connect.RedeemShareTokenParams{
		DestinationID: "inq_XYZ789", // hydrate an existing inquiry
		FieldMappings: []connect.FieldMapping{
			{SourceFieldName: "address_street_1", DestinationFieldName: "street_address"},
		},
	})
	if err != nil {
		return err
	}
	tok, err = client.ShareTokens.Wait(ctx, tok.ID) // until redeemed, expired or failed
	_ = tok
	return err
}

func readmeErrors(ctx context.Context, client *connect.Client, id string) {
	_, err := client.ShareTokens.Redeem(ctx, id, connect.RedeemShareTokenParams{})
	var apiErr *connect.APIError
	switch {
	case errors.Is(err, connect.ErrOutcomeUnknown): // may have been applied: see "After a failed Create"
	case errors.Is(err, connect.ErrNotFound): // not visible to this organization
	case errors.Is(err, connect.ErrRateLimited) && errors.As(err, &apiErr):
		log.Printf("retry in %s", apiErr.RateLimitReset)
	case errors.Is(err, connect.ErrInvalidParams): // refused locally: nothing was sent
	}
}

// TestShareOverConnecttest is README's "Testing your integration" snippet.
func TestShareOverConnecttest(t *testing.T) {
	srv := connecttest.NewServer()
	defer srv.Close()
	source, dest := srv.NewOrganization("source"), srv.NewOrganization("destination")
	cxn := srv.CreateConnection(source, dest)
	inq := srv.CreateInquiry(source)
	client, err := srv.NewClient(source)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := client.ShareTokens.Create(context.Background(), connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Status != connect.ShareTokenCreated || tok.Direction != connect.Outbound {
		t.Errorf("token %s is %s %s, want created outbound", tok.ID, tok.Status, tok.Direction)
	}
}

// A Create whose every attempt lost its answer after Persona committed the token: the
// recovery of README's "After a failed Create" retries with the same key and gets the
// token Persona made, not a second one.
func ExampleRequestError() {
	ctx := context.Background()
	srv := connecttest.NewServer()
	defer srv.Close()
	source, dest := srv.NewOrganization("source"), srv.NewOrganization("destination")
	params := connect.CreateShareTokenParams{ConnectionID: srv.CreateConnection(source, dest), SourceID: srv.CreateInquiry(source)}
	client, err := srv.NewClient(source, connect.WithRetryBackoff(time.Millisecond, 10*time.Millisecond))
	if err != nil {
		log.Fatal(err)
	}
	// The token is made and stored under the key, then the connection drops: on the
	// first attempt and on both retries.
	srv.DropAfterCommit("POST", "/connect/share-tokens", 3)

	tok, err := client.ShareTokens.Create(ctx, params)
	var reqErr *connect.RequestError
	if errors.As(err, &reqErr) && errors.Is(err, connect.ErrOutcomeUnknown) {
		// Persona may have made the token: the same key replays it instead of making another.
		tok, err = client.ShareTokens.Create(ctx, params, connect.WithIdempotencyKey(reqErr.IdempotencyKey))
	}
	if err != nil {
		log.Fatal(err)
	}

	if reqErr != nil {
		fmt.Printf("first call: outcome unknown after %d attempts\n", reqErr.Attempts)
	}
	tokens := 0
	for _, err := range client.ShareTokens.List(ctx, nil) {
		if err != nil {
			log.Fatal(err)
		}
		tokens++
	}
	fmt.Println("retry with its key:", tok.Status, "- tokens made:", tokens)
	// Output:
	// first call: outcome unknown after 3 attempts
	// retry with its key: created - tokens made: 1
}

// TestREADMESnippetsAreHere checks that every Go snippet of README.md appears, line by
// line and in order, in this file or a sibling example_readme_*_test.go, whose
// functions the compiler checks. A README edit that is not mirrored there fails.
func TestREADMESnippetsAreHere(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	// This file and its siblings (example_readme_*_test.go), one per README topic.
	// connectotel's snippet compiles in its own module, as connectotel/example_readme_test.go.
	files, err := filepath.Glob("example_readme*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	nested, err := filepath.Glob("*/example_readme*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, nested...)
	var self []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		self = append(self, b...)
	}
	normalize := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	body := strings.Join(normalize(string(self)), "\n")
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) < 5 {
		t.Fatalf("README.md has %d Go snippets, want at least 5", len(blocks))
	}
	for _, b := range blocks {
		snippet := strings.Join(normalize(b[1]), "\n")
		if strings.HasPrefix(snippet, "import ") {
			continue // the import line is checked by this file's own imports
		}
		if !strings.Contains(body, snippet) {
			t.Errorf("README snippet is not compiled by example_readme*_test.go:\n%s", b[1])
		}
	}
}

func readmeAutoShare(client *connect.Client, verifier *connect.Verifier) error {
	handler := connect.NewWebhookHandler(verifier) // verifier: connect.NewVerifier([]string{secret})
	if err := connect.AutoShare(handler, client, connect.AutoShareConfig{ConnectionID: "cxn_ABC123"}); err != nil {
		return err // a bad config: ErrInvalidParams naming the field
	}
	http.Handle("/webhooks/persona", handler) // a webhook subscribed to inquiry.completed
	return nil
}

func readmeAutoRedeem(client *connect.Client, verifier *connect.Verifier) error {
	handler := connect.NewWebhookHandler(verifier)
	if err := connect.AutoRedeem(handler, client, connect.AutoRedeemConfig{}); err != nil {
		return err
	}
	http.Handle("/webhooks/persona", handler) // subscribed to connect/share-token.inbound-*
	return nil
}

// The compile-only snippets need credentials or a real Persona; this keeps them used.
var _ = []any{readmeSource, readmeDestination, readmeHydrate, readmeErrors, readmeAutoShare, readmeAutoRedeem}
