package connecttest_test

import (
	"context"
	"fmt"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// A source shares an inquiry, the destination redeems it, both through the SDK.
func Example() {
	ctx := context.Background()
	srv := connecttest.NewServer()
	defer srv.Close()
	bank, lender := srv.NewOrganization("Bank"), srv.NewOrganization("Lender")
	cxn := srv.CreateConnection(bank, lender)
	inq := srv.CreateInquiry(bank)
	source, err := srv.NewClient(bank) // connect.New with bank's API key and srv.URL
	if err != nil {
		panic(err)
	}
	destination, err := srv.NewClient(lender)
	if err != nil {
		panic(err)
	}

	tok, err := source.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Status, tok.Direction)
	pending, err := destination.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{})
	if err != nil {
		panic(err)
	}
	fmt.Println(pending.Status, pending.Direction, pending.RedeemMode)
	done, err := destination.ShareTokens.Wait(ctx, tok.ID)
	if err != nil {
		panic(err)
	}
	fmt.Println(done.Status, done.Destination.Type)
	// Output:
	// created outbound
	// pending inbound clone
	// redeemed inquiry
}
