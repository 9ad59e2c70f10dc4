package connect_test

import (
	"context"
	"fmt"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// After an outage longer than Persona's retries (about 51 hours), feed the missed
// events through the same handler. Events done before are skipped, so Replay can run
// at every start-up, on every replica.
func ExampleWebhookHandler_Replay() {
	srv := connecttest.NewServer() // in production: connect.New(os.Getenv("PERSONA_API_KEY"))
	defer srv.Close()
	org := srv.NewOrganization("Source")
	downSince := srv.Now()
	srv.Advance(time.Minute)
	srv.CreateInquiry(org) // two inquiries complete while the endpoint is down
	srv.Advance(time.Minute)
	srv.CreateInquiry(org)
	client, err := srv.NewClient(org)
	if err != nil {
		fmt.Println(err)
		return
	}

	h := connect.NewWebhookHandler(nil) // in production: the verifier and Deduper you serve with
	h.On(connect.EventInquiryCompleted, func(ctx context.Context, ev *connect.Event) error {
		fmt.Println("handled", ev.Name)
		return nil
	})
	ctx := context.Background()
	res, err := h.Replay(ctx, client.Events, downSince)
	fmt.Printf("%+v %v\n", res, err)
	res, err = h.Replay(ctx, client.Events, downSince) // again: nothing runs twice
	fmt.Printf("%+v %v\n", res, err)
	// Output:
	// handled inquiry.completed
	// handled inquiry.completed
	// {Ran:2 AlreadyDone:0 Unregistered:0} <nil>
	// {Ran:0 AlreadyDone:2 Unregistered:0} <nil>
}
