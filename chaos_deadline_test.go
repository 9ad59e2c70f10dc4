package connect_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// slowBodyServer answers every request 201 (200 for a GET) with its headers and the
// first bytes of a body, then holds the rest until the client goes away.
func slowBodyServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusCreated
		if r.Method == http.MethodGet {
			status = http.StatusOK
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_slow")
		w.WriteHeader(status)
		io.WriteString(w, `{"data":{"type":"connect/share-token","id":"cnst_`) //nolint:errcheck
		http.NewResponseController(w).Flush()                                  //nolint:errcheck
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/api/v1"
}

// Drill 3: latency beyond the context's deadline while dialling, while waiting for the
// answer's headers, and while reading its body. Promise (README "Errors", "After a
// failed Create"; doc.go "Errors"): a *RequestError that unwraps to
// context.DeadlineExceeded; ErrOutcomeUnknown for a POST only once the request was
// sent; every POST error carries its Idempotency-Key; a GET never matches it.
func TestDeadlineAtEachStage(t *testing.T) {
	t.Parallel()
	const key = "drill-3-key"
	type stage struct {
		name string
		sent bool
		// client returns a client whose requests meet the latency at this stage.
		client func(t *testing.T, p *persona) *connect.Client
	}
	stages := []stage{
		{"dial", false, func(t *testing.T, p *persona) *connect.Client {
			// A dial that hangs (a black-holed SYN) until the context ends, then
			// fails as net.Dialer does for an ended context.
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				<-ctx.Done()
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}}
			t.Cleanup(tr.CloseIdleConnections)
			c, err := p.NewClient(p.src, connect.WithHTTPClient(&http.Client{Transport: tr}))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"headers", true, func(t *testing.T, p *persona) *connect.Client {
			p.AddLatency(time.Minute)
			c, err := p.NewClient(p.src)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
		{"body", true, func(t *testing.T, p *persona) *connect.Client {
			c, err := connect.New("key_drill3", connect.WithBaseURL(slowBodyServer(t)))
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
	}
	for _, st := range stages {
		for _, method := range []string{http.MethodPost, http.MethodGet} {
			t.Run(st.name+"/"+method, func(t *testing.T) {
				t.Parallel()
				p := newPersona(t)
				c := st.client(t, p)
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				var resp connect.Response
				var err error
				if method == http.MethodPost {
					_, err = c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: p.cxn, SourceID: p.inq}, connect.WithIdempotencyKey(key), connect.WithResponseInto(&resp))
				} else {
					_, err = c.ShareTokens.Get(ctx, "cnst_drill3", connect.WithResponseInto(&resp))
				}
				var reqErr *connect.RequestError
				if !errors.As(err, &reqErr) {
					t.Fatalf("error = %v (%T), want a *RequestError", err, err)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
				}
				wantUnknown := method == http.MethodPost && st.sent
				if got := errors.Is(err, connect.ErrOutcomeUnknown); got != wantUnknown {
					t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = %v, want %v", err, got, wantUnknown)
				}
				wantKey := ""
				if method == http.MethodPost {
					wantKey = key
				}
				if reqErr.IdempotencyKey != wantKey || resp.IdempotencyKey != wantKey {
					t.Errorf("keys: error %q, Response %q; want %q", reqErr.IdempotencyKey, resp.IdempotencyKey, wantKey)
				}
				if reqErr.Attempts != 1 || resp.Attempts != 1 {
					t.Errorf("Attempts: error %d, Response %d; want 1", reqErr.Attempts, resp.Attempts)
				}
				t.Logf("%v", err)
			})
		}
	}
}
