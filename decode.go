package connect

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/persona-connect/connect-go/internal/jsonapi"
)

// attrDecoder reads typed attributes out of a resource and keeps the first error, so
// that a decode function reads as a list of fields. Unknown attributes are ignored and
// enum values are taken as they come: decoding is lenient, encoding is strict.
type attrDecoder struct {
	res *jsonapi.Resource
	err error
}

func (d *attrDecoder) fail(key, want string) {
	if d.err == nil {
		d.err = fmt.Errorf("connect: decode %s %s: attribute %s is not %s", d.res.Type, d.res.ID, key, want)
	}
}

func (d *attrDecoder) string(key string) string {
	s, ok := d.res.Attributes.String(jsonapi.Canonical(key))
	if !ok {
		d.fail(key, "a string")
	}
	return s
}

// time decodes a required timestamp; a missing one is the zero time.
func (d *attrDecoder) time(key string) time.Time {
	if t := d.timePtr(key); t != nil {
		return *t
	}
	return time.Time{}
}

// timePtr decodes a nullable timestamp (RFC 3339, milliseconds and Z on Persona's side).
func (d *attrDecoder) timePtr(key string) *time.Time {
	s := d.string(key)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d.fail(key, "an RFC 3339 time")
		return nil
	}
	t = t.UTC()
	return &t
}

func (d *attrDecoder) raw(key string) json.RawMessage {
	return d.res.Attributes.Raw(jsonapi.Canonical(key))
}

// ref returns the first present relationship among names (kebab spelling).
func (d *attrDecoder) ref(names ...string) *Ref {
	canon := make([]string, len(names))
	for i, n := range names {
		canon[i] = jsonapi.Canonical(n)
	}
	id := d.res.Ref(canon...)
	if id == nil {
		return nil
	}
	return &Ref{Type: id.Type, ID: id.ID}
}

// decodeShareToken turns a connect/share-token resource into a ShareToken.
func decodeShareToken(res *jsonapi.Resource) (*ShareToken, error) {
	d := attrDecoder{res: res}
	t := &ShareToken{
		ID:            res.ID,
		Status:        ShareTokenStatus(d.string("status")),
		Direction:     Direction(d.string("direction")),
		RedeemMode:    RedeemMode(d.string("redeem-mode")),
		FailureReason: FailureReason(d.string("failure-reason")),
		CreatedAt:     d.time("created-at"),
		UpdatedAt:     d.time("updated-at"),
		PendingAt:     d.timePtr("pending-at"),
		RedeemedAt:    d.timePtr("redeemed-at"),
		ExpiresAt:     d.timePtr("expires-at"),
		FailedAt:      d.timePtr("failed-at"),
		Creator:       d.ref("creator"),
		Source:        d.ref("source"),
		Destination:   d.ref("destination"),
		SourceData:    d.raw("source-data"),
	}
	// Persona's spec names the relationship "connection"; older guide pages call it
	// "connect-connection". Accept both.
	if c := d.ref("connection", "connect-connection"); c != nil {
		t.ConnectionID = c.ID
	}
	if d.err != nil {
		return nil, d.err
	}
	return t, nil
}

// decodeConnection turns a connect/connection resource into a Connection.
func decodeConnection(res *jsonapi.Resource) (*Connection, error) {
	d := attrDecoder{res: res}
	c := &Connection{
		ID:                        res.ID,
		Status:                    ConnectionStatus(d.string("status")),
		SourceOrganizationID:      d.string("source-organization-id"),
		DestinationOrganizationID: d.string("destination-organization-id"),
		CreatedAt:                 d.time("created-at"),
		UpdatedAt:                 d.time("updated-at"),
		Creator:                   d.ref("creator"),
	}
	if d.err != nil {
		return nil, d.err
	}
	return c, nil
}
