package connecttest

import (
	"net/http"
	"slices"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// webhook is one organization's subscription: where to POST which events, signed with
// which secrets.
type webhook struct {
	id        string
	org       *org
	url       string
	events    []connect.EventName // empty, or holding allEvents: every event
	secrets   []webhookSecret     // newest first
	createdAt time.Time
}

// webhookSecret is a signing secret; a rotated-out one signs until expiresAt.
type webhookSecret struct {
	value     string
	expiresAt *time.Time
}

// allEvents in enabled-events subscribes to every event
// (persona-openapi/components/schemas/webhook-request-attributes.yaml: "Set `*` to
// enable all events"); the view of a webhook made with no names shows it too.
const allEvents connect.EventName = "*"

func (wh *webhook) subscribes(name connect.EventName) bool {
	return len(wh.events) == 0 || slices.Contains(wh.events, allEvents) || slices.Contains(wh.events, name)
}

// liveSecrets are the secrets that sign at now, newest first.
func (wh *webhook) liveSecrets(now time.Time) []webhookSecret {
	return slices.DeleteFunc(slices.Clone(wh.secrets), func(sec webhookSecret) bool { return !sec.live(now) })
}

// AddWebhook subscribes o to events (none, or "*" as in Persona's enabled-events:
// every event) at url, which may be plain http on loopback, and returns the webhook's
// signing secret (wbhsec_...). Events recorded from now on are delivered with
// Persona-Signature, retried on non-2xx answers and timeouts.
func (s *Server) AddWebhook(o *Organization, url string, events ...connect.EventName) (secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	wh := &webhook{
		id: newID("wbh_"), org: s.mustOrgLocked(o), url: url,
		events:    append([]connect.EventName(nil), events...),
		secrets:   []webhookSecret{{value: newID("wbhsec_")}},
		createdAt: s.nowLocked(),
	}
	s.webhooks[wh.id] = wh
	return wh.secrets[0].value
}

// RotateWebhookSecret gives the webhook that signs with secret a new secret and
// returns it. The webhook's current secret (the newest, which secret usually is) keeps
// signing, next to the new one (two t=..,v1=.. groups separated by a space, newest
// first), until oldExpiresIn has passed on the server clock; 0 or less retires it at
// once. Secrets already being retired keep their own expiry. It panics when no webhook
// signs with secret. The API's POST /webhooks/{id}/rotate-secret (connect's
// WebhooksService.RotateSecret) rotates the same way.
func (s *Server) RotateWebhookSecret(secret string, oldExpiresIn time.Duration) (newSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	wh, i := s.webhookGivenLocked(secret)
	if wh == nil || !wh.secrets[i].live(now) {
		panic("connecttest: RotateWebhookSecret: no webhook signs with the given secret")
	}
	return wh.rotateLocked(now, oldExpiresIn)
}

// WebhookID returns the id (wbh_...) of the webhook that was given secret, by AddWebhook
// or by a rotation, whether the secret still signs or not: what a test passes to
// connect's WebhooksService.RotateSecret. It panics when no webhook of this server was
// ever given secret.
func (s *Server) WebhookID(secret string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	wh, _ := s.webhookGivenLocked(secret)
	if wh == nil {
		panic("connecttest: WebhookID: no webhook was given the secret")
	}
	return wh.id
}

// webhookGivenLocked returns the webhook that was given secret and the secret's index
// in its secrets, or nil. Secrets are random, so at most one webhook holds it.
func (s *Server) webhookGivenLocked(secret string) (*webhook, int) {
	for _, wh := range s.webhooks {
		if i := slices.IndexFunc(wh.secrets, func(sec webhookSecret) bool { return sec.value == secret }); i >= 0 {
			return wh, i
		}
	}
	return nil, -1
}

func (sec webhookSecret) live(now time.Time) bool {
	return sec.expiresAt == nil || now.Before(*sec.expiresAt)
}

// rotateLocked retires the current secret, wh.secrets[0] (the newest, the only one
// without an expiry), after oldExpiresIn (at once when <= 0), puts a new secret in
// front and returns it. Secrets already expiring keep their own expiry. Callers hold
// s.mu.
func (wh *webhook) rotateLocked(now time.Time, oldExpiresIn time.Duration) string {
	until := now.Add(max(oldExpiresIn, 0))
	wh.secrets[0].expiresAt = &until
	wh.secrets = slices.Insert(wh.secrets, 0, webhookSecret{value: newID("wbhsec_")})
	return wh.secrets[0].value
}

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
	wh.rotateLocked(q.now, expiresIn)
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
		enabled = []connect.EventName{allEvents}
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
