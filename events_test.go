package connect

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// wantInboundToken is testdata/share_token_inbound_created.*.json's token: the example
// of persona-openapi/components/examples/connect-share-token.yaml seen by the
// destination (direction inbound, destination still null, a 14-day expiry).
func wantInboundToken() *ShareToken {
	created := time.Date(2023, 8, 17, 23, 18, 13, 0, time.UTC)
	expires := time.Date(2023, 8, 31, 23, 18, 13, 0, time.UTC)
	return &ShareToken{
		ID:           "cnst_ABC123",
		Status:       ShareTokenCreated,
		Direction:    Inbound,
		CreatedAt:    created,
		UpdatedAt:    created,
		ExpiresAt:    &expires,
		ConnectionID: "cxn_ABC123",
	}
}

func TestParseEventInflections(t *testing.T) {
	t.Parallel()
	want := &Event{
		ID:        "evt_ABC123",
		Name:      EventShareTokenInboundCreated,
		CreatedAt: time.Date(2023, 8, 17, 23, 18, 14, 0, time.UTC),
		Object:    Ref{Type: "connect/share-token", ID: "cnst_ABC123"},
		Included:  []json.RawMessage{},
		Context:   json.RawMessage("{}"),
	}
	for _, inflection := range []string{"kebab", "camel", "snake"} {
		t.Run(inflection, func(t *testing.T) {
			t.Parallel()
			ev, err := ParseEvent(readFixture(t, "share_token_inbound_created."+inflection+".json"))
			if err != nil {
				t.Fatalf("ParseEvent: %v", err)
			}
			if len(ev.Data) == 0 {
				t.Error("Data is empty")
			}
			// Data is verbatim, so it differs per inflection; the rest must not.
			if diff := cmp.Diff(want, ev, cmpopts.IgnoreFields(Event{}, "Data"), compactJSON); diff != "" {
				t.Errorf("event (-want +got):\n%s", diff)
			}
			tok, err := ev.ShareToken()
			if err != nil {
				t.Fatalf("ShareToken: %v", err)
			}
			if diff := cmp.Diff(wantInboundToken(), tok); diff != "" {
				t.Errorf("share token (-want +got):\n%s", diff)
			}
		})
	}
}

// compactJSON compares raw JSON by value rather than by spelling.
var compactJSON = cmp.Transformer("json", func(m json.RawMessage) any {
	var v any
	if err := json.Unmarshal(m, &v); err != nil {
		return string(m)
	}
	return v
})

func TestParseEventRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body string }{
		{"not JSON", `not json`},
		{"empty", ``},
		{"a list", `[]`},
		{"no data", `{}`},
		{"null data", `{"data":null}`},
		{"data is a list", `{"data":[]}`},
		{"not an event", `{"data":{"type":"inquiry","id":"inq_1","attributes":{"name":"x"}}}`},
		{"no id", `{"data":{"type":"event","attributes":{"name":"inquiry.completed"}}}`},
		{"no name", `{"data":{"type":"event","id":"evt_1","attributes":{}}}`},
		{"name not a string", `{"data":{"type":"event","id":"evt_1","attributes":{"name":1}}}`},
		{"bad created-at", `{"data":{"type":"event","id":"evt_1","attributes":{"name":"a","created-at":"yesterday"}}}`},
		{"payload not an object", `{"data":{"type":"event","id":"evt_1","attributes":{"name":"a","payload":[]}}}`},
		{"payload.data not an object", `{"data":{"type":"event","id":"evt_1","attributes":{"name":"a","payload":{"data":"x"}}}}`},
		{"trailing garbage", `{"data":{"type":"event","id":"evt_1","attributes":{"name":"a"}}}x`},
		// An id goes into error texts, log lines and Deduper keys as it is: one that
		// could forge a line, or show as another, is no Persona id.
		{"id with a line break", `{"data":{"type":"event","id":"evt_1\nlevel=ERROR","attributes":{"name":"a"}}}`},
		{"id with a bidi override", `{"data":{"type":"event","id":"evt_\u202e1","attributes":{"name":"a"}}}`},
		{"id with a space", `{"data":{"type":"event","id":"evt_1 2","attributes":{"name":"a"}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev, err := ParseEvent([]byte(tc.body))
			if err == nil {
				t.Fatalf("ParseEvent = %+v, want an error", ev)
			}
			if ev != nil {
				t.Errorf("ParseEvent returned an event with its error")
			}
		})
	}
}

func TestParseEventMinimal(t *testing.T) {
	t.Parallel()
	ev, err := ParseEvent([]byte(`{"data":{"type":"event","id":"evt_1","attributes":{"name":"some.future-event","payload":{"data":null}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Event{ID: "evt_1", Name: "some.future-event"}
	if diff := cmp.Diff(want, ev); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ev.ShareToken(); !errors.Is(err, ErrNotShareToken) {
		t.Errorf("ShareToken of an event without data = %v, want ErrNotShareToken", err)
	}
}
