package connect_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// delivery is an inbound-created event as Persona delivers it to the destination
// organization (kebab case, the default inflection).
const delivery = `{"data":{"type":"event","id":"evt_ABC123","attributes":{` +
	`"name":"connect/share-token.inbound-created",` +
	`"payload":{"data":{"type":"connect/share-token","id":"cnst_ABC123","attributes":{` +
	`"status":"created","direction":"inbound",` +
	`"created-at":"2023-08-17T23:18:13.000Z","updated-at":"2023-08-17T23:18:13.000Z",` +
	`"expires-at":"2023-08-31T23:18:13.000Z"},` +
	`"relationships":{"connection":{"data":{"type":"connect/connection","id":"cxn_ABC123"}}}},` +
	`"included":[]},` +
	`"created-at":"2023-08-17T23:18:14.000Z","context":{}}}}`

// In a real server, body is the raw request body and header its Persona-Signature.
func ExampleConstructEvent() {
	const secret = "wbhsec_example" // from Persona's dashboard, e.g. os.Getenv("PERSONA_WEBHOOK_SECRET")
	body := []byte(delivery)
	header := connect.SignHeader(body, secret, time.Now()) // what Persona sends

	ev, err := connect.ConstructEvent(body, header, secret)
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := ev.ShareToken()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.ID, ev.Name)
	fmt.Println(tok.ID, tok.Status, tok.Direction, tok.ConnectionID)

	// A body changed after signing is refused, and the error says why.
	_, err = connect.ConstructEvent([]byte(strings.Replace(delivery, "created", "redeemed", 1)), header, secret)
	fmt.Println(errors.Is(err, connect.ErrNoValidSignature))
	// Output:
	// evt_ABC123 connect/share-token.inbound-created
	// cnst_ABC123 created inbound cxn_ABC123
	// true
}

// A destination organization redeems every share token it is offered. The handler
// answers Persona at once; Redeem is quick, but slower work belongs on a queue, since
// Persona counts a delivery as failed after 5 seconds.
func ExampleWebhookHandler() {
	const secret = "wbhsec_example"
	verifier, err := connect.NewVerifier([]string{secret})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := connect.NewWebhookHandler(verifier)
	h.OnShareToken(connect.EventShareTokenInboundCreated,
		func(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) error {
			// Here: client.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{})
			fmt.Println("redeem", tok.ID, "offered over", tok.ConnectionID)
			return nil
		})
	// In a server: http.Handle("/webhooks/persona", h)

	post := func(header string) int {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/persona", strings.NewReader(delivery))
		r.Header.Set(connect.SignatureHeader, header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	signed := connect.SignHeader([]byte(delivery), secret, time.Now())
	fmt.Println(post(signed))                                                            // runs the function
	fmt.Println(post(signed))                                                            // a duplicate delivery: not run again
	fmt.Println(post(connect.SignHeader([]byte(delivery), "wbhsec_forged", time.Now()))) // not from Persona
	// Output:
	// redeem cnst_ABC123 offered over cxn_ABC123
	// 200
	// 200
	// 400
}
