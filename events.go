package connect

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/persona-connect/connect-go/internal/jsonapi"
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

// Inquiry events. The names are every inquiry.* value of enabled-events in Persona's
// components/schemas/webhook-request-attributes.yaml (persona-id/persona-openapi), plus
// inquiry.redacted, which Persona's event documentation lists but that enum does not.
// A source typically creates a share token on inquiry.completed or inquiry.approved.
const (
	EventInquiryCreated         EventName = "inquiry.created"
	EventInquiryExpired         EventName = "inquiry.expired"
	EventInquiryCompleted       EventName = "inquiry.completed"
	EventInquiryFailed          EventName = "inquiry.failed"
	EventInquiryMarkedForReview EventName = "inquiry.marked-for-review"
	EventInquiryApproved        EventName = "inquiry.approved"
	EventInquiryDeclined        EventName = "inquiry.declined"
	EventInquiryTransitioned    EventName = "inquiry.transitioned" // a dynamic-flow inquiry moved to its next step
	EventInquiryRedacted        EventName = "inquiry.redacted"
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

// errNotShareToken is returned by Event.ShareToken for other payloads.
var errNotShareToken = errors.New("connect: event payload is not a share token")

// shareTokenType is the JSON:API type of a share token resource.
const shareTokenType = "connect/share-token"

// ShareToken decodes the event's payload as a share token, as the receiving
// organization sees it. It fails unless payload.data is a connect/share-token.
func (e *Event) ShareToken() (*ShareToken, error) {
	if e.Object.Type != shareTokenType {
		return nil, fmt.Errorf("%w: %s is a %q", errNotShareToken, e.ID, e.Object.Type)
	}
	var res jsonapi.Resource
	if err := json.Unmarshal(e.Data, &res); err != nil {
		return nil, fmt.Errorf("connect: decode share token of event %s: %w", e.ID, err)
	}
	return decodeShareToken(&res)
}

// ParseEvent decodes an event body without verifying any signature: use it for events
// fetched from the Events API, or for bodies already verified. For webhook deliveries
// use Verifier.ConstructEvent. Keys may be in kebab, camel or snake case.
func ParseEvent(payload []byte) (*Event, error) {
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(payload, &doc); err != nil {
		return nil, fmt.Errorf("connect: parse event: %w", err)
	}
	return decodeEventData(doc.Data)
}

// decodeEventData decodes the "data" member of an event document.
func decodeEventData(data json.RawMessage) (*Event, error) {
	var res jsonapi.Resource
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("connect: parse event: %w", err)
	}
	return decodeEvent(&res)
}

// decodeEvent turns an event resource into an Event.
func decodeEvent(res *jsonapi.Resource) (*Event, error) {
	if res.Type != "event" || res.ID == "" {
		// The type is quoted (and cut short) to help debugging; nothing else of a body
		// that may not even be authentic goes into the error.
		return nil, fmt.Errorf("connect: parse event: data is not an event with an id (type %.40q)", res.Type)
	}
	d := attrDecoder{res: res}
	ev := &Event{
		ID:        res.ID,
		Name:      EventName(d.string("name")),
		CreatedAt: d.time("created-at"),
		Context:   d.raw("context"),
	}
	payload := d.raw("payload")
	if d.err != nil {
		return nil, d.err
	}
	if ev.Name == "" {
		return nil, fmt.Errorf("connect: parse event %s: attribute name is missing", ev.ID)
	}
	if payload != nil {
		var p struct {
			Data     json.RawMessage   `json:"data"`
			Included []json.RawMessage `json:"included"`
		}
		if err := json.Unmarshal(payload, &p); err != nil {
			return nil, fmt.Errorf("connect: parse event %s: payload: %w", ev.ID, err)
		}
		var obj jsonapi.Identifier
		if len(p.Data) > 0 && string(p.Data) != "null" {
			if err := json.Unmarshal(p.Data, &obj); err != nil {
				return nil, fmt.Errorf("connect: parse event %s: payload.data: %w", ev.ID, err)
			}
			ev.Data = p.Data
		}
		ev.Object = Ref{Type: obj.Type, ID: obj.ID}
		ev.Included = p.Included
	}
	return ev, nil
}
