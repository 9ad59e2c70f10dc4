package connecttest

import (
	"net/http"

	connect "github.com/persona-connect/connect-go"
)

// redeemShareToken: POST /connect/share-tokens/{id}/redeem, by the destination. It
// answers 202 with the token pending; a goroutine finishes the redemption after the
// redeem delay.
func (s *Server) redeemShareToken(q *request) response {
	t := s.visibleTokenLocked(q.org, q.params[0], q.now)
	if t == nil {
		return fail(http.StatusNotFound, "")
	}
	if t.conn.dst != q.org {
		return fail(statusWrongSide, "only the destination organization of the share token's connection can redeem it")
	}
	mapping := objectOf(map[string]*shape{
		"source-field-name":      stringShape(),
		"destination-field-name": stringShape(),
	}, "source-field-name", "destination-field-name")
	body, bad := parseBody(q.body, objectOf(map[string]*shape{
		"data": objectOf(map[string]*shape{
			"attributes": objectOf(map[string]*shape{"destination-id": stringShape()}),
		}),
		"meta": objectOf(map[string]*shape{"field-mappings": arrayOf(mapping)}),
	}))
	if bad != nil {
		return *bad
	}
	if t.status != tokenCreated && !(redeemFailedAgain && t.status == tokenFailed) {
		return failTitled(statusIllegalTransition, "Share token is "+t.status, "only a created share token can be redeemed")
	}
	if t.conn.status != connectionActive {
		return failTitled(statusConnectionNotActive, "Connection is not active", "connection "+t.conn.id+" is "+t.conn.status)
	}
	src := t.source.kind.info()
	destID := lookupString(body, "data", "attributes", "destination-id")
	mappings, _ := lookup(body, "meta", "field-mappings").([]any)
	const destPointer = "/data/attributes/destination-id"
	var dest *sourceObject
	mode := "clone"
	if destID == "" {
		if !src.cloneable {
			return invalidAt(destPointer, src.name+" share tokens cannot be cloned: data.attributes.destination-id is required")
		}
		if len(mappings) > 0 {
			return failWith(fieldMappingsOnClone, pointed(defaultTitle(fieldMappingsOnClone),
				"meta.field-mappings are only used when hydrating", "/meta/field-mappings"))
		}
	} else {
		mode = "hydrate"
		if !src.hydrates {
			return invalidAt(destPointer, src.name+" share tokens can only be cloned: omit data.attributes.destination-id")
		}
		dest = s.visibleObjectLocked(q.org, destID)
		if dest == nil || !dest.kind.info().hydrates {
			return invalidAt(destPointer, "data.attributes.destination-id must be an account, inquiry or transaction of your organization")
		}
	}
	t.fieldMappings = nil
	for _, m := range mappings {
		mm, _ := m.(map[string]any)
		t.fieldMappings = append(t.fieldMappings, [2]string{lookupString(mm, "source-field-name"), lookupString(mm, "destination-field-name")})
	}
	now := q.now
	t.status, t.redeemMode, t.destination = tokenPending, mode, dest
	t.pendingAt, t.updatedAt = &now, now
	t.failureReason, t.failedAt = "", nil
	delay := s.cfg.redeemDelay
	s.goLocked(func() {
		if s.sleep(s.ctx, delay) {
			s.finishRedemption(t)
		}
	})
	return ok(http.StatusAccepted, document{t.view(q.org, false)})
}

// finishRedemption ends a pending redemption: failed for a forced reason or a source
// gone or redacted, else redeemed (a clone makes the destination object, a hydrate
// copies fields into it) with the two *-redeemed events.
func (s *Server) finishRedemption(t *shareToken) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.status != tokenPending {
		return
	}
	now := s.nowLocked()
	reason := t.forcedFailure
	switch {
	case reason != "":
	case s.cfg.redeemFailure != "":
		reason = s.cfg.redeemFailure
	case t.source.deleted:
		reason = connect.FailureSourceNotFound
	case t.source.redacted:
		reason = connect.FailureSourceRedacted
	case t.destination != nil && t.destination.deleted:
		reason = connect.FailureImportFailed
	}
	t.updatedAt = now
	if reason != "" {
		t.status, t.failureReason, t.failedAt = tokenFailed, string(reason), &now
		return
	}
	if t.redeemMode == "clone" {
		fields := append([]field(nil), t.source.fields...)
		t.destination = s.newObjectLocked(t.conn.dst, t.source.kind, fields)
	} else {
		for _, f := range t.source.fields {
			t.destination.setField(f.name, f.value, f.presence)
		}
		for _, m := range t.fieldMappings {
			for _, f := range t.source.fields {
				if f.name == m[0] {
					t.destination.setField(m[1], f.value, f.presence)
				}
			}
		}
	}
	t.status, t.redeemedAt = tokenRedeemed, &now
	s.emitLocked(t.conn.src, connect.EventShareTokenOutboundRedeemed, t)
	s.emitLocked(t.conn.dst, connect.EventShareTokenInboundRedeemed, t)
}
