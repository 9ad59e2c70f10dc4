package connecttest

import (
	"cmp"
	"net/http"
	"strconv"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// Share token statuses (persona-openapi/components/schemas/connect-share-token.yaml).
const (
	tokenCreated  = "created"
	tokenPending  = "pending"
	tokenRedeemed = "redeemed"
	tokenExpired  = "expired"
	tokenFailed   = "failed"
)

// shareToken is one share token, with everything either side may see of it.
type shareToken struct {
	id            string
	seq           int64
	conn          *connection
	source        *sourceObject
	status        string
	redeemMode    string        // "" until redemption starts
	destination   *sourceObject // set on a hydrate at once, on a clone when it finishes
	fieldMappings [][2]string   // hydrate: source field name, destination field name
	failureReason string
	forcedFailure connect.FailureReason // FailRedemption
	createdAt     time.Time
	updatedAt     time.Time
	expiresAt     time.Time
	pendingAt     *time.Time
	redeemedAt    *time.Time
	failedAt      *time.Time
}

// refresh applies TTL expiry: a created token whose expires-at has passed is expired,
// as of its expires-at. Every read calls it first.
func (t *shareToken) refresh(now time.Time) {
	if t.status == tokenCreated && !now.Before(t.expiresAt) {
		t.status, t.updatedAt = tokenExpired, t.expiresAt
	}
}

// view is the connect/share-token resource as viewer sees it, each side its own
// direction and relationships (API-NOTES); peek adds source-data for the destination.
func (t *shareToken) view(viewer *org, peek bool) resource {
	attrs := shareTokenAttributes{
		Status:        t.status,
		Direction:     t.direction(viewer),
		CreatedAt:     timestamp(t.createdAt),
		UpdatedAt:     timestamp(t.updatedAt),
		PendingAt:     nullTime(t.pendingAt),
		RedeemedAt:    nullTime(t.redeemedAt),
		ExpiresAt:     timestamp(t.expiresAt),
		FailedAt:      nullTime(t.failedAt),
		FailureReason: nullable(t.failureReason),
		RedeemMode:    nullable(t.redeemMode),
	}
	rels := shareTokenRelationships{Connection: relation("connect/connection", t.conn.id)}
	if viewer == t.conn.src {
		rels.Creator = relation("api-key", t.conn.src.apiKeyID) // the source's key made it
		rels.Source = relation(t.source.kind.info().typ, t.source.id)
	} else {
		rels.Destination = &relationship{} // {"data": null} until the destination is known
		if t.destination != nil {
			rels.Destination = relation(t.destination.kind.info().typ, t.destination.id)
		}
		if peek && everyOrgCanPeek {
			attrs.SourceData = newSourceData(t.source)
		}
	}
	return resource{Type: "connect/share-token", ID: t.id, Attributes: attrs, Relationships: rels}
}

func (t *shareToken) direction(viewer *org) string {
	if viewer == t.conn.src {
		return "outbound"
	}
	return "inbound"
}

// shareTokenAttributes are a share token's attributes
// (persona-openapi/components/schemas/connect-share-token.yaml).
type shareTokenAttributes struct {
	Status        string      `json:"status"`
	Direction     string      `json:"direction"`
	CreatedAt     string      `json:"created-at"`
	UpdatedAt     string      `json:"updated-at"`
	PendingAt     *string     `json:"pending-at"`
	RedeemedAt    *string     `json:"redeemed-at"`
	ExpiresAt     string      `json:"expires-at"`
	FailedAt      *string     `json:"failed-at"`
	FailureReason *string     `json:"failure-reason"`
	RedeemMode    *string     `json:"redeem-mode"`
	SourceData    *sourceData `json:"source-data,omitempty"` // a peek by the destination
}

// shareTokenRelationships are the relationships of one side's view.
type shareTokenRelationships struct {
	Creator     *relationship `json:"creator,omitempty"`
	Source      *relationship `json:"source,omitempty"`
	Destination *relationship `json:"destination,omitempty"`
	Connection  *relationship `json:"connection"`
}

// visibleTokenLocked returns token id, refreshed, if the caller is a side of its
// connection.
func (s *Server) visibleTokenLocked(q *request, id string) *shareToken {
	t := s.tokens[id]
	if t == nil || !t.conn.joins(q.org) {
		return nil
	}
	t.refresh(q.now)
	return t
}

// listShareTokens: GET /connect/share-tokens, both directions unless filtered.
func (s *Server) listShareTokens(q *request) response {
	return listVisible(s, q, s.tokens, (*Server).visibleTokenLocked, map[string][]string{
		"connection-id": nil,
		"status":        {tokenCreated, tokenPending, tokenRedeemed, tokenExpired, tokenFailed},
		"direction":     {"inbound", "outbound"},
	}, func(lq listQuery, t *shareToken) listItem {
		match := lq.is("connection-id", t.conn.id) && lq.is("status", t.status) && lq.is("direction", t.direction(q.org))
		return listItem{t.seq, match, t.view(q.org, false)}
	})
}

// createShareToken: POST /connect/share-tokens, by the connection's source.
func (s *Server) createShareToken(q *request) response {
	var body attributesBody[struct { // connect_share-tokens.yaml, post
		ConnectionID     string `json:"connection-id"`
		SourceID         string `json:"source-id"`
		ExpiresInSeconds *int64 `json:"expires-in-seconds"`
	}]
	if bad := decodeBody(q.body, &body); bad != nil {
		return *bad
	}
	attrs := body.Data.Attributes
	var missing []errorItem
	for _, m := range []struct{ name, value string }{{"connection-id", attrs.ConnectionID}, {"source-id", attrs.SourceID}} {
		if m.value == "" {
			missing = append(missing, errorItem{Title: defaultTitle(http.StatusBadRequest),
				Details: "data.attributes." + m.name + " is missing"})
		}
	}
	if len(missing) > 0 {
		return failWith(http.StatusBadRequest, missing...)
	}
	secs := attrs.ExpiresInSeconds
	c, src := s.visibleConnectionLocked(q, attrs.ConnectionID), s.visibleObjectLocked(q.org, attrs.SourceID)
	switch {
	case secs != nil && (*secs < minTTLSeconds || *secs > maxTTLSeconds):
		return invalidAt("/data/attributes/expires-in-seconds",
			"data.attributes.expires-in-seconds must be between "+strconv.Itoa(minTTLSeconds)+" and "+strconv.Itoa(maxTTLSeconds))
	case !isSourceID(attrs.SourceID):
		return invalidAt("/data/attributes/source-id", "data.attributes.source-id must be an account (act_), inquiry (inq_), transaction (txn_) or verification (ver_) id")
	case c == nil:
		return fail(http.StatusNotFound, "data.attributes.connection-id is not found")
	case c.src != q.org:
		return fail(statusWrongSide, "only the connection's source organization can create share tokens over it")
	case c.status != connectionActive:
		return failWith(statusConnectionNotActive, pointed("Connection is not active",
			"connection "+c.id+" is "+c.status, "/data/attributes/connection-id"))
	case src == nil:
		return fail(http.StatusNotFound, "data.attributes.source-id is not found")
	}
	ttl := defaultTTL
	if secs != nil {
		ttl = time.Duration(*secs) * time.Second
	}
	t := &shareToken{
		id: newID("cnst_"), seq: s.nextSeqLocked(), conn: c, source: src, status: tokenCreated,
		createdAt: q.now, updatedAt: q.now, expiresAt: q.now.Add(ttl),
	}
	s.tokens[t.id] = t
	s.emitLocked(t, connect.EventShareTokenOutboundCreated, connect.EventShareTokenInboundCreated)
	return ok(http.StatusCreated, document{Data: t.view(q.org, false)})
}

// getShareToken: GET /connect/share-tokens/{id}[?peek-source-data=true], for either side.
func (s *Server) getShareToken(q *request, t *shareToken) response {
	peek, err := strconv.ParseBool(cmp.Or(q.URL.Query().Get("peek-source-data"), "false"))
	if err != nil {
		return fail(http.StatusBadRequest, "peek-source-data must be true or false")
	}
	if peek && t.conn.dst == q.org && t.conn.status != connectionActive {
		// Deactivation prevents further access through the connection (spec).
		return failTitled(statusConnectionNotActive, "Connection is not active", "connection "+t.conn.id+" is "+t.conn.status)
	}
	return ok(http.StatusOK, document{Data: t.view(q.org, peek)})
}

// expireShareToken: POST /connect/share-tokens/{id}/expire, by the source, while the
// token is created.
func (s *Server) expireShareToken(q *request, t *shareToken) response {
	if t.conn.src != q.org {
		return fail(statusWrongSide, "only the source organization can expire a share token")
	}
	if bad := decodeBody(q.body, &emptyBody{}); bad != nil {
		return *bad
	}
	if t.status != tokenCreated && !(expirePending && t.status == tokenPending) {
		return failTitled(statusIllegalTransition, "Share token is "+t.status, "only a created share token can be expired")
	}
	t.status, t.updatedAt, t.expiresAt = tokenExpired, q.now, q.now
	return ok(http.StatusOK, document{Data: t.view(q.org, false)})
}
