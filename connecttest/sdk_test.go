package connecttest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// sdkWorld is newWorld's fake with a stranger besides, and an SDK client for each of
// the three organizations; its s and d are those clients, in place of world's raw ones.
type sdkWorld struct {
	*world
	stranger *connecttest.Organization
	s, d, x  *connect.Client
}

func newSDKWorld(t *testing.T, opts ...connecttest.ServerOption) *sdkWorld {
	t.Helper()
	w := &sdkWorld{world: newWorld(t, opts...)}
	w.stranger = w.srv.NewOrganization("Stranger")
	w.s, w.d, w.x = sdkClient(t, w.srv, w.src), sdkClient(t, w.srv, w.dst), sdkClient(t, w.srv, w.stranger)
	return w
}

func sdkClient(t *testing.T, srv *connecttest.Server, o *connecttest.Organization) *connect.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := connect.New(o.APIKey, connect.WithBaseURL(srv.URL), connect.WithHTTPClient(&http.Client{Transport: tr}),
		connect.WithRetryBackoff(time.Millisecond, 10*time.Millisecond), connect.WithPollInterval(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// inbox is a webhook endpoint built on the SDK's WebhookHandler: it verifies every
// delivery and collects the share-token events it decodes.
type inbox struct {
	mu     sync.Mutex
	events map[connect.EventName][]*connect.ShareToken
}

func newInbox(t *testing.T, srv *connecttest.Server, o *connecttest.Organization) *inbox {
	t.Helper()
	in := &inbox{events: map[connect.EventName][]*connect.ShareToken{}}
	// The receiver's handler is created first so the webhook URL exists; the secret
	// comes from AddWebhook, so the verifier is installed behind a small indirection.
	var h http.Handler
	var hmu sync.Mutex
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hmu.Lock()
		hh := h
		hmu.Unlock()
		hh.ServeHTTP(rw, r)
	}))
	t.Cleanup(ts.Close)
	secret := srv.AddWebhook(o, ts.URL)
	v, err := connect.NewVerifier([]string{secret}, connect.WithClock(srv.Now))
	if err != nil {
		t.Fatal(err)
	}
	wh := connect.NewWebhookHandler(v, connect.WithErrorHandler(func(_ context.Context, err error) {
		t.Errorf("webhook of %s refused a delivery: %v", o.Name, err)
	}))
	for _, name := range []connect.EventName{connect.EventShareTokenOutboundCreated, connect.EventShareTokenOutboundRedeemed,
		connect.EventShareTokenInboundCreated, connect.EventShareTokenInboundRedeemed} {
		wh.OnShareToken(name, func(_ context.Context, ev *connect.Event, tok *connect.ShareToken) error {
			in.mu.Lock()
			defer in.mu.Unlock()
			in.events[ev.Name] = append(in.events[ev.Name], tok)
			return nil
		})
	}
	hmu.Lock()
	h = wh
	hmu.Unlock()
	return in
}

func (in *inbox) get(name connect.EventName) []*connect.ShareToken {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]*connect.ShareToken(nil), in.events[name]...)
}

func (in *inbox) count() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, l := range in.events {
		n += len(l)
	}
	return n
}

func collect[T any](t *testing.T, seq func(func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestSDKFullLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newSDKWorld(t)
	srcBox, dstBox := newInbox(t, w.srv, w.src), newInbox(t, w.srv, w.dst)

	tok, err := w.s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Status != connect.ShareTokenCreated || tok.Direction != connect.Outbound || tok.ConnectionID != w.cxn ||
		tok.Source == nil || tok.Source.ID != w.inq || tok.Creator == nil || tok.Destination != nil {
		t.Fatalf("created token: %+v", tok)
	}
	in, err := w.d.ShareTokens.Get(ctx, tok.ID)
	if err != nil || in.Direction != connect.Inbound || in.Source != nil || in.ConnectionID != w.cxn {
		t.Fatalf("destination's view: %+v, %v", in, err)
	}
	peek, err := w.d.ShareTokens.Peek(ctx, tok.ID)
	if err != nil || len(peek.SourceData) == 0 {
		t.Fatalf("peek: %v, source-data %s", err, peek.SourceData)
	}

	// Strangers cannot see it, the source cannot redeem it.
	if _, err := w.x.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{}); !errors.Is(err, connect.ErrNotFound) {
		t.Errorf("stranger redeem: %v", err)
	}
	if _, err := w.x.ShareTokens.Get(ctx, tok.ID); !errors.Is(err, connect.ErrNotFound) {
		t.Errorf("stranger get: %v", err)
	}
	if _, err := w.s.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{}); !errors.Is(err, connect.ErrForbidden) {
		t.Errorf("source redeem: %v", err)
	}

	pending, err := w.d.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{})
	if err != nil || pending.Status != connect.ShareTokenPending || pending.RedeemMode != connect.RedeemClone {
		t.Fatalf("redeem: %+v, %v", pending, err)
	}
	done, err := w.d.ShareTokens.Wait(ctx, tok.ID)
	if err != nil || done.Status != connect.ShareTokenRedeemed || done.Destination == nil || done.RedeemedAt == nil {
		t.Fatalf("wait: %+v, %v", done, err)
	}
	if obj, ok := w.srv.Object(done.Destination.ID); !ok || obj.OrganizationID != w.dst.ID {
		t.Errorf("clone made %+v", obj)
	}
	if _, err := w.d.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{}); !errors.Is(err, connect.ErrConflict) {
		t.Errorf("second redeem: %v", err)
	}

	// All four events arrive at the right organization, verified, each with its view.
	eventually(t, "four webhook events", func() bool { return srcBox.count() == 2 && dstBox.count() == 2 })
	for _, c := range []struct {
		box       *inbox
		name      connect.EventName
		direction connect.Direction
		status    connect.ShareTokenStatus
	}{
		{srcBox, connect.EventShareTokenOutboundCreated, connect.Outbound, connect.ShareTokenCreated},
		{srcBox, connect.EventShareTokenOutboundRedeemed, connect.Outbound, connect.ShareTokenRedeemed},
		{dstBox, connect.EventShareTokenInboundCreated, connect.Inbound, connect.ShareTokenCreated},
		{dstBox, connect.EventShareTokenInboundRedeemed, connect.Inbound, connect.ShareTokenRedeemed},
	} {
		got := c.box.get(c.name)
		if len(got) != 1 || got[0].ID != tok.ID || got[0].Direction != c.direction || got[0].Status != c.status {
			t.Errorf("%s: %+v", c.name, got)
		}
	}
	// The Events API replays the same events, each organization its own.
	evs := collect(t, w.d.Events.List(ctx, &connect.ListEventsParams{Names: []connect.EventName{connect.EventShareTokenInboundRedeemed}}))
	if len(evs) != 1 || evs[0].Object.ID != tok.ID {
		t.Fatalf("destination's events: %+v", evs)
	}
	if ev, err := w.d.Events.Get(ctx, evs[0].ID); err != nil || ev.Name != connect.EventShareTokenInboundRedeemed {
		t.Errorf("event get: %+v, %v", ev, err)
	}
	if _, err := w.s.Events.Get(ctx, evs[0].ID); !errors.Is(err, connect.ErrNotFound) {
		t.Errorf("the source read the destination's event: %v", err)
	}

	// Expire: only the source, only while created.
	other, err := w.s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq, ExpiresIn: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.d.ShareTokens.Expire(ctx, other.ID); !errors.Is(err, connect.ErrForbidden) {
		t.Errorf("destination expire: %v", err)
	}
	if exp, err := w.s.ShareTokens.Expire(ctx, other.ID); err != nil || exp.Status != connect.ShareTokenExpired {
		t.Errorf("expire: %+v, %v", exp, err)
	}
	if _, err := w.d.ShareTokens.Redeem(ctx, other.ID, connect.RedeemShareTokenParams{}); !errors.Is(err, connect.ErrConflict) {
		t.Errorf("redeem expired: %v", err)
	}

	// Listing from both sides, across pages.
	for i := 0; i < 3; i++ {
		if _, err := w.s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq}); err != nil {
			t.Fatal(err)
		}
	}
	out := collect(t, w.s.ShareTokens.List(ctx, &connect.ListShareTokensParams{Direction: connect.Outbound, PageSize: 2}))
	inb := collect(t, w.d.ShareTokens.List(ctx, &connect.ListShareTokensParams{ConnectionID: w.cxn, PageSize: 2}))
	if len(out) != 5 || len(inb) != 5 || out[4].ID != tok.ID || inb[4].Direction != connect.Inbound {
		t.Errorf("lists: %d outbound, %d inbound", len(out), len(inb))
	}
	if got := collect(t, w.d.ShareTokens.List(ctx, &connect.ListShareTokensParams{Status: connect.ShareTokenExpired})); len(got) != 1 || got[0].ID != other.ID {
		t.Errorf("expired filter: %+v", got)
	}
	if got := collect(t, w.x.ShareTokens.List(ctx, nil)); len(got) != 0 {
		t.Errorf("stranger lists %d tokens", len(got))
	}
	// Five creates and one redemption; nothing for the expiry.
	eventually(t, "the later creates' events", func() bool { return srcBox.count() >= 6 && dstBox.count() >= 6 })
	time.Sleep(20 * time.Millisecond)
	if srcBox.count() != 6 || dstBox.count() != 6 {
		t.Errorf("%d source and %d destination events, want 6 each", srcBox.count(), dstBox.count())
	}
}

func TestSDKRedemptionFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newSDKWorld(t)
	for _, reason := range []connect.FailureReason{connect.FailureSourceNotFound, connect.FailureSourceRedacted, connect.FailureImportFailed, connect.FailureUnrecoverableError} {
		tok, err := w.s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq})
		if err != nil {
			t.Fatal(err)
		}
		w.srv.FailRedemption(tok.ID, reason)
		if _, err := w.d.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{DestinationID: w.srv.CreateAccount(w.dst)}); err != nil {
			t.Fatal(err)
		}
		got, err := w.d.ShareTokens.Wait(ctx, tok.ID)
		if err != nil || got.Status != connect.ShareTokenFailed || got.FailureReason != reason || got.FailedAt == nil || got.RedeemMode != connect.RedeemHydrate {
			t.Errorf("%s: %+v, %v", reason, got, err)
		}
	}
}

func TestSDKTokenExpiresByTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	w := newSDKWorld(t, connecttest.WithClock(func() time.Time { return now }))
	tok, err := w.s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq, ExpiresIn: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(now.Add(time.Minute)) {
		t.Errorf("expires at %v", tok.ExpiresAt)
	}
	w.srv.Advance(time.Minute)
	got, err := w.d.ShareTokens.Wait(ctx, tok.ID)
	if err != nil || got.Status != connect.ShareTokenExpired {
		t.Fatalf("after the TTL: %+v, %v", got, err)
	}
	if _, err := w.d.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{}); !errors.Is(err, connect.ErrConflict) {
		t.Errorf("redeem after the TTL: %v", err)
	}
}

// A create whose answer is lost after the commit (the connection dropped, or a 201
// whose body breaks off) is retried with the same key; the fake answers the retry from
// its idempotency store, so there is one token.
func TestSDKCreateRetriedAfterLostAnswerLeavesOneToken(t *testing.T) {
	t.Parallel()
	for name, lose := range map[string]func(*connecttest.Server){
		"dropped connection": func(srv *connecttest.Server) { srv.DropAfterCommit("POST", "/connect/share-tokens", 1) },
		"two cut bodies":     func(srv *connecttest.Server) { srv.CutBodyAfterCommit("POST", "/connect/share-tokens", 2) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newSDKWorld(t)
			lose(w.srv)
			tok, err := w.s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq})
			if err != nil {
				t.Fatalf("create after a %s: %v", name, err)
			}
			all := collect(t, w.s.ShareTokens.List(ctx, nil))
			if len(all) != 1 || all[0].ID != tok.ID {
				t.Fatalf("%d tokens after a retried create, want exactly 1 (%s)", len(all), tok.ID)
			}
		})
	}
}

func TestSDKRetriesFaultsButNotStoredServerErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newSDKWorld(t)
	// A 503 in front of the API: the POST is retried and runs for real, once.
	w.srv.FailNext("POST", "/connect/share-tokens", 1, http.StatusServiceUnavailable)
	if _, err := w.s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq}); err != nil {
		t.Fatalf("create after a 503: %v", err)
	}
	// A 500 from inside the API is stored for the key: the SDK hands it to the caller.
	w.srv.FailNextStored("POST", "/connect/share-tokens", 1, http.StatusInternalServerError)
	_, err := w.s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq}, connect.WithIdempotencyKey("fixed"))
	if !errors.Is(err, connect.ErrServer) {
		t.Fatalf("stored 500: %v", err)
	}
	// The same key keeps getting the stored 500.
	if _, err := w.s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq}, connect.WithIdempotencyKey("fixed")); !errors.Is(err, connect.ErrServer) {
		t.Errorf("replayed 500: %v", err)
	}
	if n := len(collect(t, w.s.ShareTokens.List(ctx, nil))); n != 1 {
		t.Errorf("%d tokens, want 1", n)
	}
	// A GET 500 is retried.
	w.srv.FailNext("GET", "/connect/connections/*", 2, http.StatusInternalServerError)
	if c, err := w.s.Connections.Get(ctx, w.cxn); err != nil || c.Status != connect.ConnectionActive {
		t.Errorf("connection get after two 500s: %+v, %v", c, err)
	}
}

func TestSDKConnections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newSDKWorld(t)
	c, err := w.s.Connections.Create(ctx, connect.CreateConnectionParams{DestinationOrganizationID: w.stranger.ID})
	if err != nil || c.Status != connect.ConnectionPending || c.DestinationOrganizationID != w.stranger.ID || c.SourceOrganizationID != w.src.ID {
		t.Fatalf("create: %+v, %v", c, err)
	}
	if _, err := w.s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: c.ID, SourceID: w.inq}); !errors.Is(err, connect.ErrUnprocessable) {
		t.Errorf("token over a pending connection: %v", err)
	}
	w.srv.AcceptConnection(c.ID)
	if got := collect(t, w.s.Connections.List(ctx, &connect.ListConnectionsParams{Status: connect.ConnectionActive, PageSize: 1})); len(got) != 2 {
		t.Errorf("%d active connections, want 2", len(got))
	}
	if got := collect(t, w.x.Connections.List(ctx, nil)); len(got) != 1 || got[0].ID != c.ID {
		t.Errorf("destination's connections: %+v", got)
	}
	if d, err := w.x.Connections.Deactivate(ctx, c.ID); err != nil || d.Status != connect.ConnectionInactive {
		t.Errorf("deactivate: %+v, %v", d, err)
	}
	if _, err := w.x.Connections.Reactivate(ctx, c.ID); !errors.Is(err, connect.ErrForbidden) {
		t.Errorf("destination reactivate: %v", err)
	}
	if r, err := w.s.Connections.Reactivate(ctx, c.ID); err != nil || r.Status != connect.ConnectionPending {
		t.Errorf("reactivate: %+v, %v", r, err)
	}
}

// AutoShare tells an event older than the 24 hours Persona keeps a key by the host's
// clock, which Advance does not move. A test of a delivery that late starts the fake's
// clock more than a day in the past, as Advance's documentation says: then the late
// delivery finds the token the first one made instead of making a second.
func TestSDKAutoShareLateDeliveryOnAPastClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	since := time.Now().Add(-27 * time.Hour)
	w := newSDKWorld(t, connecttest.WithClock(func() time.Time { return time.Now().Add(-26 * time.Hour) }))
	h := connect.NewWebhookHandler(nil)
	var shared []string
	partnerDown := true
	if err := connect.AutoShare(h, w.s, connect.AutoShareConfig{ConnectionID: w.cxn,
		Shared: func(_ context.Context, _ *connect.Event, tok *connect.ShareToken) error {
			shared = append(shared, tok.ID)
			if partnerDown {
				return errors.New("partner down")
			}
			return nil
		}}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Replay(ctx, w.s.Events, since); err == nil {
		t.Fatal("first run: Shared failed, yet Replay did not")
	}
	partnerDown = false
	w.srv.Advance(25 * time.Hour) // the fake forgets the key
	if res, err := h.Replay(ctx, w.s.Events, since); err != nil || res.Ran != 1 {
		t.Fatalf("late run: %+v, %v", res, err)
	}
	if len(shared) != 2 || shared[0] != shared[1] {
		t.Errorf("Shared saw %v, want one token twice", shared)
	}
	if n := len(collect(t, w.s.ShareTokens.List(ctx, nil))); n != 1 {
		t.Errorf("%d tokens, want 1", n)
	}
}
