package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/persona-connect/connect-go/connecttest"
)

// fake runs connecttest as a stand-alone server, so that code in any language can
// test against a faithful Persona Connect with no account and no network.

// fakeInfo is the one JSON object fake prints on stdout. It holds the fake's own API
// keys on purpose: they are what a test needs, and they open nothing but this process.
type fakeInfo struct {
	URL           string  `json:"url"`
	Source        fakeOrg `json:"source"`
	Destination   fakeOrg `json:"destination"`
	ConnectionID  string  `json:"connection_id"`
	InquiryID     string  `json:"inquiry_id"`
	WebhookSecret string  `json:"webhook_secret,omitempty"`
	WebhookID     string  `json:"webhook_id,omitempty"`
}

type fakeOrg struct {
	ID     string `json:"id"`
	APIKey string `json:"api_key"`
}

// seed is what fake puts on its server, and the command's tests on theirs: a source
// and a destination organization, an active connection between them and a completed
// inquiry of the source.
type seed struct {
	src, dst *connecttest.Organization
	cxn, inq string
}

func seedFake(srv *connecttest.Server) seed {
	src, dst := srv.NewOrganization("Source"), srv.NewOrganization("Destination")
	return seed{src: src, dst: dst, cxn: srv.CreateConnection(src, dst), inq: srv.CreateInquiry(src)}
}

func fakeCmd() *command {
	return &command{
		name:  "fake",
		args:  "[--addr 127.0.0.1:0] [--forward-to URL] [--rate-limit 300]",
		short: "run a fake Persona Connect for tests in any language",
		long: `Runs connecttest, the SDK's in-memory Persona Connect, as a server on --addr,
seeded with a source and a destination organization, an active connection between
them and a completed inquiry of the source. Prints one line of JSON on stdout:
url (the API root, on loopback when --addr is every interface, such as :8099),
source.id, source.api_key, destination.id, destination.api_key, connection_id,
inquiry_id, and with --forward-to webhook_secret and webhook_id: that URL then
receives the destination's webhook deliveries, signed with the secret (rotate it with
POST /webhooks/{webhook_id}/rotate-secret and the destination's key). A delivery
that fails is retried after 20ms, then each time twice as long: all 8 attempts within
about 3 seconds, not Persona's hours. The source's events are not delivered: run
"connect listen" with the source's key and the fake's url for those. Requests are
limited to --rate-limit a minute per organization, answered 429 beyond. Serves until
Ctrl-C or SIGTERM, then closes (cutting off, after 2 seconds, requests still in
flight) and exits 0.`,
		example: `connect fake --addr 127.0.0.1:8099 > fake.json &
curl -H "Authorization: Bearer $(jq -r .source.api_key fake.json)" -H 'Content-Type: application/json' \
  -d '{"data":{"attributes":{"connection-id":"'$(jq -r .connection_id fake.json)'","source-id":"'$(jq -r .inquiry_id fake.json)'"}}}' \
  "$(jq -r .url fake.json)/connect/share-tokens"`,
		setup: func(fs *flag.FlagSet) runFunc {
			addr := fs.String("addr", "127.0.0.1:0", "listen on `host:port` (port 0: any free one)")
			forwardTo := fs.String("forward-to", "", "deliver the destination's webhooks to `URL`")
			rateLimit := fs.Int("rate-limit", 300, "allow `N` requests a minute per organization, as Persona does; 0 for no limit")
			return func(ctx context.Context, a *app, _ string) error {
				if *rateLimit < 0 {
					return usagef("--rate-limit must not be negative")
				}
				limit := *rateLimit
				if limit == 0 {
					limit = 1 << 30 // no limit is one no test suite reaches: a billion a minute
				}
				if *forwardTo != "" {
					if _, err := checkForwardURL(*forwardTo); err != nil {
						return err
					}
				}
				nl, err := net.Listen("tcp", *addr)
				if err != nil {
					// An address that is no host:port (no port, one out of range) is a
					// mistake in the flag; one that cannot be bound (in use, not this
					// machine's) is not.
					if addrErr := new(net.AddrError); errors.As(err, &addrErr) {
						return usagef("--addr must be host:port, e.g. 127.0.0.1:8099 (%v)", addrErr)
					}
					return fmt.Errorf("connect: fake: %v", err) // %v: see exitCode
				}
				l := &connTracker{Listener: nl, conns: map[*trackedConn]struct{}{}}
				srv := connecttest.NewServer(connecttest.WithListener(l), connecttest.WithRateLimit(limit, time.Minute))
				defer srv.Close() // on the way out early; a second Close does nothing
				s := seedFake(srv)
				info := fakeInfo{
					URL:          reachableURL(srv.URL, *addr),
					Source:       fakeOrg{ID: s.src.ID, APIKey: s.src.APIKey},
					Destination:  fakeOrg{ID: s.dst.ID, APIKey: s.dst.APIKey},
					ConnectionID: s.cxn,
					InquiryID:    s.inq,
				}
				if *forwardTo != "" {
					info.WebhookSecret = srv.AddWebhook(s.dst, *forwardTo)
					info.WebhookID = srv.WebhookID(info.WebhookSecret)
				}
				if err := printJSON(a.stdout, info); err != nil {
					return err
				}
				listening := ""
				if info.URL != srv.URL {
					listening = fmt.Sprintf(" (listening on %s)", l.Addr())
				}
				fmt.Fprintf(a.stderr, "connect: fake Persona Connect at %s%s; Ctrl-C stops it\n", info.URL, listening)
				<-ctx.Done()
				stopFake(a.stderr, srv, l)
				fmt.Fprintln(a.stderr, "connect: fake stopped")
				return nil
			}
		},
	}
}

// reachableURL is the fake's URL as this machine reaches it. A listener on every
// interface (--addr :8099, 0.0.0.0:8099 or [::]:8099) has the wildcard address, which
// is no address to connect to, and which the SDK (plain http only on loopback) and so
// the command refuse as a base URL: the loopback address stands in for it, ::1 when
// addr asked for IPv6's wildcard, 127.0.0.1 otherwise (Go listens on both families
// for a wildcard, whatever Addr then says).
func reachableURL(srvURL, addr string) string {
	u, err := url.Parse(srvURL)
	if err != nil {
		return srvURL
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsUnspecified() {
		return srvURL
	}
	loopback := "127.0.0.1"
	if host, _, err := net.SplitHostPort(addr); err == nil {
		if asked := net.ParseIP(host); asked != nil && asked.To4() == nil {
			loopback = "::1"
		}
	}
	u.Host = net.JoinHostPort(loopback, u.Port())
	return u.String()
}

// fakeStopGrace is how long a stop waits for the requests in flight. It is short of the
// 5 s after which httptest's Close starts logging the connections it waits for.
const fakeStopGrace = 2 * time.Second

// stopFake closes srv, and cuts off the connections still busy after fakeStopGrace:
// Close waits for every request in flight, and a client that stopped halfway through
// sending one (a test killed mid-request, a body that never ends) would keep the fake
// from ever stopping, a second Ctrl-C included.
func stopFake(stderr io.Writer, srv *connecttest.Server, l *connTracker) {
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		srv.Close()
	}()
	select {
	case <-closed:
	case <-time.After(fakeStopGrace):
		n := l.closeAll()
		fmt.Fprintf(stderr, "connect: fake: cut off %d connection(s) still busy %s after the stop\n", n, fakeStopGrace)
		<-closed // a handler whose connection is closed returns at once
	}
}

// connTracker is the fake's listener: it keeps each connection it accepted until the
// connection closes, so that a stop can close those that a client keeps busy.
type connTracker struct {
	net.Listener
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

func (l *connTracker) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[tc] = struct{}{}
	l.mu.Unlock()
	return tc, nil
}

// closeAll closes every connection still open and returns how many there were.
func (l *connTracker) closeAll() int {
	l.mu.Lock()
	conns := make([]*trackedConn, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	return len(conns)
}

// trackedConn is a connection that leaves its tracker when it closes.
type trackedConn struct {
	net.Conn
	l *connTracker
}

func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// CloseWrite keeps the TCP half-close net/http uses to end a connection after an
// error answer (the wrapper would otherwise hide *net.TCPConn's).
func (c *trackedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
