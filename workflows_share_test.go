package connect_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// Tests of AutoShare over real HTTP on connecttest; the rig is in workflows_rig_test.go.

// autoShare returns a handler verified by e with AutoShare for cxn, recording Shared.
func autoShare(t *testing.T, e *endpoint, c *connect.Client, cxn string, calls *sharedCalls, opts ...connect.HandlerOption) *connect.WebhookHandler {
	t.Helper()
	h := e.handler(opts...)
	if err := connect.AutoShare(h, c, connect.AutoShareConfig{ConnectionID: cxn, Shared: calls.record}); err != nil {
		t.Fatal(err)
	}
	return h
}

const createRoute = "POST /connect/share-tokens"

// TestAutoShareRepeatedDeliveries: deliveries of one event, to the handler that ran it
// and to one that does not remember it (a restart, a replica with its own memory),
// make one token.
func TestAutoShareRepeatedDeliveries(t *testing.T) {
	t.Parallel()
	r := newWorkflowRig(t)
	capt, inq, body := r.completedInquiry(t)
	var calls sharedCalls
	h := autoShare(t, capt.endpoint, r.source, r.cxn, &calls)
	for i := range 3 {
		if code := deliver(h, body, capt.secret); code != http.StatusOK {
			t.Fatalf("delivery %d answered %d", i+1, code)
		}
	}
	if code := deliver(autoShare(t, capt.endpoint, r.source, r.cxn, &calls), body, capt.secret); code != http.StatusOK {
		t.Fatalf("delivery to a handler that does not remember the event answered %d", code)
	}
	got := calls.seen()
	if len(got) != 2 || got[0] != got[1] {
		t.Fatalf("Shared saw %v, want the same token twice (the first handler once, the fresh one once)", got)
	}
	if n := r.srcCalls.count(createRoute); n != 2 {
		t.Errorf("%d Create requests, want 2 (the second replayed under the event's key)", n)
	}
	if n := r.srcCalls.count("GET /connect/share-tokens"); n != 0 {
		t.Errorf("%d List requests for a recent event, want 0: the key protects it", n)
	}
	if diff := cmp.Diff([]string{got[0]}, r.tokensOf(t, r.cxn, inq)); diff != "" {
		t.Errorf("tokens of the inquiry (-want +got):\n%s", diff)
	}
}

// TestAutoShareConcurrentDeliveries: the same event delivered many times at once
// makes one token, whether the deliveries reach one handler, two replicas sharing a
// Deduper, or two replicas that share nothing but Persona.
func TestAutoShareConcurrentDeliveries(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		replicas func(newHandler func(...connect.HandlerOption) *connect.WebhookHandler) []http.Handler
		runs     int // how many times Shared runs; 0: at least once
	}{
		{"one handler", func(nh func(...connect.HandlerOption) *connect.WebhookHandler) []http.Handler {
			return []http.Handler{nh()}
		}, 1},
		{"two replicas sharing a Deduper", func(nh func(...connect.HandlerOption) *connect.WebhookHandler) []http.Handler {
			shared := connect.NewMemoryDeduper(0)
			return []http.Handler{nh(connect.WithDeduper(shared)), nh(connect.WithDeduper(shared))}
		}, 1},
		{"two replicas with their own memory", func(nh func(...connect.HandlerOption) *connect.WebhookHandler) []http.Handler {
			return []http.Handler{nh(), nh()}
		}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newWorkflowRig(t)
			capt, inq, body := r.completedInquiry(t)
			var calls sharedCalls
			hs := c.replicas(func(opts ...connect.HandlerOption) *connect.WebhookHandler {
				return autoShare(t, capt.endpoint, r.source, r.cxn, &calls, opts...)
			})
			for _, err := range concurrently(16, func(i int) error { return redeliver(hs[i%len(hs)], body, capt.secret) }) {
				if err != nil {
					t.Error(err)
				}
			}
			got := calls.seen()
			if c.runs > 0 && len(got) != c.runs {
				t.Errorf("Shared ran %d times, want %d", len(got), c.runs)
			}
			tokens := r.tokensOf(t, r.cxn, inq)
			if len(tokens) != 1 {
				t.Fatalf("tokens of the inquiry: %v, want one", tokens)
			}
			for _, id := range got {
				if id != tokens[0] {
					t.Errorf("Shared saw %v, want only %s", got, tokens[0])
					break
				}
			}
		})
	}
}

// TestAutoShareDroppedCreate: Persona makes the token but the answer is lost, and the
// client does not retry: the delivery fails, and Persona's retry gets the same token
// under the event's key.
func TestAutoShareDroppedCreate(t *testing.T) {
	t.Parallel()
	r := newWorkflowRig(t, connecttest.WithWebhookRetryDelay(5*time.Millisecond))
	// A fresh connection per request: net/http would otherwise resend a request with an
	// Idempotency-Key on a reused connection that broke, and hide the drop.
	fresh := http.DefaultTransport.(*http.Transport).Clone()
	fresh.DisableKeepAlives = true
	client, counted := r.clientVia(t, r.src, fresh, connect.WithMaxRetries(0))
	ep := r.endpoint(t, r.src, connect.EventInquiryCompleted)
	var calls sharedCalls
	ep.serve(autoShare(t, ep, client, r.cxn, &calls))

	r.persona.DropAfterCommit(http.MethodPost, "/connect/share-tokens", 1)
	inq := r.persona.CreateInquiry(r.src)
	if diff := cmp.Diff([]int{http.StatusInternalServerError, http.StatusOK}, r.deliveryStatuses(t, connect.EventInquiryCompleted, 2)); diff != "" {
		t.Errorf("delivery statuses (-want +got):\n%s", diff)
	}
	got := calls.waitCalls(t, 1)
	if diff := cmp.Diff(got, r.tokensOf(t, r.cxn, inq)); diff != "" || len(got) != 1 {
		t.Errorf("Shared saw %v; tokens of the inquiry (-shared +listed):\n%s", got, diff)
	}
	if n := counted.count(createRoute); n != 2 {
		t.Errorf("%d Create requests, want 2: the dropped one and the retry's replay", n)
	}
}

// TestAutoShareSharedErrorIsRetried: Shared failing fails the delivery; Persona's
// retry passes the same token to Shared again, and no second token is made.
func TestAutoShareSharedErrorIsRetried(t *testing.T) {
	t.Parallel()
	r := newWorkflowRig(t, connecttest.WithWebhookRetryDelay(5*time.Millisecond))
	ep := r.endpoint(t, r.src, connect.EventInquiryCompleted)
	calls := sharedCalls{fail: func(n int) error {
		if n == 1 {
			return errors.New("partner API unavailable")
		}
		return nil
	}}
	var mu sync.Mutex
	var reported []string
	ep.serve(autoShare(t, ep, r.source, r.cxn, &calls, connect.WithErrorHandler(func(_ context.Context, err error) {
		mu.Lock()
		defer mu.Unlock()
		reported = append(reported, err.Error())
	})))
	inq := r.persona.CreateInquiry(r.src)
	if diff := cmp.Diff([]int{http.StatusInternalServerError, http.StatusOK}, r.deliveryStatuses(t, connect.EventInquiryCompleted, 2)); diff != "" {
		t.Errorf("delivery statuses (-want +got):\n%s", diff)
	}
	got := calls.waitCalls(t, 2)
	tokens := r.tokensOf(t, r.cxn, inq)
	if len(tokens) != 1 || len(got) != 2 || got[0] != tokens[0] || got[1] != tokens[0] {
		t.Errorf("Shared saw %v, tokens %v: want one token, shared twice", got, tokens)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || !strings.Contains(reported[0], "partner API unavailable") || !strings.Contains(reported[0], "Shared("+tokens[0]+")") {
		t.Errorf("errors reported: %q", reported)
	}
	for _, secret := range []string{r.src.APIKey, ep.secret} {
		if strings.Contains(strings.Join(reported, "\n"), secret) {
			t.Errorf("a reported error contains a secret: %q", reported)
		}
	}
}

// TestAutoShareTwoPartners: two AutoShare configs on one handler make one token for
// each partner; one partner's failing Shared fails the delivery without holding back
// the other's token, and the retry makes no second token for either. A function
// registered before by On runs after them, and only on the delivery where they all
// succeeded: the retry.
func TestAutoShareTwoPartners(t *testing.T) {
	t.Parallel()
	r := newWorkflowRig(t, connecttest.WithWebhookRetryDelay(5*time.Millisecond))
	gamma := r.persona.NewOrganization("Gamma Credit")
	cxn2 := r.persona.CreateConnection(r.src, gamma)
	ep := r.endpoint(t, r.src, connect.EventInquiryCompleted)
	h := ep.handler()
	var mine sharedCalls
	h.On(connect.EventInquiryCompleted, func(context.Context, *connect.Event) error {
		return mine.record(context.Background(), nil, &connect.ShareToken{ID: "(user function)"})
	})
	beta := sharedCalls{fail: func(n int) error {
		if n == 1 {
			return errors.New("beta's API is down")
		}
		return nil
	}}
	var gammaCalls sharedCalls
	for _, cfg := range []connect.AutoShareConfig{
		{ConnectionID: r.cxn, Shared: beta.record},
		{ConnectionID: cxn2, Shared: gammaCalls.record},
	} {
		if err := connect.AutoShare(h, r.source, cfg); err != nil {
			t.Fatal(err)
		}
	}
	ep.serve(h)
	inq := r.persona.CreateInquiry(r.src)
	if diff := cmp.Diff([]int{http.StatusInternalServerError, http.StatusOK}, r.deliveryStatuses(t, connect.EventInquiryCompleted, 2)); diff != "" {
		t.Errorf("delivery statuses (-want +got):\n%s", diff)
	}
	toBeta, toGamma := r.tokensOf(t, r.cxn, inq), r.tokensOf(t, cxn2, inq)
	if len(toBeta) != 1 || len(toGamma) != 1 || toBeta[0] == toGamma[0] {
		t.Fatalf("tokens: %v to Beta, %v to Gamma; want one each", toBeta, toGamma)
	}
	for name, c := range map[string]struct {
		calls *sharedCalls
		want  []string
	}{
		"user function": {&mine, []string{"(user function)"}},
		"Beta":          {&beta, []string{toBeta[0], toBeta[0]}},
		"Gamma":         {&gammaCalls, []string{toGamma[0], toGamma[0]}},
	} {
		if diff := cmp.Diff(c.want, c.calls.seen()); diff != "" {
			t.Errorf("%s saw (-want +got):\n%s", name, diff)
		}
	}
	// Each partner sees its own token, inbound.
	gammaClient, _ := r.client(t, gamma)
	if tok, err := gammaClient.ShareTokens.Get(context.Background(), toGamma[0]); err != nil || tok.Direction != connect.Inbound {
		t.Errorf("Gamma's view of its token: %+v, %v", tok, err)
	}
}

// inquiryEvent is a signed-body-to-be for event id, named name, about the object
// (typ, id), created at created.
func inquiryEvent(id string, name connect.EventName, typ, objectID string, created time.Time) []byte {
	return []byte(fmt.Sprintf(`{"data":{"type":"event","id":%q,"attributes":{"name":%q,`+
		`"payload":{"data":{"type":%q,"id":%q,"attributes":{"status":"completed"}},"included":[]},`+
		`"created-at":%q,"context":{}}}}`, id, name, typ, objectID, created.UTC().Format("2006-01-02T15:04:05.000Z")))
}

// TestAutoShareAfterTheKeyWindow: Persona forgets an idempotency key after 24 hours
// but retries a delivery for about 51. A delivery of an event that old finds the token
// the first delivery made instead of making a second one.
func TestAutoShareAfterTheKeyWindow(t *testing.T) {
	t.Parallel()
	r := newWorkflowRig(t)
	const secret = "wbhsec_window"
	v := newVerifier(t, []string{secret})
	e := &endpoint{secret: secret, verifier: v}
	inq := r.persona.CreateInquiry(r.src) // no webhook: its own event goes nowhere
	other := r.persona.CreateInquiry(r.src)
	body := inquiryEvent("evt_Old1", connect.EventInquiryCompleted, "inquiry", inq, time.Now().Add(-30*time.Hour))

	var calls sharedCalls
	if code := deliver(autoShare(t, e, r.source, r.cxn, &calls), body, secret); code != http.StatusOK {
		t.Fatalf("first delivery answered %d", code)
	}
	// Newer tokens over the connection, one of another inquiry, are passed over.
	for _, src := range []string{other, other} {
		if _, err := r.source.ShareTokens.Create(context.Background(), connect.CreateShareTokenParams{ConnectionID: r.cxn, SourceID: src}); err != nil {
			t.Fatal(err)
		}
	}
	r.persona.Advance(25 * time.Hour) // the key is forgotten
	if code := deliver(autoShare(t, e, r.source, r.cxn, &calls), body, secret); code != http.StatusOK {
		t.Fatalf("late delivery answered %d", code)
	}
	got := calls.seen()
	tokens := r.tokensOf(t, r.cxn, inq)
	if len(tokens) != 1 || cmp.Diff([]string{tokens[0], tokens[0]}, got) != "" {
		t.Errorf("Shared saw %v, tokens of the inquiry %v: want one token, shared twice", got, tokens)
	}
	if n := r.srcCalls.count(createRoute); n != 3 {
		t.Errorf("%d Create requests, want 3 (the first delivery's and the test's two)", n)
	}
}

// TestAutoShareRefusesOtherPayloads: an inquiry event whose payload is not an inquiry
// fails the delivery, and nothing reaches Persona.
func TestAutoShareRefusesOtherPayloads(t *testing.T) {
	t.Parallel()
	const secret = "wbhsec_payloads"
	v := newVerifier(t, []string{secret})
	for _, c := range []struct{ name, typ, id, want string }{
		{"an account", "account", "act_ABC", `not an inquiry: event evt_P1 is about a "account"`},
		{"an inquiry id of another kind", "inquiry", "txn_ABC", "payload inquiry id must start with inq_"},
		{"an inquiry id with a path in it", "inquiry", "inq_A/../B", "payload inquiry id must not contain"},
	} {
		var reported error
		h := connect.NewWebhookHandler(v, connect.WithErrorHandler(func(_ context.Context, err error) { reported = err }))
		if err := connect.AutoShare(h, noIOClient(t), connect.AutoShareConfig{ConnectionID: "cxn_ABC"}); err != nil {
			t.Fatal(err)
		}
		body := inquiryEvent("evt_P1", connect.EventInquiryCompleted, c.typ, c.id, time.Now())
		if code := deliver(h, body, secret); code != http.StatusInternalServerError {
			t.Errorf("%s: answered %d, want 500", c.name, code)
		}
		if reported == nil || !strings.Contains(reported.Error(), c.want) {
			t.Errorf("%s: reported %v, want it to contain %q", c.name, reported, c.want)
		}
	}
}

func TestAutoShareConfig(t *testing.T) {
	t.Parallel()
	const secret = "wbhsec_config"
	v := newVerifier(t, []string{secret})
	good := connect.AutoShareConfig{ConnectionID: "cxn_ABC"}
	with := func(change func(*connect.AutoShareConfig)) connect.AutoShareConfig {
		cfg := good
		change(&cfg)
		return cfg
	}
	for _, c := range []struct {
		name      string
		noHandler bool
		noClient  bool
		cfg       connect.AutoShareConfig
		field     string // "" for a config that is accepted
	}{
		{name: "the defaults", cfg: good},
		{name: "several inquiry events and a TTL", cfg: with(func(c *connect.AutoShareConfig) {
			c.On, c.ExpiresIn = []connect.EventName{connect.EventInquiryApproved, connect.EventInquiryCompleted, "inquiry.something-new"}, 24*time.Hour
		})},
		{name: "no handler", noHandler: true, cfg: good, field: "handler"},
		{name: "no client", noClient: true, cfg: good, field: "client"},
		{name: "no connection", cfg: with(func(c *connect.AutoShareConfig) { c.ConnectionID = "" }), field: "ConnectionID must not be empty"},
		{name: "blank connection", cfg: with(func(c *connect.AutoShareConfig) { c.ConnectionID = "  " }), field: "ConnectionID must not be empty"},
		{name: "path in the connection", cfg: with(func(c *connect.AutoShareConfig) { c.ConnectionID = "cxn_A/../B" }), field: "ConnectionID must not contain"},
		{name: "an inquiry as connection", cfg: with(func(c *connect.AutoShareConfig) { c.ConnectionID = "inq_ABC" }), field: "ConnectionID must start with cxn_"},
		{name: "no events", cfg: with(func(c *connect.AutoShareConfig) { c.On = []connect.EventName{} }), field: "On must not be empty"},
		{name: "a share token event", cfg: with(func(c *connect.AutoShareConfig) {
			c.On = []connect.EventName{connect.EventInquiryCompleted, connect.EventShareTokenInboundCreated}
		}), field: "On[1] must be an inquiry.* event name"},
		{name: "an empty inquiry name", cfg: with(func(c *connect.AutoShareConfig) { c.On = []connect.EventName{"inquiry."} }), field: "On[0] must be an inquiry.* event name"},
		{name: "a name with a space", cfg: with(func(c *connect.AutoShareConfig) { c.On = []connect.EventName{"inquiry.completed "} }), field: "On[0] must be an inquiry.* event name"},
		{name: "a repeated name", cfg: with(func(c *connect.AutoShareConfig) {
			c.On = []connect.EventName{connect.EventInquiryCompleted, connect.EventInquiryCompleted}
		}), field: "On[1] repeats inquiry.completed"},
		{name: "TTL too short", cfg: with(func(c *connect.AutoShareConfig) { c.ExpiresIn = 30 * time.Second }), field: "ExpiresIn must be between"},
		{name: "TTL too long", cfg: with(func(c *connect.AutoShareConfig) { c.ExpiresIn = 22 * 24 * time.Hour }), field: "ExpiresIn must be between"},
		{name: "TTL not whole seconds", cfg: with(func(c *connect.AutoShareConfig) { c.ExpiresIn = 90*time.Second + time.Millisecond }), field: "ExpiresIn must be whole seconds"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := connect.NewWebhookHandler(v)
			client := noIOClient(t)
			hArg, cArg := h, client
			if c.noHandler {
				hArg = nil
			}
			if c.noClient {
				cArg = nil
			}
			err := connect.AutoShare(hArg, cArg, c.cfg)
			if c.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, connect.ErrInvalidParams) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("error %v, want ErrInvalidParams naming %q", err, c.field)
			}
			// Nothing was registered: the event is answered 200 without a request
			// (noIOClient fails the test on any).
			body := inquiryEvent("evt_C1", connect.EventInquiryCompleted, "inquiry", "inq_ABC", time.Now())
			if code := deliver(h, body, secret); code != http.StatusOK {
				t.Errorf("delivery after a refused config answered %d, want 200 (nothing registered)", code)
			}
		})
	}
}

// TestAutoShareErrorsEscapeWhatPersonaSent: the id of the token Create answered with,
// and the inquiry id of the payload, are Persona's text; AutoShare's errors quote them
// escaped, so a hostile or broken answer cannot forge a log line or reorder a
// terminal's text through them.
func TestAutoShareErrorsEscapeWhatPersonaSent(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	token := strings.Replace(string(specFixture(t, "connect-share-token.json")), `"cnst_ABC123"`, `"cnst_ABC\nlevel=ERROR msg=forged"`, 1)
	mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), respond(http.StatusCreated, []byte(token)))
	h := connect.NewWebhookHandler(nil)
	failing := func(context.Context, *connect.Event, *connect.ShareToken) error { return errors.New("partner down") }
	if err := connect.AutoShare(h, c, connect.AutoShareConfig{ConnectionID: "cxn_ABC123", Shared: failing}); err != nil {
		t.Fatal(err)
	}
	ev, err := connect.ParseEvent(inquiryEvent("evt_E1", connect.EventInquiryCompleted, "inquiry", "inq_AB\u202eC", time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	err = h.Process(ctxT(t), ev)
	if err == nil {
		t.Fatal("Process succeeded, want Shared's error")
	}
	msg := err.Error()
	for _, want := range []string{`cnst_ABC\nlevel=ERROR msg=forged`, `inq_AB\u202eC`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q: want %s in it, escaped", msg, want)
		}
	}
	if strings.ContainsAny(msg, "\n\u202e") {
		t.Errorf("error %q holds a line break or a bidi override", msg)
	}
}

// A Create refused with an answer Persona stores is refused again under the event's
// key: the error says that Persona replays it, or a "Connection is not active" after a
// reactivation reads as a lie in the log. A 409 may be another replica's Create still
// running under the key: it is not said to be replayed.
func TestAutoShareErrorSaysWhetherPersonaReplaysTheAnswer(t *testing.T) {
	t.Parallel()
	const replayed = "Persona replays this answer to the event's Idempotency-Key until 24 hours after its first Create"
	for _, tc := range []struct {
		name    string
		refuse  func(t *testing.T, r *workflowRig) // before the first delivery
		mend    func(t *testing.T, r *workflowRig) // between the two
		want    error
		replays bool
	}{
		{
			name: "inactive connection",
			refuse: func(t *testing.T, r *workflowRig) {
				if _, err := r.source.Connections.Deactivate(context.Background(), r.cxn); err != nil {
					t.Fatal(err)
				}
			},
			mend: func(t *testing.T, r *workflowRig) {
				if _, err := r.source.Connections.Reactivate(context.Background(), r.cxn); err != nil {
					t.Fatal(err)
				}
				r.persona.AcceptConnection(r.cxn)
			},
			want: connect.ErrUnprocessable, replays: true,
		},
		{
			name: "conflict",
			refuse: func(_ *testing.T, r *workflowRig) {
				r.persona.FailNext(http.MethodPost, "/connect/share-tokens", 2, http.StatusConflict)
			},
			mend: func(*testing.T, *workflowRig) {},
			want: connect.ErrConflict,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newWorkflowRig(t)
			const secret = "wbhsec_replayed"
			e := &endpoint{secret: secret, verifier: newVerifier(t, []string{secret})}
			body := inquiryEvent("evt_Replayed1", connect.EventInquiryCompleted, "inquiry", r.persona.CreateInquiry(r.src), time.Now())
			var reported error
			var calls sharedCalls
			h := autoShare(t, e, r.source, r.cxn, &calls, connect.WithErrorHandler(func(_ context.Context, err error) { reported = err }))
			tc.refuse(t, r)
			if code := deliver(h, body, secret); code != http.StatusInternalServerError {
				t.Fatalf("the refused delivery answered %d, want 500", code)
			}
			tc.mend(t, r)
			if code := deliver(h, body, secret); code != http.StatusInternalServerError {
				t.Fatalf("the retry answered %d, want the refusal again", code)
			}
			if !errors.Is(reported, tc.want) || strings.Contains(reported.Error(), replayed) != tc.replays {
				t.Errorf("reported %v, want %v, said to be replayed: %v", reported, tc.want, tc.replays)
			}
		})
	}
}
