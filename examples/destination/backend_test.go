package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
	"github.com/persona-connect/connect-go/examples/internal/demo"
)

// harness is a source and a destination on connecttest, with the backend serving the
// destination's API (and, after hook, its webhook) on loopback. The backend clones; a
// test that hydrates sets b.redeem before its first request.
type harness struct {
	persona *demo.Fake
	source  *connect.Client
	counter *redeemCounter
	b       *backend
	mux     *http.ServeMux
	api     *httptest.Server
	track   *tracker
	stop    context.CancelFunc // ends the backend's background waits

	mu   sync.Mutex
	seen []note // every note, those without a token included
}

// badHooks returns the details of the deliveries the backend reported as refused.
func (h *harness) badHooks() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, n := range h.seen {
		if n.Outcome == outcomeBadHook {
			out = append(out, n.Detail)
		}
	}
	return out
}

func newHarness(t *testing.T, opts ...connecttest.ServerOption) *harness {
	t.Helper()
	return newHarnessWith(t, nil, opts...)
}

// newHarnessWith is newHarness with clientOpts added to the backend's client options.
func newHarnessWith(t *testing.T, clientOpts []connect.Option, opts ...connecttest.ServerOption) *harness {
	t.Helper()
	h := &harness{persona: demo.NewFake(opts...)}
	t.Cleanup(h.persona.Close)
	var err error
	if h.source, err = h.persona.NewClient(h.persona.Source); err != nil {
		t.Fatal(err)
	}
	h.counter = newRedeemCounter(http.DefaultTransport)
	client, err := h.persona.NewClient(h.persona.Destination, append([]connect.Option{connect.WithPollInterval(10 * time.Millisecond),
		connect.WithHTTPClient(&http.Client{Transport: h.counter})}, clientOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	h.track = &tracker{tokens: map[string]*tokenReport{}, changed: make(chan struct{}, 1)}
	var bctx context.Context
	bctx, h.stop = context.WithCancel(context.Background())
	h.b = newBackend(bctx, client, connect.RedeemShareTokenParams{}, 10*time.Second, func(n note) {
		h.mu.Lock()
		h.seen = append(h.seen, n)
		h.mu.Unlock()
		h.track.add(n)
	})
	h.mux = http.NewServeMux()
	h.b.mountAPI(h.mux)
	h.api = httptest.NewServer(h.mux)
	t.Cleanup(func() {
		h.api.Close()
		h.stop()
		h.b.close()
	})
	return h
}

// hook registers the backend's webhook with the fake.
func (h *harness) hook(t *testing.T) {
	t.Helper()
	h.mount(t, h.register(t))
}

// register registers the backend's webhook with the fake and returns its verifier.
// Until mount, deliveries are answered 404 and the fake retries them.
func (h *harness) register(t *testing.T) *connect.Verifier {
	t.Helper()
	v, _, err := h.persona.Webhook(h.persona.Destination, h.api.URL+"/webhooks/persona", connect.EventShareTokenInboundCreated, connect.EventShareTokenInboundRedeemed)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// mount serves the backend's webhook, verified with v.
func (h *harness) mount(t *testing.T, v *connect.Verifier) {
	t.Helper()
	if err := h.b.mountWebhook(h.mux, v, connect.NewMemoryDeduper(0)); err != nil {
		t.Fatal(err)
	}
}

// token creates a share token of a new inquiry as the source.
func (h *harness) token(t *testing.T) string {
	t.Helper()
	tok, err := h.source.ShareTokens.Create(context.Background(), connect.CreateShareTokenParams{ConnectionID: h.persona.Connection, SourceID: h.persona.CreateInquiry(h.persona.Source)})
	if err != nil {
		t.Fatal(err)
	}
	return tok.ID
}

// push posts body to POST /share-tokens and returns the status.
func (h *harness) push(t *testing.T, body string) int {
	t.Helper()
	resp, err := http.Post(h.api.URL+"/share-tokens", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func pushBody(id string) string { return `{"share_token_id":"` + id + `"}` }

// pushToken pushes id as the source does, what saying which push it is, and fails t
// unless the backend answers want.
func (h *harness) pushToken(t *testing.T, what, id string, want int) {
	t.Helper()
	if got := h.push(t, pushBody(id)); got != want {
		t.Errorf("%s of %s: %d, want %d", what, id, got, want)
	}
}

// final waits for the backend's last word on id.
func (h *harness) final(t *testing.T, id string) note {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n note
	err := h.track.waitUntil(ctx, func(ts map[string]*tokenReport) bool {
		if r := ts[id]; r != nil && r.Final != nil {
			n = *r.Final
			return true
		}
		return false
	})
	if err != nil {
		t.Fatalf("no outcome for %s: %v", id, err)
	}
	return n
}

func TestShareTokenAPIRefusesBadRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, c := range []struct{ name, body string }{
		{"not JSON", `share_token_id=cnst_1`},
		{"empty object", `{}`},
		{"not a share token id", pushBody("inq_ABC")},
		{"path characters", pushBody("cnst_a/../b")},
		{"trailing data", `{"share_token_id":"cnst_ABC"} {}`},
		{"too large", `{"share_token_id":"cnst_ABC","pad":"` + strings.Repeat("x", 8<<10) + `"}`},
	} {
		if got := h.push(t, c.body); got != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", c.name, got)
		}
	}
	resp, err := http.Get(h.api.URL + "/share-tokens")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}
	// Nothing refused reached Persona.
	h.counter.mu.Lock()
	defer h.counter.mu.Unlock()
	if n := len(h.counter.sent); n != 0 {
		t.Errorf("%d tokens redeemed after bad requests", n)
	}
}

func TestTokensThatAreNotOurs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// A token between two other organizations is invisible to ours: 404 at Persona.
	other, third := h.persona.NewOrganization("Other Bank"), h.persona.NewOrganization("Third Lender")
	c, err := h.persona.NewClient(other)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.ShareTokens.Create(context.Background(), connect.CreateShareTokenParams{
		ConnectionID: h.persona.CreateConnection(other, third), SourceID: h.persona.CreateInquiry(other),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{tok.ID, "cnst_NoSuchToken"} {
		h.pushToken(t, "push (reported: nothing for the source to retry)", id, http.StatusAccepted)
		if n := h.final(t, id); n.Outcome != outcomeNotOurs {
			t.Errorf("%s: %+v, want not ours", id, n)
		}
	}
}

func TestDuplicatePushesRedeemOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.hook(t) // the webhook's inbound-created is one more copy
	id := h.token(t)
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.pushToken(t, "push", id, http.StatusAccepted)
		}()
	}
	wg.Wait()
	if n := h.final(t, id); n.Outcome != outcomeRedeemed {
		t.Fatalf("outcome %+v", n)
	}
	// Once more after the end: still one redemption.
	h.pushToken(t, "late push", id, http.StatusAccepted)
	// Every copy may have asked Persona (it keeps no list of its own); one redemption
	// was started, and the rest were told the token is pending or redeemed.
	if n := h.counter.accepted(id); n != 1 {
		t.Errorf("%d redemptions started, want 1 (of %d redeem requests)", n, h.counter.count(id))
	}
}

// TestServerErrorIsRetried: a 5xx from Redeem asks the sender to try again, and its
// retry redeems the token.
func TestServerErrorIsRetried(t *testing.T) {
	t.Parallel()
	t.Run("api", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		id := h.token(t)
		h.persona.FailNext(http.MethodPost, "/connect/share-tokens/*/redeem", 1, http.StatusInternalServerError)
		h.pushToken(t, "push while Persona fails", id, http.StatusBadGateway)
		h.pushToken(t, "push again", id, http.StatusAccepted)
		if n := h.final(t, id); n.Outcome != outcomeRedeemed {
			t.Errorf("outcome %+v", n)
		}
		if n, ok := h.counter.count(id), h.counter.accepted(id); n != 2 || ok != 1 {
			t.Errorf("%d redeem requests, %d accepted; want 2 and 1", n, ok)
		}
	})
	t.Run("webhook", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, connecttest.WithWebhookRetryDelay(5*time.Millisecond))
		h.hook(t)
		h.persona.FailNext(http.MethodPost, "/connect/share-tokens/*/redeem", 1, http.StatusInternalServerError)
		id := h.token(t)
		if n := h.final(t, id); n.Outcome != outcomeRedeemed {
			t.Fatalf("outcome %+v", n)
		}
		statuses := h.persona.DeliveryStatuses(connect.EventShareTokenInboundCreated, 2)
		if len(statuses) != 2 || statuses[0] != http.StatusInternalServerError || statuses[1] != http.StatusOK {
			t.Errorf("inbound-created delivery statuses %v, want [500 200]", statuses)
		}
	})
}
