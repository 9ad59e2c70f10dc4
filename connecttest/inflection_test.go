package connecttest_test

import (
	"strings"
	"testing"
)

// A client in another language may ask for camel or snake keys (Key-Inflection) and
// send its bodies in them: the fake answers in the case asked for, reads bodies in any
// of the three, and refuses a case Persona does not offer.
func TestKeyInflection(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := w.create(t)
	path := "/connect/share-tokens/" + id

	camel := w.s.do("GET", path, "", "Key-Inflection", "camel").must(t, 200)
	snake := w.s.do("GET", path, "", "Key-Inflection", "snake").must(t, 200)
	kebab := w.s.do("GET", path, "", "Key-Inflection", "kebab").must(t, 200)
	plain := w.s.do("GET", path, "").must(t, 200)
	for _, c := range []struct {
		name string
		r    rawResp
		key  string
		rel  string
	}{
		{"camel", camel, "createdAt", "connection"},
		{"snake", snake, "created_at", "connection"},
		{"kebab", kebab, "created-at", "connection"},
		{"no header", plain, "created-at", "connection"},
	} {
		if c.r.str("data", "attributes", c.key) == "" {
			t.Errorf("%s: no attributes.%s in %s", c.name, c.key, c.r.body)
		}
		if c.r.str("data", "relationships", c.rel, "data", "id") != w.cxn {
			t.Errorf("%s: relationships.%s is not the connection: %s", c.name, c.rel, c.r.body)
		}
	}
	// Only keys change: the values, including those with a dash or an underscore, are
	// those of the kebab answer.
	if got, want := camel.str("data", "attributes", "expiresAt"), kebab.str("data", "attributes", "expires-at"); got != want {
		t.Errorf("camel expiresAt = %q, kebab expires-at = %q", got, want)
	}
	if strings.Contains(string(snake.body), "-at\"") || strings.Contains(string(camel.body), "-at\"") {
		t.Errorf("a kebab key is left: %s / %s", snake.body, camel.body)
	}

	// A peek's source data, a list and an event are rekeyed as well.
	peek := w.d.do("GET", path+"?peek-source-data=true", "", "Key-Inflection", "snake").must(t, 200)
	if peek.get("data", "attributes", "source_data") == nil {
		t.Errorf("peek in snake case has no source_data: %s", peek.body)
	}
	if strings.Contains(string(peek.body), `-`+`first"`) {
		t.Errorf("peek's source data kept a kebab key: %s", peek.body)
	}
	list := w.s.do("GET", "/connect/share-tokens?filter%5Bconnection-id%5D="+w.cxn, "", "Key-Inflection", "camel").must(t, 200)
	if list.str("data", 0, "attributes", "createdAt") == "" {
		t.Errorf("list in camel case: %s", list.body)
	}
	events := w.s.do("GET", "/events", "", "Key-Inflection", "camel").must(t, 200)
	if events.str("data", 0, "attributes", "createdAt") == "" {
		t.Errorf("events in camel case: %s", events.body)
	}

	// Bodies in camel and snake case are read as their kebab twins.
	for name, body := range map[string]string{
		"camel": `{"data":{"attributes":{"connectionId":"` + w.cxn + `","sourceId":"` + w.inq + `","expiresInSeconds":3600}}}`,
		"snake": `{"data":{"attributes":{"connection_id":"` + w.cxn + `","source_id":"` + w.inq + `","expires_in_seconds":3600}}}`,
	} {
		r := w.s.do("POST", "/connect/share-tokens", body, "Key-Inflection", name).must(t, 201)
		if r.str("data", "relationships", "source", "data", "id") != w.inq {
			t.Errorf("%s body: the token is not of the inquiry: %s", name, r.body)
		}
	}
	// A retry of a camel body in snake case is the same request to Idempotency-Key.
	first := w.s.do("POST", "/connect/share-tokens", `{"data":{"attributes":{"connectionId":"`+w.cxn+`","sourceId":"`+w.inq+`"}}}`, "Idempotency-Key", "inflection-retry").must(t, 201)
	again := w.s.do("POST", "/connect/share-tokens", `{"data":{"attributes":{"connection_id":"`+w.cxn+`","source_id":"`+w.inq+`"}}}`, "Idempotency-Key", "inflection-retry").must(t, 201)
	if first.str("data", "id") != again.str("data", "id") {
		t.Errorf("the retry made a second token: %s then %s", first.str("data", "id"), again.str("data", "id"))
	}

	// Any other value is refused, as the spec's enum has only these three.
	for _, v := range []string{"pascal", "Kebab", "CAMEL"} {
		r := w.s.do("GET", path, "", "Key-Inflection", v).must(t, 400)
		if got := r.firstError()["details"]; got != "Key-Inflection must be camel, kebab or snake" {
			t.Errorf("Key-Inflection %q: details %v", v, got)
		}
	}
}
