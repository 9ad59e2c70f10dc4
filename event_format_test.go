package connect_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// inquiryEventWithPII is an inquiry.completed event whose payload, included documents and
// context all hold end-user data.
func inquiryEventWithPII() *connect.Event {
	return &connect.Event{
		ID: "evt_FMT123", Name: connect.EventInquiryCompleted,
		CreatedAt: time.Date(2025, 12, 8, 10, 0, 0, 0, time.UTC),
		Object:    connect.Ref{Type: "inquiry", ID: "inq_FMT456"},
		Data:      json.RawMessage(`{"type":"inquiry","id":"inq_FMT456","attributes":{"name-first":"` + piiName + `"}}`),
		Included: []json.RawMessage{
			json.RawMessage(`{"type":"verification/government-id","id":"ver_1","attributes":{"name-first":"` + piiName + `"}}`),
			json.RawMessage(`{"type":"account","id":"act_1"}`),
		},
		Context: json.RawMessage(`{"reason":"` + piiName + `"}`),
	}
}

// Every fmt verb, on the event and on a pointer to it, alone or inside a slice or a
// map, keeps the payloads' values out and says how large they are; the other fields
// still print.
func TestEventFormattingHidesPayloads(t *testing.T) {
	t.Parallel()
	ev := inquiryEventWithPII()
	sizes := []string{
		fmt.Sprintf("%d bytes", len(ev.Data)),
		fmt.Sprintf("2 documents, %d bytes", len(ev.Included[0])+len(ev.Included[1])),
		fmt.Sprintf("%d bytes", len(ev.Context)),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%20v", "%-40s", "%T %v"} {
		for _, arg := range []any{ev, *ev, []*connect.Event{ev}, map[string]any{"e": ev}} {
			out := fmt.Sprintf(verb, arg)
			what := fmt.Sprintf("Sprintf(%q, %T)", verb, arg)
			assertNoPII(t, what, out)
			if verb == "%v" || verb == "%+v" || verb == "%#v" || verb == "%s" {
				for _, want := range append([]string{"evt_FMT123", "inquiry.completed", "inq_FMT456"}, sizes...) {
					if !strings.Contains(out, want) {
						t.Errorf("%s = %s; want it to show %q", what, out, want)
					}
				}
			}
		}
	}
	if got := fmt.Sprintf("%#v", ev); !strings.HasPrefix(got, "connect.Event{") {
		t.Errorf("%%#v = %s; want it to name connect.Event", got)
	}
	var empty connect.Event
	if got := fmt.Sprintf("%+v", empty); !strings.Contains(got, "Data:[] Included:[] Context:[]") {
		t.Errorf("%%+v of the zero event = %s", got)
	}
	if got := fmt.Sprintf("%#v", empty); !strings.Contains(got, "Data:json.RawMessage(nil), Included:[]json.RawMessage(nil), Context:json.RawMessage(nil)") {
		t.Errorf("%%#v of the zero event = %s", got)
	}
	if !bytes.Contains(ev.Data, []byte(piiName)) {
		t.Error("Data lost its content")
	}
}

// slog, text and JSON, shows the event through LogValue: what it is and how large its
// payloads are, never their values.
func TestEventLogValueHidesPayloads(t *testing.T) {
	t.Parallel()
	ev := inquiryEventWithPII()
	checkLogged(t, []any{"event", ev, slog.Any("event", *ev)},
		"evt_FMT123", "inquiry.completed", "inq_FMT456", "data_bytes", fmt.Sprint(len(ev.Data)), "included_documents")
}
