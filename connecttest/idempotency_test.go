package connecttest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/persona-connect/connect-go/connecttest"
)

func fixedClock() connecttest.ServerOption {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	return connecttest.WithClock(func() time.Time { return at })
}

func countTokens(t *testing.T, c rawClient) int {
	t.Helper()
	return len(c.do("GET", "/connect/share-tokens?page%5Bsize%5D=100", "").must(t, 200).get("data").([]any))
}

func TestIdempotentReplayIsByteForByte(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	body := createBody(w.cxn, w.inq)
	first := w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", "k1").must(t, 201)
	// The same request again, with its JSON spaced differently: replayed.
	again := w.s.do("POST", "/connect/share-tokens", " "+body+"\n", "Idempotency-Key", "k1").must(t, 201)
	if string(again.body) != string(first.body) {
		t.Errorf("replay differs:\n%s\n%s", first.body, again.body)
	}
	if again.header.Get("Request-Id") == first.header.Get("Request-Id") {
		t.Error("a replay reuses the Request-Id")
	}
	if n := countTokens(t, w.s); n != 1 {
		t.Errorf("%d tokens after a replay, want 1", n)
	}
	// Another key, or no key, runs again.
	w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", "k2").must(t, 201)
	w.s.do("POST", "/connect/share-tokens", body).must(t, 201)
	if n := countTokens(t, w.s); n != 3 {
		t.Errorf("%d tokens, want 3", n)
	}
	// Keys belong to one organization: the destination's k1 is its own.
	w.d.do("POST", "/connect/connections", `{"data":{"attributes":{"destination-organization-id":"`+w.src.ID+`"}}}`, "Idempotency-Key", "k1").must(t, 201)
}

func TestIdempotencyKeyReusedForAnotherRequest(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := w.s.do("POST", "/connect/share-tokens", createBody(w.cxn, w.inq), "Idempotency-Key", "k").must(t, 201).str("data", "id")
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/connect/share-tokens", createBody(w.cxn, w.srv.CreateInquiry(w.src))},
		{"POST", "/connect/share-tokens/" + id + "/expire", ""},
		// The first request's JSON with data after it is another body: a reuse of
		// the key, not a replay of the first answer.
		{"POST", "/connect/share-tokens", createBody(w.cxn, w.inq) + `{"more":1}`},
	} {
		r := w.s.do(c.method, c.path, c.body, "Idempotency-Key", "k").must(t, 422)
		if r.firstError()["title"] != "Idempotency key reused" {
			t.Errorf("%s: %s", c.path, r.body)
		}
	}
	if got := w.s.do("GET", "/connect/share-tokens/"+id, "").str("data", "attributes", "status"); got != "created" {
		t.Errorf("a refused reuse changed the token: %s", got)
	}
	// GETs ignore the header.
	w.s.do("GET", "/connect/share-tokens/"+id, "", "Idempotency-Key", "k").must(t, 200)
}

func TestIdempotencyStoresErrorsButNotFaultsOrRateLimits(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fixedClock(), connecttest.WithRateLimit(3, time.Minute))
	pending := w.srv.CreatePendingConnection(w.src, w.srv.NewOrganization("Later"))
	body := createBody(pending, w.inq)
	// A 422 the API produced is stored: accepting the connection changes nothing for k.
	first := w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", "k").must(t, 422)
	w.srv.AcceptConnection(pending)
	if r := w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", "k").must(t, 422); string(r.body) != string(first.body) {
		t.Errorf("stored 422 not replayed: %s", r.body)
	}
	// A 429 is not stored: after the window the same key runs for real.
	w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", "k429").must(t, 201)
	w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", "k-limited").must(t, 429)
	w.srv.Advance(time.Minute)
	w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", "k-limited").must(t, 201)
	// A fault in front of the API is not stored; one from inside it is.
	w.srv.Advance(time.Minute)
	w.srv.FailNext("POST", "/connect/share-tokens", 1, http.StatusServiceUnavailable)
	w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", "k503").must(t, 503)
	w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", "k503").must(t, 201)
	w.srv.FailNextStored("POST", "/connect/share-tokens", 1, http.StatusInternalServerError)
	w.srv.Advance(time.Minute)
	stored := w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", "k500").must(t, 500)
	if r := w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", "k500").must(t, 500); string(r.body) != string(stored.body) {
		t.Errorf("stored 500 not replayed: %s", r.body)
	}
	if n := countTokens(t, w.s); n != 3 {
		t.Errorf("%d tokens, want 3", n)
	}
	// After 24 hours the key is forgotten.
	w.srv.Advance(24 * time.Hour)
	w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", "k500").must(t, 201)
}

func TestRateLimitPerOrganization(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fixedClock(), connecttest.WithRateLimit(3, time.Minute))
	for i, want := range []string{"2", "1", "0"} {
		r := w.s.do("GET", "/connect/share-tokens", "").must(t, 200)
		if r.header.Get("RateLimit-Limit") != "3" || r.header.Get("RateLimit-Remaining") != want || r.header.Get("RateLimit-Reset") != "60" {
			t.Errorf("request %d: limit %s remaining %s reset %s", i, r.header.Get("RateLimit-Limit"), r.header.Get("RateLimit-Remaining"), r.header.Get("RateLimit-Reset"))
		}
	}
	r := w.s.do("GET", "/connect/share-tokens", "").must(t, 429)
	if r.firstError()["title"] != "Rate limit exceeded" || r.header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("429: %s %v", r.body, r.header)
	}
	checkHeaders(t, r, true, w.src)
	// Unauthenticated requests and other organizations do not count.
	rawClient{t: t, srv: w.srv, key: "nope"}.do("GET", "/events", "").must(t, 401)
	w.d.do("GET", "/connect/share-tokens", "").must(t, 200)
	w.srv.Advance(45 * time.Second)
	if r := w.s.do("GET", "/connect/share-tokens", "").must(t, 429); r.header.Get("RateLimit-Reset") != "15" {
		t.Errorf("reset after 45s: %s", r.header.Get("RateLimit-Reset"))
	}
	w.srv.Advance(15 * time.Second)
	if r := w.s.do("GET", "/connect/share-tokens", "").must(t, 200); r.header.Get("RateLimit-Remaining") != "2" {
		t.Errorf("new window: remaining %s", r.header.Get("RateLimit-Remaining"))
	}
}

func TestDefaultRateLimitIs300PerMinute(t *testing.T) {
	t.Parallel()
	w := newWorld(t, fixedClock())
	r := w.s.do("GET", "/events", "").must(t, 200)
	if r.header.Get("RateLimit-Limit") != "300" || r.header.Get("RateLimit-Remaining") != "299" {
		t.Errorf("default limit headers: %v", r.header)
	}
}
