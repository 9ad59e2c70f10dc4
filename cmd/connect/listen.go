package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v4"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/retry"
	"github.com/persona-connect/connect-go/internal/safetext"
)

// listen is "stripe listen --forward-to" for Persona: Persona has no channel that
// pushes webhooks to a laptop, so the command polls the Events API and delivers each
// new event to a local URL as Persona would, re-signed with a local secret.

const (
	// forwardAttempts mirrors Persona: a first try and up to 7 retries, so that
	// Persona-Webhook-Attempts-Left reads 7 on the first try (API-NOTES).
	forwardAttempts = 8
	// forwardTimeout is Persona's window for a 2xx answer.
	forwardTimeout = 5 * time.Second
	// The retry waits are a laptop's, not Persona's (3 s up to 33 hours): a local
	// endpoint that restarts is back within seconds, and the events behind it wait.
	forwardFirstRetry = 500 * time.Millisecond
	forwardMaxRetry   = 30 * time.Second
	// listenPageSize is small because a poll after the first lists only the events of
	// the last listenLookback, which usually fit on one page.
	listenPageSize = 25
	// listenLookback is how far behind the newest forwarded event each poll looks
	// again. The Events API lists newest first, but an event can become visible after
	// a newer one (Persona writes them asynchronously): a poll that stopped at the first
	// event it had already forwarded would never reach it. Each poll lists the window
	// again and skips what it has forwarded, so such an event is still forwarded, late.
	listenLookback = time.Minute
)

func listenCmd() *command {
	return &command{
		name:  "listen",
		args:  "--forward-to URL [--name N]... [--since 10m] [--interval 2s] [--secret-env VAR]",
		short: "forward your organization's events to a local URL, as webhooks",
		long: `Polls the Events API every --interval and POSTs each new event, oldest first, to the
--forward-to URL the way Persona delivers a webhook: the body {"data": <event>} in kebab
case, Persona-Signature signed with a local secret, and the Persona-Webhook-Attempts-Made,
-Attempts-Left and -First-Attempted-At headers. The secret comes from the environment
variable named by --secret-env, or is generated and printed on stderr at start: give it
to your endpoint's verifier.

Events from the last --since are forwarded first. A forward that fails (no 2xx within 5
seconds) is retried with backoff, up to 8 attempts in all over some 15 seconds, and
said so on stderr; one event at a time, so the events after it wait meanwhile (Persona
delivers each on its own). No event is forwarded twice in one run, and one the Events
API lists late, after a newer one, is still forwarded: each poll looks a minute back.
Ctrl-C (or SIGTERM) stops it, exiting 0.`,
		example: `connect listen --forward-to http://localhost:8080/webhooks/persona --name connect/share-token.inbound-created
WEBHOOK_SECRET=wbhsec_local connect listen --forward-to http://localhost:8080/webhooks/persona --secret-env WEBHOOK_SECRET --since 1h`,
		setup: func(fs *flag.FlagSet) runFunc {
			forwardTo := fs.String("forward-to", "", "POST each event to `URL` (required)")
			var names stringList
			fs.Var(&names, "name", "forward only events named `N` (repeatable; default all)")
			since := durationFlag(fs, "since", 10*time.Minute, "also forward the events created this long before the start")
			interval := fs.Duration("interval", 2*time.Second, "time between two polls of the Events API")
			secretEnv := fs.String("secret-env", "", "sign with the webhook secret in the environment variable `VAR` (default a generated one, printed at start)")
			return func(ctx context.Context, a *app, _ string) error {
				target, err := checkForwardURL(*forwardTo)
				if err != nil {
					return err
				}
				if *interval <= 0 || *since < 0 {
					return usagef("--interval must be positive and --since not negative")
				}
				c, err := a.client()
				if err != nil {
					return err
				}
				l := &listener{
					client: c, target: *forwardTo, interval: *interval,
					after: time.Now().Add(-*since), log: a.stderr, seen: map[string]time.Time{},
					http: &http.Client{
						Transport: http.DefaultTransport.(*http.Transport).Clone(), // closed with the run
						// Persona does not follow a redirect: it is a failed delivery.
						CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
					},
				}
				defer l.http.CloseIdleConnections()
				for _, n := range names {
					l.names = append(l.names, connect.EventName(n))
				}
				if *secretEnv != "" {
					if l.secret, err = a.secretFrom(*secretEnv); err != nil {
						return err
					}
					fmt.Fprintf(a.stderr, "connect: forwarding events to %s, signed with the secret in $%s\n", target.Redacted(), *secretEnv)
				} else {
					if l.secret, err = generateWebhookSecret(); err != nil {
						return err
					}
					// Printed on purpose: the endpoint needs it to verify, and it is this
					// run's own secret, not one of Persona's.
					fmt.Fprintf(a.stderr, "connect: forwarding events to %s, signed with the local webhook secret %s\n", target.Redacted(), l.secret)
				}
				fmt.Fprintf(a.stderr, "connect: polling every %s for events since %s; Ctrl-C stops\n", l.interval, l.after.UTC().Format(textTime))
				return l.run(ctx)
			}
		},
	}
}

// checkForwardURL accepts an absolute http or https URL, and returns it parsed. Its
// messages never repeat s: a password may stand in it.
func checkForwardURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, usagef("--forward-to is required")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--forward-to must be an http or https URL, e.g. http://localhost:8080/webhooks/persona")
	}
	return u, nil
}

// generateWebhookSecret makes a secret shaped like Persona's (wbhsec_...).
func generateWebhookSecret() (string, error) {
	key, err := randomHex128()
	if err != nil {
		return "", err
	}
	return "wbhsec_" + key, nil
}

// listener is one run of listen.
type listener struct {
	client   *connect.Client
	http     *http.Client // forwards: plain net/http to the user's own endpoint
	target   string
	secret   string
	names    []connect.EventName
	after    time.Time // the start minus --since: no poll lists anything older
	interval time.Duration
	log      io.Writer
	// saidBadRequest is set once the hint about a 400 was printed: once a run is enough.
	saidBadRequest bool
	// seen holds the events forwarded (or given up on) that a poll can still list,
	// with their creation times: those inside the window. What falls behind it is
	// forgotten, so a long run keeps a minute's events, not every one.
	seen map[string]time.Time
}

// run polls until ctx ends (SIGINT or SIGTERM), which is a clean stop: it returns nil.
// An error that retrying cannot mend (a wrong key, a bad --name) ends it; a network
// failure, a 429 or a 5xx is reported and the next poll tries again.
func (l *listener) run(ctx context.Context) error {
	for {
		err := l.poll(ctx)
		if ctx.Err() != nil {
			fmt.Fprintln(l.log, "connect: stopped")
			return nil
		}
		if err != nil {
			if exitCode(err) != exitRetryable {
				return err
			}
			fmt.Fprintf(l.log, "connect: listing events failed, trying again in %s: %v\n", l.interval, err)
		}
		if retry.Sleep(ctx, l.interval) != nil {
			fmt.Fprintln(l.log, "connect: stopped")
			return nil
		}
	}
}

// poll lists the events of the window and forwards those not forwarded yet, oldest
// first.
func (l *listener) poll(ctx context.Context) error {
	var fresh []*connect.Event
	queued := map[string]bool{}
	params := &connect.ListEventsParams{Names: l.names, CreatedAfter: l.windowStart(), PageSize: listenPageSize}
	for ev, err := range l.client.Events.List(ctx, params) {
		if err != nil {
			// The events listed so far are dropped, not forwarded: they are the newest
			// ones, and forwarding them would move the window past older ones this
			// listing did not get to.
			return err
		}
		if _, done := l.seen[ev.ID]; !done && !queued[ev.ID] {
			queued[ev.ID] = true
			fresh = append(fresh, ev)
		}
	}
	for i := len(fresh) - 1; i >= 0; i-- {
		ev := fresh[i]
		l.forward(ctx, ev)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		l.seen[ev.ID] = ev.CreatedAt
	}
	// The window only moves forward, and List yields only events created after its
	// start: an event at or before it is never listed again.
	start := l.windowStart()
	for id, created := range l.seen {
		if !created.After(start) {
			delete(l.seen, id)
		}
	}
	return nil
}

// windowStart is the CreatedAfter of the next poll: listenLookback before the newest
// event forwarded (or given up on), but never before the start minus --since. The
// newest is in seen: the window forgets only what lies a lookback behind it.
func (l *listener) windowStart() time.Time {
	start := l.after
	for _, created := range l.seen {
		if w := created.Add(-listenLookback); w.After(start) {
			start = w
		}
	}
	return start
}

// forward delivers one event, retrying a failed attempt with backoff, and reports the
// outcome on stderr. After the last attempt it gives up on the event: it is not
// forwarded again in this run.
func (l *listener) forward(ctx context.Context, ev *connect.Event) {
	body, err := deliveryBody(ev)
	if err != nil {
		fmt.Fprintf(l.log, "connect: cannot forward %s: %v\n", ev.ID, err)
		return
	}
	name := safetext.Escape(string(ev.Name)) // an open string, printed on a terminal
	firstAt := time.Now()
	attempt, status := 0, 0
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.MaxElapsedTime = forwardFirstRetry, forwardMaxRetry, 0
	schedule := backoff.WithContext(backoff.WithMaxRetries(b, forwardAttempts-1), ctx)
	err = backoff.RetryNotify(func() error {
		attempt++
		var postErr error
		status, postErr = l.post(ctx, body, attempt, firstAt)
		return postErr
	}, schedule, func(err error, wait time.Duration) {
		fmt.Fprintf(l.log, "connect: forwarding %s (%s) failed on attempt %d of %d: %v; retrying in %s\n",
			ev.ID, name, attempt, forwardAttempts, err, wait.Round(time.Millisecond))
		if status == http.StatusBadRequest && !l.saidBadRequest {
			// What a connect-go WebhookHandler answers a signature it cannot verify:
			// most often the endpoint was given another secret than this run's.
			l.saidBadRequest = true
			fmt.Fprintln(l.log, "connect: a 400 is how a webhook handler refuses a signature it cannot verify: "+
				"give the endpoint the secret this run signs with (printed at start), or pass the endpoint's with --secret-env")
		}
	})
	switch {
	case err == nil:
		fmt.Fprintf(l.log, "connect: forwarded %s (%s): %d, attempt %d\n", ev.ID, name, status, attempt)
	case ctx.Err() == nil:
		fmt.Fprintf(l.log, "connect: gave up forwarding %s (%s) after %d attempts: %v\n", ev.ID, name, attempt, err)
	}
}

// post sends one delivery attempt, signed at the time it is sent, as Persona signs
// each attempt afresh. A non-2xx answer is an error.
func (l *listener) post(ctx context.Context, body []byte, attempt int, firstAt time.Time) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, forwardTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.target, bytes.NewReader(body))
	if err != nil {
		return 0, backoff.Permanent(err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "connect-cli/"+connect.Version+" (listen)")
	h.Set(connect.SignatureHeader, connect.SignHeader(body, l.secret, time.Now()))
	h.Set("Persona-Webhook-Attempts-Made", strconv.Itoa(attempt))
	h.Set("Persona-Webhook-Attempts-Left", strconv.Itoa(forwardAttempts-attempt))
	h.Set("Persona-Webhook-First-Attempted-At", firstAt.UTC().Format(jsonTime))
	resp, err := l.http.Do(req)
	if err != nil {
		return 0, err
	}
	// Reading the answer is part of the attempt, and lets the connection be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, errors.New("answered " + resp.Status)
	}
	return resp.StatusCode, nil
}

// deliveryBody rebuilds the body Persona would deliver for ev:
// {"data": {"type": "event", "id", "attributes": {"name", "payload", "created-at",
// "context"}}}, in kebab case, with payload.included as in a delivery (API-NOTES).
func deliveryBody(ev *connect.Event) ([]byte, error) {
	e := eventToJSON(ev)
	var doc struct {
		Data struct {
			Type       string `json:"type"`
			ID         string `json:"id"`
			Attributes struct {
				Name      string       `json:"name"`
				Payload   eventPayload `json:"payload"`
				CreatedAt *string      `json:"created-at"`
				Context   rawOrEmpty   `json:"context"`
			} `json:"attributes"`
		} `json:"data"`
	}
	doc.Data.Type, doc.Data.ID = e.Type, e.ID
	attrs := &doc.Data.Attributes
	attrs.Name, attrs.Payload, attrs.CreatedAt, attrs.Context = e.Name, e.Payload, e.CreatedAt, e.Context
	return marshalJSON(doc)
}

// marshalJSON encodes v compactly, leaving <, > and & as they are (encoding/json
// escapes them for HTML by default, which no webhook receiver needs).
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
