package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
	"github.com/persona-connect/connect-go/internal/poll"
)

// Tests of how the backend reports each way a token can end; the harness is in
// backend_test.go.

func TestHydrateWithFieldMappings(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	account := h.persona.CreateAccount(h.persona.Destination)
	// Set before the first request, which is what makes it visible to the handlers.
	h.b.redeem = connect.RedeemShareTokenParams{
		DestinationID: account,
		FieldMappings: []connect.FieldMapping{{SourceFieldName: "address_street_1", DestinationFieldName: "street_address"}},
	}
	id := h.token(t)
	h.pushToken(t, "push", id, http.StatusAccepted)
	n := h.final(t, id)
	if n.Outcome != outcomeRedeemed || n.Detail != "by hydrate" || n.Object == nil || n.Object.ID != account {
		t.Errorf("outcome %+v (object %+v), want hydrated into %s", n, n.Object, account)
	}
	if obj, _ := h.persona.Object(account); obj.Fields["street_address"] != "123 Main St" {
		t.Errorf("hydrated fields %v", obj.Fields)
	}
}

// TestCloseStopsTheWaits: a redemption that never ends must not keep a goroutine
// after the backend's context ends.
func TestCloseStopsTheWaits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, connecttest.WithRedeemDelay(time.Hour))
	id := h.token(t)
	h.pushToken(t, "push", id, http.StatusAccepted)
	h.stop()
	closed := make(chan struct{})
	go func() { h.b.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("close did not return: a wait outlived the context")
	}
	if n := h.final(t, id); n.Outcome != outcomeGaveUp {
		t.Errorf("outcome %+v, want gave up", n)
	}
}

// TestRefusedRedemptions: a redeem Persona refuses is explained from the token's
// state and answered 202: asking again cannot help.
func TestRefusedRedemptions(t *testing.T) {
	t.Parallel()
	t.Run("redeemed before it was pushed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		id := h.token(t)
		// Someone else (a Workflow, or this service before a restart) redeemed it.
		other, err := h.persona.NewClient(h.persona.Destination, connect.WithPollInterval(10*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.ShareTokens.Redeem(context.Background(), id, connect.RedeemShareTokenParams{}); err != nil {
			t.Fatal(err)
		}
		if _, err := other.ShareTokens.Wait(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		h.pushToken(t, "push", id, http.StatusAccepted)
		if n := h.final(t, id); n.Outcome != outcomeRedeemed || n.Detail != "by clone" || n.Object == nil {
			t.Errorf("outcome %+v", n)
		}
	})
	t.Run("hydrate target not ours", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.b.redeem = connect.RedeemShareTokenParams{DestinationID: h.persona.CreateAccount(h.persona.Source)} // set before any request
		id := h.token(t)
		for range 2 {
			h.pushToken(t, "push", id, http.StatusAccepted)
		}
		if n := h.final(t, id); n.Outcome != outcomeRefused || !strings.Contains(n.Detail, "422") {
			t.Errorf("outcome %+v", n)
		}
		if n := h.counter.count(id); n != 2 {
			t.Errorf("%d redeem requests, want 2: each push asks, and each is refused", n)
		}
	})
}

// TestWebhookRedemptionIsFollowed: a redemption the webhook started is followed to
// its end, also when it fails, which sends no event.
func TestWebhookRedemptionIsFollowed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, connecttest.WithRedeemFailure(connect.FailureSourceRedacted))
	h.hook(t)
	id := h.token(t)
	if n := h.final(t, id); n.Outcome != outcomeFailed || n.Detail != string(connect.FailureSourceRedacted) {
		t.Errorf("outcome %+v, want failed: source_redacted", n)
	}
	if n := h.counter.accepted(id); n != 1 {
		t.Errorf("%d redemptions started, want 1", n)
	}
}

// TestUnredeemableTokenAnnouncedByWebhook: inbound-created that reaches the backend
// after the token expired, or after an earlier redemption of it failed, is reported as
// that token's end, not as a delivery refused: it was answered 200, and nothing is
// left to do for it.
func TestUnredeemableTokenAnnouncedByWebhook(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		end     func(h *harness, id string)
		outcome outcome
		detail  string
	}{
		{"expired", func(h *harness, id string) {
			if _, err := h.source.ShareTokens.Expire(context.Background(), id); err != nil {
				t.Error(err)
			}
		}, outcomeExpired, "before we could redeem it"},
		{"failed", func(h *harness, id string) {
			h.persona.FailRedemption(id, connect.FailureImportFailed)
			other, err := h.persona.NewClient(h.persona.Destination, connect.WithPollInterval(10*time.Millisecond))
			if err == nil {
				_, err = other.ShareTokens.Redeem(context.Background(), id, connect.RedeemShareTokenParams{})
			}
			if err == nil {
				_, err = other.ShareTokens.Wait(context.Background(), id)
			}
			if err != nil {
				t.Error(err)
			}
		}, outcomeFailed, "by an earlier redemption: " + string(connect.FailureImportFailed)},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, connecttest.WithWebhookRetryDelay(20*time.Millisecond))
			v := h.register(t)
			id := h.token(t)
			// The first delivery finds no endpoint (404); the fake retries it.
			if got := h.persona.DeliveryStatuses(connect.EventShareTokenInboundCreated, 1); len(got) == 0 || got[0] != http.StatusNotFound {
				t.Fatalf("first delivery statuses %v, want a 404", got)
			}
			c.end(h, id)
			h.mount(t, v)
			n := h.final(t, id)
			if n.Outcome != c.outcome || n.Via != viaWebhook || n.Detail != c.detail {
				t.Errorf("outcome %+v, want %s by webhook: %s", n, c.outcome, c.detail)
			}
			poll.Until(t, "a delivery answered 200", func() bool {
				got := h.persona.DeliveryStatuses(connect.EventShareTokenInboundCreated, 0)
				return len(got) > 0 && got[len(got)-1] == http.StatusOK
			})
			if bad := h.badHooks(); len(bad) != 0 {
				t.Errorf("reported as refused deliveries: %q", bad)
			}
		})
	}
}

// TestLostRedeemAnswerIsFollowed: a redeem that Persona applied but whose every answer
// was lost leaves the token pending; the source pushes again, the backend finds it
// pending, and it must still learn how that redemption ends: a failed one sends no
// event, so nothing else would ever tell it. Duplicate pushes meanwhile add no
// second wait.
func TestLostRedeemAnswerIsFollowed(t *testing.T) {
	t.Parallel()
	// No retries by the SDK (a retry would get the stored answer): the pushes follow
	// each other within milliseconds, while the redemption stays pending for seconds.
	h := newHarnessWith(t, []connect.Option{connect.WithMaxRetries(0)}, connecttest.WithRedeemDelay(1500*time.Millisecond))
	id := h.token(t)
	h.persona.FailRedemption(id, connect.FailureImportFailed)
	// The redeem starts the redemption, and its answer is lost.
	h.persona.DropAfterCommit(http.MethodPost, "/connect/share-tokens/*/redeem", 1)
	h.pushToken(t, "push whose answers are lost", id, http.StatusBadGateway)
	for range 3 {
		h.pushToken(t, "push again", id, http.StatusAccepted)
	}
	if n := h.final(t, id); n.Outcome != outcomeFailed || n.Detail != string(connect.FailureImportFailed) {
		t.Errorf("outcome %+v, want failed: import_failed", n)
	}
	if n := h.counter.accepted(id); n != 0 {
		t.Errorf("%d redeem answers reached the backend, want none", n)
	}
	h.b.close() // every wait has ended with the token: each has reported
	finals := 0
	h.mu.Lock()
	for _, n := range h.seen {
		if n.Token == id && n.Outcome.final() {
			finals++
		}
	}
	h.mu.Unlock()
	if finals != 1 {
		t.Errorf("%d final reports of %s, want 1: one wait per token", finals, id)
	}
}

// TestRestartFollowsPendingRedemptions: a redemption the backend started is still
// pending when the process stops (a deploy, a crash). The instance that starts next
// follows it to its end: a failed one sends no event, and without that nothing would
// ever report it.
func TestRestartFollowsPendingRedemptions(t *testing.T) {
	t.Parallel()
	h := newHarness(t, connecttest.WithRedeemDelay(time.Second))
	id := h.token(t)
	h.persona.FailRedemption(id, connect.FailureImportFailed)
	h.pushToken(t, "push", id, http.StatusAccepted)
	h.stop() // the process ends: its wait gives up, the token stays pending
	h.b.close()
	if n := h.final(t, id); n.Outcome != outcomeGaveUp {
		t.Fatalf("first instance: %+v, want gave up", n)
	}

	track := &tracker{tokens: map[string]*tokenReport{}, changed: make(chan struct{}, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	next := newBackend(ctx, h.b.client, connect.RedeemShareTokenParams{}, 10*time.Second, track.add)
	defer next.close()
	if err := next.resume(ctx); err != nil {
		t.Fatal(err)
	}
	var got note
	err := track.waitUntil(ctx, func(ts map[string]*tokenReport) bool {
		if r := ts[id]; r != nil && r.Final != nil {
			got = *r.Final
			return true
		}
		return false
	})
	if err != nil {
		t.Fatalf("the next instance reported nothing of %s: %v", id, err)
	}
	if got.Outcome != outcomeFailed || got.Detail != string(connect.FailureImportFailed) {
		t.Errorf("next instance: %+v, want failed: import_failed", got)
	}
}
