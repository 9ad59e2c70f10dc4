package connecttest

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"

	connect "github.com/persona-connect/connect-go"
)

// redeemShareToken: POST /connect/share-tokens/{id}/redeem, by the destination. It
// answers 202 with the token pending; a goroutine finishes the redemption after the
// redeem delay.
func (s *Server) redeemShareToken(q *request, t *shareToken) response {
	if t.conn.dst != q.org {
		return fail(statusWrongSide, "only the destination organization of the share token's connection can redeem it")
	}
	var body struct { // connect_share-tokens_{share-token-id}_redeem.yaml
		Data struct {
			Attributes struct {
				DestinationID string `json:"destination-id"`
			} `json:"attributes"`
		} `json:"data"`
		Meta struct {
			FieldMappings []*struct {
				SourceFieldName      *string `json:"source-field-name"`
				DestinationFieldName *string `json:"destination-field-name"`
			} `json:"field-mappings"`
		} `json:"meta"`
	}
	if bad := decodeBody(q.body, &body); bad != nil {
		return *bad
	}
	mappings := body.Meta.FieldMappings
	var pairs [][2]string
	for i, m := range mappings {
		switch {
		case m == nil: // null counts as absent
		case m.SourceFieldName == nil:
			return *badRequest(fmt.Sprintf("meta.field-mappings[%d].source-field-name is missing", i))
		case m.DestinationFieldName == nil:
			return *badRequest(fmt.Sprintf("meta.field-mappings[%d].destination-field-name is missing", i))
		default:
			pairs = append(pairs, [2]string{*m.SourceFieldName, *m.DestinationFieldName})
		}
	}
	src, destID := t.source.kind.info(), body.Data.Attributes.DestinationID
	dest := s.visibleObjectLocked(q.org, destID) // nil for a clone, which names none
	const destPointer = "/data/attributes/destination-id"
	switch {
	case t.status != tokenCreated && !(redeemFailedAgain && t.status == tokenFailed):
		return failTitled(statusIllegalTransition, "Share token is "+t.status, "only a created share token can be redeemed")
	case t.conn.status != connectionActive:
		return failTitled(statusConnectionNotActive, "Connection is not active", "connection "+t.conn.id+" is "+t.conn.status)
	case destID == "" && !src.cloneable:
		return invalidAt(destPointer, src.name+" share tokens cannot be cloned: data.attributes.destination-id is required")
	case destID == "" && len(mappings) > 0:
		return failWith(fieldMappingsOnClone, pointed(defaultTitle(fieldMappingsOnClone),
			"meta.field-mappings are only used when hydrating", "/meta/field-mappings"))
	case destID != "" && !src.hydrates:
		return invalidAt(destPointer, src.name+" share tokens can only be cloned: omit data.attributes.destination-id")
	case destID != "" && (dest == nil || !dest.kind.info().hydrates):
		return invalidAt(destPointer, "data.attributes.destination-id must be an account, inquiry or transaction of your organization")
	}
	mode := "hydrate"
	if destID == "" {
		mode = "clone"
	}
	t.fieldMappings = pairs
	now := q.now
	t.status, t.redeemMode, t.destination = tokenPending, mode, dest
	t.pendingAt, t.updatedAt = &now, now
	t.failureReason, t.failedAt = "", nil
	s.goLocked(func() {
		if s.sleep(s.ctx, s.cfg.redeemDelay) {
			s.finishRedemption(t)
		}
	})
	return ok(http.StatusAccepted, document{Data: t.view(q.org, false)})
}

// finishRedemption ends a pending redemption: failed for the first reason policy.go
// lists that applies, else redeemed, with the two *-redeemed events.
func (s *Server) finishRedemption(t *shareToken) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.status != tokenPending {
		return
	}
	now := s.nowLocked()
	reason := cmp.Or(t.forcedFailure, s.cfg.redeemFailure) // FailRedemption, then WithRedeemFailure
	switch {
	case reason != "":
	case t.conn.status != connectionActive: // deactivated while pending: no further access
		reason = connect.FailureUnrecoverableError
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
		t.destination = s.newObjectLocked(t.conn.dst, t.source.kind, slices.Clone(t.source.fields))
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
	s.emitLocked(t, connect.EventShareTokenOutboundRedeemed, connect.EventShareTokenInboundRedeemed)
}
