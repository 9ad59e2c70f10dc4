package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// harness is the source backend on connecttest, its webhook registered for
// inquiry.completed, pushing to a stand-in destination API.
type harness struct {
	persona  *connecttest.Server
	src, dst *connecttest.Organization
	cxn      string
	client   *connect.Client
	dest     *standIn
	b        *backend
	verifier *connect.Verifier
	secret   string
	hook     *httptest.Server
}

func newHarness(t *testing.T, answer func(n int) int, opts ...connecttest.ServerOption) *harness {
	t.Helper()
	h := &harness{persona: connecttest.NewServer(opts...)}
	t.Cleanup(h.persona.Close)
	h.src, h.dst = h.persona.NewOrganization("Acme Bank"), h.persona.NewOrganization("Beta Lending")
	h.cxn = h.persona.CreateConnection(h.src, h.dst)
	h.dest = newStandIn(answer)
	t.Cleanup(h.dest.Close)
	var err error
	if h.client, err = connect.New(h.src.APIKey, connect.WithBaseURL(h.persona.URL)); err != nil {
		t.Fatal(err)
	}
	h.b = &backend{
		client: h.client, connectionID: h.cxn, shareURL: h.dest.URL + "/share-tokens",
		hc: &http.Client{Timeout: pushTimeout}, log: t.Logf,
	}
	mux := http.NewServeMux()
	h.hook = httptest.NewServer(mux)
	t.Cleanup(h.hook.Close)
	h.secret = h.persona.AddWebhook(h.src, h.hook.URL+"/webhooks/persona", connect.EventInquiryCompleted)
	if h.verifier, err = connect.NewVerifier([]string{h.secret}); err != nil {
		t.Fatal(err)
	}
	mux.Handle("POST /webhooks/persona", h.b.webhookHandler(h.verifier))
	return h
}

// tokensOf lists, as the source, the share tokens over the connection of inquiry.
func (h *harness) tokensOf(t *testing.T, inquiry string) []string {
	t.Helper()
	var ids []string
	for tok, err := range h.client.ShareTokens.List(context.Background(), &connect.ListShareTokensParams{ConnectionID: h.cxn}) {
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
	deadline := time.Now().Add(5 * time.Second)
	for len(s.pushes()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d pushes, want %d", len(s.pushes()), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return s.pushes()
}

// TestRedeliveredEventMakesNoSecondToken: the same inquiry.completed delivered again
// to a handler that does not remember it still yields the first token, thanks to the
// idempotency key derived from the event id.
func TestRedeliveredEventMakesNoSecondToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	inq := h.persona.CreateInquiry(h.src)
	first := waitPushes(t, h.dest, 1)[0]
	// The fake logs a delivery once its answer is read, which may be after the push.
	var body []byte
	for deadline := time.Now().Add(5 * time.Second); body == nil; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no inquiry.completed delivery answered 200")
		}
		for _, d := range h.persona.Deliveries() {
			if d.EventName == connect.EventInquiryCompleted && d.StatusCode == http.StatusOK {
				body = d.Body
			}
		}
	}
	// Persona's redelivery: the same body, signed afresh, to a handler with no memory
	// (a fresh Deduper, as after a restart or once the in-memory window has passed).
	fresh := h.b.webhookHandler(h.verifier, connect.WithDeduper(connect.NewMemoryDeduper(0)))
	req := httptest.NewRequest(http.MethodPost, "/webhooks/persona", bytes.NewReader(body))
	req.Header.Set(connect.SignatureHeader, connect.SignHeader(body, h.secret, time.Now()))
	rec := httptest.NewRecorder()
	fresh.ServeHTTP(rec, req)
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
	inq := h.persona.CreateInquiry(h.src)
	got := waitPushes(t, h.dest, 2)
	if got[0] != got[1] {
		t.Errorf("pushes %v: the retry should push the same token", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	var statuses []int
	for len(statuses) < 2 && time.Now().Before(deadline) {
		statuses = statuses[:0]
		for _, d := range h.persona.Deliveries() {
			statuses = append(statuses, d.StatusCode)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if len(statuses) != 2 || statuses[0] != http.StatusInternalServerError || statuses[1] != http.StatusOK {
		t.Errorf("delivery statuses %v, want [500 200]", statuses)
	}
	if ids := h.tokensOf(t, inq); len(ids) != 1 {
		t.Errorf("tokens of %s: %v, want one", inq, ids)
	}
}

// TestPermanentErrorsAreNotRetried: an inquiry Persona does not know (404) is logged
// and answered 200; nothing is pushed and Persona does not redeliver.
func TestPermanentErrorsAreNotRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	body := []byte(`{"data":{"type":"event","id":"evt_Unknown1","attributes":{"name":"inquiry.completed",` +
		`"payload":{"data":{"type":"inquiry","id":"inq_NoSuchInquiry","attributes":{"status":"completed"}}},` +
		`"created-at":"2025-01-02T03:04:05.000Z"}}}`)
	req, err := http.NewRequest(http.MethodPost, h.hook.URL+"/webhooks/persona", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(connect.SignatureHeader, connect.SignHeader(body, h.secret, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("answered %d, want 200: retrying a 404 cannot help", resp.StatusCode)
	}
	if n := len(h.dest.pushes()); n != 0 {
		t.Errorf("%d pushes for an unknown inquiry", n)
	}
	// And a 5xx is retried: the same event answers 500 while Persona fails.
	h.persona.FailNext(http.MethodPost, "/connect/share-tokens", 1, http.StatusInternalServerError)
	inq := h.persona.CreateInquiry(h.src)
	waitPushes(t, h.dest, 1)
	if ids := h.tokensOf(t, inq); len(ids) != 1 {
		t.Errorf("tokens of %s after a 500 and a retry: %v", inq, ids)
	}
}
