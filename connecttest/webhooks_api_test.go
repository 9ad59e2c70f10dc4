package connecttest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// neverFires is an event the fake never records, so a webhook subscribed to it alone
// receives nothing.
const neverFires = connect.EventInquiryApproved

func TestRotateWebhookSecretAnswerMatchesTheSpec(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	old := w.srv.AddWebhook(w.src, "http://127.0.0.1:1/hook", neverFires)
	id := w.srv.WebhookID(old)
	if !strings.HasPrefix(id, "wbh_") {
		t.Fatalf("WebhookID = %q", id)
	}
	// The request example of the spec, as is.
	r := w.s.do("POST", "/webhooks/"+id+"/rotate-secret", `{"meta":{"expires-in-seconds":15}}`).must(t, 200)
	checkHeaders(t, r, true, w.src)
	for _, d := range sameShape(example(t, "webhook-created.yaml"), any(r.doc), "") {
		// The example blocks two attributes, the fake's webhooks none; and it leaves out
		// name and description, which the schema makes nullable and the fake sends null.
		if !strings.HasPrefix(d, ".data.attributes.api-attributes-blocklist: empty") &&
			d != ".data.attributes.name: not in the example" && d != ".data.attributes.description: not in the example" {
			t.Errorf("shape vs webhook-created.yaml: %s", d)
		}
	}
	for k := range r.doc {
		if k != "data" && k != "included" {
			t.Errorf("top-level member %q is not in the spec", k)
		}
	}
	for _, d := range checkSchema(t, schema(t, "components/schemas/webhook-with-secret.yaml"), r.get("data"), "data") {
		t.Errorf("schema: %s", d)
	}
	if got := r.str("data", "id"); got != id {
		t.Errorf("id %q, want %s", got, id)
	}
	newSecret := r.str("data", "attributes", "secrets", 0, "value")
	if !strings.HasPrefix(newSecret, "wbhsec_") || newSecret == old {
		t.Errorf("new secret %q (old %q)", newSecret, old)
	}
	if got := r.str("data", "attributes", "secret"); got != newSecret {
		t.Errorf("deprecated secret %q, want the newest %q", got, newSecret)
	}
	if got := r.get("data", "attributes", "secrets", 0, "expires-at"); got != nil {
		t.Errorf("new secret expires at %v, want null", got)
	}
	if got := r.str("data", "attributes", "secrets", 1, "value"); got != old {
		t.Errorf("second secret %q, want the old one", got)
	}
	wantExpiry := w.srv.Now().Add(15 * time.Second)
	gotExpiry, err := time.Parse(time.RFC3339, r.str("data", "attributes", "secrets", 1, "expires-at"))
	if err != nil || gotExpiry.Sub(wantExpiry).Abs() > time.Second {
		t.Errorf("old secret expires at %v (%v), want about %v", gotExpiry, err, wantExpiry)
	}
	if got := r.get("data", "attributes", "enabled-events", 0); got != string(neverFires) {
		t.Errorf("enabled-events %v", r.get("data", "attributes", "enabled-events"))
	}
	if got := w.srv.WebhookID(newSecret); got != id {
		t.Errorf("WebhookID(new secret) = %q, want %s", got, id)
	}

	// Once the old secret has expired it is no longer listed.
	w.srv.Advance(16 * time.Second)
	r = w.s.do("POST", "/webhooks/"+id+"/rotate-secret", `{"meta":{"expires-in-seconds":60}}`).must(t, 200)
	if n := len(r.get("data", "attributes", "secrets").([]any)); n != 2 {
		t.Errorf("after the old secret expired and another rotation: %d secrets listed, want 2: %s", n, r.body)
	}
	if got := w.srv.WebhookID(old); got != id {
		t.Errorf("WebhookID(expired secret) = %q, want %s", got, id)
	}
}

func TestRotateWebhookSecretRefusals(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := w.srv.WebhookID(w.srv.AddWebhook(w.src, "http://127.0.0.1:1/hook", neverFires))
	path := "/webhooks/" + id + "/rotate-secret"
	for _, c := range []struct {
		name    string
		as      rawClient
		path    string
		body    string
		status  int
		pointer string
	}{
		{"another organization's webhook", w.d, path, `{}`, 404, ""},
		{"unknown webhook", w.s, "/webhooks/wbh_nope/rotate-secret", `{}`, 404, ""},
		{"unknown member", w.s, path, `{"data":{"attributes":{}}}`, 400, ""},
		{"unknown meta member", w.s, path, `{"meta":{"expires-in":5}}`, 400, ""},
		{"seconds as a string", w.s, path, `{"meta":{"expires-in-seconds":"5"}}`, 400, ""},
		{"fractional seconds", w.s, path, `{"meta":{"expires-in-seconds":1.5}}`, 400, ""},
		{"negative seconds", w.s, path, `{"meta":{"expires-in-seconds":-1}}`, 422, "/meta/expires-in-seconds"},
	} {
		r := c.as.do("POST", c.path, c.body)
		if r.status != c.status {
			t.Errorf("%s: %d, want %d: %s", c.name, r.status, c.status, r.body)
			continue
		}
		if c.pointer != "" {
			if got := walk(r.firstError(), "source", "pointer"); got != c.pointer {
				t.Errorf("%s: pointer %v, want %s", c.name, got, c.pointer)
			}
		}
	}
	w.s.do("GET", path, "").must(t, 405)
}

// Without meta.expires-in-seconds the old secret stops signing at once (policy.go,
// rotateDefaultExpiresIn), and a second rotation keeps an expiring secret's own expiry.
func TestRotateWebhookSecretExpiries(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	first := w.srv.AddWebhook(w.src, "http://127.0.0.1:1/hook", neverFires)
	id := w.srv.WebhookID(first)
	r := w.s.do("POST", "/webhooks/"+id+"/rotate-secret", "").must(t, 200)
	if n := len(r.get("data", "attributes", "secrets").([]any)); n != 1 {
		t.Fatalf("rotation without an expiry lists %d secrets, want only the new one: %s", n, r.body)
	}
	second := r.str("data", "attributes", "secret")
	r = w.s.do("POST", "/webhooks/"+id+"/rotate-secret", `{"meta":{"expires-in-seconds":3600}}`).must(t, 200)
	third := r.str("data", "attributes", "secret")
	r = w.s.do("POST", "/webhooks/"+id+"/rotate-secret", `{"meta":{"expires-in-seconds":60}}`).must(t, 200)
	var listed []string
	for i := range r.get("data", "attributes", "secrets").([]any) {
		listed = append(listed, r.str("data", "attributes", "secrets", i, "value"))
	}
	if len(listed) != 3 || listed[1] != third || listed[2] != second {
		t.Fatalf("secrets after three rotations: %v (second %s, third %s)", listed, second, third)
	}
	w.srv.Advance(61 * time.Second)
	r = w.s.do("POST", "/webhooks/"+id+"/rotate-secret", `{"meta":{"expires-in-seconds":1}}`).must(t, 200)
	// Listed now: the newest, the one just retired (1 s left) and `second`, whose
	// hour is not over; `third` expired after its 60 s.
	listed = listed[:0]
	for i := range r.get("data", "attributes", "secrets").([]any) {
		listed = append(listed, r.str("data", "attributes", "secrets", i, "value"))
	}
	if len(listed) != 3 || listed[2] != second {
		t.Errorf("secrets after the 60 s one expired: %v, want the 1-hour one (%s) still listed", listed, second)
	}
	for _, s := range listed {
		if s == third {
			t.Errorf("the secret that expired after 60 s is still listed")
		}
	}
}

func TestNewClientActsAsTheOrganization(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	srv := w.srv
	c, err := srv.NewClient(w.src)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.ShareTokens.Create(context.Background(), connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Direction != connect.Outbound {
		t.Errorf("source's client sees direction %q", tok.Direction)
	}
	d, err := srv.NewClient(w.dst, connect.WithUserAgent("dest-test/1"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.ShareTokens.Get(context.Background(), tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Direction != connect.Inbound {
		t.Errorf("destination's client sees direction %q", got.Direction)
	}
	// The caller's options come after the server's: a base URL of its own wins.
	if _, err := srv.NewClient(w.src, connect.WithBaseURL("http://example.com/api/v1")); err == nil {
		t.Error("NewClient accepted a plain-http non-loopback base URL the caller passed")
	}
	other := connecttest.NewServer()
	t.Cleanup(other.Close)
	moved, err := other.NewClient(other.NewOrganization("Elsewhere"), connect.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := moved.ShareTokens.Get(context.Background(), tok.ID); !errors.Is(err, connect.ErrUnauthorized) {
		t.Errorf("a client whose base URL was replaced by the caller's: %v, want 401 from the other server", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewClient with another server's organization did not panic")
		}
	}()
	_, _ = srv.NewClient(other.NewOrganization("Foreign"))
}
