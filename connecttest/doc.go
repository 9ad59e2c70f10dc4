// Package connecttest runs an in-memory, faithful Persona Connect on a loopback port,
// in the manner of net/http/httptest: NewServer starts it, Server.URL is the base URL to
// give connect.WithBaseURL, and Close stops it together with every goroutine it started
// (redemptions, webhook deliveries and their timers included).
//
// A test makes organizations (each its own environment, with its own API key), joins
// them with connections, creates source objects, and then drives the fake over real
// HTTP, usually through the SDK:
//
//	srv := connecttest.NewServer()
//	defer srv.Close()
//	src, dst := srv.NewOrganization("Source Bank"), srv.NewOrganization("Dest Lender")
//	cxn := srv.CreateConnection(src, dst)
//	inq := srv.CreateInquiry(src)
//	// The receiver starts first, its mux filled once the fake has issued the secret
//	// that the handler's verifier needs (a delivery before then gets a 404: retried).
//	mux := http.NewServeMux()
//	receiver := httptest.NewServer(mux)
//	defer receiver.Close()
//	secret := srv.AddWebhook(dst, receiver.URL) // every event, signed with secret
//	v, err := connect.NewVerifier([]string{secret})
//	if err != nil {
//		t.Fatal(err)
//	}
//	mux.Handle("/", connect.NewWebhookHandler(v)) // then On, AutoRedeem, ...
//	client, err := srv.NewClient(src) // connect.New with src's key and srv.URL
//	if err != nil {
//		t.Fatal(err)
//	}
//	tok, err := client.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
//	if err != nil {
//		t.Fatal(err)
//	}
//
// The fake serves every operation of Persona's Connect spec (share tokens, connections)
// plus the Events API and the rotation of a webhook's secret (POST
// /webhooks/{id}/rotate-secret: WebhookID tells a test its webhook's id), with the
// spec's status codes, JSON:API bodies (kebab case, or camel or snake as a request's
// Key-Inflection asks, and read in any of the three), error bodies and response headers.
// Each organization sees only its own share tokens, from its own side (direction and
// relationships follow the viewer). Redemption is asynchronous and can be made to fail;
// tokens expire by their TTL on the server's clock, which a test can move with Advance.
// POSTs honour Idempotency-Key; requests are rate limited per organization. Events are
// recorded per organization and delivered to registered webhooks with Persona-Signature
// and Persona's retry headers; Deliveries shows every attempt.
//
// Fault injection (FailNext, FailNextStored, DropAfterCommit, CutBodyAfterCommit,
// AddLatency) lets a test prove that a client retries and that idempotency keys keep
// retries safe.
//
// Where Persona's documents are silent the fake makes a choice; every such choice is
// listed, with its reason, in policy.go.
//
// Setup methods (NewOrganization, CreateConnection, ...) panic when called with an
// organization or object of another server, or on a closed server: like
// httptest.NewServer, they report a broken test setup, never bad input from the wire.
package connecttest
