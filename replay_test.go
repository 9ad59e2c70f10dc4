package connect_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// TestReplay feeds the Events API's events through the handler oldest first, stops at
// the first failure naming it, and on the next run skips what is done and carries on.
func TestReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newPersona(t)
	src, cxn := srv.src, srv.cxn
	before := srv.inq // before since: never replayed
	srv.Advance(time.Second)
	since := srv.Now()
	var inqs []string
	for range 3 {
		srv.Advance(time.Second)
		inqs = append(inqs, srv.CreateInquiry(src))
	}
	c, err := srv.NewClient(src)
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(time.Second)
	if _, err := c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: before}); err != nil {
		t.Fatal(err) // records outbound-created, for which nothing is registered
	}

	h := connect.NewWebhookHandler(nil)
	var ran []string
	failing := inqs[1]
	h.On(connect.EventInquiryCompleted, func(_ context.Context, ev *connect.Event) error {
		ran = append(ran, ev.Object.ID)
		if ev.Object.ID == failing {
			return errors.New("database down")
		}
		return nil
	})

	res, err := h.Replay(ctx, c.Events, since)
	var failedEvent string
	for ev, err := range c.Events.List(ctx, &connect.ListEventsParams{ObjectIDs: []string{failing}}) {
		if err != nil {
			t.Fatal(err)
		}
		failedEvent = ev.ID
	}
	if err == nil || !strings.Contains(err.Error(), failedEvent) || !strings.Contains(err.Error(), "database down") {
		t.Errorf("first replay: %v, want an error naming %s and wrapping the function's", err, failedEvent)
	}
	if diff := cmp.Diff(connect.ReplayResult{Ran: 1}, res); diff != "" {
		t.Errorf("first replay counts (-want +got):\n%s", diff)
	}

	failing = ""
	res, err = h.Replay(ctx, c.Events, since)
	if err != nil {
		t.Fatalf("second replay: %v", err)
	}
	if diff := cmp.Diff(connect.ReplayResult{Ran: 2, AlreadyDone: 1, Unregistered: 1}, res); diff != "" {
		t.Errorf("second replay counts (-want +got):\n%s", diff)
	}
	want := []string{inqs[0], inqs[1], inqs[1], inqs[2]} // oldest first; the failed one again, then on
	if diff := cmp.Diff(want, ran); diff != "" {
		t.Errorf("ran (-want +got):\n%s", diff)
	}
}

func TestReplayInProgressStops(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := connecttest.NewServer()
	t.Cleanup(srv.Close)
	org := srv.NewOrganization("Source")
	since := srv.Now()
	srv.Advance(time.Second)
	srv.CreateInquiry(org)
	c, err := srv.NewClient(org)
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for ev, err := range c.Events.List(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		id = ev.ID
	}
	shared := connect.NewMemoryDeduper(0)
	if _, err := shared.Claim(ctx, id, "another replica", time.Hour); err != nil {
		t.Fatal(err)
	}
	h := connect.NewWebhookHandler(nil, connect.WithDeduper(shared))
	h.On(connect.EventInquiryCompleted, func(context.Context, *connect.Event) error {
		t.Error("ran an event another delivery holds")
		return nil
	})
	if _, err := h.Replay(ctx, c.Events, since); !errors.Is(err, connect.ErrEventInProgress) || !strings.Contains(err.Error(), id) {
		t.Errorf("Replay = %v, want ErrEventInProgress naming %s", err, id)
	}
}

func TestReplayRefusesBadArguments(t *testing.T) {
	t.Parallel()
	c := noIOClient(t)
	h := connect.NewWebhookHandler(nil)
	if _, err := h.Replay(context.Background(), nil, time.Now()); !errors.Is(err, connect.ErrInvalidParams) {
		t.Errorf("nil events: %v", err)
	}
	if _, err := h.Replay(context.Background(), c.Events, time.Time{}); !errors.Is(err, connect.ErrInvalidParams) || !strings.Contains(err.Error(), "since") {
		t.Errorf("zero since: %v", err)
	}
}

// A token that expired during the outage cannot be redeemed by any replay: AutoRedeem
// hands it to Unredeemable and the event counts as done, so Replay goes on to the
// events after it instead of stopping there every time.
func TestReplayGoesPastATokenThatExpiredDuringTheOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := newPersona(t)
	src, err := srv.NewClient(srv.src)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := srv.NewClient(srv.dst)
	if err != nil {
		t.Fatal(err)
	}
	since := srv.Now()
	srv.Advance(time.Second)
	expired, err := src.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: srv.cxn, SourceID: srv.inq, ExpiresIn: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv.Advance(2 * time.Minute)
	later, err := src.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: srv.cxn, SourceID: srv.CreateInquiry(srv.src)})
	if err != nil {
		t.Fatal(err)
	}
	h := connect.NewWebhookHandler(nil)
	var unredeemable []string
	err = connect.AutoRedeem(h, dst, connect.AutoRedeemConfig{Unredeemable: func(_ context.Context, _ *connect.Event, tok *connect.ShareToken) {
		unredeemable = append(unredeemable, tok.ID+" "+string(tok.Status))
	}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Replay(ctx, dst.Events, since)
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if diff := cmp.Diff(connect.ReplayResult{Ran: 2}, res); diff != "" {
		t.Errorf("Replay result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{expired.ID + " expired"}, unredeemable); diff != "" {
		t.Errorf("Unredeemable saw (-want +got):\n%s", diff)
	}
	if tok, err := dst.ShareTokens.Get(ctx, later.ID); err != nil || tok.Status == connect.ShareTokenCreated {
		t.Errorf("the token made after the expired one: %+v, %v; want it redeemed", tok, err)
	}
	if res, err := h.Replay(ctx, dst.Events, since); err != nil || res != (connect.ReplayResult{AlreadyDone: 2}) || len(unredeemable) != 1 {
		t.Errorf("second Replay: %+v, %v, Unredeemable %v; want both done and nothing run", res, err, unredeemable)
	}
}

// An event created at the very instant since names (the outage's first millisecond:
// Persona's timestamps have no finer precision) was missed like the ones after it, and
// so is one listed in the millisecond a finer since falls in: it may have been made
// after since. Replay runs both; one created a millisecond before since stays out.
func TestReplayIncludesTheEventsAtSince(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A clock that stands still between Advances, so that start is the inquiry's time.
	frozen := time.Date(2025, 12, 8, 10, 0, 0, 0, time.UTC)
	srv := connecttest.NewServer(connecttest.WithClock(func() time.Time { return frozen }))
	t.Cleanup(srv.Close)
	org := srv.NewOrganization("Source")
	c, err := srv.NewClient(org)
	if err != nil {
		t.Fatal(err)
	}
	before := srv.CreateInquiry(org)
	srv.Advance(time.Millisecond)
	start := srv.Now()
	atStart := srv.CreateInquiry(org) // created at start itself
	srv.Advance(time.Second)
	later := srv.CreateInquiry(org)
	for _, tc := range []struct {
		name  string
		since time.Time
	}{
		{"since is the event's time", start},
		{"since falls inside the event's millisecond", start.Add(600 * time.Microsecond)},
	} {
		h := connect.NewWebhookHandler(nil)
		var ran []string
		h.On(connect.EventInquiryCompleted, func(_ context.Context, ev *connect.Event) error {
			ran = append(ran, ev.Object.ID)
			return nil
		})
		res, err := h.Replay(ctx, c.Events, tc.since)
		if err != nil {
			t.Fatalf("%s: Replay: %v", tc.name, err)
		}
		if diff := cmp.Diff([]string{atStart, later}, ran); diff != "" {
			t.Errorf("%s: ran (-want +got), %s created before since:\n%s", tc.name, before, diff)
		}
		if res != (connect.ReplayResult{Ran: 2}) {
			t.Errorf("%s: Replay = %+v, want Ran 2", tc.name, res)
		}
	}
}

// A Replay whose context ends stops before the next event, even when neither the
// Deduper nor the functions look at the context: the events after it wait for the
// next Replay, which runs them.
func TestReplayStopsWhenItsContextEnds(t *testing.T) {
	t.Parallel()
	srv := newPersona(t)
	srv.Advance(time.Second)
	since := srv.Now()
	for range 3 {
		srv.Advance(time.Second)
		srv.CreateInquiry(srv.src)
	}
	c, err := srv.NewClient(srv.src)
	if err != nil {
		t.Fatal(err)
	}
	h := connect.NewWebhookHandler(nil) // MemoryDeduper: it ignores the context
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runs := 0
	h.On(connect.EventInquiryCompleted, func(context.Context, *connect.Event) error {
		runs++
		cancel() // the operator's Ctrl-C, while the first event runs
		return nil
	})
	res, err := h.Replay(ctx, c.Events, since)
	if !errors.Is(err, context.Canceled) || runs != 1 || res.Ran != 1 {
		t.Fatalf("cancelled replay: %+v, %v after %d runs; want context.Canceled after 1", res, err, runs)
	}
	res, err = h.Replay(context.Background(), c.Events, since)
	if err != nil || runs != 3 || res != (connect.ReplayResult{Ran: 2, AlreadyDone: 1}) {
		t.Errorf("next replay: %+v, %v, %d runs in all; want the other 2 run", res, err, runs)
	}
}
