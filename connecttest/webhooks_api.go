package connecttest

import (
	"encoding/json"
	"net/http"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// rotateSecretShape is the request body of
// persona-openapi/paths/webhooks_{webhook-id}_rotate-secret.yaml.
func rotateSecretShape() *shape {
	return objectOf(map[string]*shape{
		"meta": objectOf(map[string]*shape{"expires-in-seconds": integerShape()}),
	})
}

// rotateWebhookSecret: POST /webhooks/{id}/rotate-secret. The current secret keeps
// signing for meta.expires-in-seconds (see rotateDefaultExpiresIn when omitted) next to
// a new one; the answer is the webhook with its secrets.
func (s *Server) rotateWebhookSecret(q *request) response {
	wh := s.visibleWebhookLocked(q.org, q.params[0])
	if wh == nil {
		return fail(http.StatusNotFound, "")
	}
	body, bad := parseBody(q.body, rotateSecretShape())
	if bad != nil {
		return *bad
	}
	expiresIn := rotateDefaultExpiresIn
	if n, ok := lookup(body, "meta", "expires-in-seconds").(json.Number); ok {
		secs, _ := n.Int64() // the shape check made sure it is an integer
		if secs < 0 {
			return invalidAt("/meta/expires-in-seconds", "expires-in-seconds must not be negative")
		}
		expiresIn = time.Duration(secs) * time.Second
	}
	// The secret that signs without an expiry is the current one; it is always the
	// newest, since every rotation puts the new secret in front.
	current := -1
	for i, sec := range wh.secrets {
		if sec.expiresAt == nil {
			current = i
			break
		}
	}
	if current < 0 {
		// Unreachable through the fake's own operations; answered rather than assumed.
		return fail(http.StatusConflict, "the webhook has no current secret")
	}
	wh.rotateLocked(current, q.now, expiresIn)
	return ok(http.StatusOK, object{{"data", wh.view(q.now)}})
}

// visibleWebhookLocked returns webhook id if o owns it, or nil.
func (s *Server) visibleWebhookLocked(o *org, id string) *webhook {
	for _, wh := range s.webhooks {
		if wh.id == id && wh.org == o {
			return wh
		}
	}
	return nil
}

// view is the webhook resource with its secrets
// (persona-openapi/components/schemas/webhook-with-secret.yaml), in the member order of
// components/examples/webhook-created.yaml. Only secrets that still sign at now are
// listed; the deprecated `secret` is the newest of them.
func (wh *webhook) view(now time.Time) object {
	var secrets []object
	for _, sec := range wh.secrets {
		if sec.live(now) {
			secrets = append(secrets, object{{"value", sec.value}, {"expires-at", sec.expiresAt}})
		}
	}
	var current any
	if len(secrets) > 0 {
		current = secrets[0][0].value
	}
	enabled := []any{"*"}
	if len(wh.events) > 0 {
		enabled = enabled[:0]
		for _, n := range wh.events {
			enabled = append(enabled, string(n))
		}
	}
	if secrets == nil {
		secrets = []object{}
	}
	return object{
		{"type", "webhook"},
		{"id", wh.id},
		{"attributes", object{
			{"status", webhookStatus},
			{"url", wh.url},
			{"name", nil},
			{"description", nil},
			{"secret", current},
			{"secrets", secrets},
			{"api-version", connect.DefaultAPIVersion},
			{"api-key-inflection", "kebab"},
			{"api-attributes-blocklist", []any{}},
			{"file-access-token-expires-in", int(webhookFileAccessTokenTTL / time.Second)},
			{"enabled-events", enabled},
			{"payload-filter", nil},
			{"included-allowlist", object{{"state", "include_none"}}},
			{"relationship-allowlist", object{{"state", "include_all"}}},
			{"created-at", wh.createdAt},
		}},
	}
}
