package connect

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/persona-connect/connect-go/internal/jsonapi"
)

// WebhooksService manages the organization's webhooks. Persona's Connect integrations
// need one operation of it: rotating a webhook's signing secret.
type WebhooksService struct{ c *Client }

// Webhook is a webhook subscription as Persona answers it
// (persona-openapi/components/schemas/webhook-with-secret.yaml). It holds signing
// secrets: fmt, slog and encoding/json never show their values (see WebhookSecret).
type Webhook struct {
	ID          string // wbh_...
	Status      string // e.g. "enabled", "disabled"; open: unknown values decode as they come
	URL         string // where deliveries go
	Name        string // "" when null
	Description string // "" when null
	// Secrets are the secrets that sign deliveries, in Persona's order (the newest
	// first). After a rotation the old one is listed with its ExpiresAt until it expires:
	// deliveries carry one signature per secret meanwhile.
	Secrets                  []WebhookSecret
	APIVersion               string          // the Persona-Version deliveries are rendered in
	APIKeyInflection         string          // kebab, camel or snake: the keys of delivered bodies
	APIAttributesBlocklist   []string        // attributes left out of deliveries
	FileAccessTokenExpiresIn time.Duration   // file-access-token-expires-in: lifetime of file links in deliveries
	EnabledEvents            []EventName     // "*" means every event
	PayloadFilter            json.RawMessage // verbatim; nil when null
	IncludedAllowlist        json.RawMessage // verbatim; nil when null
	RelationshipAllowlist    json.RawMessage // verbatim; nil when null
	CreatedAt                time.Time
}

// ActiveSecrets returns the values of the secrets that still sign deliveries at now
// (no ExpiresAt, or one after now), newest first: what NewVerifier needs during a
// rotation.
func (w *Webhook) ActiveSecrets(now time.Time) []string {
	var out []string
	for _, s := range w.Secrets {
		if s.ExpiresAt == nil || now.Before(*s.ExpiresAt) {
			out = append(out, s.Value())
		}
	}
	return out
}

// WebhookSecret is one signing secret of a webhook (wbhsec_...). It is a secret: its
// value is kept out of every fmt verb, slog handler and encoding/json output; read it
// with Value.
type WebhookSecret struct {
	// value lives in a closure, as the Client's API key does: fmt prints a func as an
	// address and encoding/json skips unexported fields, so no printing path, not even
	// %+v of a struct that holds a WebhookSecret in an unexported field, reaches it.
	value func() string
	// ExpiresAt is when this secret stops signing; nil for the current secret.
	ExpiresAt *time.Time
}

// Value returns the secret itself, for NewVerifier. Never log it.
func (s WebhookSecret) Value() string {
	if s.value == nil {
		return ""
	}
	return s.value()
}

// String shows that a secret is there, never its value.
func (s WebhookSecret) String() string {
	if s.ExpiresAt == nil {
		return "WebhookSecret{[redacted]}"
	}
	return fmt.Sprintf("WebhookSecret{[redacted], expires %s}", s.ExpiresAt.UTC().Format(time.RFC3339))
}

// GoString is String: %#v must not print the value either.
func (s WebhookSecret) GoString() string { return s.String() }

// Format makes every fmt verb print String.
func (s WebhookSecret) Format(f fmt.State, _ rune) { fmt.Fprint(f, s.String()) }

// LogValue makes slog log the redacted form.
func (s WebhookSecret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// RotateWebhookSecretParams are the parameters of WebhooksService.RotateSecret.
type RotateWebhookSecretParams struct {
	// ExpiresIn is how long the current secret keeps signing deliveries next to the new
	// one, so that every replica's Verifier can learn the new secret before the old one
	// stops working. Whole seconds; 0 leaves it to Persona's default (the spec does not
	// state it: set it). connecttest retires the old secret at once for 0.
	ExpiresIn time.Duration
}

func (p RotateWebhookSecretParams) validate() error {
	if p.ExpiresIn < 0 {
		return invalidParam("ExpiresIn", "must not be negative")
	}
	if p.ExpiresIn%time.Second != 0 {
		return invalidParam("ExpiresIn", "must be whole seconds")
	}
	return nil
}

// body checks p and builds RotateSecret's request body.
func (p RotateWebhookSecretParams) body() (any, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	var body rotateSecretRequest
	if p.ExpiresIn > 0 {
		body.Meta = &rotateSecretMeta{ExpiresInSeconds: int64(p.ExpiresIn / time.Second)}
	}
	return body, nil
}

// rotateSecretRequest is the exact request body of
// persona-openapi/paths/webhooks_{webhook-id}_rotate-secret.yaml: only
// meta.expires-in-seconds, and no meta at all when it is left to Persona.
type rotateSecretRequest struct {
	Meta *rotateSecretMeta `json:"meta,omitempty"`
}

type rotateSecretMeta struct {
	ExpiresInSeconds int64 `json:"expires-in-seconds"`
}

const webhooksPath = "/webhooks"

var webhookIDs = newIDKind("webhook id", webhookPrefixes, webhooksPath)

// RotateSecret gives webhook id (wbh_...) a new signing secret and returns the webhook
// with its secrets: the new one first, the current one with its expiry (params'
// ExpiresIn). Deliveries carry a signature for each meanwhile, so a Verifier made with
// either secret keeps accepting them; roll the new one out, then drop the old.
func (s *WebhooksService) RotateSecret(ctx context.Context, id string, params RotateWebhookSecretParams, opts ...RequestOption) (*Webhook, error) {
	return sendByID(ctx, s.c, webhookIDs, "Webhooks.RotateSecret", http.MethodPost, id, "/rotate-secret", nil, params.body, opts, (*webhookWire).decode)
}

// webhookWire is persona-openapi/components/schemas/webhook-with-secret.yaml.
type webhookWire struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes struct {
		Status      string  `json:"status"`
		URL         string  `json:"url"`
		Name        *string `json:"name"`
		Description *string `json:"description"`
		// Secret is deprecated in favor of Secrets (the spec's words); it is read only
		// when Secrets is absent.
		Secret  string `json:"secret"`
		Secrets []struct {
			Value     string    `json:"value"`
			ExpiresAt *wireTime `json:"expires-at"`
		} `json:"secrets"`
		APIVersion               string          `json:"api-version"`
		APIKeyInflection         string          `json:"api-key-inflection"`
		APIAttributesBlocklist   []*string       `json:"api-attributes-blocklist"`
		FileAccessTokenExpiresIn *int64          `json:"file-access-token-expires-in"`
		EnabledEvents            []string        `json:"enabled-events"`
		PayloadFilter            json.RawMessage `json:"payload-filter"`
		IncludedAllowlist        json.RawMessage `json:"included-allowlist"`
		RelationshipAllowlist    json.RawMessage `json:"relationship-allowlist"`
		CreatedAt                wireTime        `json:"created-at"` // see timestamps.go
	} `json:"attributes"`
}

func (w *webhookWire) decode() (*Webhook, error) {
	if w.ID == "" {
		return nil, fmt.Errorf("connect: decode webhook: no id")
	}
	a := &w.Attributes
	wh := &Webhook{
		ID:               w.ID,
		Status:           a.Status,
		URL:              a.URL,
		APIVersion:       a.APIVersion,
		APIKeyInflection: a.APIKeyInflection,
	}
	if err := parseTimes("decode webhook", w.ID, timeField{name: "created-at", w: &a.CreatedAt, t: &wh.CreatedAt}); err != nil {
		return nil, err
	}
	if a.Name != nil {
		wh.Name = *a.Name
	}
	if a.Description != nil {
		wh.Description = *a.Description
	}
	for i, s := range a.Secrets {
		var expiresAt *time.Time
		if err := parseTimes("decode webhook", w.ID, timeField{name: fmt.Sprintf("secrets[%d].expires-at", i), w: s.ExpiresAt, p: &expiresAt}); err != nil {
			return nil, err
		}
		wh.Secrets = append(wh.Secrets, newWebhookSecret(s.Value, expiresAt))
	}
	if len(a.Secrets) == 0 && a.Secret != "" {
		wh.Secrets = []WebhookSecret{newWebhookSecret(a.Secret, nil)}
	}
	for _, b := range a.APIAttributesBlocklist {
		if b != nil {
			wh.APIAttributesBlocklist = append(wh.APIAttributesBlocklist, *b)
		}
	}
	if a.FileAccessTokenExpiresIn != nil {
		wh.FileAccessTokenExpiresIn = time.Duration(*a.FileAccessTokenExpiresIn) * time.Second
	}
	for _, e := range a.EnabledEvents {
		wh.EnabledEvents = append(wh.EnabledEvents, EventName(e))
	}
	wh.PayloadFilter = rawOrNil(a.PayloadFilter)
	wh.IncludedAllowlist = rawOrNil(a.IncludedAllowlist)
	wh.RelationshipAllowlist = rawOrNil(a.RelationshipAllowlist)
	return wh, nil
}

// rawOrNil keeps a verbatim value, or nil for an absent or null one.
func rawOrNil(v json.RawMessage) json.RawMessage {
	if jsonapi.IsNull(v) {
		return nil
	}
	return v
}

// newWebhookSecret wraps a secret value so that nothing but Value shows it.
func newWebhookSecret(value string, expiresAt *time.Time) WebhookSecret {
	return WebhookSecret{value: func() string { return value }, ExpiresAt: expiresAt}
}
