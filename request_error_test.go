package connect_test

// The failure paths of a call: which error a caller gets when no decodable answer came
// back, and that every POST error carries the Idempotency-Key that makes a retry safe.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

func TestPostFailuresCarryTheIdempotencyKey(t *testing.T) {
	t.Parallel()
	created := specFixture(t, "connect-share-token.json")
	tests := []struct {
		name     string
		answer   httpmock.Responder
		attempts int  // requests Persona saw
		unknown  bool // errors.Is(err, ErrOutcomeUnknown)
		check    func(t *testing.T, err error)
	}{
		{
			name: "connection dropped on every attempt", answer: dropConnection,
			attempts: 3, unknown: true,
			check: func(t *testing.T, err error) {
				// The transport error is still there for code that inspects it.
				var ue *url.Error
				if !errors.As(err, &ue) {
					t.Errorf("error %v does not unwrap to the *url.Error", err)
				}
				var ne net.Error
				if !errors.As(err, &ne) {
					t.Errorf("error %v does not unwrap to a net.Error", err)
				}
			},
		},
		{
			name: "201 body breaks off on every attempt", answer: cutBody(http.StatusCreated, created),
			attempts: 3, unknown: true,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("error %v does not wrap io.ErrUnexpectedEOF", err)
				}
			},
		},
		{
			name: "201 that is not JSON", answer: respond(http.StatusCreated, []byte("<html>ok</html>")),
			attempts: 1, unknown: true,
			check: func(t *testing.T, err error) {
				var se *json.SyntaxError
				if !errors.As(err, &se) {
					t.Errorf("error %v does not wrap the *json.SyntaxError", err)
				}
			},
		},
		{name: "201 without data", answer: respond(http.StatusCreated, []byte(`{"data":null}`)), attempts: 1, unknown: true},
		{name: "201 with a token without id", answer: respond(http.StatusCreated, []byte(`{"data":{"type":"connect/share-token","attributes":{}}}`)), attempts: 1, unknown: true},
		{
			name: "dropped, then 503 until the retries ran out", answer: httpmock.Responder(dropConnection).Then(respond(503, errorBody(503))),
			attempts: 3, unknown: true,
			check: func(t *testing.T, err error) {
				var apiErr *connect.APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || !errors.Is(err, connect.ErrServer) {
					t.Errorf("error %v does not wrap the last answer, the 503 *APIError", err)
				}
			},
		},
		{
			// A gateway's 502 or 504 may come after it passed the request on.
			name: "504 from a gateway until the retries ran out", answer: respond(504, []byte("<html>504 Gateway Time-out</html>")),
			attempts: 3, unknown: true,
			check: func(t *testing.T, err error) {
				var apiErr *connect.APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != 504 {
					t.Errorf("error %v does not wrap the 504 *APIError", err)
				}
			},
		},
		{name: "502 from a gateway until the retries ran out", answer: respond(502, []byte("Bad Gateway")), attempts: 3, unknown: true},
		{name: "503 until the retries ran out", answer: respond(503, errorBody(503)), attempts: 3, unknown: false},
		{
			// Persona answered the retry with the same key: whatever attempt 1 did, this
			// answer is the outcome.
			name: "dropped, then 422", answer: httpmock.Responder(dropConnection).Then(respond(422, errorBody(422))),
			attempts: 2, unknown: false,
		},
		{
			// A 409 to the retry may mean that attempt 1 is still running under the
			// same key ("concurrent change", API-NOTES): it says nothing of what
			// attempt 1 will have done.
			name: "504 from a gateway, then 409", answer: respond(504, []byte("Gateway Time-out")).Then(respond(409, errorBody(409))),
			attempts: 2, unknown: true,
			check: func(t *testing.T, err error) {
				if !errors.Is(err, connect.ErrConflict) {
					t.Errorf("error %v does not wrap the 409", err)
				}
			},
		},
		{name: "409 on the first attempt", answer: respond(409, errorBody(409)), attempts: 1, unknown: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			var log attemptLog
			mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), log.answer(t, tt.answer))
			err := createToken(ctxT(t), c)
			recs := log.all()
			if len(recs) != tt.attempts {
				t.Fatalf("Persona saw %d attempts, want %d (error %v)", len(recs), tt.attempts, err)
			}
			if err == nil {
				t.Fatal("Create succeeded")
			}
			sent := recs[0].idem
			if !strings.Contains(err.Error(), "POST /connect/share-tokens") {
				t.Errorf("error %q does not name the call", err)
			}
			if got := errors.Is(err, connect.ErrOutcomeUnknown); got != tt.unknown {
				t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = %v, want %v", err, got, tt.unknown)
			}
			var reqErr *connect.RequestError
			var apiErr *connect.APIError
			switch {
			case errors.As(err, &reqErr):
				if reqErr.IdempotencyKey != sent || reqErr.Method != "POST" || reqErr.Path != "/connect/share-tokens" || reqErr.Attempts != tt.attempts {
					t.Errorf("RequestError = %+v, want POST /connect/share-tokens, key %q, %d attempts", reqErr, sent, tt.attempts)
				}
				if reqErr.Unwrap() == nil {
					t.Error("RequestError.Unwrap() = nil")
				}
			case errors.As(err, &apiErr):
				if tt.unknown {
					t.Errorf("error %v is an *APIError; an unknown outcome is a *RequestError", err)
				}
				if apiErr.IdempotencyKey != sent {
					t.Errorf("APIError.IdempotencyKey = %q, want %q", apiErr.IdempotencyKey, sent)
				}
			default:
				t.Fatalf("error %v (%T) is neither a *RequestError nor an *APIError", err, err)
			}
			if tt.check != nil {
				tt.check(t, err)
			}
		})
	}
}

// A context that ends after the request was sent leaves its outcome unknown: the error
// says so, carries the key and wraps ctx.Err().
func TestPostContextEndedAfterSending(t *testing.T) {
	t.Parallel()
	for _, cause := range []error{context.Canceled, context.DeadlineExceeded} {
		t.Run(cause.Error(), func(t *testing.T) {
			t.Parallel()
			arrived := make(chan struct{}, 1)
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), holdUntilCancelled(arrived))
			ctx := newEndingContext(cause)
			go func() {
				<-arrived
				ctx.end()
			}()
			err := createToken(ctx, c, connect.WithIdempotencyKey("order-42"))
			if !errors.Is(err, cause) {
				t.Errorf("errors.Is(%v, %v) = false", err, cause)
			}
			if !errors.Is(err, connect.ErrOutcomeUnknown) {
				t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = false", err)
			}
			var reqErr *connect.RequestError
			if !errors.As(err, &reqErr) || reqErr.IdempotencyKey != "order-42" || reqErr.Attempts != 1 {
				t.Fatalf("error = %#v, want a *RequestError with key order-42 after 1 attempt", err)
			}
			if got := calls(mt, http.MethodPost, createTokenPath); got != 1 {
				t.Errorf("Persona saw %d attempts, want 1", got)
			}
		})
	}
}

// A context that ended before anything was sent: the key is on the error, but nothing
// can have been applied.
func TestPostContextEndedBeforeSending(t *testing.T) {
	t.Parallel()
	c := noIOClient(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := createToken(ctx, c, connect.WithIdempotencyKey("order-43"))
	if !errors.Is(err, context.Canceled) || errors.Is(err, connect.ErrOutcomeUnknown) {
		t.Errorf("error %v: want context.Canceled and not ErrOutcomeUnknown", err)
	}
	var reqErr *connect.RequestError
	if !errors.As(err, &reqErr) || reqErr.IdempotencyKey != "order-43" || reqErr.Attempts != 0 {
		t.Errorf("error = %#v, want a *RequestError with key order-43 after 0 attempts", err)
	}
}

// A server nobody listens on: every dial is refused, so nothing was sent.
func TestPostConnectionRefusedIsNotUnknown(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), refuseConnection)
	err := createToken(ctxT(t), c)
	var reqErr *connect.RequestError
	if !errors.As(err, &reqErr) || reqErr.Attempts != 3 || len(reqErr.IdempotencyKey) != 32 {
		t.Fatalf("error = %#v, want a *RequestError with a generated key after 3 attempts", err)
	}
	if errors.Is(err, connect.ErrOutcomeUnknown) {
		t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = true for a refused dial", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) || opErr.Op != "dial" {
		t.Errorf("error %v does not unwrap to the dial's *net.OpError", err)
	}
}

// GETs fail with a *RequestError too, which never matches ErrOutcomeUnknown: a read
// changes nothing.
func TestGetFailuresAreRequestErrors(t *testing.T) {
	t.Parallel()
	for name, answer := range map[string]httpmock.Responder{
		"dropped":   dropConnection,
		"cut body":  cutBody(http.StatusOK, specFixture(t, "connect-share-token-redeemed.json")),
		"not JSON":  respond(http.StatusOK, []byte("<html>")),
		"null data": respond(http.StatusOK, []byte(`{"data":null}`)),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), answer)
			err := getToken(ctxT(t), c)
			var reqErr *connect.RequestError
			if !errors.As(err, &reqErr) || reqErr.Method != "GET" || reqErr.Path != "/connect/share-tokens/cnst_ABC123" || reqErr.IdempotencyKey != "" {
				t.Fatalf("error = %#v, want a *RequestError for GET /connect/share-tokens/cnst_ABC123 without a key", err)
			}
			if n := calls(mt, http.MethodGet, getTokenPath); reqErr.Attempts != n {
				t.Errorf("Attempts = %d, Persona saw %d", reqErr.Attempts, n)
			}
			if errors.Is(err, connect.ErrOutcomeUnknown) {
				t.Errorf("a GET matches ErrOutcomeUnknown: %v", err)
			}
		})
	}
}

// A 2xx whose body breaks off is retried like a network error, with the same key.
func TestBrokenSuccessBodyIsRetried(t *testing.T) {
	t.Parallel()
	created := specFixture(t, "connect-share-token.json")
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			path, send := exampleCall(method)
			var log attemptLog
			mt.RegisterResponder(method, mockURL(path), log.answer(t, cutBody(http.StatusCreated, created).Then(respond(http.StatusCreated, created))))
			if err := send(ctxT(t), c); err != nil {
				t.Fatalf("call after a broken body: %v", err)
			}
			recs := log.all()
			if len(recs) != 2 {
				t.Fatalf("Persona saw %d attempts, want 2", len(recs))
			}
			if recs[0].idem != recs[1].idem {
				t.Errorf("Idempotency-Key changed between attempts: %q, %q", recs[0].idem, recs[1].idem)
			}
		})
	}
}

// Over real HTTP on connecttest, the failures the unit tests above script: a
// connection closed after Persona made the token, a body cut short after it did, and a
// server that is gone. Each is the *RequestError net/http's own errors make.
func TestPostFailuresOverRealHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fault   func(srv *connecttest.Server)
		unknown bool
		cause   func(err error) bool
	}{
		{"connection dropped after the commit", func(srv *connecttest.Server) {
			srv.DropAfterCommit(http.MethodPost, "/connect/share-tokens", 3)
		}, true, func(err error) bool { var ne net.Error; return errors.As(err, &ne) }},
		{"body cut after the commit", func(srv *connecttest.Server) {
			srv.CutBodyAfterCommit(http.MethodPost, "/connect/share-tokens", 3)
		}, true, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{"server closed", (*connecttest.Server).Close, false, func(err error) bool {
			var opErr *net.OpError
			return errors.As(err, &opErr) && opErr.Op == "dial"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newPersona(t)
			c, err := srv.NewClient(srv.src, connect.WithRetryBackoff(time.Millisecond, time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			tt.fault(srv.Server)
			_, err = c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: srv.cxn, SourceID: srv.inq})
			var reqErr *connect.RequestError
			if !errors.As(err, &reqErr) || reqErr.Attempts != 3 || len(reqErr.IdempotencyKey) != 32 {
				t.Fatalf("error = %v, want a *RequestError with its key after 3 attempts", err)
			}
			if got := errors.Is(err, connect.ErrOutcomeUnknown); got != tt.unknown {
				t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = %v, want %v", err, got, tt.unknown)
			}
			if !tt.cause(err) {
				t.Errorf("error %v does not unwrap to net/http's error for it", err)
			}
		})
	}
}

func TestNewIdempotencyKey(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		k := connect.NewIdempotencyKey()
		if len(k) != 32 || strings.Trim(k, "0123456789abcdef") != "" {
			t.Fatalf("NewIdempotencyKey() = %q, want 32 lower-case hex digits", k)
		}
		if seen[k] {
			t.Fatalf("NewIdempotencyKey() repeated %q", k)
		}
		seen[k] = true
	}
}

// endingContext is a context that ends, with a chosen error, when the test says so:
// context.DeadlineExceeded without a timer that could fire before the request is sent.
type endingContext struct {
	context.Context
	cause error
	done  chan struct{}
	once  sync.Once
}

func newEndingContext(cause error) *endingContext {
	return &endingContext{Context: context.Background(), cause: cause, done: make(chan struct{})}
}

func (c *endingContext) end()                  { c.once.Do(func() { close(c.done) }) }
func (c *endingContext) Done() <-chan struct{} { return c.done }
func (c *endingContext) Err() error {
	select {
	case <-c.done:
		return c.cause
	default:
		return nil
	}
}
