package connect_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
	"github.com/persona-connect/connect-go/internal/poll"
)

// exampleSecret is the secret of the spec's webhook-created.yaml.
const exampleSecret = "wbhsec_abcdefgh-1234-5678-9ijk-lmnopqrstuvw"

// secretsEqual compares WebhookSecrets by value and expiry: their value is hidden from
// cmp as from everything else.
var secretsEqual = cmp.Comparer(func(a, b connect.WebhookSecret) bool {
	return a.Value() == b.Value() && cmp.Equal(a.ExpiresAt, b.ExpiresAt)
})

func TestRotateSecretWire(t *testing.T) {
	t.Parallel()
	const rotatePath = "/webhooks/wbh_ABC123/rotate-secret"
	c, mt := setup(t)
	answer := respond(http.StatusOK, specFixture(t, "webhook-created.json"))
	wantBody := specFixture(t, "rotate-webhook-secret.json")
	mt.RegisterResponder(http.MethodPost, mockURL(rotatePath), func(r *http.Request) (*http.Response, error) {
		testQuery(t, r, nil)
		testJSONBody(t, r, wantBody)
		testHeader(t, r, "Content-Type", "application/json")
		if !randomIdempotencyKey.MatchString(r.Header.Get("Idempotency-Key")) {
			t.Errorf("Idempotency-Key %q, want a random 128-bit key", r.Header.Get("Idempotency-Key"))
		}
		return answer(r)
	})
	wh, err := c.Webhooks.RotateSecret(ctxT(t), "wbh_ABC123", connect.RotateWebhookSecretParams{ExpiresIn: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if n := calls(mt, http.MethodPost, rotatePath); n != 1 {
		t.Errorf("RotateSecret sent %d requests, want 1", n)
	}
	created, _ := time.Parse(time.RFC3339, "2023-08-17T23:18:13Z")
	want := &connect.Webhook{
		ID:                       "wbh_ABC123",
		Status:                   "disabled",
		URL:                      "https://withpersona.com",
		Secrets:                  []connect.WebhookSecret{},
		APIVersion:               "2023-01-05",
		APIKeyInflection:         "kebab",
		APIAttributesBlocklist:   []string{"address-*", "name-last", "/data/attributes/fields/*-number"},
		FileAccessTokenExpiresIn: 6 * time.Hour,
		EnabledEvents:            []connect.EventName{"account.created", "verification.created"},
		PayloadFilter:            json.RawMessage(`{"data":{"relationships":{"inquiry-template":{"data":{"id":"itmpl_abc123def456"}}}}}`),
		IncludedAllowlist:        json.RawMessage(`{"state":"include_all"}`),
		RelationshipAllowlist:    json.RawMessage(`{"state":"include_all"}`),
		CreatedAt:                created,
	}
	if len(wh.Secrets) != 1 || wh.Secrets[0].Value() != exampleSecret || wh.Secrets[0].ExpiresAt != nil {
		t.Errorf("secrets: %d, first %v", len(wh.Secrets), wh.Secrets)
	}
	got := *wh
	got.Secrets = []connect.WebhookSecret{}
	compact := func(m json.RawMessage) json.RawMessage {
		var b bytes.Buffer
		if m == nil || json.Compact(&b, m) != nil {
			return m
		}
		return b.Bytes()
	}
	got.PayloadFilter, got.IncludedAllowlist, got.RelationshipAllowlist = compact(got.PayloadFilter), compact(got.IncludedAllowlist), compact(got.RelationshipAllowlist)
	if diff := cmp.Diff(want, &got, secretsEqual); diff != "" {
		t.Errorf("webhook (-want +got):\n%s", diff)
	}
	if got := wh.ActiveSecrets(time.Now()); !cmp.Equal(got, []string{exampleSecret}) {
		t.Errorf("ActiveSecrets = %v", got)
	}

	// ExpiresIn 0 leaves the expiry to Persona: no meta at all.
	mt.RegisterResponder(http.MethodPost, mockURL(rotatePath), func(r *http.Request) (*http.Response, error) {
		testJSONBody(t, r, []byte(`{}`))
		testHeader(t, r, "Idempotency-Key", "rotate-1")
		return answer(r)
	})
	if _, err := c.Webhooks.RotateSecret(ctxT(t), "wbh_ABC123", connect.RotateWebhookSecretParams{}, connect.WithIdempotencyKey("rotate-1")); err != nil {
		t.Fatal(err)
	}
	if n := calls(mt, http.MethodPost, rotatePath); n != 1 {
		t.Errorf("RotateSecret without ExpiresIn sent %d requests, want 1", n)
	}
}

// The deprecated `secret` stands in for `secrets` when an answer has only it, and
// ActiveSecrets leaves out expired secrets.
func TestWebhookSecretsDecoding(t *testing.T) {
	t.Parallel()
	only := `{"data":{"type":"webhook","id":"wbh_1","attributes":{"secret":"wbhsec_only"}}}`
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodPost, mockURL("/webhooks/wbh_1/rotate-secret"), respond(http.StatusOK, []byte(only)))
	wh, err := c.Webhooks.RotateSecret(ctxT(t), "wbh_1", connect.RotateWebhookSecretParams{})
	if err != nil {
		t.Fatal(err)
	}
	if got := wh.ActiveSecrets(time.Now()); !cmp.Equal(got, []string{"wbhsec_only"}) {
		t.Errorf("from the deprecated secret: %v", got)
	}
	both := `{"data":{"type":"webhook","id":"wbh_1","attributes":{"secret":"wbhsec_new","secrets":[` +
		`{"value":"wbhsec_new","expires-at":null},{"value":"wbhsec_old","expires-at":"2030-01-02T03:04:05.000Z"}]}}}`
	mt.RegisterResponder(http.MethodPost, mockURL("/webhooks/wbh_1/rotate-secret"), respond(http.StatusOK, []byte(both)))
	wh, err = c.Webhooks.RotateSecret(ctxT(t), "wbh_1", connect.RotateWebhookSecretParams{ExpiresIn: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := time.Parse(time.RFC3339, "2030-01-02T03:04:04Z")
	after := before.Add(2 * time.Second)
	if got := wh.ActiveSecrets(before); !cmp.Equal(got, []string{"wbhsec_new", "wbhsec_old"}) {
		t.Errorf("before the old secret expires: %v", got)
	}
	if got := wh.ActiveSecrets(after); !cmp.Equal(got, []string{"wbhsec_new"}) {
		t.Errorf("after the old secret expired: %v", got)
	}
	if got := wh.Secrets[1].ExpiresAt; got == nil || got.Location() != time.UTC || !got.Equal(before.Add(time.Second)) {
		t.Errorf("old secret's ExpiresAt = %v", got)
	}
}

func TestRotateSecretValidation(t *testing.T) {
	t.Parallel()
	c := noIOClient(t)
	for _, tt := range []struct {
		id     string
		params connect.RotateWebhookSecretParams
		field  string
	}{
		{"", connect.RotateWebhookSecretParams{}, "webhook id"},
		{"cnst_ABC", connect.RotateWebhookSecretParams{}, "webhook id"},
		{"wbh_A/B", connect.RotateWebhookSecretParams{}, "webhook id"},
		{"..", connect.RotateWebhookSecretParams{}, "webhook id"},
		{"wbh_ABC", connect.RotateWebhookSecretParams{ExpiresIn: -time.Second}, "ExpiresIn"},
		{"wbh_ABC", connect.RotateWebhookSecretParams{ExpiresIn: 1500 * time.Millisecond}, "ExpiresIn"},
	} {
		_, err := c.Webhooks.RotateSecret(ctxT(t), tt.id, tt.params)
		if !errors.Is(err, connect.ErrInvalidParams) || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("RotateSecret(%q, %+v) = %v, want ErrInvalidParams naming %s", tt.id, tt.params, err, tt.field)
		}
	}
}

// The secrets in a RotateSecret answer never show: not through any fmt verb on the
// webhook or its secrets, not through slog's handlers or encoding/json, not in the
// debug log of the call, and not in the errors of answers that break in places where a
// secret sits.
func TestWebhookSecretsNeverShow(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mt := setup(t, connect.WithLogger(logger))
	mt.RegisterResponder(http.MethodPost, mockURL("/webhooks/wbh_ABC123/rotate-secret"), respond(http.StatusOK, specFixture(t, "webhook-created.json")))
	wh, err := c.Webhooks.RotateSecret(ctxT(t), "wbh_ABC123", connect.RotateWebhookSecretParams{ExpiresIn: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	type holder struct{ w *connect.Webhook }     // unexported field: fmt cannot call methods
	type valueHolder struct{ W connect.Webhook } // by value
	values := map[string]any{
		"*Webhook":      wh,
		"Webhook":       *wh,
		"Secrets":       wh.Secrets,
		"WebhookSecret": wh.Secrets[0],
		"unexported":    holder{wh},
		"by value":      valueHolder{*wh},
	}
	assertNoSecret := func(what, s string) {
		t.Helper()
		if strings.Contains(s, exampleSecret) || strings.Contains(s, "abcdefgh-1234") {
			t.Errorf("%s shows the secret:\n%s", what, s)
		}
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			assertNoSecret(name+" with "+verb, fmt.Sprintf(verb, v))
		}
		b, err := json.Marshal(v)
		if err == nil {
			assertNoSecret(name+" as JSON", string(b))
		}
		var text, js bytes.Buffer
		slog.New(slog.NewTextHandler(&text, nil)).Info("rotated", "webhook", v)
		slog.New(slog.NewJSONHandler(&js, nil)).Info("rotated", "webhook", v)
		assertNoSecret(name+" in slog text", text.String())
		assertNoSecret(name+" in slog JSON", js.String())
	}
	if s := fmt.Sprint(wh.Secrets[0]); !strings.Contains(s, "redacted") {
		t.Errorf("a secret prints as %q, want it to say it is redacted", s)
	}
	assertNoSecret("debug log", logs.String())
	if !strings.Contains(logs.String(), "rotate-secret") {
		t.Errorf("debug log has no line for the call:\n%s", logs.String())
	}

	broken := []string{
		`{"data":{"type":"webhook","id":"wbh_1","attributes":{"secrets":[{"value":"` + exampleSecret + `","expires-at":"` + exampleSecret + `"}]}}}`,
		`{"data":{"type":"webhook","id":"wbh_1","attributes":{"secret":"` + exampleSecret + `","created-at":"` + exampleSecret + `"}}}`,
		`{"data":{"type":"webhook","id":"wbh_1","attributes":{"secrets":"` + exampleSecret + `"}}}`,
		`{"data":{"type":"webhook","id":"wbh_1","attributes":{"secrets":[{"value":["` + exampleSecret + `"]}]}}}`,
		`{"data":{"type":"webhook","id":"wbh_1","attributes":{"url":"` + exampleSecret + `", "secret": 7}}}`,
		`{"data":{"type":"webhook","id":"wbh_1","attributes":{"secret":"` + exampleSecret + `"}` + "\x00",
	}
	for i, body := range broken {
		mt.RegisterResponder(http.MethodPost, mockURL("/webhooks/wbh_1/rotate-secret"), respond(http.StatusOK, []byte(body)))
		_, err := c.Webhooks.RotateSecret(ctxT(t), "wbh_1", connect.RotateWebhookSecretParams{})
		if err == nil {
			t.Errorf("broken answer %d decoded without error", i)
			continue
		}
		assertNoSecret(fmt.Sprintf("error of broken answer %d", i), err.Error())
		assertNoSecret(fmt.Sprintf("error of broken answer %d with %%+v", i), fmt.Sprintf("%+v", err))
	}
}

// deliveries waits until srv has made n successful deliveries and returns them.
func deliveries(t *testing.T, srv *connecttest.Server, n int) []connecttest.Delivery {
	t.Helper()
	var ok []connecttest.Delivery
	poll.Until(t, fmt.Sprintf("%d successful deliveries", n), func() bool {
		ok = ok[:0]
		for _, d := range srv.Deliveries() {
			if d.StatusCode == http.StatusOK {
				ok = append(ok, d)
			}
		}
		return len(ok) >= n
	})
	return ok
}

// Rotation end to end on connecttest: RotateSecret over real HTTP, then deliveries
// that the Verifier accepts with either secret during the overlap, and only with the
// new one once the old has expired.
func TestRotateSecretEndToEnd(t *testing.T) {
	t.Parallel()
	srv := newPersona(t)
	src, cxn, inq := srv.src, srv.cxn, srv.inq
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(receiver.Close)
	oldSecret := srv.AddWebhook(src, receiver.URL, connect.EventShareTokenOutboundCreated)
	c, err := srv.NewClient(src)
	if err != nil {
		t.Fatal(err)
	}
	wh, err := c.Webhooks.RotateSecret(ctxT(t), srv.WebhookID(oldSecret), connect.RotateWebhookSecretParams{ExpiresIn: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(wh.Secrets) != 2 || wh.Secrets[1].Value() != oldSecret || wh.Secrets[0].ExpiresAt != nil {
		t.Fatalf("secrets after rotation: %v", wh.Secrets)
	}
	newSecret := wh.Secrets[0].Value()
	if !strings.HasPrefix(newSecret, "wbhsec_") || newSecret == oldSecret {
		t.Fatalf("new secret %q", newSecret)
	}
	if exp := wh.Secrets[1].ExpiresAt; exp == nil || exp.Sub(srv.Now().Add(time.Hour)).Abs() > time.Second {
		t.Errorf("old secret expires at %v, want an hour from %v", exp, srv.Now())
	}
	if got := wh.ActiveSecrets(srv.Now()); !cmp.Equal(got, []string{newSecret, oldSecret}) {
		t.Errorf("ActiveSecrets = %d secrets", len(got))
	}
	verifiers := map[string]*connect.Verifier{}
	for name, secrets := range map[string][]string{"old": {oldSecret}, "new": {newSecret}, "both": wh.ActiveSecrets(srv.Now())} {
		verifiers[name] = newVerifier(t, secrets, connect.WithClock(srv.Now))
	}

	if _, err := c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq}); err != nil {
		t.Fatal(err)
	}
	during := deliveries(t, srv.Server, 1)[0]
	if n := len(strings.Fields(during.Signature)); n != 2 {
		t.Errorf("during the overlap the signature has %d groups, want 2", n)
	}
	for name, v := range verifiers {
		if _, err := v.ConstructEvent(during.Body, during.Signature); err != nil {
			t.Errorf("during the overlap the %s secret's verifier refused: %v", name, err)
		}
	}

	srv.Advance(time.Hour + time.Second)
	if _, err := c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq}); err != nil {
		t.Fatal(err)
	}
	afterwards := deliveries(t, srv.Server, 2)[1]
	if n := len(strings.Fields(afterwards.Signature)); n != 1 {
		t.Errorf("after the overlap the signature has %d groups, want 1", n)
	}
	if err := verifiers["old"].Verify(afterwards.Body, afterwards.Signature); !errors.Is(err, connect.ErrNoValidSignature) {
		t.Errorf("after the overlap the old secret's verifier: %v, want ErrNoValidSignature", err)
	}
	for _, name := range []string{"new", "both"} {
		if err := verifiers[name].Verify(afterwards.Body, afterwards.Signature); err != nil {
			t.Errorf("after the overlap the %s verifier refused: %v", name, err)
		}
	}
}
