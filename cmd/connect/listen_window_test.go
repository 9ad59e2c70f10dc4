package main

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
)

// newWindowListener is a listener on api that forwards to ep, started at start.
func newWindowListener(t *testing.T, api *eventsAPI, ep *endpoint, start time.Time) *listener {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c, err := connect.New("persona_sandbox_window", connect.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return &listener{
		client: c, http: ep.srv.Client(), target: ep.srv.URL, secret: "wbhsec_window",
		after: start, log: io.Discard, seen: map[string]time.Time{},
	}
}

// An event that becomes visible after a newer one was forwarded is still forwarded by
// the next poll, once.
func TestListenForwardsAnEventThatShowsUpLate(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	api, ep := &eventsAPI{}, newEndpoint(t, 0)
	l := newWindowListener(t, api, ep, start)
	ctx := context.Background()

	api.show("evt_newer", start.Add(2*time.Second))
	if err := l.poll(ctx); err != nil {
		t.Fatal(err)
	}
	api.show("evt_late", start.Add(time.Second)) // older, but listed only now
	for range 2 {
		if err := l.poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]string{"evt_newer", "evt_late"}, ep.accepted()); diff != "" {
		t.Errorf("events forwarded (-want +got):\n%s", diff)
	}
}

// What falls behind the window is forgotten: a long run does not keep every event it
// forwarded, and what it forgot is not listed, so not forwarded, again.
func TestListenForgetsEventsBehindTheWindow(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	api, ep := &eventsAPI{}, newEndpoint(t, 0)
	l := newWindowListener(t, api, ep, start)
	ctx := context.Background()

	for i, at := range []time.Duration{time.Second, 3 * time.Second, listenLookback + 2*time.Second, listenLookback + 3*time.Second} {
		api.show(fmt.Sprintf("evt_%d", i), start.Add(at))
		if err := l.poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.poll(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"evt_0", "evt_1", "evt_2", "evt_3"}, ep.accepted()); diff != "" {
		t.Errorf("events forwarded (-want +got):\n%s", diff)
	}
	// The window starts a minute before evt_3: evt_2 is inside it, evt_0 behind it,
	// and evt_1 at its start, which List does not yield (CreatedAfter is strict).
	var kept []string
	for id := range l.seen {
		kept = append(kept, id)
	}
	slices.Sort(kept)
	if diff := cmp.Diff([]string{"evt_2", "evt_3"}, kept); diff != "" {
		t.Errorf("events kept (-want +got):\n%s", diff)
	}
}
