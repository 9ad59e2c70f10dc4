package connecttest

import (
	"net/http"
	"time"
)

// Connection statuses (persona-openapi/components/schemas/connect-connection.yaml).
const (
	connectionPending  = "pending"
	connectionActive   = "active"
	connectionInactive = "inactive"
)

// connection is a one-directional link from a source organization to a destination.
type connection struct {
	id        string
	seq       int64
	src, dst  *org
	status    string
	createdAt time.Time
	updatedAt time.Time
}

func (s *Server) newConnectionLocked(src, dst *org, status string) *connection {
	now := s.nowLocked()
	c := &connection{
		id: newID("cxn_"), seq: s.nextSeqLocked(), src: src, dst: dst,
		status: status, createdAt: now, updatedAt: now,
	}
	s.conns[c.id] = c
	return c
}

// connectionAttributes are a connection's attributes
// (persona-openapi/components/schemas/connect-connection.yaml).
type connectionAttributes struct {
	Status                    string `json:"status"`
	SourceOrganizationID      string `json:"source-organization-id"`
	DestinationOrganizationID string `json:"destination-organization-id"`
	CreatedAt                 string `json:"created-at"`
	UpdatedAt                 string `json:"updated-at"`
}

// view is the connect/connection resource; both sides see the same, without
// relationships (policy.go).
func (c *connection) view() resource {
	return resource{Type: "connect/connection", ID: c.id, Attributes: connectionAttributes{
		Status:                    c.status,
		SourceOrganizationID:      c.src.pub.ID,
		DestinationOrganizationID: c.dst.pub.ID,
		CreatedAt:                 timestamp(c.createdAt),
		UpdatedAt:                 timestamp(c.updatedAt),
	}}
}

func (c *connection) joins(o *org) bool { return c.src == o || c.dst == o }

func (s *Server) visibleConnectionLocked(q *request, id string) *connection {
	if c := s.conns[id]; c != nil && c.joins(q.org) {
		return c
	}
	return nil
}

// listConnections: GET /connect/connections (connect_connections.yaml).
func (s *Server) listConnections(q *request) response {
	return listVisible(s, q, s.conns, (*Server).visibleConnectionLocked, map[string][]string{
		"status":                      {connectionPending, connectionActive, connectionInactive},
		"destination-organization-id": nil,
	}, func(lq listQuery, c *connection) listItem {
		match := lq.is("status", c.status) && lq.is("destination-organization-id", c.dst.pub.ID)
		return listItem{c.seq, match, c.view()}
	})
}

// createConnection: POST /connect/connections. The new connection is pending until the
// destination accepts it (AcceptConnection).
func (s *Server) createConnection(q *request) response {
	var body attributesBody[struct { // connect_connections.yaml, post
		DestinationOrganizationID string `json:"destination-organization-id"`
	}]
	if bad := decodeBody(q.body, &body); bad != nil {
		return *bad
	}
	const pointer = "/data/attributes/destination-organization-id"
	dstID := body.Data.Attributes.DestinationOrganizationID
	dst := s.orgs[dstID]
	switch {
	case dstID == "":
		return *badRequest("data.attributes.destination-organization-id is missing")
	case dst == nil:
		return fail(http.StatusNotFound, "data.attributes.destination-organization-id is not found")
	case dst == q.org:
		return invalidAt(pointer, "a connection cannot lead to its own organization")
	}
	if s.liveConnectionLocked(q.org, dst) != nil {
		return duplicateConnection()
	}
	c := s.newConnectionLocked(q.org, dst, connectionPending)
	return ok(http.StatusCreated, document{Data: c.view()})
}

func (s *Server) getConnection(q *request, c *connection) response {
	return ok(http.StatusOK, document{Data: c.view()})
}

// deactivateConnection: POST /connect/connections/{id}/deactivate, by either side,
// from pending or active.
func (s *Server) deactivateConnection(q *request, c *connection) response {
	if bad := decodeBody(q.body, &emptyBody{}); bad != nil {
		return *bad
	}
	if c.status == connectionInactive {
		return failTitled(statusIllegalTransition, "Connection is inactive", "only a pending or active connection can be deactivated")
	}
	c.status, c.updatedAt = connectionInactive, q.now
	return ok(http.StatusOK, document{Data: c.view()})
}

// reactivateConnection: POST /connect/connections/{id}/reactivate, by the source only,
// from inactive back to pending.
func (s *Server) reactivateConnection(q *request, c *connection) response {
	if bad := decodeBody(q.body, &emptyBody{}); bad != nil {
		return *bad
	}
	if c.src != q.org {
		return fail(statusWrongSide, "only the connection's source organization can reactivate it")
	}
	if c.status != connectionInactive {
		return failTitled(statusIllegalTransition, "Connection is "+c.status, "only an inactive connection can be reactivated")
	}
	if s.liveConnectionLocked(c.src, c.dst) != nil {
		return duplicateConnection() // it would be a second live one, as a create would
	}
	c.status, c.updatedAt = connectionPending, q.now
	return ok(http.StatusOK, document{Data: c.view()})
}

// liveConnectionLocked returns a pending or active connection from src to dst, or nil.
func (s *Server) liveConnectionLocked(src, dst *org) *connection {
	for _, c := range s.conns {
		if c.src == src && c.dst == dst && c.status != connectionInactive {
			return c
		}
	}
	return nil
}

// duplicateConnection answers a create or a reactivation that would make a second live
// connection, in the words of the spec's conflict example.
func duplicateConnection() response {
	return fail(http.StatusConflict, "Resource already exists as an active resource")
}
