package redisdedupe_test

// readmeSetUp holds README.md's Redis snippet verbatim, so that the compiler checks
// it; the root module's TestREADMESnippetsAreHere finds it here (as */example_readme*_test.go).

import (
	"context"

	"github.com/redis/go-redis/v9"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/redisdedupe"
)

func readmeSetUp(ctx context.Context, verifier *connect.Verifier) error {
	// Redis: go get github.com/persona-connect/connect-go/redisdedupe
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{"127.0.0.1:6379"}})
	dedupe := redisdedupe.New(rdb)
	if err := dedupe.Ping(ctx); err != nil { // a bad option, or no Redis: said at start-up
		return err
	}
	handler := connect.NewWebhookHandler(verifier, connect.WithDeduper(dedupe))
	_ = handler // README goes on to register functions on it
	return nil
}

// The snippet needs a Redis of the reader's; this keeps it used.
var _ = readmeSetUp
