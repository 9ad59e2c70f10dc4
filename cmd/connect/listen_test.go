package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/poll"
)

// received is one delivery attempt as the test's webhook endpoint saw it.
type received struct {
	header http.Header
	body   []byte
	event  *connect.Event // nil when the body is not an event
	status int            // what the endpoint answered
}

// endpoint is a local webhook endpoint that records every attempt and fails the
// first failFirst of them with a 500.
type endpoint struct {
	srv       *httptest.Server
	mu        sync.Mutex
	got       []received
	failFirst int
}

func newEndpoint(t *testing.T, failFirst int) *endpoint {
	t.Helper()
	e := &endpoint{failFirst: failFirst}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, _ := connect.ParseEvent(body)
		e.mu.Lock()
		status := http.StatusOK
		if len(e.got) < e.failFirst {
			status = http.StatusInternalServerError
		}
		e.got = append(e.got, received{header: r.Header.Clone(), body: body, event: ev, status: status})
		e.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) attempts() []received {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]received(nil), e.got...)
}

// accepted returns the ids of the events the endpoint answered 2xx, in order.
func (e *endpoint) accepted() []string {
	var ids []string
	for _, r := range e.attempts() {
		if r.status == http.StatusOK && r.event != nil {
			ids = append(ids, r.event.ID)
		}
	}
	return ids
}

// countingProxy sits between the command and the fake and counts the polls of the
// Events API, so that a test can wait for polls after the last forward without
// guessing at times.
type countingProxy struct {
	URL   string // the base URL to give the command
	polls atomic.Int64
}

func newCountingProxy(t *testing.T, w *world) *countingProxy {
	t.Helper()
	target, err := url.Parse(w.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(&url.URL{Scheme: target.Scheme, Host: target.Host}) },
		Transport: tr,
	}
	cp := &countingProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/events") {
			cp.polls.Add(1)
		}
		rp.ServeHTTP(rw, r)
	}))
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	cp.URL = srv.URL + target.Path
	return cp
}

// waitForPolls waits until the command has polled n more times.
func (cp *countingProxy) waitForPolls(t *testing.T, n int64) {
	t.Helper()
	from := cp.polls.Load()
	poll.Until(t, "more polls", func() bool { return cp.polls.Load() >= from+n })
}

// eventIDs lists o's events through the SDK, oldest first: what listen should forward.
func eventIDs(t *testing.T, c *connect.Client) []string {
	t.Helper()
	var ids []string
	for ev, err := range c.Events.List(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]string{ev.ID}, ids...)
	}
	return ids
}

// listen forwards every event once, oldest first, signed with the local secret and
// with Persona's delivery headers; a failed forward is retried and said so; polls
// after the last forward forward nothing again; SIGINT stops it with exit 0.
func TestListenForwardsEachEventOnceRetryingAFailure(t *testing.T) {
	t.Parallel()
	const secret = "wbhsec_listen_test"
	w := newWorld(t) // one event already: the inquiry's inquiry.completed
	ep := newEndpoint(t, 1)
	proxy := newCountingProxy(t, w)
	env := []string{"PERSONA_BASE_URL=" + proxy.URL, "PERSONA_API_KEY=" + w.src.APIKey, "HOOK_SECRET=" + secret}
	p := start(t, env, "listen", "--forward-to", ep.srv.URL, "--interval", "100ms", "--secret-env", "HOOK_SECRET")

	poll.Until(t, "the inquiry event, after a retry", func() bool { return len(ep.accepted()) == 1 })
	// Two more events while it runs: the token's outbound-created and, once the
	// destination's redemption finishes, outbound-redeemed.
	src, dst := w.sdk(t, w.src), w.sdk(t, w.dst)
	ctx := context.Background()
	tok, err := src.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.ShareTokens.Wait(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, "three events forwarded", func() bool { return len(ep.accepted()) == 3 })
	proxy.waitForPolls(t, 3) // polls that must find nothing new
	if code := p.stop(os.Interrupt); code != exitOK {
		t.Fatalf("exit %d after SIGINT; stderr:\n%s", code, p.stderr)
	}

	want := eventIDs(t, src)
	if diff := cmp.Diff(want, ep.accepted()); diff != "" {
		t.Errorf("events accepted by the endpoint, oldest first (-want +got):\n%s", diff)
	}
	attempts := ep.attempts()
	if len(attempts) != 4 {
		t.Fatalf("%d attempts, want 4 (one failed, then one per event)", len(attempts))
	}
	v, err := connect.NewVerifier([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range attempts {
		if err := v.Verify(a.body, a.header.Get(connect.SignatureHeader)); err != nil {
			t.Errorf("attempt %d: signature: %v", i, err)
		}
		if a.event == nil {
			t.Fatalf("attempt %d: body is not an event: %s", i, a.body)
		}
		if ct := a.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("attempt %d: Content-Type %q", i, ct)
		}
		// The body is the event exactly as the Events API shows it, in a delivery's
		// envelope.
		fromAPI, err := src.Events.Get(ctx, a.event.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.event.Name != fromAPI.Name || !a.event.CreatedAt.Equal(fromAPI.CreatedAt) || !jsonEqual(t, a.event.Data, fromAPI.Data) {
			t.Errorf("attempt %d: forwarded %+v, the API has %+v", i, a.event, fromAPI)
		}
	}
	// The failed attempt and its retry: the same event, counted as Persona counts.
	first, retry := attempts[0], attempts[1]
	if first.event.ID != retry.event.ID || first.status != http.StatusInternalServerError {
		t.Errorf("attempts 0 and 1 are %s (%d) and %s", first.event.ID, first.status, retry.event.ID)
	}
	for i, want := range [][2]string{{"1", "7"}, {"2", "6"}, {"1", "7"}, {"1", "7"}} {
		h := attempts[i].header
		if got := [2]string{h.Get("Persona-Webhook-Attempts-Made"), h.Get("Persona-Webhook-Attempts-Left")}; got != want {
			t.Errorf("attempt %d: attempts made/left %v, want %v", i, got, want)
		}
		if _, err := time.Parse(time.RFC3339, h.Get("Persona-Webhook-First-Attempted-At")); err != nil {
			t.Errorf("attempt %d: First-Attempted-At: %v", i, err)
		}
	}
	if a, b := first.header.Get("Persona-Webhook-First-Attempted-At"), retry.header.Get("Persona-Webhook-First-Attempted-At"); a != b {
		t.Errorf("First-Attempted-At changed on the retry: %q then %q", a, b)
	}
	stderr := p.stderr.String()
	for _, want := range []string{"failed on attempt 1 of 8: answered 500 Internal Server Error; retrying in", "connect: stopped"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, secret) || strings.Contains(stderr, w.src.APIKey) {
		t.Errorf("stderr holds the secret or the key:\n%s", stderr)
	}
}

// Without --secret-env, listen makes a secret and prints it at start; --name filters
// the events; SIGTERM stops it like SIGINT.
func TestListenGeneratesASecretAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.createToken(t) // an outbound-created event, which --name leaves out
	ep := newEndpoint(t, 0)
	proxy := newCountingProxy(t, w)
	env := []string{"PERSONA_BASE_URL=" + proxy.URL, "PERSONA_API_KEY=" + w.src.APIKey}
	p := start(t, env, "listen", "--forward-to", ep.srv.URL, "--interval", "100ms", "--since", "1h", "--name", string(connect.EventInquiryCompleted))

	poll.Until(t, "one event forwarded", func() bool { return len(ep.accepted()) == 1 })
	proxy.waitForPolls(t, 3)
	if code := p.stop(syscall.SIGTERM); code != exitOK {
		t.Fatalf("exit %d after SIGTERM; stderr:\n%s", code, p.stderr)
	}
	m := regexp.MustCompile(`signed with the local webhook secret (wbhsec_[0-9a-f]{32})\n`).FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no generated secret on stderr:\n%s", p.stderr)
	}
	attempts := ep.attempts()
	if len(attempts) != 1 || attempts[0].event.Name != connect.EventInquiryCompleted {
		t.Fatalf("forwarded %d attempts, want only the inquiry.completed event", len(attempts))
	}
	v, err := connect.NewVerifier([]string{m[1]})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(attempts[0].body, attempts[0].header.Get(connect.SignatureHeader)); err != nil {
		t.Errorf("not signed with the printed secret: %v", err)
	}
}

// A key the API refuses ends listen at once (exit 4): polling again cannot mend it.
func TestListenStopsOnAWrongKey(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ep := newEndpoint(t, 0)
	r := run(t, []string{"PERSONA_BASE_URL=" + w.srv.URL, "PERSONA_API_KEY=persona_sandbox_wrong"}, "", "listen", "--forward-to", ep.srv.URL)
	if r.code != exitUnauthorized || !strings.Contains(r.stderr, "401 Unauthorized") {
		t.Fatalf("want exit 4: %s", r)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return cmp.Equal(x, y)
}

// A password in --forward-to (http://user:password@host/...) is the endpoint's
// credential: it is sent, as Basic auth, but never printed, and stderr ends up in
// logs.
func TestListenDoesNotPrintTheForwardURLsPassword(t *testing.T) {
	t.Parallel()
	const password = "forward-password-x7"
	w := newWorld(t) // one event: the inquiry's inquiry.completed
	ep := newEndpoint(t, 1)
	u, err := url.Parse(ep.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User, u.Path = url.UserPassword("hook", password), "/webhooks/persona"
	p := start(t, w.as(w.src), "listen", "--forward-to", u.String(), "--interval", "100ms")
	poll.Until(t, "the event, after a retry", func() bool { return len(ep.accepted()) == 1 })
	if code := p.stop(os.Interrupt); code != exitOK {
		t.Fatalf("exit %d after SIGINT; stderr:\n%s", code, p.stderr)
	}
	if user, pass, ok := (&http.Request{Header: ep.attempts()[0].header}).BasicAuth(); !ok || user != "hook" || pass != password {
		t.Errorf("the endpoint got no Basic auth from the URL's user info: %q %q %v", user, pass, ok)
	}
	stderr := p.stderr.String()
	if strings.Contains(stderr, password) {
		t.Errorf("stderr holds the password of --forward-to:\n%s", stderr)
	}
	if !strings.Contains(stderr, "forwarding events to http://hook:xxxxx@") {
		t.Errorf("stderr does not say where it forwards:\n%s", stderr)
	}
}
