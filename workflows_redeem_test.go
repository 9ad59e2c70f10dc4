package connect_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// Tests of AutoRedeem over real HTTP on connecttest; the rig is in workflows_rig_test.go.

const redeemRoute = "POST /connect/share-tokens/{id}/redeem"

// share creates, as the source, a token of a new inquiry.
func (r *workflowRig) share(t *testing.T) string {
	t.Helper()
	tok, err := r.source.ShareTokens.Create(context.Background(), connect.CreateShareTokenParams{ConnectionID: r.cxn, SourceID: r.persona.CreateInquiry(r.src)})
	if err != nil {
		t.Fatal(err)
	}
	return tok.ID
}

func TestAutoRedeemClones(t *testing.T) {
	t.Parallel()
	r := newWorkflowRig(t)
	ep := r.endpoint(t, r.dst, connect.EventShareTokenInboundCreated, connect.EventShareTokenInboundRedeemed)
	h := ep.handler()
	var accepted, redeemed sharedCalls
	err := connect.AutoRedeem(h, r.dest, connect.AutoRedeemConfig{Accepted: accepted.accepted, Redeemed: redeemed.record})
	if err != nil {
		t.Fatal(err)
	}
	ep.serve(h)
	id := r.share(t)
	tok := redeemed.first(t)
	if started := accepted.first(t); started.ID != id || started.Status != connect.ShareTokenPending {
		t.Errorf("Accepted saw %+v, want %s pending", started, id)
	}
	if tok.ID != id || tok.Status != connect.ShareTokenRedeemed || tok.RedeemMode != connect.RedeemClone ||
		tok.Destination == nil || tok.Destination.Type != "inquiry" || !strings.HasPrefix(tok.Destination.ID, "inq_") {
		t.Errorf("Redeemed saw %+v (destination %+v), want %s cloned into a new inquiry", tok, tok.Destination, id)
	}
	if n := r.dstCalls.count(redeemRoute); n != 1 {
		t.Errorf("%d redeem requests, want 1", n)
	}
}

func TestAutoRedeemHydratesWithFieldMappings(t *testing.T) {
	t.Parallel()
	r := newWorkflowRig(t)
	account := r.persona.CreateAccount(r.dst)
	ep := r.endpoint(t, r.dst, connect.EventShareTokenInboundCreated, connect.EventShareTokenInboundRedeemed)
	h := ep.handler()
	var redeemed sharedCalls
	var asked []string
	var mu sync.Mutex
	err := connect.AutoRedeem(h, r.dest, connect.AutoRedeemConfig{
		Params: func(_ context.Context, tok *connect.ShareToken) (connect.RedeemShareTokenParams, error) {
			mu.Lock()
			asked = append(asked, tok.ID)
			mu.Unlock()
			return connect.RedeemShareTokenParams{
				DestinationID: account,
				FieldMappings: []connect.FieldMapping{{SourceFieldName: "address_street_1", DestinationFieldName: "street_address"}},
			}, nil
		},
		Redeemed: redeemed.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	ep.serve(h)
	id := r.share(t)
	tok := redeemed.first(t)
	if tok.RedeemMode != connect.RedeemHydrate || tok.Destination == nil || tok.Destination.ID != account {
		t.Errorf("Redeemed saw %+v (destination %+v), want a hydrate of %s", tok, tok.Destination, account)
	}
	mu.Lock()
	if diff := cmp.Diff([]string{id}, asked); diff != "" {
		t.Errorf("Params asked for (-want +got):\n%s", diff)
	}
	mu.Unlock()
	obj, _ := r.persona.Object(account)
	if obj.Fields["street_address"] != "123 Main St" {
		t.Errorf("hydrated fields %v, want street_address mapped from address_street_1", obj.Fields)
	}
}

// TestAutoRedeemConcurrentDeliveries: one inbound-created delivered many times at
// once to replicas that share nothing: one redemption, and every delivery ends 200,
// since the losers see the token pending or redeemed.
func TestAutoRedeemConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	r := newWorkflowRig(t)
	capt := r.capture(t, r.dst, connect.EventShareTokenInboundCreated)
	id := r.share(t)
	body := capt.body(t, connect.EventShareTokenInboundCreated)
	var hs []*connect.WebhookHandler
	var accepted sharedCalls
	for range 2 {
		h := capt.handler()
		if err := connect.AutoRedeem(h, r.dest, connect.AutoRedeemConfig{Accepted: accepted.accepted}); err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	for _, code := range concurrently(12, func(i int) int { return deliver(hs[i%2], body, capt.secret) }) {
		if code != http.StatusOK && code != http.StatusConflict {
			t.Errorf("a delivery answered %d, want 200 (or 409 while a duplicate runs)", code)
		}
	}
	tok, err := r.dest.ShareTokens.Wait(context.Background(), id)
	if err != nil || tok.Status != connect.ShareTokenRedeemed {
		t.Fatalf("token after the deliveries: %+v, %v", tok, err)
	}
	if n := r.dstCalls.count(redeemRoute); n < 2 {
		t.Errorf("%d redeem requests: the replicas share no memory, so each should have tried", n)
	}
	if diff := cmp.Diff([]string{id}, accepted.seen()); diff != "" {
		t.Errorf("Accepted saw (-want +got):\n%s", diff)
	}
}

// TestAutoRedeemAnswersFromTheTokensStatus: a refused redeem counts as done when Get
// shows the token pending or redeemed, and also, reported to the error handler, when it
// shows it expired or failed, which no retry could change.
func TestAutoRedeemAnswersFromTheTokensStatus(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		opts   []connecttest.ServerOption
		before func(t *testing.T, r *workflowRig, id string) // puts the token in its state
		code   int
		want   string // in the reported error
	}{
		{"redeemed by hand", nil, func(t *testing.T, r *workflowRig, id string) {
			redeemByHand(t, r, id)
			if tok, err := r.dest.ShareTokens.Wait(context.Background(), id); err != nil || tok.Status != connect.ShareTokenRedeemed {
				t.Fatalf("by hand: %+v, %v", tok, err)
			}
		}, http.StatusOK, ""},
		{"pending after a redeem by hand", []connecttest.ServerOption{connecttest.WithRedeemDelay(time.Hour)}, redeemByHand, http.StatusOK, ""},
		{"failed", nil, func(t *testing.T, r *workflowRig, id string) {
			r.persona.FailRedemption(id, connect.FailureImportFailed)
			redeemByHand(t, r, id)
			if tok, err := r.dest.ShareTokens.Wait(context.Background(), id); err != nil || tok.Status != connect.ShareTokenFailed {
				t.Fatalf("by hand: %+v, %v", tok, err)
			}
		}, http.StatusOK, "(status failed)"},
		{"expired by the source", nil, func(t *testing.T, r *workflowRig, id string) {
			if _, err := r.source.ShareTokens.Expire(context.Background(), id); err != nil {
				t.Fatal(err)
			}
		}, http.StatusOK, "(status expired)"},
		{"connection deactivated", nil, func(t *testing.T, r *workflowRig, _ string) {
			if _, err := r.source.Connections.Deactivate(context.Background(), r.cxn); err != nil {
				t.Fatal(err)
			}
		}, http.StatusInternalServerError, "(status created): POST /connect/share-tokens/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newWorkflowRig(t, c.opts...)
			capt := r.capture(t, r.dst, connect.EventShareTokenInboundCreated)
			id := r.share(t)
			body := capt.body(t, connect.EventShareTokenInboundCreated)
			c.before(t, r, id)
			auto, calls := r.client(t, r.dst)
			var reported error
			h := capt.handler(connect.WithErrorHandler(func(_ context.Context, err error) { reported = err }))
			err := connect.AutoRedeem(h, auto, connect.AutoRedeemConfig{
				Accepted: func(context.Context, *connect.Event, *connect.ShareToken) {
					t.Error("Accepted called for a refused redeem")
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if code := deliver(h, body, capt.secret); code != c.code {
				t.Errorf("delivery answered %d, want %d (reported: %v)", code, c.code, reported)
			}
			if c.want != "" && (reported == nil || !strings.Contains(reported.Error(), c.want)) {
				t.Errorf("reported %v, want it to contain %q", reported, c.want)
			}
			if r, g := calls.count(redeemRoute), calls.count("GET /connect/share-tokens/{id}"); r != 1 || g != 1 {
				t.Errorf("%d redeem and %d get requests, want 1 and 1", r, g)
			}
		})
	}
}

// redeemByHand redeems id as the destination, outside AutoRedeem.
func redeemByHand(t *testing.T, r *workflowRig, id string) {
	t.Helper()
	if _, err := r.dest.ShareTokens.Redeem(context.Background(), id, connect.RedeemShareTokenParams{}); err != nil {
		t.Fatal(err)
	}
}

// TestAutoRedeemCallbackErrorsAreRetried: an error of Params fails the
// inbound-created delivery and one of Redeemed the inbound-redeemed one; Persona's
// retries then succeed, and the token is redeemed once.
func TestAutoRedeemCallbackErrorsAreRetried(t *testing.T) {
	t.Parallel()
	r := newWorkflowRig(t, connecttest.WithWebhookRetryDelay(5*time.Millisecond))
	ep := r.endpoint(t, r.dst, connect.EventShareTokenInboundCreated, connect.EventShareTokenInboundRedeemed)
	h := ep.handler()
	var paramsCalls sharedCalls
	paramsCalls.fail = func(n int) error {
		if n == 1 {
			return errors.New("our database is down")
		}
		return nil
	}
	redeemed := sharedCalls{fail: paramsCalls.fail}
	err := connect.AutoRedeem(h, r.dest, connect.AutoRedeemConfig{
		Params: func(ctx context.Context, tok *connect.ShareToken) (connect.RedeemShareTokenParams, error) {
			return connect.RedeemShareTokenParams{}, paramsCalls.record(ctx, nil, tok)
		},
		Redeemed: redeemed.record,
	})
	if err != nil {
		t.Fatal(err)
	}
	ep.serve(h)
	id := r.share(t)
	for _, name := range []connect.EventName{connect.EventShareTokenInboundCreated, connect.EventShareTokenInboundRedeemed} {
		if diff := cmp.Diff([]int{http.StatusInternalServerError, http.StatusOK}, r.deliveryStatuses(t, name, 2)); diff != "" {
			t.Errorf("%s delivery statuses (-want +got):\n%s", name, diff)
		}
	}
	if diff := cmp.Diff([]string{id, id}, redeemed.waitCalls(t, 2)); diff != "" {
		t.Errorf("Redeemed saw (-want +got):\n%s", diff)
	}
	if n := r.dstCalls.count(redeemRoute); n != 1 {
		t.Errorf("%d redeem requests, want 1: the failed Params sent none", n)
	}
}

func TestAutoRedeemConfig(t *testing.T) {
	t.Parallel()
	v := newVerifier(t, []string{"wbhsec_config"})
	if err := connect.AutoRedeem(nil, noIOClient(t), connect.AutoRedeemConfig{}); !errors.Is(err, connect.ErrInvalidParams) || !strings.Contains(err.Error(), "handler") {
		t.Errorf("nil handler: %v", err)
	}
	if err := connect.AutoRedeem(connect.NewWebhookHandler(v), nil, connect.AutoRedeemConfig{}); !errors.Is(err, connect.ErrInvalidParams) || !strings.Contains(err.Error(), "client") {
		t.Errorf("nil client: %v", err)
	}
	// A payload that is not a share token fails the delivery before any request.
	h := connect.NewWebhookHandler(v)
	if err := connect.AutoRedeem(h, noIOClient(t), connect.AutoRedeemConfig{}); err != nil {
		t.Fatal(err)
	}
	body := inquiryEvent("evt_R1", connect.EventShareTokenInboundCreated, "inquiry", "inq_ABC", time.Now())
	if code := deliver(h, body, "wbhsec_config"); code != http.StatusInternalServerError {
		t.Errorf("inbound-created about an inquiry answered %d, want 500", code)
	}
}

// TestAutoRedeemErrorsEscapeWhatPersonaSent: the token id of the payload and the
// status read back are Persona's text; AutoRedeem's errors quote them escaped, so a
// hostile or broken answer cannot forge a log line through them.
func TestAutoRedeemErrorsEscapeWhatPersonaSent(t *testing.T) {
	t.Parallel()
	const forged = "\nlevel=ERROR msg=forged"
	inbound, err := os.ReadFile("testdata/share_token_inbound_created.kebab.json")
	if err != nil {
		t.Fatal(err)
	}
	event := func(t *testing.T, id string) *connect.Event {
		t.Helper()
		body := strings.Replace(string(inbound), `"cnst_ABC123"`, strconv.Quote(id), 1)
		ev, err := connect.ParseEvent([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	check := func(t *testing.T, err error, escaped string) {
		t.Helper()
		if err == nil {
			t.Fatal("Process succeeded, want the refusal")
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.Contains(msg, escaped) {
			t.Errorf("error %q: want %s in it, its line break escaped", msg, escaped)
		}
	}
	t.Run("status read back", func(t *testing.T) {
		t.Parallel()
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodPost, mockURL(getTokenPath+"/redeem"), respond(http.StatusConflict, errorBody(http.StatusConflict)))
		token := strings.Replace(string(specFixture(t, "connect-share-token.json")), `"created"`, strconv.Quote("created"+forged), 1)
		mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), respond(http.StatusOK, []byte(token)))
		h := connect.NewWebhookHandler(nil)
		if err := connect.AutoRedeem(h, c, connect.AutoRedeemConfig{}); err != nil {
			t.Fatal(err)
		}
		check(t, h.Process(ctxT(t), event(t, "cnst_ABC123")), `created\nlevel=ERROR msg=forged`)
	})
	t.Run("token id of the payload", func(t *testing.T) {
		t.Parallel()
		h := connect.NewWebhookHandler(nil)
		if err := connect.AutoRedeem(h, noIOClient(t), connect.AutoRedeemConfig{}); err != nil {
			t.Fatal(err)
		}
		check(t, h.Process(ctxT(t), event(t, "cnst_ABC"+forged)), `cnst_ABC\nlevel=ERROR msg=forged`)
	})
}
