package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	connect "github.com/persona-connect/connect-go"
)

// eventOut is what a test reads of an event printed with --json.
type eventOut struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	Name      string `json:"name"`
	CreatedAt string `json:"created-at"`
	Payload   struct {
		Data     json.RawMessage   `json:"data"`
		Included []json.RawMessage `json:"included"`
	} `json:"payload"`
	Context json.RawMessage `json:"context"`
	Object  connect.Ref     `json:"object"`
}

func TestEventsListAndGet(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	tok := w.createToken(t)

	var all []eventOut
	if err := json.Unmarshal([]byte(mustRun(t, w.as(w.src), "events", "list", "--json").stdout), &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != string(connect.EventShareTokenOutboundCreated) || all[1].Name != string(connect.EventInquiryCompleted) {
		t.Fatalf("events = %+v, want outbound-created then inquiry.completed", all)
	}
	var data struct{ Type, ID string }
	if err := json.Unmarshal(all[0].Payload.Data, &data); err != nil || data.ID != tok.ID || data.Type != "connect/share-token" {
		t.Errorf("payload.data = %s (%v), want the token", all[0].Payload.Data, err)
	}
	// The table's OBJECT column, at the top as share tokens' relationships are.
	if all[0].Object != (connect.Ref{Type: "connect/share-token", ID: tok.ID}) {
		t.Errorf("object = %+v, want the token", all[0].Object)
	}

	var named []eventOut
	if err := json.Unmarshal([]byte(mustRun(t, w.as(w.src), "events", "list", "--json", "--name", string(connect.EventInquiryCompleted), "--since", "1h").stdout), &named); err != nil {
		t.Fatal(err)
	}
	if len(named) != 1 || named[0].ID != all[1].ID {
		t.Errorf("--name inquiry.completed = %+v", named)
	}
	byObject := mustRun(t, w.as(w.src), "events", "list", "--object", tok.ID).stdout
	lines := strings.Split(strings.TrimSpace(byObject), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], all[0].ID+"  "+string(connect.EventShareTokenOutboundCreated)+"  "+tok.ID+"  ") {
		t.Errorf("--object %s:\n%s", tok.ID, byObject)
	}

	got := decodeOne[eventOut](t, mustRun(t, w.as(w.src), "events", "get", all[0].ID, "--json").stdout)
	if got.ID != all[0].ID || got.Type != "event" || got.CreatedAt != all[0].CreatedAt || string(got.Payload.Data) != string(all[0].Payload.Data) {
		t.Errorf("get = %+v, want %+v", got, all[0])
	}
	text := mustRun(t, w.as(w.src), "events", "get", all[0].ID).stdout
	if !strings.Contains(text, "name:        "+string(connect.EventShareTokenOutboundCreated)+"\n") || !strings.Contains(text, "object:      connect/share-token "+tok.ID+"\n") {
		t.Errorf("text get:\n%s", text)
	}
}

// events get --delivery prints the body a webhook delivery of the event carries: signed
// with webhooks sign, a verifier takes it as the event the Events API shows.
func TestEventsGetDeliveryIsABodyToSign(t *testing.T) {
	t.Parallel()
	const secret = "wbhsec_delivery_test"
	w := newWorld(t)
	tok := w.createToken(t)
	src := w.sdk(t, w.src)
	var fromAPI *connect.Event
	for ev, err := range src.Events.List(context.Background(), &connect.ListEventsParams{ObjectIDs: []string{tok.ID}}) {
		if err != nil {
			t.Fatal(err)
		}
		fromAPI = ev
	}
	if fromAPI == nil {
		t.Fatal("no event about the token")
	}
	body := mustRun(t, w.as(w.src), "events", "get", fromAPI.ID, "--delivery").stdout
	if strings.HasSuffix(body, "\n") || !strings.HasPrefix(body, `{"data":{"type":"event","id":"`+fromAPI.ID+`"`) {
		t.Fatalf("--delivery printed %q, want the delivery body alone", body)
	}
	sig := strings.TrimSpace(run(t, append(w.as(w.src), "HOOK_SECRET="+secret), body, "webhooks", "sign", "--secret-env", "HOOK_SECRET").stdout)
	v, err := connect.NewVerifier([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := v.ConstructEvent([]byte(body), sig)
	if err != nil {
		t.Fatalf("the signed delivery body does not verify and parse: %v", err)
	}
	if ev.ID != fromAPI.ID || ev.Name != fromAPI.Name || !ev.CreatedAt.Equal(fromAPI.CreatedAt) || !jsonEqual(t, ev.Data, fromAPI.Data) {
		t.Errorf("delivered %+v, the API has %+v", ev, fromAPI)
	}
}
