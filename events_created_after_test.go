package connect_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// countingTransport counts the requests that reach the server.
type countingTransport struct {
	n    atomic.Int64
	base http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// TestEventsListCreatedAfter lists only events newer than CreatedAfter and stops
// paging at the first older one: five old events on two old pages are never fetched.
func TestEventsListCreatedAfter(t *testing.T) {
	t.Parallel()
	srv := connecttest.NewServer()
	t.Cleanup(srv.Close)
	org := srv.NewOrganization("Source")
	for range 5 {
		srv.CreateInquiry(org) // each records inquiry.completed
	}
	srv.Advance(time.Minute)
	since := srv.Now()
	srv.Advance(time.Second)
	newer := map[string]bool{}
	for range 3 {
		newer[srv.CreateInquiry(org)] = true
	}
	ct := &countingTransport{base: http.DefaultTransport}
	c, err := connect.New(org.APIKey, connect.WithBaseURL(srv.URL), connect.WithHTTPClient(&http.Client{Transport: ct}))
	if err != nil {
		t.Fatal(err)
	}
	var got []*connect.Event
	for ev, err := range c.Events.List(context.Background(), &connect.ListEventsParams{CreatedAfter: since, PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	if len(got) != 3 {
		t.Fatalf("listed %d events, want the 3 created after %v", len(got), since)
	}
	for i, ev := range got {
		if !ev.CreatedAt.After(since) || !newer[ev.Object.ID] {
			t.Errorf("event %d (%s, %v) is not one of the newer ones", i, ev.Object.ID, ev.CreatedAt)
		}
		if i > 0 && ev.CreatedAt.After(got[i-1].CreatedAt) {
			t.Errorf("event %d is newer than event %d: List must keep the API's newest-first order", i, i-1)
		}
	}
	// Pages of 2: [new new] [new old]; the old event on page 2 ends the listing.
	if n := ct.n.Load(); n != 2 {
		t.Errorf("sent %d requests, want 2 (paging stops at the first older event)", n)
	}
}
