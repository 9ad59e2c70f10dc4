package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/examples/internal/demo"
)

// demoResult is what the demo saw.
type demoResult struct {
	Inquiries []string          // the completed inquiries, in order
	Pushed    []string          // distinct share token ids the destination's API received
	Tokens    map[string]string // inquiry id -> the share token the source holds for it
}

// runDemo runs the source backend on connecttest: two inquiries complete, each becomes
// one share token pushed to a stand-in for the destination's API; then it checks both
// sides' view of the tokens.
func runDemo(ctx context.Context, w io.Writer) (*demoResult, error) {
	tl := demo.NewTimeline(w)
	persona := demo.NewFake()
	defer persona.Close()
	acme, beta := persona.Source, persona.Destination
	tl.Log("setup", "fake Persona at %s: %s shares with %s over %s", persona.URL, acme.Name, beta.Name, persona.Connection)

	dest := newStandIn(nil)
	defer dest.Close()
	tl.Log("setup", "%s's API (a stand-in) at %s/share-tokens", beta.Name, dest.URL)

	client, err := persona.NewClient(acme)
	if err != nil {
		return nil, err
	}
	b := newBackend(client, persona.Connection, dest.URL+"/share-tokens", func(format string, args ...any) { tl.Log("source", format, args...) })
	// The webhook endpoint exists before its secret does: the handler is mounted once
	// the fake has issued the secret.
	mux := http.NewServeMux()
	hook := httptest.NewServer(mux)
	defer hook.Close()
	verifier, _, err := persona.Webhook(acme, hook.URL+"/webhooks/persona", connect.EventInquiryCompleted)
	if err != nil {
		return nil, err
	}
	h, err := b.webhookHandler(verifier)
	if err != nil {
		return nil, err
	}
	mux.Handle("POST /webhooks/persona", h)
	tl.Log("setup", "webhook registered for %s: %s", acme.Name, connect.EventInquiryCompleted)

	res := &demoResult{Tokens: map[string]string{}}
	for range 2 {
		inq := persona.CreateInquiry(acme)
		res.Inquiries = append(res.Inquiries, inq)
		tl.Log("persona", "an end user completed %s at %s", inq, acme.Name)
	}
	if res.Pushed, err = dest.waitFor(ctx, len(res.Inquiries)); err != nil {
		return nil, fmt.Errorf("waiting for the pushes: %w", err)
	}

	// As Beta Lending, with its own key: each pushed id is a token it can redeem.
	dstClient, err := persona.NewClient(beta)
	if err != nil {
		return nil, err
	}
	for _, id := range res.Pushed {
		tok, err := dstClient.ShareTokens.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("%s cannot see %s: %w", beta.Name, id, err)
		}
		if tok.Direction != connect.Inbound {
			return nil, fmt.Errorf("%s sees %s as %s, want inbound", beta.Name, id, tok.Direction)
		}
		tl.Log("destination", "%s sees %s: %s, %s", beta.Name, id, tok.Direction, tok.Status)
	}

	// As Acme Bank: exactly one token per inquiry.
	for tok, err := range client.ShareTokens.List(ctx, &connect.ListShareTokensParams{ConnectionID: persona.Connection}) {
		if err != nil {
			return nil, err
		}
		if tok.Source == nil {
			return nil, fmt.Errorf("%s has no source", tok.ID)
		}
		if prev, dup := res.Tokens[tok.Source.ID]; dup {
			return nil, fmt.Errorf("%s was shared twice: %s and %s", tok.Source.ID, prev, tok.ID)
		}
		res.Tokens[tok.Source.ID] = tok.ID
	}
	for _, inq := range res.Inquiries {
		if res.Tokens[inq] == "" {
			return nil, fmt.Errorf("%s was never shared", inq)
		}
	}
	tl.Log("done", "%d inquiries completed, %d share tokens created and pushed, one per inquiry", len(res.Inquiries), len(res.Pushed))
	return res, nil
}

// standIn is a destination's partner API: it records every share token id pushed to
// POST /share-tokens and answers with answer(n) for the n-th push (202 when nil).
type standIn struct {
	*httptest.Server
	answer func(n int) int

	mu      sync.Mutex
	got     []string      // every push, repeats included
	changed chan struct{} // capacity 1: wakes waitFor
}

func newStandIn(answer func(n int) int) *standIn {
	s := &standIn{answer: answer, changed: make(chan struct{}, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

func (s *standIn) serve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ShareTokenID string `json:"share_token_id"`
	}
	if r.Method != http.MethodPost || r.URL.Path != "/share-tokens" || json.NewDecoder(r.Body).Decode(&req) != nil || req.ShareTokenID == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.got = append(s.got, req.ShareTokenID)
	n := len(s.got)
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	status := http.StatusAccepted
	if s.answer != nil {
		status = s.answer(n)
	}
	w.WriteHeader(status)
}

// pushes returns every id received, in order, repeats included.
func (s *standIn) pushes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// waitFor returns the distinct ids received once there are n of them.
func (s *standIn) waitFor(ctx context.Context, n int) ([]string, error) {
	for {
		var distinct []string
		seen := map[string]bool{}
		for _, id := range s.pushes() {
			if !seen[id] {
				seen[id] = true
				distinct = append(distinct, id)
			}
		}
		if len(distinct) >= n {
			return distinct, nil
		}
		select {
		case <-s.changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
