package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// eventsAPI is an Events API whose listing the test sets event by event, to show
// events in an order connecttest never does.
type eventsAPI struct {
	mu     sync.Mutex
	events []listedEvent
}

type listedEvent struct {
	id      string
	created time.Time
	name    string // as written inside the JSON string
}

func (e *eventsAPI) show(id string, created time.Time) {
	e.showNamed(id, created, "")
}

func (e *eventsAPI) showNamed(id string, created time.Time, name string) {
	if name == "" {
		name = "inquiry.completed"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, listedEvent{id, created, name})
}

// ServeHTTP lists every event shown, newest first, on one page (GET /events), or
// shows one (GET /events/{id}).
func (e *eventsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	events := slices.Clone(e.events)
	e.mu.Unlock()
	slices.SortFunc(events, func(a, b listedEvent) int { return b.created.Compare(a.created) })
	resources := map[string]string{}
	var list []string
	for _, ev := range events {
		resources[ev.id] = fmt.Sprintf(`{"type":"event","id":%q,"attributes":{"name":"%s",`+
			`"payload":{"data":{"type":"inquiry","id":"inq_window"}},"created-at":%q}}`, ev.id, ev.name, ev.created.UTC().Format(jsonTime))
		list = append(list, resources[ev.id])
	}
	w.Header().Set("Content-Type", "application/json")
	if id, one := strings.CutPrefix(r.URL.Path, "/events/"); one {
		if resources[id] == "" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, `{"data":`+resources[id]+`}`)
		return
	}
	_, _ = io.WriteString(w, `{"data":[`+strings.Join(list, ",")+`],"links":{"next":null}}`)
}
