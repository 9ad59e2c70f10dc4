package connect_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
)

// eventsPage is a page of the Events API listing inquiry.completed events created at
// the given times, newest first, with next as its links.next ("" for null).
func eventsPage(times []time.Time, next string) []byte {
	var items []string
	for _, at := range times {
		items = append(items, fmt.Sprintf(`{"type":"event","id":"evt_%d","attributes":{"name":"inquiry.completed","created-at":%q,"payload":{"data":{"type":"inquiry","id":"inq_%d","attributes":{}}}}}`,
			at.Unix(), at.Format(time.RFC3339Nano), at.Unix()))
	}
	link := "null"
	if next != "" {
		link = fmt.Sprintf("%q", next)
	}
	return []byte(`{"data":[` + strings.Join(items, ",") + `],"links":{"prev":null,"next":` + link + `}}`)
}

// TestEventsListCreatedAfter lists only events created after CreatedAfter and stops
// paging at the first that is not: the two pages of older events that follow are
// never fetched.
func TestEventsListCreatedAfter(t *testing.T) {
	t.Parallel()
	since := time.Date(2025, 12, 8, 10, 0, 0, 0, time.UTC)
	at := func(seconds int) time.Time { return since.Add(time.Duration(seconds) * time.Second) }
	c, mt := setup(t)
	pages := []struct {
		cursor string
		times  []time.Time
	}{
		{"", []time.Time{at(3), at(2)}},
		{"evt_2", []time.Time{at(1), at(0)}}, // created at since, not after: the listing ends
		{"evt_3", []time.Time{at(-2), at(-3)}},
		{"evt_4", []time.Time{at(-4)}},
	}
	for i, p := range pages {
		next := ""
		if i+1 < len(pages) {
			next = "/api/v1/events?page%5Bafter%5D=" + pages[i+1].cursor
		}
		query := url.Values{"page[size]": {"2"}} // kept on every page: a next link alone would widen the list
		if p.cursor != "" {
			query.Set("page[after]", p.cursor)
		}
		mt.RegisterResponderWithQuery(http.MethodGet, mockURL("/events"), query, respond(http.StatusOK, eventsPage(p.times, next)))
	}
	var got []time.Time
	for ev, err := range c.Events.List(ctxT(t), &connect.ListEventsParams{CreatedAfter: since, PageSize: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.CreatedAt)
	}
	if diff := cmp.Diff([]time.Time{at(3), at(2), at(1)}, got); diff != "" {
		t.Errorf("events listed (-want +got):\n%s", diff)
	}
	if n := mt.GetTotalCallCount(); n != 2 {
		t.Errorf("sent %d requests, want 2 (paging stops at the first older event)", n)
	}
}
