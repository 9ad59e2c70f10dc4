package connect_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// Drill 6: what sits in front of Persona answers instead of it: a body far over any
// page's size, a 200 that is HTML (a captive portal, a misrouted gateway), JSON under
// a wrong Content-Type, and a gateway's HTML 502. Promise (doc.go "Errors", DESIGN
// "Request pipeline"): a 2xx that cannot be decoded is a *RequestError (ErrOutcomeUnknown
// for a POST), never a panic nor a zero resource; error bodies are read at most 1 MiB;
// a 502 of a POST is an unknown outcome carrying the key; no text quotes the body.
func TestMisbehavingGateways(t *testing.T) {
	t.Parallel()
	const hugeBody = 32<<20 + 1<<10 // past the SDK's 32 MiB cap on a 2xx
	token := `{"data":{"type":"connect/share-token","id":"cnst_gw","attributes":{"status":"created"}}}`
	tests := []struct {
		name    string
		status  int
		ctype   string
		body    func(w io.Writer)
		ok      bool // the call succeeds
		apiErr  int  // the *APIError's status the error wraps; 0 for none
		retried bool
	}{
		{"huge 200", http.StatusOK, "application/json", func(w io.Writer) {
			io.WriteString(w, `{"data":{"type":"connect/share-token","id":"cnst_gw","attributes":{"status":"`) //nolint:errcheck
			io.CopyN(w, zeros{}, hugeBody)                                                                     //nolint:errcheck
		}, false, 0, false},
		{"huge 503", http.StatusServiceUnavailable, "text/html", func(w io.Writer) {
			io.CopyN(w, zeros{}, hugeBody) //nolint:errcheck
		}, false, http.StatusServiceUnavailable, true},
		{"HTML 200", http.StatusOK, "text/html", func(w io.Writer) {
			io.WriteString(w, "<html><body>Please sign in to the hotel wifi, Jane Doe</body></html>") //nolint:errcheck
		}, false, 0, false},
		{"JSON as text/plain", http.StatusOK, "text/plain", func(w io.Writer) {
			io.WriteString(w, token) //nolint:errcheck
		}, true, 0, false},
		{"HTML 502", http.StatusBadGateway, "text/html", func(w io.Writer) {
			io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>") //nolint:errcheck
		}, false, http.StatusBadGateway, true},
	}
	for _, tt := range tests {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			t.Run(tt.name+"/"+method, func(t *testing.T) {
				t.Parallel()
				var hits atomic.Int32
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					hits.Add(1)
					w.Header().Set("Content-Type", tt.ctype)
					w.WriteHeader(tt.status)
					tt.body(w)
				}))
				t.Cleanup(srv.Close)
				c, err := connect.New("key_drill6_gateway", connect.WithBaseURL(srv.URL+"/api/v1"), connect.WithRetryBackoff(time.Millisecond, 2*time.Millisecond))
				if err != nil {
					t.Fatal(err)
				}
				var resp connect.Response
				var tok *connect.ShareToken
				if method == http.MethodGet {
					tok, err = c.ShareTokens.Get(ctxT(t), "cnst_gw", connect.WithResponseInto(&resp))
				} else {
					tok, err = c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: "cxn_gw", SourceID: "inq_gw"}, connect.WithResponseInto(&resp))
				}
				if tt.ok {
					if err != nil || tok.ID != "cnst_gw" {
						t.Fatalf("call = %v, %v; want cnst_gw", tok, err)
					}
					return
				}
				if err == nil || tok != nil {
					t.Fatalf("call = %v, %v; want an error and no token", tok, err)
				}
				wantAttempts := 1
				if tt.retried {
					wantAttempts = 3
				}
				if int(hits.Load()) != wantAttempts || resp.Attempts != wantAttempts {
					t.Errorf("server saw %d attempts, Response.Attempts %d; want %d", hits.Load(), resp.Attempts, wantAttempts)
				}
				var apiErr *connect.APIError
				hasAPIErr := errors.As(err, &apiErr)
				if tt.apiErr != 0 && (!hasAPIErr || apiErr.StatusCode != tt.apiErr) {
					t.Errorf("error %v, want one wrapping a %d *APIError", err, tt.apiErr)
				}
				// A 2xx was applied, a 502 may have been passed on: both unknown for a
				// POST; a 503 from in front of Persona applied nothing.
				wantUnknown := method == http.MethodPost && (tt.status < 300 || tt.status == http.StatusBadGateway)
				if got := errors.Is(err, connect.ErrOutcomeUnknown); got != wantUnknown {
					t.Errorf("errors.Is(%v, ErrOutcomeUnknown) = %v, want %v", err, got, wantUnknown)
				}
				var reqErr *connect.RequestError
				if tt.apiErr == 0 && !errors.As(err, &reqErr) {
					t.Errorf("error %v (%T), want a *RequestError", err, err)
				}
				if method == http.MethodPost && resp.IdempotencyKey == "" {
					t.Error("no Idempotency-Key in the Response")
				}
				if text := err.Error(); strings.Contains(text, "Jane") || strings.Contains(text, "<html") || len(text) > 500 {
					t.Errorf("error text quotes the body: %.300q", text)
				}
				t.Log(err)
			})
		}
	}
}

// zeros is an endless stream of '0' bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}
