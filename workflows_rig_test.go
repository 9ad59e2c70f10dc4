package connect_test

// The rig of the AutoShare and AutoRedeem tests: organizations on connecttest, webhook
// endpoints on loopback, deliveries captured and delivered again with a fresh
// signature, and clients whose wireLog counts what reached Persona.

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
	"github.com/persona-connect/connect-go/internal/poll"
)

// workflowRig is a source and a destination organization joined by an active
// connection, with a client for each whose requests are counted.
type workflowRig struct {
	persona      *connecttest.Server
	src, dst     *connecttest.Organization
	cxn          string
	source, dest *connect.Client
	srcCalls     *wireLog
	dstCalls     *wireLog
}

func newWorkflowRig(t *testing.T, opts ...connecttest.ServerOption) *workflowRig {
	t.Helper()
	r := &workflowRig{persona: connecttest.NewServer(opts...)}
	t.Cleanup(r.persona.Close)
	r.src, r.dst = r.persona.NewOrganization("Acme Bank"), r.persona.NewOrganization("Beta Lending")
	r.cxn = r.persona.CreateConnection(r.src, r.dst)
	r.source, r.srcCalls = r.client(t, r.src)
	r.dest, r.dstCalls = r.client(t, r.dst)
	return r
}

// client is a client of org whose requests are counted; opts come last.
func (r *workflowRig) client(t *testing.T, org *connecttest.Organization, opts ...connect.Option) (*connect.Client, *wireLog) {
	t.Helper()
	return logClient(t, r.persona, org, append([]connect.Option{connect.WithPollInterval(5 * time.Millisecond)}, opts...)...)
}

// clientVia is client over the transport next.
func (r *workflowRig) clientVia(t *testing.T, org *connecttest.Organization, next http.RoundTripper, opts ...connect.Option) (*connect.Client, *wireLog) {
	t.Helper()
	return logClientVia(t, r.persona, org, next, append([]connect.Option{connect.WithPollInterval(5 * time.Millisecond)}, opts...)...)
}

// tokensOf lists, as the source, the tokens over cxn whose source is inquiry.
func (r *workflowRig) tokensOf(t *testing.T, cxn, inquiry string) []string {
	t.Helper()
	var ids []string
	for tok, err := range r.source.ShareTokens.List(context.Background(), &connect.ListShareTokensParams{ConnectionID: cxn}) {
		if err != nil {
			t.Fatal(err)
		}
		if tok.Source != nil && tok.Source.ID == inquiry {
			ids = append(ids, tok.ID)
		}
	}
	return ids
}

// deliveryStatuses are the statuses of every attempt to deliver events named name,
// in order, once there are at least n of them.
func (r *workflowRig) deliveryStatuses(t *testing.T, name connect.EventName, n int) []int {
	t.Helper()
	var got []int
	poll.Until(t, "deliveries of "+string(name), func() bool {
		got = got[:0]
		for _, d := range r.persona.Deliveries() {
			if d.EventName == name {
				got = append(got, d.StatusCode)
			}
		}
		return len(got) >= n
	})
	return got
}

// endpoint is a webhook endpoint on loopback registered with the fake. Mount a handler
// with serve once the secret, which its verifier needs, is known; until then the
// endpoint answers 404 and the fake retries.
type endpoint struct {
	mux      *http.ServeMux
	secret   string
	verifier *connect.Verifier
}

func (r *workflowRig) endpoint(t *testing.T, org *connecttest.Organization, events ...connect.EventName) *endpoint {
	t.Helper()
	e := &endpoint{mux: http.NewServeMux()}
	srv := httptest.NewServer(e.mux)
	t.Cleanup(srv.Close)
	e.secret = r.persona.AddWebhook(org, srv.URL+"/webhooks/persona", events...)
	e.verifier = newVerifier(t, []string{e.secret})
	return e
}

// handler returns a new WebhookHandler verifying this endpoint's signatures.
func (e *endpoint) handler(opts ...connect.HandlerOption) *connect.WebhookHandler {
	return connect.NewWebhookHandler(e.verifier, opts...)
}

// serve makes h answer the endpoint's deliveries; call it once per endpoint.
func (e *endpoint) serve(h http.Handler) { e.mux.Handle("POST /webhooks/persona", h) }

// capture is an endpoint that answers 200 and keeps the bodies, so that a test can
// deliver them itself, as often and as concurrently as it likes.
type capture struct {
	*endpoint
	bodiesMu sync.Mutex
	bodies   map[connect.EventName][][]byte
}

func (r *workflowRig) capture(t *testing.T, org *connecttest.Organization, events ...connect.EventName) *capture {
	t.Helper()
	c := &capture{endpoint: r.endpoint(t, org, events...), bodies: map[connect.EventName][][]byte{}}
	c.serve(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(req.Body); err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		ev, err := c.verifier.ConstructEvent(buf.Bytes(), req.Header.Get(connect.SignatureHeader))
		if err != nil {
			http.Error(w, "verify", http.StatusBadRequest)
			return
		}
		c.bodiesMu.Lock()
		c.bodies[ev.Name] = append(c.bodies[ev.Name], buf.Bytes())
		c.bodiesMu.Unlock()
	}))
	return c
}

// body waits for the first delivery of an event named name and returns its body.
func (c *capture) body(t *testing.T, name connect.EventName) []byte {
	t.Helper()
	var b []byte
	poll.Until(t, "a delivery of "+string(name), func() bool {
		c.bodiesMu.Lock()
		defer c.bodiesMu.Unlock()
		if len(c.bodies[name]) > 0 {
			b = c.bodies[name][0]
		}
		return b != nil
	})
	return b
}

// deliver POSTs body to h as Persona's redelivery would: signed afresh with secret.
// It returns the status.
func deliver(h http.Handler, body []byte, secret string) int {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/persona", bytes.NewReader(body))
	req.Header.Set(connect.SignatureHeader, connect.SignHeader(body, secret, time.Now()))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

// redeliver delivers body to h until it answers 200, as Persona retries a 409 or a
// 500. Any other status, or no 200 after a generous while, is an error. Safe to call
// from several goroutines.
func redeliver(h http.Handler, body []byte, secret string) error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		switch code := deliver(h, body, secret); code {
		case http.StatusOK:
			return nil
		case http.StatusConflict, http.StatusInternalServerError:
			if time.Now().After(deadline) {
				return fmt.Errorf("still %d after retrying", code)
			}
			time.Sleep(2 * time.Millisecond)
		default:
			return fmt.Errorf("delivery answered %d", code)
		}
	}
}

// sharedCalls records the tokens an AutoShare Shared or an AutoRedeem callback saw.
type sharedCalls struct {
	mu     sync.Mutex
	tokens []*connect.ShareToken
	fail   func(n int) error // the error of the n-th call (1-based); nil never fails
}

func (s *sharedCalls) record(_ context.Context, _ *connect.Event, tok *connect.ShareToken) error {
	s.mu.Lock()
	s.tokens = append(s.tokens, tok)
	n := len(s.tokens)
	s.mu.Unlock()
	if s.fail != nil {
		return s.fail(n)
	}
	return nil
}

// accepted is record for AutoRedeemConfig.Accepted.
func (s *sharedCalls) accepted(ctx context.Context, ev *connect.Event, tok *connect.ShareToken) {
	_ = s.record(ctx, ev, tok)
}

// seen returns the ids of the tokens seen, in order.
func (s *sharedCalls) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, len(s.tokens))
	for i, tok := range s.tokens {
		ids[i] = tok.ID
	}
	return ids
}

// waitCalls returns what was seen once there are at least n calls.
func (s *sharedCalls) waitCalls(t *testing.T, n int) []string {
	t.Helper()
	poll.Until(t, "callback calls", func() bool { return len(s.seen()) >= n })
	return s.seen()
}

// first waits for the first call and returns its token.
func (s *sharedCalls) first(t *testing.T) *connect.ShareToken {
	t.Helper()
	s.waitCalls(t, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokens[0]
}

// completedInquiry completes an inquiry of the source and returns it with the body of
// its inquiry.completed delivery, captured by capt.
func (r *workflowRig) completedInquiry(t *testing.T) (capt *capture, inq string, body []byte) {
	t.Helper()
	capt = r.capture(t, r.src, connect.EventInquiryCompleted)
	inq = r.persona.CreateInquiry(r.src)
	return capt, inq, capt.body(t, connect.EventInquiryCompleted)
}
