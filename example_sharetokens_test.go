package connect_test

import (
	"context"
	"fmt"
	"log"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// exampleConnection starts connecttest with a source and a destination organization
// joined by an active connection, and a completed inquiry of the source's. Real code
// makes its client with connect.New(os.Getenv("PERSONA_API_KEY")) instead of
// Server.NewClient.
func exampleConnection() (srv *connecttest.Server, source, dest *connecttest.Organization, cxn, inq string) {
	srv = connecttest.NewServer()
	source, dest = srv.NewOrganization("Acme Bank"), srv.NewOrganization("Beta Lending")
	return srv, source, dest, srv.CreateConnection(source, dest), srv.CreateInquiry(source)
}

// A source organization shares a completed inquiry over an active connection.
func ExampleShareTokensService_Create() {
	srv, source, _, cxn, inq := exampleConnection()
	defer srv.Close()
	client, err := srv.NewClient(source)
	if err != nil {
		log.Fatal(err)
	}

	tok, err := client.ShareTokens.Create(context.Background(), connect.CreateShareTokenParams{
		ConnectionID: cxn,
		SourceID:     inq,
		ExpiresIn:    24 * time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Status, tok.Direction, "over the connection:", tok.ConnectionID == cxn)
	fmt.Println("sharing the", tok.Source.Type, "-", tok.Source.ID == inq, "- for", tok.ExpiresAt.Sub(tok.CreatedAt))
	// Output:
	// created outbound over the connection: true
	// sharing the inquiry - true - for 24h0m0s
}

// The destination organization hydrates one of its inquiries with the shared data.
// Redemption is asynchronous: the token comes back pending.
func ExampleShareTokensService_Redeem() {
	srv, source, dest, cxn, inq := exampleConnection()
	defer srv.Close()
	ctx := context.Background()
	shared, err := mustClient(srv, source).ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
	if err != nil {
		log.Fatal(err)
	}
	own := srv.CreateInquiry(dest) // the destination's inquiry of the same end user

	client := mustClient(srv, dest)
	tok, err := client.ShareTokens.Redeem(ctx, shared.ID, connect.RedeemShareTokenParams{
		DestinationID: own,
		FieldMappings: []connect.FieldMapping{{SourceFieldName: "address_street_1", DestinationFieldName: "street_address"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Status, tok.Direction, tok.RedeemMode, "into", tok.Destination.Type, "-", tok.Destination.ID == own)
	// Output:
	// pending inbound hydrate into inquiry - true
}

// Wait polls a pending token until it is redeemed, expired or failed; bound it with
// the context.
func ExampleShareTokensService_Wait() {
	srv, source, dest, cxn, inq := exampleConnection()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	shared, err := mustClient(srv, source).ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
	if err != nil {
		log.Fatal(err)
	}
	client := mustClient(srv, dest, connect.WithPollInterval(10*time.Millisecond))
	if _, err := client.ShareTokens.Redeem(ctx, shared.ID, connect.RedeemShareTokenParams{}); err != nil {
		log.Fatal(err)
	}

	tok, err := client.ShareTokens.Wait(ctx, shared.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Status, "by", tok.RedeemMode, "- redeemed at set:", tok.RedeemedAt != nil)
	// Output:
	// redeemed by clone - redeemed at set: true
}

// mustClient is srv.NewClient(org, opts...), for examples whose errors are fatal.
func mustClient(srv *connecttest.Server, org *connecttest.Organization, opts ...connect.Option) *connect.Client {
	c, err := srv.NewClient(org, opts...)
	if err != nil {
		log.Fatal(err)
	}
	return c
}
