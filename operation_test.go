package connect_test

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// idLike matches anything that looks like one of Persona's ids.
var idLike = regexp.MustCompile(`[a-z]+_[A-Za-z0-9]{6,}`)

// Every request of every operation carries its Operation (name and route template,
// never an id) and its attempt number.
func TestEveryRequestCarriesItsOperation(t *testing.T) {
	t.Parallel()
	srv := newPersona(t, connecttest.WithRedeemDelay(0))
	cxn, inq := srv.cxn, srv.inq
	secret := srv.AddWebhook(srv.src, "http://127.0.0.1:1/never", connect.EventInquiryApproved)
	opts := []connect.Option{connect.WithRetryBackoff(time.Millisecond, time.Millisecond), connect.WithPollInterval(time.Millisecond)}
	s, rec := logClient(t, srv.Server, srv.src, opts...)
	d, destRec := logClient(t, srv.Server, srv.dst, opts...)
	ctx := ctxT(t)
	var tok *connect.ShareToken
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var expiring *connect.ShareToken
	steps := []struct {
		name, route string
		call        func()
	}{
		{"ShareTokens.Create", "/connect/share-tokens", func() {
			var err error
			tok, err = s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
			must(err)
		}},
		{"ShareTokens.Get", "/connect/share-tokens/{id}", func() { _, err := s.ShareTokens.Get(ctx, tok.ID); must(err) }},
		{"ShareTokens.Peek", "/connect/share-tokens/{id}", func() { _, err := d.ShareTokens.Peek(ctx, tok.ID); must(err) }},
		{"ShareTokens.List", "/connect/share-tokens", func() { _, err := collectAll(s.ShareTokens.List(ctx, nil)); must(err) }},
		{"ShareTokens.Redeem", "/connect/share-tokens/{id}/redeem", func() {
			_, err := d.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{})
			must(err)
		}},
		{"ShareTokens.Wait", "/connect/share-tokens/{id}", func() { _, err := d.ShareTokens.Wait(ctx, tok.ID); must(err) }},
		{"ShareTokens.Expire", "/connect/share-tokens/{id}/expire", func() {
			var err error
			expiring, err = s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
			must(err)
			rec.take()
			_, err = s.ShareTokens.Expire(ctx, expiring.ID)
			must(err)
		}},
		{"Connections.List", "/connect/connections", func() { _, err := collectAll(s.Connections.List(ctx, nil)); must(err) }},
		{"Connections.Get", "/connect/connections/{id}", func() { _, err := s.Connections.Get(ctx, cxn); must(err) }},
		{"Connections.Deactivate", "/connect/connections/{id}/deactivate", func() { _, err := s.Connections.Deactivate(ctx, cxn); must(err) }},
		{"Connections.Reactivate", "/connect/connections/{id}/reactivate", func() { _, err := s.Connections.Reactivate(ctx, cxn); must(err) }},
		{"Connections.Create", "/connect/connections", func() {
			_, err := s.Connections.Create(ctx, connect.CreateConnectionParams{DestinationOrganizationID: srv.NewOrganization("X").ID})
			must(err)
		}},
		{"Events.List", "/events", func() { _, err := collectAll(s.Events.List(ctx, &connect.ListEventsParams{PageSize: 1})); must(err) }},
		{"Events.Get", "/events/{id}", func() {
			evs, err := collectAll(s.Events.List(ctx, &connect.ListEventsParams{PageSize: 1}))
			must(err)
			rec.take()
			_, err = s.Events.Get(ctx, evs[0].ID)
			must(err)
		}},
		{"Webhooks.RotateSecret", "/webhooks/{id}/rotate-secret", func() {
			_, err := s.Webhooks.RotateSecret(ctx, srv.WebhookID(secret), connect.RotateWebhookSecretParams{ExpiresIn: time.Minute})
			must(err)
		}},
	}
	both := func() []wireEntry { return append(rec.take(), destRec.take()...) }
	for _, st := range steps {
		both()
		st.call()
		seen := both()
		if len(seen) == 0 {
			t.Errorf("%s sent no request", st.name)
		}
		for _, r := range seen {
			if !r.HasOp || r.Op != (connect.Operation{Name: st.name, Route: st.route}) {
				t.Errorf("%s: %s %s carries %+v (present %v), want %s %s", st.name, r.Method, r.Route, r.Op, r.HasOp, st.name, st.route)
			}
			if r.Attempt != 1 {
				t.Errorf("%s: attempt %d, want 1", st.name, r.Attempt)
			}
			if idLike.MatchString(r.Op.Route) || idLike.MatchString(r.Op.Name) {
				t.Errorf("%s: operation %+v holds an id", st.name, r.Op)
			}
		}
	}

	// Pages of one List and polls of one Wait all carry the operation; a retry carries
	// the next attempt number.
	srv.AcceptConnection(cxn) // reactivated above: pending again
	for range 3 {
		_, err := s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
		must(err)
	}
	rec.take()
	_, err := collectAll(s.ShareTokens.List(ctx, &connect.ListShareTokensParams{PageSize: 1}))
	must(err)
	pages := rec.take()
	if len(pages) < 3 {
		t.Errorf("List with page size 1 fetched %d pages, want at least 3", len(pages))
	}
	for _, p := range pages {
		if p.Op.Name != "ShareTokens.List" {
			t.Errorf("page %s carries %+v", p.Route, p.Op)
		}
	}
	srv.FailNext(http.MethodGet, "/connect/share-tokens/*", 2, http.StatusServiceUnavailable)
	_, err = s.ShareTokens.Get(ctx, tok.ID)
	must(err)
	var attempts []int
	for _, r := range rec.take() {
		attempts = append(attempts, r.Attempt)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, attempts); diff != "" {
		t.Errorf("attempts of a call retried twice (-want +got):\n%s", diff)
	}
}

// A context that did not come from the SDK carries no Operation and no attempt.
func TestOperationFromContextOutsideTheSDK(t *testing.T) {
	t.Parallel()
	if op, ok := connect.OperationFromContext(context.Background()); ok || op != (connect.Operation{}) {
		t.Errorf("OperationFromContext(Background) = %+v, %v", op, ok)
	}
	if n, ok := connect.AttemptFromContext(context.Background()); ok || n != 0 {
		t.Errorf("AttemptFromContext(Background) = %d, %v", n, ok)
	}
}
