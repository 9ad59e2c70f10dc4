package connect_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// Whether a POST may have been applied is decided by whether it was written, not by the
// last error alone, which can describe a later try than the one that reached Persona.
// These tests make real connections misbehave in the two ways that fooled the error.

// oneConnListener accepts one connection and then closes its port, so that every later
// dial is refused, while the server goes on serving the connection it accepted.
type oneConnListener struct {
	net.Listener
	accepted atomic.Bool
	done     chan struct{}
	once     sync.Once
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	if l.accepted.CompareAndSwap(false, true) {
		return l.Listener.Accept()
	}
	_ = l.Listener.Close()
	<-l.done
	return nil, net.ErrClosed
}

func (l *oneConnListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// net/http resends a request with an Idempotency-Key by itself when a reused keep-alive
// connection breaks. Here Persona makes the token on the first try, the connection
// drops before the answer, and every dial after it is refused: the error the SDK sees
// is a refused dial, but the token exists, so the outcome is unknown.
func TestPostWrittenOnAReusedConnectionThenRefused(t *testing.T) {
	t.Parallel()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := connecttest.NewServer(connecttest.WithListener(&oneConnListener{Listener: raw, done: make(chan struct{})}))
	t.Cleanup(srv.Close)
	src, dst := srv.NewOrganization("Source"), srv.NewOrganization("Destination")
	cxn, inq := srv.CreateConnection(src, dst), srv.CreateInquiry(src)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := srv.NewClient(src, connect.WithHTTPClient(&http.Client{Transport: tr}), connect.WithRetryBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// A first call leaves the one connection in the pool.
	if _, err := c.Connections.Get(ctxT(t), cxn); err != nil {
		t.Fatal(err)
	}
	srv.DropAfterCommit(http.MethodPost, "/connect/share-tokens", 1)
	_, err = c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "dial" {
		t.Fatalf("error %v; want the refused dial of the tries after the drop", err)
	}
	if !errors.Is(err, connect.ErrOutcomeUnknown) {
		t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = false; the first try was written and Persona made the token", err)
	}
	var reqErr *connect.RequestError
	if !errors.As(err, &reqErr) || len(reqErr.IdempotencyKey) != 32 {
		t.Errorf("error %v does not carry the key to retry with", err)
	}
}

// A TLS record error can come after the request went out, not only during the
// handshake: the server here reads the POST (and would apply it), then sends a record
// of the wrong version in place of the answer.
func TestPostWrittenThenATLSRecordError(t *testing.T) {
	t.Parallel()
	var applied atomic.Int32
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		applied.Add(1)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		netConn := conn.(*tls.Conn).NetConn()
		_, _ = netConn.Write([]byte{0x17, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5}) // version 0x0301 after a TLS 1.3 handshake
		_ = netConn.Close()
	}))
	ts.StartTLS()
	t.Cleanup(ts.Close)
	c, err := connect.New(testAPIKey, connect.WithBaseURL(ts.URL+"/api/v1"), connect.WithHTTPClient(ts.Client()),
		connect.WithRetryBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ShareTokens.Create(context.Background(), connect.CreateShareTokenParams{ConnectionID: "cxn_ABC123", SourceID: "inq_ABC123"})
	var recordErr tls.RecordHeaderError
	if !errors.As(err, &recordErr) {
		t.Fatalf("error %v; want the tls.RecordHeaderError", err)
	}
	if applied.Load() == 0 || !errors.Is(err, connect.ErrOutcomeUnknown) {
		t.Errorf("the server read the POST %d times, and errors.Is(%v, ErrOutcomeUnknown) = %v; want true", applied.Load(), err, errors.Is(err, connect.ErrOutcomeUnknown))
	}
}
