package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/retry"
)

// Every command that POSTs takes --idempotency-key, and when its call fails it says
// which key the call was sent with, so that the retry carries the same one: Persona
// then answers it with the first call's answer (for 24 hours) instead of running it
// again. That matters most when the answer was lost and nobody knows whether the call
// took effect: a create run again without the key makes a second object, a redeem or
// an expire fails on the state the first one left. A refusal is the exception: the
// key would only replay it, so the command says to run it again without the key.

// retryKey is a POST command's --idempotency-key.
type retryKey struct{ given *string }

// idempotencyKeyFlag defines --idempotency-key on fs.
func idempotencyKeyFlag(fs *flag.FlagSet) retryKey {
	return retryKey{fs.String("idempotency-key", "", "send this Idempotency-Key `K` (default a random one, printed when the call fails)")}
}

// post makes the command's one POST: call, with a's client and the Idempotency-Key to
// send (the flag's value, else a fresh random one). When it fails, the error gets the
// line that says how to retry it: what names the call ("the redeem") and without what
// a retry with the key goes. Input refused before sending needs no key and gets none.
func post[T any](a *app, k retryKey, what, without string, call func(*connect.Client, connect.RequestOption) (T, error)) (T, error) {
	var zero T
	c, err := a.client()
	if err != nil {
		return zero, err
	}
	key := *k.given
	if key == "" {
		// Made here rather than left to the SDK, so that it is known however the call
		// fails: a lost answer is exactly when the retry needs it.
		if key, err = randomHex128(); err != nil {
			return zero, err
		}
	}
	v, err := call(c, connect.WithIdempotencyKey(key))
	if err == nil || errors.Is(err, connect.ErrInvalidParams) {
		return v, err
	}
	return v, &hintedError{err: err, hint: retryHint(err, key, *k.given != "", what, without)}
}

// retryHint is the line printed after a POST that failed with err: how to run it
// again safely, given that Persona replays to key whatever it answered first.
func retryHint(err error, key string, given bool, what, without string) string {
	switch {
	case !given && (refused(err) || isStatus(err, http.StatusConflict)):
		// A key made for this call carried nothing before: the refusal is its answer.
		// Nor can a 409 then be another call in flight under the key (the SDK reports
		// its own retry's 409 as an unknown outcome): it refuses the token's or the
		// connection's state, as a 422 does.
		return fmt.Sprintf("connect: Persona refused %s and replays that refusal to Idempotency-Key %s for 24 hours; "+
			"nothing was made, so once the cause is fixed, run it again without --idempotency-key", what, key)
	case refused(err):
		// A given key may have carried another call first (Persona refuses its reuse
		// with other parameters), whose object then exists.
		return fmt.Sprintf("connect: Persona refused %s sent with Idempotency-Key %s. A key carries one call: "+
			"with the flags of the run that printed it, it replays that run's answer; if this refusal is that answer, "+
			"fix its cause and run it again without --idempotency-key", what, key)
	case isStatus(err, http.StatusConflict):
		// A given key may have carried an earlier run that is still in flight, which
		// the same key waits for; or this 409 is the key's first answer, stored, which
		// the same key only replays. Only the user knows which.
		return fmt.Sprintf("connect: Persona answered %s sent with Idempotency-Key %s with a conflict. "+
			"If an earlier run with that key may still be running, run it again with the same --idempotency-key %s "+
			"to get that run's answer; if this conflict is the key's first answer, the key replays it: "+
			"fix its cause and run it again without --idempotency-key", what, key, key)
	case isStatus(err, http.StatusInternalServerError):
		// Stored and replayed like a refusal, but not a promise that nothing was made.
		return fmt.Sprintf("connect: Persona answered %s with a 500 and replays it to Idempotency-Key %s for 24 hours; "+
			"it most likely made nothing: look (list, get) before running it again without --idempotency-key", what, key)
	case given:
		// The run already carries the key: "add" it would send the user in a circle.
		return fmt.Sprintf("connect: %s was sent with the Idempotency-Key you gave, %s; to retry it %s, "+
			"run it again with the same --idempotency-key %s", what, key, without, key)
	}
	return fmt.Sprintf("connect: %s was sent with Idempotency-Key %s; to retry it %s, add --idempotency-key %s", what, key, without, key)
}

// isStatus reports whether err is Persona's answer with status, and the call was not
// possibly applied by an earlier attempt (ErrOutcomeUnknown wraps the last answer).
func isStatus(err error, status int) bool {
	return answerStatus(err) == status
}

// answerStatus is the status of Persona's answer that err is, or 0 when err is no
// *connect.APIError or the call may have been applied by an earlier attempt.
func answerStatus(err error) int {
	var ae *connect.APIError
	if errors.Is(err, connect.ErrOutcomeUnknown) || !errors.As(err, &ae) {
		return 0
	}
	return ae.StatusCode
}

// refused reports whether err is Persona's answer that it did not apply the call: a
// 4xx that the idempotency layer stores and replays for the key (retry.Stored). A 409
// is stored as well, but is left to retryHint, which knows whether the key was given:
// a given key's 409 may mean that an earlier run under it is still in flight, which
// the same key is the way to wait for. Any answer after which the call may still have
// been applied is left out too.
func refused(err error) bool {
	s := answerStatus(err)
	return s < 500 && s != http.StatusConflict && retry.Stored(s)
}
