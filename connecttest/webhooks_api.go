package connecttest

import (
	"net/http"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// rotateWebhookSecret: POST /webhooks/{id}/rotate-secret. The current secret keeps
// signing for meta.expires-in-seconds (see rotateDefaultExpiresIn when omitted) next to
// a new one; the answer is the webhook with its secrets.
func (s *Server) rotateWebhookSecret(q *request, wh *webhook) response {
	var body struct { // webhooks_{webhook-id}_rotate-secret.yaml
		Meta struct {
			ExpiresInSeconds *int64 `json:"expires-in-seconds"`
		} `json:"meta"`
	}
	if bad := decodeBody(q.body, &body); bad != nil {
		return *bad
	}
	expiresIn := rotateDefaultExpiresIn
	if secs := body.Meta.ExpiresInSeconds; secs != nil {
		if *secs < 0 {
			return invalidAt("/meta/expires-in-seconds", "expires-in-seconds must not be negative")
		}
		expiresIn = time.Duration(*secs) * time.Second
	}
	// The current secret, the one that signs without an expiry, is always the newest:
	// every rotation puts the new secret in front.
	wh.rotateLocked(0, q.now, expiresIn)
	return ok(http.StatusOK, document{Data: wh.view(q.now)})
}

func (s *Server) visibleWebhookLocked(q *request, id string) *webhook {
	if wh := s.webhooks[id]; wh != nil && wh.org == q.org {
		return wh
	}
	return nil
}

// view is the webhook resource with the secrets that still sign at now (policy.go)
// (persona-openapi/components/schemas/webhook-with-secret.yaml), in the member order of
// components/examples/webhook-created.yaml.
func (wh *webhook) view(now time.Time) resource {
	enabled := wh.events
	if len(enabled) == 0 {
		enabled = []connect.EventName{"*"} // every event
	}
	attrs := webhookAttributes{
		Status:                   webhookStatus,
		URL:                      wh.url,
		Secret:                   &wh.secrets[0].value, // the current secret is the newest
		Secrets:                  []webhookSecretView{},
		APIVersion:               connect.DefaultAPIVersion,
		APIKeyInflection:         "kebab",
		APIAttributesBlocklist:   []string{},
		FileAccessTokenExpiresIn: int(webhookFileAccessTokenTTL / time.Second),
		EnabledEvents:            enabled,
		IncludedAllowlist:        allowlist{"include_none"},
		RelationshipAllowlist:    allowlist{"include_all"},
		CreatedAt:                timestamp(wh.createdAt),
	}
	for _, sec := range wh.liveSecrets(now) {
		attrs.Secrets = append(attrs.Secrets, webhookSecretView{sec.value, nullTime(sec.expiresAt)})
	}
	return resource{Type: "webhook", ID: wh.id, Attributes: attrs}
}

// webhookAttributes are a webhook's attributes with its secrets; the nil ones are null.
type webhookAttributes struct {
	Status                   string              `json:"status"`
	URL                      string              `json:"url"`
	Name                     *string             `json:"name"`
	Description              *string             `json:"description"`
	Secret                   *string             `json:"secret"` // deprecated: the newest of Secrets
	Secrets                  []webhookSecretView `json:"secrets"`
	APIVersion               string              `json:"api-version"`
	APIKeyInflection         string              `json:"api-key-inflection"`
	APIAttributesBlocklist   []string            `json:"api-attributes-blocklist"`
	FileAccessTokenExpiresIn int                 `json:"file-access-token-expires-in"`
	EnabledEvents            []connect.EventName `json:"enabled-events"`
	PayloadFilter            *string             `json:"payload-filter"`
	IncludedAllowlist        allowlist           `json:"included-allowlist"`
	RelationshipAllowlist    allowlist           `json:"relationship-allowlist"`
	CreatedAt                string              `json:"created-at"`
}

// webhookSecretView is one signing secret; expires-at is null for the current one.
type webhookSecretView struct {
	Value     string  `json:"value"`
	ExpiresAt *string `json:"expires-at"`
}

// allowlist is an included-allowlist or relationship-allowlist.
type allowlist struct {
	State string `json:"state"`
}
