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
	createdAt time.Time
	data      resource // payload.data, a snapshot (policy.go): the object it is about
}

// eventAttributes are an event's attributes (persona-openapi/components/schemas/event.yaml).
type eventAttributes struct {
	Name      string       `json:"name"`
	Payload   eventPayload `json:"payload"`
	CreatedAt string       `json:"created-at"`
	Context   struct{}     `json:"context"`
}

// eventPayload is the object the event is about, as its organization saw it.
type eventPayload struct {
	Data     resource `json:"data"`
	Included any      `json:"included,omitempty"`
}

// view is the event resource; withIncluded adds payload.included = [], as in webhook
// deliveries (policy.go).
func (e *event) view(withIncluded bool) resource {
	payload := eventPayload{Data: e.data}
	if withIncluded {
		payload.Included = []any{}
	}
	return resource{Type: "event", ID: e.id, Attributes: eventAttributes{
		Name: string(e.name), Payload: payload, CreatedAt: timestamp(e.createdAt),
	}}
}

// emitLocked records for each side of t's connection its own event about t, as that
// side sees t now: outbound for the source, inbound for the destination.
func (s *Server) emitLocked(t *shareToken, outbound, inbound connect.EventName) {
	s.recordLocked(t.conn.src, outbound, t.view(t.conn.src, false))
	s.recordLocked(t.conn.dst, inbound, t.view(t.conn.dst, false))
}

// recordLocked records event name for o, about the object whose resource is data, and
// starts its deliveries to o's webhooks that subscribe to name.
func (s *Server) recordLocked(o *org, name connect.EventName, data resource) {
	e := &event{
		id: newID("evt_"), seq: s.nextSeqLocked(), org: o, name: name, createdAt: s.nowLocked(), data: data,
	}
	s.events[e.id] = e
	body := marshal(document{Data: e.view(true)})
	for _, wh := range s.webhooks {
		if wh.org == o && wh.subscribes(name) {
			s.goLocked(func() { s.deliver(wh, e, body) })
		}
	}
}

// listEvents: GET /events, the caller's own events, newest first. filter[name],
// filter[object-id] and filter[id] take comma-separated lists.
func (s *Server) listEvents(q *request) response {
	return listVisible(s, q, s.events, (*Server).visibleEventLocked, map[string][]string{"name": nil, "object-id": nil, "id": nil},
		func(lq listQuery, e *event) listItem {
			match := lq.anyOf("name", string(e.name)) && lq.anyOf("object-id", e.data.ID) && lq.anyOf("id", e.id)
			return listItem{e.seq, match, e.view(false)}
		})
}

func (s *Server) visibleEventLocked(q *request, id string) *event {
	if e := s.events[id]; e != nil && e.org == q.org {
		return e
	}
	return nil
}

func (s *Server) getEvent(q *request, e *event) response {
	return ok(http.StatusOK, document{Data: e.view(false)})
}
