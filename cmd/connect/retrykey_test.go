package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/persona-connect/connect-go/connecttest"
)

// Every command that POSTs, not only share-tokens create, prints the Idempotency-Key
// it was sent with when its answer is lost, and takes it back with --idempotency-key:
// the retry gets Persona's first answer instead of an error (the token is no longer
// created, the connection no longer active) or a second object.
func TestEveryPOSTPrintsTheKeyToRetryWith(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	other := w.srv.NewOrganization("Other")
	for _, tc := range []struct {
		name    string
		as      *connecttest.Organization
		pattern string
		args    func() []string
		want    string // the status printed by the retry
	}{
		{"connections create", w.src, "/connect/connections", func() []string {
			return []string{"connections", "create", "--destination-org", other.ID}
		}, "pending"},
		{"share-tokens redeem", w.dst, "/connect/share-tokens/*/redeem", func() []string {
			return []string{"share-tokens", "redeem", w.createToken(t).ID}
		}, "pending"},
		{"share-tokens expire", w.src, "/connect/share-tokens/*/expire", func() []string {
			return []string{"share-tokens", "expire", w.createToken(t).ID}
		}, "expired"},
		{"connections deactivate", w.src, "/connect/connections/*/deactivate", func() []string {
			return []string{"connections", "deactivate", w.cxn}
		}, "inactive"},
		{"connections reactivate", w.src, "/connect/connections/*/reactivate", func() []string {
			return []string{"connections", "reactivate", w.cxn} // inactive since the case above
		}, "pending"},
	} {
		args := tc.args()
		w.srv.DropAfterCommit("POST", tc.pattern, 3) // the first try and the SDK's 2 retries
		r := run(t, w.as(tc.as), "", args...)
		m := regexp.MustCompile(`--idempotency-key (\S+)`).FindStringSubmatch(r.stderr)
		if r.code != exitRetryable || m == nil {
			t.Errorf("%s: want exit 5 and the key to retry with on stderr: %s", tc.name, r)
			continue
		}
		retried := run(t, w.as(tc.as), "", append(args, "--idempotency-key", m[1], "--json")...)
		if retried.code != exitOK {
			t.Errorf("%s: the retry with the key printed: %s", tc.name, retried)
			continue
		}
		if got := decodeOne[struct{ Status string }](t, retried.stdout); got.Status != tc.want {
			t.Errorf("%s: the retry printed status %q, want %q", tc.name, got.Status, tc.want)
		}
	}
	// One connection to other, however many tries.
	r := mustRun(t, w.as(w.src), "connections", "list", "--destination-org", other.ID)
	if n := strings.Count(r.stdout, other.ID); n != 1 {
		t.Errorf("%d connections to %s, want 1:\n%s", n, other.ID, r.stdout)
	}
}

// A refusal (here 422: the connection is not active) is stored under its
// Idempotency-Key and replayed for 24 hours, so the key is no way to retry it: the
// line after the error says to run the command again without it, once the cause is
// fixed, and that run succeeds where one with the key gets the refusal again.
func TestARefusedPOSTSaysToRetryWithoutTheKey(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	mustRun(t, w.as(w.src), "connections", "deactivate", w.cxn)
	args := []string{"share-tokens", "create", "--connection", w.cxn, "--source", w.inq}
	r := run(t, w.as(w.src), "", args...)
	if r.code != exitError || !strings.Contains(r.stderr, "Connection is not active") {
		t.Fatalf("want exit 1 and the 422: %s", r)
	}
	m := regexp.MustCompile(`Persona refused the create and replays that refusal to Idempotency-Key (\S+) for 24 hours; ` +
		`nothing was made, so once the cause is fixed, run it again without --idempotency-key\n`).FindStringSubmatch(r.stderr)
	if m == nil || strings.Contains(r.stderr, "add --idempotency-key") {
		t.Fatalf("the line after a refusal does not say to run it again without the key:\n%s", r.stderr)
	}

	// The cause fixed, the key gets the stored refusal and a run without it a token.
	mustRun(t, w.as(w.src), "connections", "reactivate", w.cxn)
	w.srv.AcceptConnection(w.cxn)
	if again := run(t, w.as(w.src), "", append(args, "--idempotency-key", m[1])...); again.code != exitError {
		t.Errorf("the key's stored refusal was not replayed: %s", again)
	}
	mustRun(t, w.as(w.src), args...)
}

// A key given with --idempotency-key may be refused because it first carried another
// call (here, other flags): then that call's object may exist, and "nothing was made"
// would be wrong. The line says how the key is meant to be used instead.
func TestARefusedGivenKeyIsNotSaidToHaveMadeNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const key = "given-key-1"
	args := []string{"share-tokens", "create", "--connection", w.cxn, "--source", w.inq, "--idempotency-key", key}
	mustRun(t, w.as(w.src), args...)
	r := run(t, w.as(w.src), "", append(args, "--expires-in", "1h")...)
	if r.code != exitError || !strings.Contains(r.stderr, "422") {
		t.Fatalf("want exit 1 and a 422 for the key's reuse: %s", r)
	}
	want := "connect: Persona refused the create sent with Idempotency-Key " + key + ". A key carries one call: " +
		"with the flags of the run that printed it, it replays that run's answer; if this refusal is that answer, " +
		"fix its cause and run it again without --idempotency-key\n"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
}

// A run that already carries --idempotency-key K and fails again must not tell its
// user to "add --idempotency-key K": it is there. A 409 under a given key (here: the
// token is pending, redeemed by an earlier run without the key) is either an earlier
// run under K still in flight, which the same key waits for, or K's own first answer,
// which the same key only replays: the line says both, and how to tell them.
func TestAFailedRunWithAGivenKeyDoesNotSayToAddIt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := w.createToken(t).ID
	mustRun(t, w.as(w.dst), "share-tokens", "redeem", id)
	const key = "given-key-2"
	args := []string{"share-tokens", "redeem", id, "--idempotency-key", key}
	r := run(t, w.as(w.dst), "", args...)
	if r.code != exitError || !strings.Contains(r.stderr, "409") {
		t.Fatalf("want exit 1 and a 409: %s", r)
	}
	if strings.Contains(r.stderr, "add --idempotency-key") {
		t.Errorf("stderr says to add the key the run already has:\n%s", r.stderr)
	}
	want := "connect: Persona answered the redeem sent with Idempotency-Key " + key + " with a conflict. " +
		"If an earlier run with that key may still be running, run it again with the same --idempotency-key " + key +
		" to get that run's answer; if this conflict is the key's first answer, the key replays it: fix its cause and run it again without --idempotency-key\n"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	// Here it is the key's first answer: the same key gets it again.
	if again := run(t, w.as(w.dst), "", args...); again.code != exitError || !strings.Contains(again.stderr, "409") {
		t.Errorf("the key's stored 409 was not replayed: %s", again)
	}
}

// A run with a given key that fails in a way a retry may mend (here a 503 from in front
// of Persona, not stored) says to run it again with the same key.
func TestAnUnstoredFailureWithAGivenKeySaysToRetryWithIt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	const key = "given-key-3"
	w.srv.FailNext("POST", "/connect/share-tokens", 10, 503) // more than the retries
	r := run(t, w.as(w.src), "", "share-tokens", "create", "--connection", w.cxn, "--source", w.inq, "--idempotency-key", key)
	if r.code != exitRetryable {
		t.Fatalf("want exit 5 and the 503: %s", r)
	}
	want := "connect: the create was sent with the Idempotency-Key you gave, " + key + "; to retry it"
	if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "run it again with the same --idempotency-key "+key+"\n") {
		t.Errorf("stderr lacks %q ... same --idempotency-key %s:\n%s", want, key, r.stderr)
	}
}

// A 500 is stored under its key too, so the key would only replay it: the line says
// so, and to look before running the command again without the key.
func TestAServerErrorSaysTheKeyReplaysIt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.FailNextStored("POST", "/connect/share-tokens", 1, 500)
	r := run(t, w.as(w.src), "", "share-tokens", "create", "--connection", w.cxn, "--source", w.inq)
	if r.code != exitRetryable || !strings.Contains(r.stderr, "500") {
		t.Fatalf("want exit 5 and the 500: %s", r)
	}
	m := regexp.MustCompile(`Persona answered the create with a 500 and replays it to Idempotency-Key (\S+) for 24 hours; ` +
		`it most likely made nothing: look \(list, get\) before running it again without --idempotency-key\n`).FindStringSubmatch(r.stderr)
	if m == nil || strings.Contains(r.stderr, "add --idempotency-key") {
		t.Fatalf("the line after a 500 does not say that the key replays it:\n%s", r.stderr)
	}
	if again := run(t, w.as(w.src), "", "share-tokens", "create", "--connection", w.cxn, "--source", w.inq, "--idempotency-key", m[1]); again.code != exitRetryable {
		t.Errorf("the key's stored 500 was not replayed: %s", again)
	}
}

// A 409 to a call under a key made for it is a refusal like a 422 (here: the token is
// already pending): the key would replay it, so the line says to run it again without.
// Only a given key's 409 may mean an earlier run under it is still in flight.
func TestAConflictUnderAFreshKeyIsARefusal(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.createToken(t)
	mustRun(t, w.as(w.dst), "share-tokens", "redeem", tok.ID)
	r := run(t, w.as(w.dst), "", "share-tokens", "redeem", tok.ID)
	if !strings.Contains(r.stderr, "409") {
		t.Fatalf("want the 409 of a second redeem: %s", r)
	}
	if !strings.Contains(r.stderr, "Persona refused the redeem and replays that refusal") || strings.Contains(r.stderr, "add --idempotency-key") {
		t.Errorf("a 409 under a fresh key is not called a refusal:\n%s", r.stderr)
	}
}
