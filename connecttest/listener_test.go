package connecttest_test

import (
	"context"
	"net"
	"testing"

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
