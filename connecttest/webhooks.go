package connecttest

import (
	"time"

	connect "github.com/persona-connect/connect-go"
)

// webhook is one organization's subscription: where to POST which events, signed with
// which secrets.
type webhook struct {
	id      string
	org     *org
	url     string
	events  []connect.EventName // empty: every event
	secrets []webhookSecret     // newest first
}

// webhookSecret is a signing secret; a rotated-out one signs until expiresAt.
type webhookSecret struct {
	value     string
	expiresAt *time.Time
}

func (wh *webhook) subscribes(name connect.EventName) bool {
	if len(wh.events) == 0 {
		return true
	}
	for _, n := range wh.events {
		if n == name {
			return true
		}
	}
	return false
}

// activeSecrets are the secrets that sign at now, in header order.
func (wh *webhook) activeSecrets(now time.Time) []string {
	var out []string
	for _, sec := range wh.secrets {
		if sec.expiresAt == nil || now.Before(*sec.expiresAt) {
			out = append(out, sec.value)
		}
	}
	if !newestSecretFirst {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

// AddWebhook subscribes o to events (none: every event) at url, which may be plain
// http on loopback, and returns the webhook's signing secret (wbhsec_...). Events
// recorded from now on are delivered with Persona-Signature, retried on non-2xx
// answers and timeouts.
func (s *Server) AddWebhook(o *Organization, url string, events ...connect.EventName) (secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustBeOpenLocked()
	wh := &webhook{
		id: newID("wbh_"), org: s.mustOrgLocked(o), url: url,
		events:  append([]connect.EventName(nil), events...),
		secrets: []webhookSecret{{value: newID("wbhsec_")}},
	}
	s.webhooks = append(s.webhooks, wh)
	return wh.secrets[0].value
}

// RotateWebhookSecret gives the webhook that signs with secret a new secret and
// returns it. The old secret keeps signing, next to the new one (two t=..,v1=.. groups
// separated by a space, newest first), until oldExpiresIn has passed on the server
// clock; 0 or less retires it at once. It panics when no webhook signs with secret.
func (s *Server) RotateWebhookSecret(secret string, oldExpiresIn time.Duration) (newSecret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.nowLocked()
	for _, wh := range s.webhooks {
		for i, sec := range wh.secrets {
			if sec.value != secret || (sec.expiresAt != nil && !now.Before(*sec.expiresAt)) {
				continue
			}
			until := now.Add(max(oldExpiresIn, 0))
			wh.secrets[i].expiresAt = &until
			newSecret = newID("wbhsec_")
			wh.secrets = append([]webhookSecret{{value: newSecret}}, wh.secrets...)
			return newSecret
		}
	}
	panic("connecttest: RotateWebhookSecret: no webhook signs with the given secret")
}
