package connect

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/persona-connect/connect-go/internal/jsonapi"
)

// The wire structs below are the resources exactly as persona-openapi's schemas spell
// them in kebab case. Decoding is lenient: unknown attributes and relationships are
// ignored, enum values are kept as they come, and null is the zero value. Payloads in
// camel or snake case (webhooks) are folded to kebab by jsonapi.KebabKeys first.

// ref is a relationship's resource identifier. Its type values are open strings.
type ref = jsonapi.Rel[Ref]

// shareTokenWire is persona-openapi/components/schemas/connect-share-token.yaml.
type shareTokenWire struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes struct {
		Status        string          `json:"status"`
		Direction     string          `json:"direction"`
		RedeemMode    string          `json:"redeem-mode"`
		FailureReason string          `json:"failure-reason"`
		CreatedAt     time.Time       `json:"created-at"`
		UpdatedAt     time.Time       `json:"updated-at"`
		PendingAt     *time.Time      `json:"pending-at"`
		RedeemedAt    *time.Time      `json:"redeemed-at"`
		ExpiresAt     *time.Time      `json:"expires-at"`
		FailedAt      *time.Time      `json:"failed-at"`
		SourceData    json.RawMessage `json:"source-data"`
	} `json:"attributes"`
	Relationships struct {
		// Persona's spec names it "connection"; older guide pages call it
		// "connect-connection". Both are accepted, the first one wins.
		Connection        ref `json:"connection"`
		ConnectConnection ref `json:"connect-connection"`
		Creator           ref `json:"creator"`
		Source            ref `json:"source"`
		Destination       ref `json:"destination"`
	} `json:"relationships"`
}

func (w *shareTokenWire) decode() (*ShareToken, error) {
	if w.ID == "" {
		return nil, fmt.Errorf("connect: decode share token: no id")
	}
	a, r := &w.Attributes, &w.Relationships
	t := &ShareToken{
		ID:            w.ID,
		Status:        ShareTokenStatus(a.Status),
		Direction:     Direction(a.Direction),
		RedeemMode:    RedeemMode(a.RedeemMode),
		FailureReason: FailureReason(a.FailureReason),
		CreatedAt:     a.CreatedAt.UTC(),
		UpdatedAt:     a.UpdatedAt.UTC(),
		PendingAt:     utc(a.PendingAt),
		RedeemedAt:    utc(a.RedeemedAt),
		ExpiresAt:     utc(a.ExpiresAt),
		FailedAt:      utc(a.FailedAt),
		Creator:       r.Creator.Data,
		Source:        r.Source.Data,
		Destination:   r.Destination.Data,
	}
	if !jsonapi.IsNull(a.SourceData) {
		t.SourceData = a.SourceData
	}
	if c := r.Connection.Data; c != nil {
		t.ConnectionID = c.ID
	} else if c := r.ConnectConnection.Data; c != nil {
		t.ConnectionID = c.ID
	}
	return t, nil
}

// connectionWire is persona-openapi/components/schemas/connect-connection.yaml.
type connectionWire struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes struct {
		Status                    string    `json:"status"`
		SourceOrganizationID      string    `json:"source-organization-id"`
		DestinationOrganizationID string    `json:"destination-organization-id"`
		CreatedAt                 time.Time `json:"created-at"`
		UpdatedAt                 time.Time `json:"updated-at"`
	} `json:"attributes"`
	Relationships struct {
		Creator ref `json:"creator"`
	} `json:"relationships"`
}

func (w *connectionWire) decode() (*Connection, error) {
	if w.ID == "" {
		return nil, fmt.Errorf("connect: decode connection: no id")
	}
	a := &w.Attributes
	return &Connection{
		ID:                        w.ID,
		Status:                    ConnectionStatus(a.Status),
		SourceOrganizationID:      a.SourceOrganizationID,
		DestinationOrganizationID: a.DestinationOrganizationID,
		CreatedAt:                 a.CreatedAt.UTC(),
		UpdatedAt:                 a.UpdatedAt.UTC(),
		Creator:                   w.Relationships.Creator.Data,
	}, nil
}

// eventWire is persona-openapi/components/schemas/event.yaml. It is decoded from the
// body as delivered, never from a kebab-folded copy, so that Data stays verbatim; the
// one multi-word attribute is therefore spelled three ways.
type eventWire struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes struct {
		Name           string          `json:"name"`
		Payload        eventPayload    `json:"payload"`
		CreatedAt      string          `json:"created-at"`
		CreatedAtCamel string          `json:"createdAt"` // also matches "createdat": encoding/json folds case
		CreatedAtSnake string          `json:"created_at"`
		Context        json.RawMessage `json:"context"`
	} `json:"attributes"`
}

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
	a := &w.Attributes
	if a.Name == "" {
		return nil, fmt.Errorf("connect: parse event %s: attribute name is missing", w.ID)
	}
	ev := &Event{ID: w.ID, Name: EventName(a.Name), Included: a.Payload.Included}
	if created := firstNonEmpty(a.CreatedAt, a.CreatedAtCamel, a.CreatedAtSnake); created != "" {
		t, err := time.Parse(time.RFC3339Nano, created)
		if err != nil {
			return nil, fmt.Errorf("connect: parse event %s: created-at is not an RFC 3339 time", w.ID)
		}
		ev.CreatedAt = t.UTC()
	}
	if !jsonapi.IsNull(a.Context) {
		ev.Context = a.Context
	}
	if !jsonapi.IsNull(a.Payload.Data) {
		if typ, id, ok := jsonapi.Identifier(a.Payload.Data); ok {
			ev.Object = Ref{Type: typ, ID: id}
		} else if err := json.Unmarshal(a.Payload.Data, &ev.Object); err != nil {
			return nil, fmt.Errorf("connect: parse event %s: payload.data: %w", w.ID, err)
		}
		ev.Data = a.Payload.Data
	}
	return ev, nil
}

// utc puts a decoded timestamp in UTC, in place.
func utc(t *time.Time) *time.Time {
	if t != nil {
		*t = t.UTC()
	}
	return t
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
