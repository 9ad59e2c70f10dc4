package connecttest_test

import (
	"context"
	"net"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// WithListener serves the fake on the caller's listener: the URL names its address,
// the API answers there, and Close closes the listener.
func TestWithListenerServesOnTheCallersListener(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	srv := connecttest.NewServer(connecttest.WithListener(l))
	closed := false
	defer func() {
		if !closed {
			srv.Close()
		}
	}()
	if want := "http://" + addr + "/api/v1"; srv.URL != want {
		t.Fatalf("URL = %q, want %q", srv.URL, want)
	}
	src, dst := srv.NewOrganization("Source"), srv.NewOrganization("Destination")
	cxn := srv.CreateConnection(src, dst)
	c := sdkClient(t, srv, src)
	got, err := c.Connections.Get(context.Background(), cxn)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != cxn || got.Status != connect.ConnectionActive {
		t.Fatalf("connection = %s %s, want %s active", got.ID, got.Status, cxn)
	}

	srv.Close()
	closed = true
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after Close", addr)
	}
}

// An invalid option is a broken test setup: NewServer panics with every problem, each
// naming its option, and starts nothing.
func TestInvalidOptionsPanicNamingTheOption(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts []connecttest.ServerOption
		want string
	}{
		{[]connecttest.ServerOption{connecttest.WithClock(nil)}, "connecttest: WithClock: nil clock"},
		{[]connecttest.ServerOption{connecttest.WithRedeemDelay(-time.Second)}, "connecttest: WithRedeemDelay: negative delay -1s"},
		{[]connecttest.ServerOption{connecttest.WithRedeemFailure("bored")}, `connecttest: WithRedeemFailure: unknown failure reason "bored"`},
		{[]connecttest.ServerOption{connecttest.WithWebhookRetryDelay(0)}, "connecttest: WithWebhookRetryDelay: delay 0s must be positive"},
		{[]connecttest.ServerOption{connecttest.WithWebhookTimeout(-time.Millisecond)}, "connecttest: WithWebhookTimeout: timeout -1ms must be positive"},
		{[]connecttest.ServerOption{connecttest.WithRateLimit(0, time.Minute)}, "connecttest: WithRateLimit: 0 per 1m0s must both be positive"},
		{[]connecttest.ServerOption{connecttest.WithRateLimit(5, 0)}, "connecttest: WithRateLimit: 5 per 0s must both be positive"},
		{[]connecttest.ServerOption{connecttest.WithListener(nil)}, "connecttest: WithListener: nil listener"},
		{
			[]connecttest.ServerOption{connecttest.WithClock(nil), connecttest.WithRedeemDelay(time.Second), connecttest.WithListener(nil)},
			"connecttest: WithClock: nil clock; WithListener: nil listener",
		},
	} {
		func() {
			defer func() {
				if got := recover(); got != tc.want {
					t.Errorf("panic %v, want %q", got, tc.want)
				}
			}()
			connecttest.NewServer(tc.opts...).Close()
		}()
	}
	// A nil option is skipped, and valid ones start a server.
	connecttest.NewServer(nil, connecttest.WithRedeemDelay(0), connecttest.WithRateLimit(1, time.Second)).Close()
}
