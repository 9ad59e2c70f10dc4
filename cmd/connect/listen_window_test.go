package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
)

// windowStart is when every listener of these tests starts, with no --since.
var windowStart = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// newWindowListener is a listener on api that forwards to ep, started at windowStart.
func newWindowListener(t *testing.T, api *eventsAPI, ep *endpoint) *listener {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c, err := connect.New("persona_sandbox_window", connect.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return &listener{
		client: c, http: ep.srv.Client(), target: ep.srv.URL, secret: "wbhsec_window",
		after: windowStart, log: io.Discard, seen: map[string]time.Time{},
	}
}

// polls runs n polls of l, each of which must succeed.
func polls(t *testing.T, l *listener, n int) {
	t.Helper()
	for range n {
		if err := l.poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// An event that becomes visible after a newer one was forwarded is still forwarded by
// the next poll, once.
func TestListenForwardsAnEventThatShowsUpLate(t *testing.T) {
	t.Parallel()
	api, ep := &eventsAPI{}, newEndpoint(t, 0)
	l := newWindowListener(t, api, ep)

	api.show("evt_newer", windowStart.Add(2*time.Second))
	polls(t, l, 1)
	api.show("evt_late", windowStart.Add(time.Second)) // older, but listed only now
	polls(t, l, 2)
	if diff := cmp.Diff([]string{"evt_newer", "evt_late"}, ep.accepted()); diff != "" {
		t.Errorf("events forwarded (-want +got):\n%s", diff)
	}
}

// What falls behind the window is forgotten: a long run does not keep every event it
// forwarded, and what it forgot is not listed, so not forwarded, again.
func TestListenForgetsEventsBehindTheWindow(t *testing.T) {
	t.Parallel()
	api, ep := &eventsAPI{}, newEndpoint(t, 0)
	l := newWindowListener(t, api, ep)

	for i, at := range []time.Duration{time.Second, 3 * time.Second, listenLookback + 2*time.Second, listenLookback + 3*time.Second} {
		api.show(fmt.Sprintf("evt_%d", i), windowStart.Add(at))
		polls(t, l, 1)
	}
	polls(t, l, 1)
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

// A 400 from the endpoint is most often a handler refusing the signature: listen says
// which secret to give it, once in a run however many 400s follow.
func TestListenSaysWhatA400Means(t *testing.T) {
	t.Parallel()
	var answered atomic.Int32
	ep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if answered.Add(1) <= 2 {
			http.Error(w, "invalid signature", http.StatusBadRequest)
		}
	}))
	t.Cleanup(ep.Close)
	api := &eventsAPI{}
	api.show("evt_1", windowStart.Add(time.Second))
	l := newWindowListener(t, api, &endpoint{srv: ep})
	var log bytes.Buffer
	l.log = &log
	polls(t, l, 1)
	const hint = "connect: a 400 is how a webhook handler refuses a signature it cannot verify"
	if n := strings.Count(log.String(), hint); n != 1 || !strings.Contains(log.String(), "forwarded evt_1") {
		t.Errorf("the hint is printed %d times, want once, and the event forwarded in the end:\n%s", n, log.String())
	}
}
