package connect_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// exampleWorld is exampleConnection (example_sharetokens_test.go) with the source's
// client.
func exampleWorld() (srv *connecttest.Server, client *connect.Client, cxn, inq string) {
	srv, source, _, cxn, inq := exampleConnection()
	return srv, mustClient(srv, source), cxn, inq
}

// List ranges over every token, fetching pages lazily: here three tokens, on pages of
// two.
func ExampleShareTokensService_List() {
	srv, client, cxn, inq := exampleWorld()
	defer srv.Close()
	ctx := context.Background()
	for range 3 {
		if _, err := client.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq}); err != nil {
			log.Fatal(err)
		}
	}
	n := 0
	for tok, err := range client.ShareTokens.List(ctx, &connect.ListShareTokensParams{ConnectionID: cxn, PageSize: 2}) {
		if err != nil {
			log.Fatal(err)
		}
		n++
		fmt.Println(n, tok.Status, tok.Direction)
	}
	// Output:
	// 1 created outbound
	// 2 created outbound
	// 3 created outbound
}

// Every non-2xx answer is an *APIError that matches its status's sentinel.
func ExampleAPIError() {
	srv, client, _, _ := exampleWorld()
	defer srv.Close()
	_, err := client.ShareTokens.Get(context.Background(), "cnst_NotVisibleToUs")
	var apiErr *connect.APIError
	if errors.Is(err, connect.ErrNotFound) && errors.As(err, &apiErr) {
		fmt.Println("not found:", apiErr.StatusCode, apiErr.Method, apiErr.Path)
		fmt.Println("quote to support:", strings.HasPrefix(apiErr.RequestID, "req_"))
	}
	// Output:
	// not found: 404 GET /connect/share-tokens/cnst_NotVisibleToUs
	// quote to support: true
}

// A key you persist makes a Create safe to repeat, even from another process after a
// crash: Persona answers the repeat with the token it made the first time.
func ExampleWithIdempotencyKey() {
	srv, client, cxn, inq := exampleWorld()
	defer srv.Close()
	ctx := context.Background()
	key := "share-" + inq // e.g. derived from what triggered the share
	params := connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq}
	first, err := client.ShareTokens.Create(ctx, params, connect.WithIdempotencyKey(key))
	if err != nil {
		log.Fatal(err)
	}
	again, err := client.ShareTokens.Create(ctx, params, connect.WithIdempotencyKey(key))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("same token:", first.ID == again.ID)
	// Output: same token: true
}

// WithResponseInto shows what Persona answered besides the resource: the Request-Id,
// the rate limit left, how many attempts the call took.
func ExampleWithResponseInto() {
	srv, client, cxn, inq := exampleWorld()
	defer srv.Close()
	var resp connect.Response
	_, err := client.ShareTokens.Create(context.Background(), connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq},
		connect.WithResponseInto(&resp))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, "after", resp.Attempts, "attempt")
	fmt.Println("request id:", strings.HasPrefix(resp.RequestID, "req_"), "idempotency key:", resp.IdempotencyKey != "")
	fmt.Printf("rate limit: %d of %d left, resets within %s\n", resp.RateLimit.Remaining, resp.RateLimit.Limit,
		resp.RateLimit.Reset.Round(time.Minute))
	// Output:
	// 201 after 1 attempt
	// request id: true idempotency key: true
	// rate limit: 299 of 300 left, resets within 1m0s
}

// Do calls an endpoint the SDK has no method for, with the same authentication,
// retries and errors; WithOperation names it for tracing.
func ExampleClient_Do() {
	srv, client, cxn, _ := exampleWorld()
	defer srv.Close()
	var conn struct {
		Data struct {
			Attributes struct {
				Status string `json:"status"`
			} `json:"attributes"`
		} `json:"data"`
	}
	err := client.Do(context.Background(), http.MethodGet, "/connect/connections/"+cxn, nil, &conn,
		connect.WithOperation(connect.Operation{Name: "Connections.GetRaw", Route: "/connect/connections/{id}"}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("connection is", conn.Data.Attributes.Status)

	var raw json.RawMessage // the body verbatim
	err = client.Do(context.Background(), http.MethodGet, "/inquiries/inq_NotServedByTheFake", nil, &raw)
	fmt.Println(errors.Is(err, connect.ErrNotFound))
	// Output:
	// connection is active
	// true
}

// Rotating a webhook secret: the old one keeps signing next to the new one for the
// overlap, so every replica can move to the new secret before the old stops working.
func ExampleWebhooksService_RotateSecret() {
	srv := connecttest.NewServer()
	defer srv.Close()
	org := srv.NewOrganization("Dest Lender")
	client, err := srv.NewClient(org)
	if err != nil {
		log.Fatal(err)
	}
	// On Persona the webhook id (wbh_...) comes from the dashboard; on the fake, from
	// the secret AddWebhook issued.
	oldSecret := srv.AddWebhook(org, "http://127.0.0.1:9/webhooks", connect.EventInquiryApproved)

	wh, err := client.Webhooks.RotateSecret(context.Background(), srv.WebhookID(oldSecret),
		connect.RotateWebhookSecretParams{ExpiresIn: 2 * time.Hour})
	if err != nil {
		log.Fatal(err)
	}
	active := wh.ActiveSecrets(srv.Now())
	fmt.Println(len(active), "secrets sign deliveries; the old one is second:", active[1] == oldSecret)
	fmt.Println("the old one expires in", wh.Secrets[1].ExpiresAt.Sub(srv.Now()).Round(time.Minute))
	// A verifier with both accepts every delivery during the overlap.
	if _, err := connect.NewVerifier(active); err != nil {
		log.Fatal(err)
	}
	fmt.Println(wh.Secrets[0]) // secrets never print
	// Output:
	// 2 secrets sign deliveries; the old one is second: true
	// the old one expires in 2h0m0s
	// WebhookSecret{[redacted]}
}
