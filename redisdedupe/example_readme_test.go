package redisdedupe_test

// readmeSetUp holds README.md's Redis snippet verbatim, so that the compiler checks
// it; the root module's TestREADMESnippetsAreHere finds it here (as */example_readme*_test.go).

import (
	"github.com/redis/go-redis/v9"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/redisdedupe"
)

func readmeSetUp(verifier *connect.Verifier) *connect.WebhookHandler {
	// Redis: go get github.com/persona-connect/connect-go/redisdedupe
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}})
	handler := connect.NewWebhookHandler(verifier, connect.WithDeduper(redisdedupe.New(rdb)))
	return handler
}

// The snippet needs a Redis of the reader's; this keeps it used.
var _ = readmeSetUp
