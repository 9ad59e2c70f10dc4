package main

import (
	"errors"
	"flag"
	"fmt"

	connect "github.com/persona-connect/connect-go"
)

// Every command that POSTs takes --idempotency-key, and when its call fails it says
// which key the call was sent with, so that the retry carries the same one: Persona
// then answers it with the first call's answer (for 24 hours) instead of running it
// again. That matters most when the answer was lost and nobody knows whether the call
// took effect: a create run again without the key makes a second object, a redeem or
// an expire fails on the state the first one left.

// idempotencyKeyFlag defines --idempotency-key on fs and returns what gives the key to
// send: the flag's value, else a fresh random one.
func idempotencyKeyFlag(fs *flag.FlagSet) func() (string, error) {
	given := fs.String("idempotency-key", "", "send this Idempotency-Key `K` (default a random one, printed when the call fails)")
	return func() (string, error) {
		if *given != "" {
			return *given, nil
		}
		// Made here rather than left to the SDK, so that it is known however the call
		// fails.
		return randomHex128()
	}
}

// withRetryKey adds to err, the failure of a POST sent with Idempotency-Key key, the
// line that says how to retry it: what names the call ("the redeem") and without what
// a retry with the key goes. Input refused before sending needs no key: it is
// returned as it is, like nil.
func withRetryKey(err error, what, key, without string) error {
	if err == nil || errors.Is(err, connect.ErrInvalidParams) {
		return err
	}
	return &hintedError{err: err, hint: fmt.Sprintf(
		"connect: %s was sent with Idempotency-Key %s; to retry it %s, add --idempotency-key %s", what, key, without, key)}
}
