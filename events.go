package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/persona-connect/connect-go/internal/jsonapi"
	"github.com/persona-connect/connect-go/internal/safetext"
)

// EventName is the name of a Persona event. Names are open: an event this SDK does not
// know decodes as its string.
type EventName string

// Connect events. Exactly four exist: the outbound ones go to the source organization,
// the inbound ones to the destination. The *-redeemed events fire when redemption has
// finished; expired, failed and pending tokens send no event.
const (
	EventShareTokenOutboundCreated  EventName = "connect/share-token.outbound-created"
	EventShareTokenOutboundRedeemed EventName = "connect/share-token.outbound-redeemed"
	EventShareTokenInboundCreated   EventName = "connect/share-token.inbound-created"
	EventShareTokenInboundRedeemed  EventName = "connect/share-token.inbound-redeemed"
)

// Inquiry events: every inquiry.* name of enabled-events in Persona's
// components/schemas/webhook-request-attributes.yaml (TestEventNamesCoverTheSpec checks
// that none is missing). A source typically creates a share token on
// inquiry.completed or inquiry.approved.
const (
	EventInquiryCreated         EventName = "inquiry.created"
	EventInquiryStarted         EventName = "inquiry.started" // the end user began the inquiry
	EventInquiryExpired         EventName = "inquiry.expired"
	EventInquiryCompleted       EventName = "inquiry.completed"
	EventInquiryFailed          EventName = "inquiry.failed"
	EventInquiryMarkedForReview EventName = "inquiry.marked-for-review"
	EventInquiryApproved        EventName = "inquiry.approved"
	EventInquiryDeclined        EventName = "inquiry.declined"
	EventInquiryTransitioned    EventName = "inquiry.transitioned" // a dynamic-flow inquiry moved to its next step
	EventInquiryRedacted        EventName = "inquiry.redacted"
	EventInquiryUpdatedTags     EventName = "inquiry.updated-tags"
)

// Reusable Persona events, also inquiry.* names of that enum: an inquiry created,
// updated or used an end user's Reusable Persona, or its assurance check failed.
const (
	EventInquiryReusablePersonaCreated         EventName = "inquiry.reusable-persona-created"
	EventInquiryReusablePersonaUpdated         EventName = "inquiry.reusable-persona-updated"
	EventInquiryReusablePersonaUsed            EventName = "inquiry.reusable-persona-used"
	EventInquiryReusablePersonaAssuranceFailed EventName = "inquiry.reusable-persona-assurance-failed"
)

// Event is one Persona event, as delivered to a webhook or returned by the Events API.
type Event struct {
	ID        string // evt_...: deliveries are at least once, dedupe on it
	Name      EventName
	CreatedAt time.Time
	Object    Ref               // the type and id of payload.data
	Data      json.RawMessage   // payload.data, verbatim: the object as the receiver sees it
	Included  []json.RawMessage // payload.included, verbatim
	Context   json.RawMessage   // event-specific context, verbatim; nil when absent
}

// eventWire is persona-openapi/components/schemas/event.yaml.
type eventWire struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes struct {
		Name      string          `json:"name"`
		Payload   eventPayload    `json:"payload"`
		CreatedAt wireTime        `json:"created-at"` // see timestamps.go
		Context   json.RawMessage `json:"context"`
		// created-at is the one key of an event's own with two words, so the one that
		// differs between inflections (a webhook's is set in Persona's dashboard): an
		// event is decoded as sent, never folded, and reads it in each.
		CreatedAtCamel wireTime `json:"createdAt"`
		CreatedAtSnake wireTime `json:"created_at"`
	} `json:"attributes"`
}

// verbatimKeys makes eventWire a verbatimWire (request.go): the Events API's answers
// are decoded as delivered, as ParseEvent decodes a delivery, so that Data, Included
// and Context hold the keys Persona sent, in the organization's inflection, and a
// replayed event reads as its delivery did.
func (*eventWire) verbatimKeys() {}

type eventPayload struct {
	Data     json.RawMessage   `json:"data"`
	Included []json.RawMessage `json:"included"`
}

func (w *eventWire) decode() (*Event, error) {
	if w.Type != "event" || w.ID == "" {
		// Only the type, cut short, goes into the error: the body may not even be
		// authentic.
		return nil, fmt.Errorf("connect: parse event: data is not an event with an id (type %.40q)", w.Type)
	}
	if strings.IndexFunc(w.ID, unicode.IsSpace) >= 0 || !safetext.IsClean(w.ID) {
		// The id goes into error texts, log lines and Deduper keys as it is, so one
		// that could forge a line or show as another is refused, and not repeated.
		return nil, fmt.Errorf("connect: parse event: its id holds whitespace, control or format characters")
	}
	a := &w.Attributes
	if a.Name == "" {
		return nil, fmt.Errorf("connect: parse event %s: attribute name is missing", w.ID)
	}
	ev := &Event{ID: w.ID, Name: EventName(a.Name), Included: a.Payload.Included}
	for _, other := range []wireTime{a.CreatedAtCamel, a.CreatedAtSnake} {
		if a.CreatedAt == (wireTime{}) { // absent or null, not a bad value
			a.CreatedAt = other
		}
	}
	if err := parseTimes("parse event", w.ID, timeField{name: "created-at", w: &a.CreatedAt, t: &ev.CreatedAt}); err != nil {
		return nil, err
	}
	if !jsonapi.IsNull(a.Context) {
		ev.Context = a.Context
	}
	if !jsonapi.IsNull(a.Payload.Data) {
		if typ, id, ok := jsonapi.Identifier(a.Payload.Data); ok {
			ev.Object = Ref{Type: typ, ID: id}
		} else if err := json.Unmarshal(a.Payload.Data, &ev.Object); err != nil {
			return nil, fmt.Errorf("connect: parse event %s: payload.data: %w", w.ID, valueFree(err))
		}
		ev.Data = a.Payload.Data
	}
	return ev, nil
}

// ErrNotShareToken is wrapped by the error of Event.ShareToken when the event's
// payload.data is not a share token (an inquiry event, say).
var ErrNotShareToken = errors.New("connect: event payload is not a share token")

// shareTokenType is the JSON:API type of a share token resource.
const shareTokenType = "connect/share-token"

// ShareToken decodes the event's payload as a share token, as the receiving
// organization sees it. When payload.data is not a connect/share-token the error wraps
// ErrNotShareToken.
func (e *Event) ShareToken() (*ShareToken, error) {
	if e.Object.Type != shareTokenType {
		return nil, fmt.Errorf("%w: %s is a %q", ErrNotShareToken, e.ID, e.Object.Type)
	}
	var w shareTokenWire
	if err := jsonapi.Unmarshal(e.Data, &w); err != nil {
		return nil, fmt.Errorf("connect: decode share token of event %s: %w", e.ID, valueFree(err))
	}
	return w.decode()
}

// ParseEvent decodes an event body without verifying any signature: use it for events
// fetched from the Events API, or for bodies already verified. For webhook deliveries
// use Verifier.ConstructEvent. Keys may be in kebab, camel or snake case.
func ParseEvent(payload []byte) (*Event, error) {
	// The body is decoded as delivered, not folded, so that Data, Included and Context
	// stay verbatim (eventWire reads created-at in any inflection).
	var doc eventDocument
	if err := json.Unmarshal(payload, &doc); err != nil {
		return nil, fmt.Errorf("connect: parse event: %w", valueFree(err))
	}
	if doc.Data == nil {
		return nil, fmt.Errorf("connect: parse event: no data")
	}
	return doc.Data.decode()
}

// eventDocument is an event body: a webhook delivery, or the Events API's answer to Get.
type eventDocument struct {
	Data *eventWire `json:"data"`
}

// ListEventsParams filter EventsService.List. Each list is sent comma-separated; an
// empty list does not filter.
type ListEventsParams struct {
	Names     []EventName
	ObjectIDs []string // ids of the objects the events are about (cnst_, inq_, ...)
	EventIDs  []string // evt_...
	PageSize  int      // 1..100 per request; 0 for the server default
	// CreatedAfter, when set, lists only events created strictly after it. The Events
	// API has no such filter and lists newest first, so List stops paging at the first
	// event created at or before it: a replay after a short outage costs a page or two,
	// not the organization's whole history.
	CreatedAfter time.Time
}

func (p *ListEventsParams) query() (url.Values, error) {
	if err := validatePageSize(p.PageSize); err != nil {
		return nil, err
	}
	q := pageQuery(p.PageSize)
	names := make([]string, len(p.Names))
	for i, n := range p.Names {
		if strings.TrimSpace(string(n)) == "" || strings.ContainsRune(string(n), ',') || hasControl(string(n)) {
			return nil, invalidParam(fmt.Sprintf("Names[%d]", i), "must be a non-empty event name without commas")
		}
		names[i] = string(n)
	}
	setIf(q, "filter[name]", strings.Join(names, ","))
	objectIDs, err := idList("ObjectIDs", p.ObjectIDs, nil)
	if err != nil {
		return nil, err
	}
	setIf(q, "filter[object-id]", objectIDs)
	eventIDs, err := idList("EventIDs", p.EventIDs, eventPrefixes)
	if err != nil {
		return nil, err
	}
	setIf(q, "filter[id]", eventIDs)
	return q, nil
}

// idList validates ids for a comma-separated filter and joins them.
func idList(field string, ids []string, prefixes []string) (string, error) {
	for i, id := range ids {
		name := fmt.Sprintf("%s[%d]", field, i)
		if err := validateID(name, id, prefixes); err != nil {
			return "", err
		}
		if strings.ContainsRune(id, ',') {
			return "", invalidParam(name, "must not contain a comma")
		}
	}
	return strings.Join(ids, ","), nil
}

const eventsPath = "/events"

var eventIDs = newIDKind("event id", eventPrefixes, eventsPath)

// List iterates over the organization's events, newest first, fetching pages lazily:
// use it to replay deliveries a webhook endpoint missed (dedupe on Event.ID, as for
// deliveries). params may be nil; it is copied. opts apply to every page's request
// (WithResponseInto: the last page fetched).
func (s *EventsService) List(ctx context.Context, params *ListEventsParams, opts ...RequestOption) iter.Seq2[*Event, error] {
	all := listResources(ctx, s.c, "Events.List", eventsPath, params, opts, (*eventWire).decode)
	if params == nil || params.CreatedAfter.IsZero() {
		return all
	}
	after := params.CreatedAfter // copied, as list copies the rest
	return func(yield func(*Event, error) bool) {
		for ev, err := range all {
			if err == nil && !ev.CreatedAt.After(after) {
				return // newest first: every later event is older still
			}
			if !yield(ev, err) || err != nil {
				return
			}
		}
	}
}

// Get reads one event.
func (s *EventsService) Get(ctx context.Context, id string, opts ...RequestOption) (*Event, error) {
	return sendByID(ctx, s.c, eventIDs, "Events.Get", http.MethodGet, id, "", nil, nil, opts, (*eventWire).decode)
}
