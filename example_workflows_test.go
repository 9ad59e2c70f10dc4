package connect_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// A source organization shares every completed inquiry with a partner, as Persona's
// "create a share token when an inquiry completes" Workflow does. Here on connecttest;
// against Persona, the handler is mounted on the URL of a webhook subscribed to
// inquiry.completed.
func ExampleAutoShare() {
	persona, bank, _, cxn, _ := exampleConnection()
	defer persona.Close()
	client := mustClient(persona, bank)

	// The bank's webhook endpoint: the handler is mounted once Persona has issued the
	// secret that its verifier needs.
	endpoint, mux, verifier := exampleEndpoint(persona, bank, connect.EventInquiryCompleted)
	defer endpoint.Close()

	shared := make(chan *connect.ShareToken, 1)
	h := connect.NewWebhookHandler(verifier)
	err := connect.AutoShare(h, client, connect.AutoShareConfig{
		ConnectionID: cxn,
		ExpiresIn:    7 * 24 * time.Hour,
		Shared: func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
			// Here: send tok.ID to the partner's API. An error makes Persona retry, and
			// the retry is handed the same token.
			offer(shared, tok)
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux.Handle("POST /webhooks/persona", h)

	inq := persona.CreateInquiry(bank) // an end user completes an inquiry
	select {
	case tok := <-shared:
		fmt.Println("inquiry shared:", tok.Source.ID == inq, tok.ConnectionID == cxn)
		fmt.Println("token status:", tok.Status)
	case <-time.After(10 * time.Second):
		fmt.Println("the inquiry was not shared")
	}
	// Output:
	// inquiry shared: true true
	// token status: created
}

// A destination organization redeems every share token it is offered, as Persona's
// auto-redeem Workflow does, and learns of each redemption. Against Persona, the
// handler is mounted on the URL of a webhook subscribed to
// connect/share-token.inbound-created and connect/share-token.inbound-redeemed.
func ExampleAutoRedeem() {
	persona, bank, lender, cxn, inq := exampleConnection()
	defer persona.Close()
	lenderClient := mustClient(persona, lender)

	endpoint, mux, verifier := exampleEndpoint(persona, lender, connect.EventShareTokenInboundCreated, connect.EventShareTokenInboundRedeemed)
	defer endpoint.Close()

	redeemed := make(chan *connect.ShareToken, 1)
	h := connect.NewWebhookHandler(verifier)
	err := connect.AutoRedeem(h, lenderClient, connect.AutoRedeemConfig{
		// No Params: every token is cloned into a new object. Return a DestinationID
		// (and FieldMappings) to hydrate one of yours instead.
		Redeemed: func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
			offer(redeemed, tok)
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux.Handle("POST /webhooks/persona", h)

	// The bank shares an inquiry.
	offered, err := mustClient(persona, bank).ShareTokens.Create(context.Background(), connect.CreateShareTokenParams{
		ConnectionID: cxn, SourceID: inq,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	select {
	case tok := <-redeemed:
		fmt.Println("the offered token:", tok.ID == offered.ID)
		fmt.Println(tok.Status, "by", tok.RedeemMode, "into a new", tok.Destination.Type)
	case <-time.After(10 * time.Second):
		fmt.Println("the token was not redeemed")
	}
	// Output:
	// the offered token: true
	// redeemed by clone into a new inquiry
}

// exampleEndpoint is a webhook endpoint of org on loopback, subscribed to events on the
// fake: mount the handler on mux at POST /webhooks/persona, with verifier, made with the
// secret the fake issued.
func exampleEndpoint(persona *connecttest.Server, org *connecttest.Organization, events ...connect.EventName) (*httptest.Server, *http.ServeMux, *connect.Verifier) {
	mux := http.NewServeMux()
	endpoint := httptest.NewServer(mux)
	verifier, err := connect.NewVerifier([]string{persona.AddWebhook(org, endpoint.URL+"/webhooks/persona", events...)})
	if err != nil {
		log.Fatal(err)
	}
	return endpoint, mux, verifier
}

// offer hands tok to ch, for the Example's output, unless ch already holds a token: a
// function may be called again for the same event, and must not block.
func offer(ch chan<- *connect.ShareToken, tok *connect.ShareToken) {
	select {
	case ch <- tok:
	default:
	}
}
