package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/examples/internal/demo"
)

// tokenReport is what the demo learned about one token.
type tokenReport struct {
	Label        string // A, B or C
	ID           string
	Via          map[string]bool // the paths it arrived by
	Final        *note           // how it ended; nil until it has
	Notified     bool            // connect/share-token.inbound-redeemed arrived
	RedeemCalled int             // redeem requests that reached Persona
	Accepted     int             // of those, the ones Persona accepted (202): redemptions started
}

// runDemo plays the source's side on connecttest against the backend, waits for the
// three tokens' outcomes and prints a summary. The order of its steps is what makes
// every outcome certain; see each step.
func runDemo(ctx context.Context, cfg config, w io.Writer) (map[string]*tokenReport, error) {
	tl := demo.NewTimeline(w)
	if cfg.DestinationID != "" {
		tl.Log("setup", "the demo clones; DESTINATION_OBJECT_ID and FIELD_MAPPINGS apply against Persona only")
	}
	persona := demo.NewFake()
	defer persona.Close()
	acme, beta, cxn := persona.Source, persona.Destination, persona.Connection
	inqA, inqB, inqC := persona.CreateInquiry(acme), persona.CreateInquiry(acme), persona.CreateInquiry(acme)
	tl.Log("setup", "fake Persona at %s: %s shares with %s over %s", persona.URL, acme.Name, beta.Name, cxn)

	source, err := persona.NewClient(acme)
	if err != nil {
		return nil, err
	}
	// The destination's client counts the redeem requests that reach Persona and those
	// it accepts, so the summary can show that a token arriving twice is redeemed once.
	counter := newRedeemCounter(cfg.transport)
	client, err := persona.NewClient(beta, connect.WithPollInterval(20*time.Millisecond),
		connect.WithHTTPClient(&http.Client{Transport: counter, Timeout: 30 * time.Second}))
	if err != nil {
		return nil, err
	}

	track := &tracker{tokens: map[string]*tokenReport{}, changed: make(chan struct{}, 1)}
	bctx, stopWaits := context.WithCancel(ctx)
	printNote := noteTo(tl)
	b := newBackend(bctx, client, connect.RedeemShareTokenParams{}, cfg.WaitTimeout, func(n note) {
		printNote(n)
		track.add(n)
	})
	mux := http.NewServeMux()
	b.mountAPI(mux)
	api := httptest.NewServer(mux)
	defer func() {
		api.Close() // waits for requests in flight, webhook deliveries included
		stopWaits()
		b.close()
	}()

	// (a) Before the backend's webhook exists: token C is created and expired, then
	// pushed. The backend's redeem is refused and Get says why.
	c, err := createToken(ctx, source, cxn, inqC)
	if err != nil {
		return nil, err
	}
	track.label(c, "C")
	if _, err := source.ShareTokens.Expire(ctx, c); err != nil {
		return nil, err
	}
	tl.Log("source", "token C: created %s for %s and expired it at once", c, inqC)
	if err := pushAndLog(ctx, tl, api.URL, "C", c); err != nil {
		return nil, err
	}

	// B's failure is set before anything could redeem it: B exists before the webhook
	// is registered, so its inbound-created goes nowhere, and it is pushed only after
	// FailRedemption. Made after registration, a fast webhook could finish its
	// redemption before FailRedemption ran.
	bID, err := createToken(ctx, source, cxn, inqB)
	if err != nil {
		return nil, err
	}
	track.label(bID, "B")
	persona.FailRedemption(bID, connect.FailureImportFailed)
	tl.Log("source", "token B: created %s for %s (the fake will fail its redemption: import_failed)", bID, inqB)

	// (b) The backend's webhook, as an operator would register it in the dashboard.
	verifier, _, err := persona.Webhook(beta, api.URL+"/webhooks/persona",
		connect.EventShareTokenInboundCreated, connect.EventShareTokenInboundRedeemed)
	if err != nil {
		return nil, err
	}
	if err := b.mountWebhook(mux, verifier, connect.NewMemoryDeduper(0)); err != nil {
		return nil, err
	}
	tl.Log("setup", "webhook registered for %s at /webhooks/persona", beta.Name)

	// Token A arrives twice: Persona's inbound-created and the source's push race.
	a, err := createToken(ctx, source, cxn, inqA)
	if err != nil {
		return nil, err
	}
	track.label(a, "A")
	tl.Log("source", "token A: created %s for %s", a, inqA)
	if err := pushAndLog(ctx, tl, api.URL, "A", a); err != nil {
		return nil, err
	}
	if err := pushAndLog(ctx, tl, api.URL, "B", bID); err != nil {
		return nil, err
	}

	err = track.waitUntil(ctx, func(ts map[string]*tokenReport) bool {
		ra, rb, rc := ts[a], ts[bID], ts[c]
		return ra.Final != nil && ra.Via[viaWebhook] && ra.Notified && rb.Final != nil && rc.Final != nil
	})
	if err != nil {
		return nil, fmt.Errorf("waiting for the three outcomes: %w", err)
	}
	reports := track.snapshot(counter)
	for _, id := range []string{a, bID, c} {
		r := reports[id]
		tl.Log("summary", "%s %s  by %s, %d redeem request(s), %d accepted: %s", r.Label, r.ID, vias(r.Via), r.RedeemCalled, r.Accepted, result(*r.Final))
	}
	return reports, nil
}

// createToken creates a share token of inquiry over cxn as the source.
func createToken(ctx context.Context, source *connect.Client, cxn, inquiry string) (string, error) {
	tok, err := source.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inquiry})
	if err != nil {
		return "", err
	}
	return tok.ID, nil
}

// pushAndLog is the source calling the destination's partner API.
func pushAndLog(ctx context.Context, tl *demo.Timeline, apiURL, label, id string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := demo.PushShareToken(ctx, http.DefaultClient, apiURL+"/share-tokens", id)
	if err != nil {
		return err
	}
	tl.Log("source", "pushed token %s (%s) to the destination's API: %s", label, id, resp.Status)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("push of %s answered %s", id, resp.Status)
	}
	return nil
}

// vias lists the paths a token arrived by, sorted, joined with "+".
func vias(m map[string]bool) string {
	var out []string
	for v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return strings.Join(out, "+")
}

// tracker collects the backend's notes per token and wakes waitUntil on each.
type tracker struct {
	mu      sync.Mutex
	tokens  map[string]*tokenReport
	changed chan struct{} // capacity 1: one pending wake-up is enough
}

func (t *tracker) label(id, label string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reportLocked(id).Label = label
}

func (t *tracker) reportLocked(id string) *tokenReport {
	r := t.tokens[id]
	if r == nil {
		r = &tokenReport{ID: id, Via: map[string]bool{}}
		t.tokens[id] = r
	}
	return r
}

func (t *tracker) add(n note) {
	if n.Token == "" {
		return
	}
	t.mu.Lock()
	r := t.reportLocked(n.Token)
	switch {
	case n.Outcome == outcomeArrived:
		r.Via[n.Via] = true
	case n.Outcome == outcomeNotified:
		r.Notified = true
	case n.Outcome.final() && r.Final == nil:
		r.Final = &n
	}
	t.mu.Unlock()
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// waitUntil returns when done, called under the lock, is true, or when ctx ends.
func (t *tracker) waitUntil(ctx context.Context, done func(map[string]*tokenReport) bool) error {
	for {
		t.mu.Lock()
		ok := done(t.tokens)
		t.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-t.changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// snapshot copies the reports, with the redeem requests counted so far.
func (t *tracker) snapshot(c *redeemCounter) map[string]*tokenReport {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]*tokenReport, len(t.tokens))
	for id, r := range t.tokens {
		cp := *r
		cp.Via = make(map[string]bool, len(r.Via))
		for k, v := range r.Via {
			cp.Via[k] = v
		}
		cp.RedeemCalled, cp.Accepted = c.count(id), c.accepted(id)
		out[id] = &cp
	}
	return out
}

// redeemCounter is an http.RoundTripper that counts POST .../share-tokens/{id}/redeem
// per token id, and the 202 answers among them.
type redeemCounter struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent map[string]int
	took map[string]int
}

func newRedeemCounter(next http.RoundTripper) *redeemCounter {
	if next == nil {
		next = http.DefaultTransport
	}
	return &redeemCounter{next: next, sent: map[string]int{}, took: map[string]int{}}
}

func (c *redeemCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	rest, ok := strings.CutSuffix(req.URL.Path, "/redeem")
	if !ok || req.Method != http.MethodPost {
		return c.next.RoundTrip(req)
	}
	id := rest[strings.LastIndex(rest, "/")+1:]
	c.mu.Lock()
	c.sent[id]++
	c.mu.Unlock()
	resp, err := c.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusAccepted {
		c.mu.Lock()
		c.took[id]++
		c.mu.Unlock()
	}
	return resp, err
}

// count is how many redeem requests for id were sent.
func (c *redeemCounter) count(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent[id]
}

// accepted is how many redeem requests for id Persona accepted.
func (c *redeemCounter) accepted(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.took[id]
}
