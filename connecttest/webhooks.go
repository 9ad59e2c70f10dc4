package connecttest

import (
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
	events    []connect.EventName // empty: every event
	secrets   []webhookSecret     // newest first
	createdAt time.Time
}

// webhookSecret is a signing secret; a rotated-out one signs until expiresAt.
type webhookSecret struct {
	value     string
	expiresAt *time.Time
}

func (wh *webhook) subscribes(name connect.EventName) bool {
	return len(wh.events) == 0 || slices.Contains(wh.events, name)
}

// liveSecrets are the secrets that sign at now, newest first.
func (wh *webhook) liveSecrets(now time.Time) []webhookSecret {
	return slices.DeleteFunc(slices.Clone(wh.secrets), func(sec webhookSecret) bool { return !sec.live(now) })
}

// AddWebhook subscribes o to events (none: every event) at url, which may be plain
// http on loopback, and returns the webhook's signing secret (wbhsec_...). Events
// recorded from now on are delivered with Persona-Signature, retried on non-2xx
// answers and timeouts.
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
// returns it. The old secret keeps signing, next to the new one (two t=..,v1=.. groups
// separated by a space, newest first), until oldExpiresIn has passed on the server
// clock; 0 or less retires it at once. It panics when no webhook signs with secret.
// The API's POST /webhooks/{id}/rotate-secret (connect's WebhooksService.RotateSecret)
// rotates the same way.
func (s *Server) RotateWebhookSecret(secret string, oldExpiresIn time.Duration) (newSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	wh, i := s.webhookGivenLocked(secret)
	if wh == nil || !wh.secrets[i].live(now) {
		panic("connecttest: RotateWebhookSecret: no webhook signs with the given secret")
	}
	return wh.rotateLocked(i, now, oldExpiresIn)
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

// rotateLocked retires secret i after oldExpiresIn (at once when <= 0), puts a new
// secret in front and returns it. Secrets already expiring keep their own expiry.
// Callers hold s.mu.
func (wh *webhook) rotateLocked(i int, now time.Time, oldExpiresIn time.Duration) string {
	until := now.Add(max(oldExpiresIn, 0))
	wh.secrets[i].expiresAt = &until
	newSecret := newID("wbhsec_")
	wh.secrets = append([]webhookSecret{{value: newSecret}}, wh.secrets...)
	return newSecret
}
