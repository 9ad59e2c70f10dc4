package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
	"github.com/persona-connect/connect-go/examples/internal/demo"
	"github.com/persona-connect/connect-go/internal/poll"
)

// harness is the source backend on connecttest, its webhook registered for
// inquiry.completed, pushing to a stand-in destination API.
type harness struct {
	persona  *demo.Fake
	client   *connect.Client
	dest     *standIn
	b        *backend
	verifier *connect.Verifier
	secret   string
	hook     *httptest.Server

	mu     sync.Mutex
	logged []string
}

func newHarness(t *testing.T, answer func(n int) int, opts ...connecttest.ServerOption) *harness {
	t.Helper()
	h := &harness{persona: demo.NewFake(opts...)}
	t.Cleanup(h.persona.Close)
	h.dest = newStandIn(answer)
	t.Cleanup(h.dest.Close)
	var err error
	if h.client, err = h.persona.NewClient(h.persona.Source); err != nil {
		t.Fatal(err)
	}
	h.b = newBackend(h.client, h.persona.Connection, h.dest.URL+"/share-tokens", func(format string, args ...any) {
		t.Logf(format, args...)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.logged = append(h.logged, fmt.Sprintf(format, args...))
	})
	mux := http.NewServeMux()
	h.hook = httptest.NewServer(mux)
	t.Cleanup(h.hook.Close)
	if h.verifier, h.secret, err = h.persona.Webhook(h.persona.Source, h.hook.URL+"/webhooks/persona", connect.EventInquiryCompleted); err != nil {
		t.Fatal(err)
	}
	mux.Handle("POST /webhooks/persona", h.handler(t))
	return h
}

// handler is a new webhook handler of the backend, remembering nothing yet: a
// restarted process, or another replica.
func (h *harness) handler(t *testing.T) http.Handler {
	t.Helper()
	wh, err := h.b.webhookHandler(h.verifier)
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

// tokensOf lists, as the source, the share tokens over the connection of inquiry.
func (h *harness) tokensOf(t *testing.T, inquiry string) []string {
	t.Helper()
	var ids []string
	for tok, err := range h.client.ShareTokens.List(context.Background(), &connect.ListShareTokensParams{ConnectionID: h.persona.Connection}) {
		if err != nil {
			t.Fatal(err)
		}
		if tok.Source != nil && tok.Source.ID == inquiry {
			ids = append(ids, tok.ID)
		}
	}
	return ids
}

func waitPushes(t *testing.T, s *standIn, n int) []string {
	t.Helper()
	poll.Until(t, fmt.Sprintf("%d pushes", n), func() bool { return len(s.pushes()) >= n })
	return s.pushes()
}

// TestRedeliveredEventMakesNoSecondToken: the same inquiry.completed delivered again,
// to a handler that does not remember it, still yields the first token.
func TestRedeliveredEventMakesNoSecondToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	inq := h.persona.CreateInquiry(h.persona.Source)
	first := waitPushes(t, h.dest, 1)[0]
	// The fake logs a delivery once its answer is read, which may be after the push.
	if got := h.persona.DeliveryStatuses(connect.EventInquiryCompleted, 1); len(got) != 1 || got[0] != http.StatusOK {
		t.Fatalf("first delivery statuses %v", got)
	}
	body := h.persona.Deliveries()[0].Body
	// Persona's redelivery: the same body, signed afresh, to a handler with no memory.
	req := httptest.NewRequest(http.MethodPost, "/webhooks/persona", bytes.NewReader(body))
	req.Header.Set(connect.SignatureHeader, connect.SignHeader(body, h.secret, time.Now()))
	rec := httptest.NewRecorder()
	h.handler(t).ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("redelivery answered %d", rec.Code)
	}
	if got := waitPushes(t, h.dest, 2); got[1] != first {
		t.Errorf("redelivery pushed %s, want the first token %s again", got[1], first)
	}
	if ids := h.tokensOf(t, inq); len(ids) != 1 || ids[0] != first {
		t.Errorf("tokens of %s: %v, want only %s", inq, ids, first)
	}
}

// TestDestinationDownIsRetried: a failing push answers Persona 500; its redelivery
// pushes the same token again.
func TestDestinationDownIsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(n int) int {
		if n == 1 {
			return http.StatusServiceUnavailable
		}
		return http.StatusAccepted
	}, connecttest.WithWebhookRetryDelay(5*time.Millisecond))
	inq := h.persona.CreateInquiry(h.persona.Source)
	got := waitPushes(t, h.dest, 2)
	if got[0] != got[1] {
		t.Errorf("pushes %v: the retry should push the same token", got)
	}
	if statuses := h.persona.DeliveryStatuses(connect.EventInquiryCompleted, 2); len(statuses) != 2 || statuses[0] != http.StatusInternalServerError || statuses[1] != http.StatusOK {
		t.Errorf("delivery statuses %v, want [500 200]", statuses)
	}
	if ids := h.tokensOf(t, inq); len(ids) != 1 {
		t.Errorf("tokens of %s: %v, want one", inq, ids)
	}
}

// TestCreateErrors: a Create that fails answers the delivery 500, so Persona retries;
// the failure is logged and nothing is pushed. FailNext fails in front of Persona's
// idempotency layer (a proxy), so the retry runs for real and shares the inquiry; the
// SDK itself does not retry a POST's 500.
func TestCreateErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil, connecttest.WithWebhookRetryDelay(5*time.Millisecond))
	h.persona.FailNext(http.MethodPost, "/connect/share-tokens", 1, http.StatusInternalServerError)
	inq := h.persona.CreateInquiry(h.persona.Source)
	waitPushes(t, h.dest, 1)
	if statuses := h.persona.DeliveryStatuses(connect.EventInquiryCompleted, 2); len(statuses) != 2 || statuses[0] != http.StatusInternalServerError || statuses[1] != http.StatusOK {
		t.Errorf("delivery statuses %v, want [500 200]", statuses)
	}
	if ids := h.tokensOf(t, inq); len(ids) != 1 {
		t.Errorf("tokens of %s after a 500 and a retry: %v", inq, ids)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !strings.Contains(strings.Join(h.logged, "\n"), "not answered 200") {
		t.Errorf("the failed delivery was not logged: %q", h.logged)
	}
}
