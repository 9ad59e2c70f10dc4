package connect_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	connect "github.com/persona-connect/connect-go"
)

// redirectingProxy stands in front of p: /old/api/v1/... answers status with a
// Location of to(path under /api/v1), and /api/v1/... is passed on to p.
func redirectingProxy(t *testing.T, p *persona, status int, to func(rest string) string) string {
	target, err := url.Parse(p.URL)
	if err != nil {
		t.Fatal(err)
	}
	target.Path = ""
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, "/old/api/v1"); ok {
			w.Header().Set("Location", to(rest))
			w.WriteHeader(status)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// elsewhere is another origin that records what reaches it.
type elsewhere struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD path authorization"
}

func newElsewhere(t *testing.T) *elsewhere {
	e := &elsewhere{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.seen = append(e.seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"data":{"type":"connect/share-token","id":"cnst_elsewhere","attributes":{"status":"created"}}}`)) //nolint:errcheck
	}))
	t.Cleanup(e.Close)
	return e
}

// Drill 5: a proxy answers a redirect, to the same origin and to another one (a
// different port on the same host: net/http would keep Authorization). Promise (DESIGN
// "Request pipeline", doc.go "Pagination", "Any endpoint"): the bearer key never
// leaves the configured origin; a redirect within it is followed.
func TestRedirectsFromAProxy(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(status)+"/another origin", func(t *testing.T) {
			t.Parallel()
			p := newPersona(t)
			other := newElsewhere(t)
			base := redirectingProxy(t, p, status, func(rest string) string { return other.URL + "/api/v1" + rest })
			c, err := p.NewClient(p.src, connect.WithBaseURL(base+"/old/api/v1"))
			if err != nil {
				t.Fatal(err)
			}
			_, getErr := c.ShareTokens.Get(ctxT(t), "cnst_1")
			_, postErr := c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: p.cxn, SourceID: p.inq})
			for _, err := range []error{getErr, postErr} {
				if err == nil {
					t.Error("a call followed a redirect to another origin")
				}
			}
			other.mu.Lock()
			defer other.mu.Unlock()
			if len(other.seen) != 0 {
				t.Errorf("another origin received %d requests: %q", len(other.seen), other.seen)
			}
		})
	}
}

// Within the origin a redirect is followed. 307 and 308 resend a POST as it was, its
// body and Idempotency-Key with it: one token. 301, 302 and 303 would have net/http
// resend it as a GET of the Location, whose answer is not the POST's: a proxy sending
// a Create (or a Redeem) to a token's URL made the call return that token as if the
// POST had been applied. Such a redirect of a POST is refused (nothing is sent to the
// Location, the error is not an unknown outcome: the proxy passed nothing on); a GET
// follows every one.
func TestRedirectsWithinTheOriginFromAProxy(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			p := newPersona(t)
			direct, err := p.NewClient(p.src)
			if err != nil {
				t.Fatal(err)
			}
			existing, err := direct.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: p.cxn, SourceID: p.CreateInquiry(p.src)})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var redirectedGETs int
			base := redirectingProxy(t, p, status, func(rest string) string {
				keepsMethod := status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect
				if rest == "/connect/share-tokens" && !keepsMethod {
					// The POST-redirect-GET pattern: "see the resource".
					return "/api/v1/connect/share-tokens/" + existing.ID + "?via=redirect"
				}
				return "/api/v1" + rest
			})
			log := newKeyedAttempts(t)
			counting := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.URL.Query().Get("via") == "redirect" && r.Method == http.MethodGet {
					mu.Lock()
					redirectedGETs++
					mu.Unlock()
				}
				return log.RoundTrip(r)
			})
			c, err := p.NewClient(p.src, connect.WithBaseURL(base+"/old/api/v1"), connect.WithHTTPClient(&http.Client{Transport: counting}))
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.ShareTokens.Get(ctxT(t), existing.ID)
			if err != nil || got.ID != existing.ID {
				t.Errorf("Get through a %d = %v, %v; want %s", status, got, err, existing.ID)
			}
			var resp connect.Response
			tok, err := c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: p.cxn, SourceID: p.inq}, connect.WithResponseInto(&resp))
			held := inboundTokens(t, p)
			if status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect {
				if err != nil || tok.ID == existing.ID || !held[tok.ID] || len(held) != 2 {
					t.Fatalf("Create through a %d = %v, %v; Persona holds %v: want one new token", status, tok, err, held)
				}
				atts := log.attempts(resp.IdempotencyKey)
				if len(atts) != 2 {
					t.Errorf("the key went out %d times, want 2 (the POST and its redirect)", len(atts))
				}
				return
			}
			if err == nil {
				t.Fatalf("Create through a %d returned %s (the token at the Location) as if it had made it", status, tok.ID)
			}
			mu.Lock()
			defer mu.Unlock()
			if redirectedGETs != 0 {
				t.Errorf("the POST was resent as %d GETs of the Location", redirectedGETs)
			}
			var reqErr *connect.RequestError
			if !errors.As(err, &reqErr) || reqErr.IdempotencyKey != resp.IdempotencyKey || errors.Is(err, connect.ErrOutcomeUnknown) {
				t.Errorf("error = %v, want a *RequestError with the key, not ErrOutcomeUnknown", err)
			}
			if len(held) != 1 {
				t.Errorf("Persona holds %d tokens, want the 1 made before", len(held))
			}
			if resp.Attempts != 1 {
				t.Errorf("Attempts = %d, want 1: a refused redirect is not retried", resp.Attempts)
			}
			t.Log(err)
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
