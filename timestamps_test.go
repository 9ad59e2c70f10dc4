package connect_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// A timestamp that does not parse fails the decode with an error that names the object
// and the field but not the text: whatever stands in its place may be end-user data,
// and time's own parse error would quote it into the caller's log.
func TestBadTimestampErrorsNameTheFieldNotTheText(t *testing.T) {
	t.Parallel()
	const pii = "Alexander Sample 1977-07-17"
	token := func(field string) string {
		return `{"data":{"type":"connect/share-token","id":"cnst_TS1","attributes":{"status":"created",` +
			`"created-at":"2025-12-08T10:00:00.000Z","updated-at":"2025-12-08T10:00:00.000Z",` +
			`"` + field + `":"` + pii + `"}}}`
	}
	tests := []struct {
		name, path, body, want string
		call                   func(*connect.Client) error
	}{
		{
			name: "share token expires-at", path: "/connect/share-tokens/cnst_TS1",
			body: token("expires-at"),
			want: "decode share token cnst_TS1: expires-at is not an RFC 3339 time",
			call: func(c *connect.Client) error {
				_, err := c.ShareTokens.Get(context.Background(), "cnst_TS1")
				return err
			},
		},
		{
			name: "share token created-at", path: "/connect/share-tokens/cnst_TS1",
			body: strings.Replace(token("pending-at"), `"created-at":"2025-12-08T10:00:00.000Z"`, `"created-at":"`+pii+`"`, 1),
			want: "decode share token cnst_TS1: created-at is not an RFC 3339 time",
			call: func(c *connect.Client) error {
				_, err := c.ShareTokens.Get(context.Background(), "cnst_TS1")
				return err
			},
		},
		{
			name: "connection updated-at", path: "/connect/connections/cxn_TS1",
			body: `{"data":{"type":"connect/connection","id":"cxn_TS1","attributes":{"status":"active","updated-at":"` + pii + `"}}}`,
			want: "decode connection cxn_TS1: updated-at is not an RFC 3339 time",
			call: func(c *connect.Client) error {
				_, err := c.Connections.Get(context.Background(), "cxn_TS1")
				return err
			},
		},
		{
			name: "connection created-at not a string", path: "/connect/connections/cxn_TS1",
			body: `{"data":{"type":"connect/connection","id":"cxn_TS1","attributes":{"created-at":19770717,"updated-at":""}}}`,
			want: "decode connection cxn_TS1: created-at is not an RFC 3339 time",
			call: func(c *connect.Client) error {
				_, err := c.Connections.Get(context.Background(), "cxn_TS1")
				return err
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodGet, mockURL(tc.path), respond(http.StatusOK, []byte(tc.body)))
			err := tc.call(c)
			if err == nil {
				t.Fatal("decoded a body whose timestamp is not a time")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			assertNoText(t, err, pii+" 19770717")
		})
	}

	// The same in a share token that arrives in an event, as a webhook or from the
	// Events API hands it over, and in the event's own created-at.
	event := func(created, data string) []byte {
		return []byte(`{"data":{"type":"event","id":"evt_TS1","attributes":{"name":"connect/share-token.inbound-created",` +
			`"created-at":"` + created + `","payload":{"data":` + data + `}}}}`)
	}
	tok := strings.TrimSuffix(strings.TrimPrefix(token("failed-at"), `{"data":`), `}`)
	ev, err := connect.ParseEvent(event("2025-12-08T10:00:00.000Z", tok))
	if err != nil {
		t.Fatalf("ParseEvent: %v", err)
	}
	_, err = ev.ShareToken()
	if err == nil || !strings.Contains(err.Error(), "decode share token cnst_TS1: failed-at is not an RFC 3339 time") {
		t.Errorf("Event.ShareToken with a bad failed-at: %v", err)
	}
	assertNoText(t, err, pii)

	_, err = connect.ParseEvent(event(pii, tok))
	if err == nil || !strings.Contains(err.Error(), "parse event evt_TS1: created-at is not an RFC 3339 time") {
		t.Errorf("ParseEvent with a bad created-at: %v", err)
	}
	assertNoText(t, err, pii)
}

// assertNoText fails when err's text, or its %+v, holds any word of text.
func assertNoText(t *testing.T, err error, text string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, out := range []string{err.Error(), fmt.Sprintf("%+v", err)} {
		for _, word := range strings.Fields(text) {
			if strings.Contains(out, word) {
				t.Errorf("error shows %q: %s", word, out)
			}
		}
	}
}

// Null, "" and an absent field all read as no time: decoding is lenient.
func TestMissingTimestampsAreZero(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/connect/share-tokens/cnst_TS2"), respond(http.StatusOK, []byte(
		`{"data":{"type":"connect/share-token","id":"cnst_TS2","attributes":{"status":"created","created-at":"","pending-at":null,"expires-at":"2025-12-22T10:00:00.000+01:00"}}}`)))
	tok, err := c.ShareTokens.Get(context.Background(), "cnst_TS2")
	if err != nil {
		t.Fatal(err)
	}
	if !tok.CreatedAt.IsZero() || !tok.UpdatedAt.IsZero() || tok.PendingAt != nil || tok.RedeemedAt != nil {
		t.Errorf("missing times: %+v", tok)
	}
	if want := time.Date(2025, 12, 22, 9, 0, 0, 0, time.UTC); tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(want) || tok.ExpiresAt.Location() != time.UTC {
		t.Errorf("ExpiresAt = %v; want %v in UTC", tok.ExpiresAt, want)
	}
}
