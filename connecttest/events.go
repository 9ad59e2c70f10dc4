package connecttest

import (
	"net/http"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// event is one organization's record of something that happened
// (persona-openapi/components/schemas/event.yaml).
type event struct {
	id        string
	seq       int64
	org       *org
	name      connect.EventName
	objectID  string
	createdAt time.Time
	data      rawJSON // payload.data: the object as org saw it when the event happened
}

// view is the event resource. withIncluded adds payload.included = [], which webhook
// deliveries carry (API-NOTES); the Events API follows event.yaml, whose payload has
// only data.
func (e *event) view(withIncluded bool) object {
	payload := object{{"data", e.data}}
	if withIncluded {
		payload = append(payload, member{"included", []object{}})
	}
	return object{
		{"type", "event"},
		{"id", e.id},
		{"attributes", object{
			{"name", string(e.name)},
			{"payload", payload},
			{"created-at", e.createdAt},
			{"context", object{}},
		}},
	}
}

// emitLocked records event name for o about token t (as o sees it now) and starts its
// deliveries to o's webhooks that subscribe to name.
func (s *Server) emitLocked(o *org, name connect.EventName, t *shareToken) {
	e := &event{
		id: newID("evt_"), seq: s.nextSeqLocked(), org: o, name: name, objectID: t.id,
		createdAt: s.nowLocked(), data: marshal(t.view(o, false)),
	}
	s.events[e.id] = e
	body := marshal(object{{"data", e.view(true)}})
	for _, wh := range s.webhooks {
		if wh.org == o && wh.subscribes(name) {
			wh := wh
			s.goLocked(func() { s.deliver(wh, e, body) })
		}
	}
}

// listEvents: GET /events, the caller's own events, newest first. filter[name],
// filter[object-id] and filter[id] take comma-separated lists.
func (s *Server) listEvents(q *request) response {
	lq, bad := parseListQuery(q.URL.Query(), "name", "object-id", "id")
	if bad != nil {
		return *bad
	}
	names, objects, ids := splitList(lq.filters["name"]), splitList(lq.filters["object-id"]), splitList(lq.filters["id"])
	var items []listItem
	for _, e := range s.events {
		if e.org != q.org {
			continue
		}
		if (len(names) > 0 && !contains(names, string(e.name))) ||
			(len(objects) > 0 && !contains(objects, e.objectID)) ||
			(len(ids) > 0 && !contains(ids, e.id)) {
			continue
		}
		items = append(items, listItem{id: e.id, seq: e.seq, doc: e.view(false)})
	}
	doc, bad := paginate(items, lq, func(id string) (int64, bool) {
		e := s.events[id]
		if e == nil || e.org != q.org {
			return 0, false
		}
		return e.seq, true
	}, "/events")
	if bad != nil {
		return *bad
	}
	return ok(http.StatusOK, doc)
}

// getEvent: GET /events/{id}, for the organization the event belongs to.
func (s *Server) getEvent(q *request) response {
	e := s.events[q.params[0]]
	if e == nil || e.org != q.org {
		return fail(http.StatusNotFound, "")
	}
	return ok(http.StatusOK, object{{"data", e.view(false)}})
}
