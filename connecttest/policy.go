package connecttest

import (
	"net/http"
	"time"
)

// This file is the one place that lists what the fake decides where Persona's
// documents (persona-openapi/ and API-NOTES.md) are silent or leave a choice open.
// Change a behaviour here and the rest of the package follows.

// Numbers the spec does state, kept here so that every limit lives in one file.
const (
	// defaultTTL is the share token lifetime when expires-in-seconds is omitted (spec:
	// "If omitted, defaults to 14 days").
	defaultTTL = 14 * 24 * time.Hour
	// minTTLSeconds and maxTTLSeconds bound expires-in-seconds (spec: 60..1814400).
	minTTLSeconds = 60
	maxTTLSeconds = 1814400
	// defaultRateLimit per defaultRateWindow is Persona's documented default, per
	// organization (one organization is one environment here).
	defaultRateLimit  = 300
	defaultRateWindow = time.Minute
	// idempotencyTTL is how long a stored answer is replayed (API-NOTES: 24 hours).
	idempotencyTTL = 24 * time.Hour
	// defaultPageSize and maxPageSize bound page[size] (API-NOTES: 1..100, default 10).
	defaultPageSize = 10
	maxPageSize     = 100
	// webhookRetries is how many times a failed delivery is retried after the first
	// attempt (API-NOTES: "up to 7 retries"), so Attempts-Left is 7 on the first try.
	webhookRetries = 7
	// defaultWebhookTimeout is Persona's 5-second window for a 2xx.
	defaultWebhookTimeout = 5 * time.Second
	// maxRequestBody caps what the fake reads of a request body.
	maxRequestBody = 1 << 20
)

// Choices where Persona is silent.
const (
	// statusIllegalTransition answers a redeem or an expire of a token that is not
	// `created`, with the title "Share token is <status>". 409 rather than 422: the
	// request is well formed, it conflicts with the token's current state (the spec's
	// conflict.yaml: "conflicts with another request"). The same status answers a
	// deactivate of an inactive connection and a reactivate of a non-inactive one.
	statusIllegalTransition = http.StatusConflict

	// statusWrongSide answers the right object asked by the wrong side of its
	// connection: the source redeeming, the destination expiring, the destination
	// creating a token over the connection or reactivating it.
	statusWrongSide = http.StatusForbidden

	// statusConnectionNotActive answers a create or a redeem over a connection that is
	// pending or inactive, with a pointer to /data/attributes/connection-id on create.
	// 422 rather than 403: the key is allowed, the action is not valid right now.
	statusConnectionNotActive = http.StatusUnprocessableEntity

	// statusIdempotencyMismatch answers a reused Idempotency-Key whose method, path or
	// body differ from the first request's (API-NOTES leaves 409 or 422 open; 422 is
	// the status of "invalid parameter" in the spec's responses).
	statusIdempotencyMismatch = http.StatusUnprocessableEntity

	// defaultRedeemDelay is how long a redemption stays pending (WithRedeemDelay).
	defaultRedeemDelay = 20 * time.Millisecond

	// rotateDefaultExpiresIn is how long the current secret keeps signing after a
	// POST /webhooks/{id}/rotate-secret without meta.expires-in-seconds. The spec makes
	// the member optional and states no default; the fake retires the old secret at
	// once, the least forgiving reading, so a test that forgets to ask for an overlap
	// sees its old Verifier fail instead of passing by luck.
	rotateDefaultExpiresIn = time.Duration(0)

	// webhookStatus is the status every webhook of the fake reports: deliveries are
	// always on (the spec's example shows "disabled"; the fake has no way to disable).
	webhookStatus = "enabled"

	// webhookFileAccessTokenTTL is file-access-token-expires-in (the spec's example:
	// 21600 seconds). Deliveries of the fake carry no file links.
	webhookFileAccessTokenTTL = 6 * time.Hour

	// defaultWebhookRetryDelay is the wait before the first retry of a failed
	// delivery; each further retry waits twice as long as the one before (Persona's
	// real schedule is 3 s, 64 s, ... which no test wants to wait for).
	defaultWebhookRetryDelay = 20 * time.Millisecond
)

// Behaviour choices that are not numbers. Each is read by the code named.
const (
	// redeemFailedAgain: a failed token cannot be redeemed again (redeem answers
	// statusIllegalTransition). A retry needs a new token from the source.
	redeemFailedAgain = false

	// expirePending: a pending token cannot be expired (the redemption has started;
	// expire answers statusIllegalTransition). Only `created` tokens expire.
	expirePending = false

	// everyOrgCanPeek: every organization has the source-data peek capability, so a
	// destination's GET ...?peek-source-data=true always carries source-data. The
	// source asking to peek gets the token without source-data (spec: only for the
	// destination), not an error.
	everyOrgCanPeek = true

	// newestSecretFirst: during a rotation the signature groups are ordered newest
	// secret first. Verifiers must accept either order.
	newestSecretFirst = true

	// inquiryCompletedEvent: CreateInquiry, which makes an inquiry that is already
	// completed, records one inquiry.completed event for the owning organization, as
	// Persona does when an end user finishes an inquiry; a source backend reacts to it
	// by creating a share token (API-NOTES, "Events and webhooks"). Its payload.data is
	// the inquiry resource (sourceObject.inquiryView). The fake records no other
	// inquiry.* event (created, approved...: it has no inquiry lifecycle), and none for
	// the inquiry a clone makes in the destination organization: Persona's documents
	// do not say whether an imported inquiry fires its own events.
	inquiryCompletedEvent = true

	// fieldMappingsOnClone: meta.field-mappings on a clone (no destination-id) answers
	// 422 with pointer /meta/field-mappings (spec: "omit them from clone requests").
	fieldMappingsOnClone = http.StatusUnprocessableEntity
)

// Behaviour choices written as prose, because they shape code rather than a value:
//
//   - A missing required attribute (connection-id or source-id on a share token,
//     destination-organization-id on a connection) answers 400 Bad Request, one error
//     item per missing attribute with details "data.attributes.<name> is missing", as
//     the spec's bad-request examples show (its 400 items have no source.pointer). So
//     does an attribute of the wrong JSON type, an unknown attribute or member anywhere
//     in a body, or a body that is not JSON. A present value that is not acceptable
//     (a TTL out of range, a source-id of the wrong kind) answers 422 with a pointer.
//     JSON null counts as absent for optional members. Bodies are decoded by
//     encoding/json, so a member name that matches only without regard to case
//     ("Data") counts as that member, and an unknown member's details name it without
//     its path.
//   - An id the caller cannot see (a share token or connection of which it is neither
//     side, a source or destination of another organization) answers 404 "Record not
//     found" exactly like one that does not exist, so its existence is not disclosed;
//     in a body, the details name the attribute. A hydrate destination-id answers 422
//     with a pointer instead (it is a parameter of an action on a visible token).
//   - Hydrate: any Account, Transaction or Inquiry source may hydrate any Account,
//     Transaction or Inquiry of the destination organization (the spec lists both sets
//     without pairing them). Fields whose names match are copied; field mappings copy
//     the others; unknown field names in a mapping are ignored.
//   - Clone creates a new object of the source's kind in the destination organization
//     and sets `destination` when the redemption finishes; a failed clone leaves it null.
//   - A redemption fails, in this order: with a reason forced by FailRedemption or
//     WithRedeemFailure; with unrecoverable_error when the connection is no longer
//     active; with source_not_found when the source was deleted (DeleteObject); with
//     source_redacted when it was redacted (RedactObject); with import_failed when a
//     hydrate's destination object was deleted while pending.
//   - Deactivation "prevents further access through the connection" (spec): beyond
//     refusing new tokens and redemptions, the destination's peek-source-data answers
//     422 "Connection is not active" while the connection is not active, and a
//     redemption still pending fails as above. Reading the token without its data, and
//     the source's own peek, still work.
//   - A token past its expires-at reads as `expired` with updated-at = expires-at, on
//     every read; pending tokens do not expire. expires-at is always set (the spec's
//     examples show null in places; the schema calls it "When this share token
//     expires").
//   - Creating a connection to your own organization answers 422; a second connection
//     to an organization with a pending or active one answers 409 ("Resource already
//     exists as an active resource", the spec's conflict example), and so does
//     reactivating an inactive one while another to the same organization is pending or
//     active: by API an organization has at most one live connection to another.
//   - page[after] and page[before] take the id of any object of the listed kind the
//     caller can see, also one the filters exclude; an unknown id, both cursors at
//     once, a page[size] outside 1..100 or not an integer, an unknown filter key, an
//     unknown status or direction value, or `include` on a list answers 400.
//   - Connections carry no relationships, as in every spec example (the schema would
//     allow a creator).
//   - Single-resource answers carry only `data` (as in the spec's examples); lists carry
//     `data` and `links`. Not modeled, though the spec lists them: `include` on a
//     single-resource operation and sparse fieldsets (`fields[TYPE]`) are accepted and
//     ignored, so an answer never carries `included` (not even the empty array the spec
//     promises for an empty `include`) and always carries every attribute. Events carry
//     context = {}; in webhook deliveries their payload also carries included = []
//     (API-NOTES), in the Events API only data (event.yaml).
//   - Idempotency-Key is honoured on POSTs only; on GETs it is ignored. The stored answer
//     is replayed with the same status and body, a new Request-Id and fresh RateLimit
//     headers. Bodies are compared as JSON (key order and spacing do not matter).
//   - 401 answers carry only Content-Type (the spec's unauthorized.yaml lists no
//     headers; the others are documented "on every authenticated response").
//   - Persona-Webhook-First-Attempted-At is a timestamp in the same format as the
//     bodies' (2006-01-02T15:04:05.000Z).
//   - POST /webhooks/{id}/rotate-secret: a webhook of another organization answers 404;
//     a negative meta.expires-in-seconds answers 422 with its pointer; a rotation gives
//     the current secret (the one without an expiry) the requested expiry and leaves
//     secrets already expiring as they are. The answer, like the webhook's own view,
//     lists only the secrets that still sign, newest first, with `secret` (deprecated)
//     the newest. Webhooks made by AddWebhook carry name and description null, the
//     Persona-Version DefaultAPIVersion, kebab keys, no blocklist and no payload filter.
//   - Event payloads are snapshots: payload.data is the token as the receiving
//     organization saw it when the event was recorded.
//   - Key-Inflection (the spec: "Determines casing for the API response"; Persona's Key
//     Inflection page: requests are accepted "using camelCase, kebab-case, and
//     snake_case"): camel or snake writes every object key of the answer in that case,
//     payload data and source data included; string values stay as they are, so links
//     and error pointers ("/data/attributes/connection-id") keep kebab names. No header
//     or kebab answers kebab, as does an API key, whose own default inflection (a
//     dashboard setting) the fake does not model; any other value answers 400. Request
//     bodies may use any of the three: their keys are folded to kebab before anything
//     reads them, so Idempotency-Key sees a retry in another case as the same request
//     and error details name members in kebab. Query parameters keep the spec's kebab
//     names. Webhook deliveries are kebab whatever a request asked. Answers are
//     rewritten by the fake's own code (inflection.go); request bodies are folded by
//     the SDK's internal/jsonapi.KebabKeys, which changes nothing in the kebab bodies
//     the SDK sends, so the spec tests still hold the fake to the spec on their own.
