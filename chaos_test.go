package connect_test

// Failure drills: the SDK against connecttest (or a small server of its own where the
// fake cannot produce the fault) under rate limits, outages, latency, broken bodies,
// redirects and misbehaving gateways, each checked against what README.md and doc.go
// promise. No wall-clock upper bounds: a loaded machine only makes things slower, so
// only lower bounds on waits are asserted.

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// keyedAttempts is an http.RoundTripper that records, per Idempotency-Key, every attempt
// the client sent: when it left, when its answer came, its status and RateLimit-Reset.
type keyedAttempts struct {
	next http.RoundTripper

	mu    sync.Mutex
	byKey map[string][]attemptRecord
}

type attemptRecord struct {
	sent, answered time.Time
	status         int    // 0: no answer
	reset          string // the answer's RateLimit-Reset
}

func newKeyedAttempts(t testing.TB) *keyedAttempts {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &keyedAttempts{next: tr, byKey: map[string][]attemptRecord{}}
}

func (l *keyedAttempts) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := attemptRecord{sent: time.Now()}
	resp, err := l.next.RoundTrip(r)
	rec.answered = time.Now()
	if err == nil {
		rec.status, rec.reset = resp.StatusCode, resp.Header.Get("RateLimit-Reset")
	}
	l.mu.Lock()
	key := r.Header.Get("Idempotency-Key")
	l.byKey[key] = append(l.byKey[key], rec)
	l.mu.Unlock()
	return resp, err
}

func (l *keyedAttempts) attempts(key string) []attemptRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]attemptRecord(nil), l.byKey[key]...)
}

// inboundTokens lists, as the destination (whose rate window is its own), the ids of
// the tokens made over p's connection; a token listed twice fails t.
func inboundTokens(t *testing.T, p *persona) map[string]bool {
	t.Helper()
	dst, err := p.NewClient(p.dst)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for tok, err := range dst.ShareTokens.List(ctxT(t), &connect.ListShareTokensParams{ConnectionID: p.cxn, PageSize: 100}) {
		if err != nil {
			t.Fatal(err)
		}
		if ids[tok.ID] {
			t.Errorf("token %s listed twice", tok.ID)
		}
		ids[tok.ID] = true
	}
	return ids
}

// Drill 1: 32 goroutines share one Client and create a token each against a rate
// limit of 20 per window. Promise (README "Retries", doc.go "Retries and
// idempotency"): a 429 waits at least RateLimit-Reset; a wait longer than
// WithMaxRetryWait is not started and the *APIError comes back at once; every POST
// error carries its Idempotency-Key, and a retried Create never makes a second token.
func TestRateLimitedBurstOfCreates(t *testing.T) {
	t.Parallel()
	const goroutines, limit = 32, 20

	type result struct {
		tok  *connect.ShareToken
		resp connect.Response
		err  error
	}
	burst := func(t *testing.T, p *persona, opts ...connect.Option) (*connect.Client, *keyedAttempts, []string, []result) {
		log := newKeyedAttempts(t)
		hc := &http.Client{Transport: log, Timeout: 30 * time.Second}
		c, err := p.NewClient(p.src, append([]connect.Option{connect.WithHTTPClient(hc)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		sources := make([]string, goroutines)
		for i := range sources {
			sources[i] = p.CreateInquiry(p.src)
		}
		ctx := ctxT(t)
		results := concurrently(goroutines, func(i int) result {
			var r result
			r.tok, r.err = c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: p.cxn, SourceID: sources[i]}, connect.WithResponseInto(&r.resp))
			return r
		})
		return c, log, sources, results
	}
	// checkRateLimited fails t unless err is the 429 a caller can act on: an
	// *APIError (Persona's answer, nothing applied), ErrRateLimited, with the reset
	// and the key, and not an unknown outcome.
	checkRateLimited := func(t *testing.T, r result) *connect.APIError {
		t.Helper()
		apiErr := mustAPIError(t, r.err)
		if !errors.Is(r.err, connect.ErrRateLimited) || errors.Is(r.err, connect.ErrOutcomeUnknown) {
			t.Errorf("error = %v: want ErrRateLimited, not ErrOutcomeUnknown", r.err)
		}
		if apiErr.RateLimitReset <= 0 {
			t.Errorf("error %v has no RateLimitReset: it does not say when to retry", r.err)
		}
		if apiErr.IdempotencyKey == "" || apiErr.IdempotencyKey != r.resp.IdempotencyKey {
			t.Errorf("error's key %q, Response's %q: want the same, non-empty", apiErr.IdempotencyKey, r.resp.IdempotencyKey)
		}
		return apiErr
	}

	t.Run("waits for the reset", func(t *testing.T) {
		t.Parallel()
		// A short window, so that the reset (whole seconds, rounded up) is waited
		// for real within the test.
		p := newPersona(t, connecttest.WithRateLimit(limit, 2*time.Second))
		_, log, _, results := burst(t, p, connect.WithMaxRetries(3), connect.WithRetryBackoff(time.Millisecond, 2*time.Millisecond))
		made := map[string]bool{}
		waited := 0
		for _, r := range results {
			if r.err != nil {
				// Out of retries on a loaded machine: still a 429 that says when.
				checkRateLimited(t, r)
			} else {
				if made[r.tok.ID] {
					t.Errorf("token %s returned to two calls", r.tok.ID)
				}
				made[r.tok.ID] = true
			}
			atts := log.attempts(r.resp.IdempotencyKey)
			if len(atts) != r.resp.Attempts {
				t.Errorf("key %s: %d attempts sent, Response.Attempts = %d", r.resp.IdempotencyKey, len(atts), r.resp.Attempts)
			}
			for i := 0; i+1 < len(atts); i++ {
				if atts[i].status != http.StatusTooManyRequests {
					t.Errorf("key %s: attempt %d answered %d and was retried", r.resp.IdempotencyKey, i+1, atts[i].status)
					continue
				}
				secs, err := strconv.Atoi(atts[i].reset)
				if err != nil {
					t.Fatalf("429 with RateLimit-Reset %q", atts[i].reset)
				}
				if gap := atts[i+1].sent.Sub(atts[i].answered); gap < time.Duration(secs)*time.Second {
					t.Errorf("key %s: retried %v after a 429 with RateLimit-Reset %ds", r.resp.IdempotencyKey, gap, secs)
				}
				waited++
			}
		}
		if waited == 0 {
			t.Errorf("no call was retried after a 429: %d goroutines against a limit of %d", goroutines, limit)
		}
		if got := inboundTokens(t, p); len(got) != len(made) {
			t.Errorf("Persona holds %d tokens, the calls returned %d: a token was made twice or lost", len(got), len(made))
		}
	})

	t.Run("reset longer than WithMaxRetryWait", func(t *testing.T) {
		t.Parallel()
		p := newPersona(t, connecttest.WithRateLimit(limit, time.Minute))
		c, log, sources, results := burst(t, p, connect.WithMaxRetryWait(5*time.Second))
		var refused []int
		for i, r := range results {
			if r.err == nil {
				continue
			}
			apiErr := checkRateLimited(t, r)
			if apiErr.RateLimitReset <= 5*time.Second {
				t.Errorf("RateLimitReset %v: the window is a minute", apiErr.RateLimitReset)
			}
			// Not started: one attempt, returned at once.
			if n := len(log.attempts(apiErr.IdempotencyKey)); n != 1 || r.resp.Attempts != 1 {
				t.Errorf("a 429 asking for %v past WithMaxRetryWait(5s) was sent %d times (Attempts %d), want 1", apiErr.RateLimitReset, n, r.resp.Attempts)
			}
			refused = append(refused, i)
		}
		if len(refused) != goroutines-limit {
			t.Errorf("%d calls refused, want %d", len(refused), goroutines-limit)
		}
		// How to retry: after the reset, with the key the error carries; 429s are not
		// stored under it, so the retry runs for real, once.
		p.Advance(time.Minute)
		for _, i := range refused {
			key := results[i].resp.IdempotencyKey
			tok, err := c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: p.cxn, SourceID: sources[i]}, connect.WithIdempotencyKey(key))
			if err != nil {
				t.Fatalf("retry with the error's key after the reset: %v", err)
			}
			results[i].tok = tok
		}
		made := map[string]bool{}
		for _, r := range results {
			made[r.tok.ID] = true
		}
		if got := inboundTokens(t, p); len(made) != goroutines || len(got) != goroutines {
			t.Errorf("%d distinct tokens returned, Persona holds %d; want %d each", len(made), len(got), goroutines)
		}
	})
}

// Drill 2: Persona down, every request 503 and then 500, while Wait, List and Create
// run at once. Promise: 503 is retried on every method, 500 on GET only (doc.go
// "Retries and idempotency"); the error is the last *APIError with the key for a POST;
// WithResponseInto describes the last attempt (status, Request-Id, attempts, key) on an
// *APIError too; no goroutine is left behind (the package's TestMain runs goleak).
func TestPersonaDown(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			p := newPersona(t, connecttest.WithRateLimit(1<<20, time.Minute))
			c, err := p.NewClient(p.src, connect.WithRetryBackoff(time.Millisecond, 2*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			ctx := ctxT(t)
			tok, err := c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: p.cxn, SourceID: p.inq})
			if err != nil {
				t.Fatal(err)
			}
			p.FailNext("", "", 1<<20, status)

			type result struct {
				name string
				post bool
				resp connect.Response
				err  error
			}
			calls := []func(r *result){
				func(r *result) {
					r.name = "Wait"
					_, r.err = c.ShareTokens.Wait(ctx, tok.ID, connect.WithResponseInto(&r.resp))
				},
				func(r *result) {
					r.name = "List"
					r.err = firstErr(c.ShareTokens.List(ctx, &connect.ListShareTokensParams{ConnectionID: p.cxn}, connect.WithResponseInto(&r.resp)), 0)
				},
				func(r *result) {
					r.name, r.post = "Create", true
					_, r.err = c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: p.cxn, SourceID: p.CreateInquiry(p.src)}, connect.WithResponseInto(&r.resp))
				},
			}
			results := concurrently(len(calls), func(i int) *result {
				r := new(result)
				calls[i](r)
				return r
			})
			for _, r := range results {
				wantAttempts := 3 // the default two retries
				if r.post && status == http.StatusInternalServerError {
					wantAttempts = 1 // Persona would replay its stored 500
				}
				apiErr := mustAPIError(t, r.err)
				if apiErr.StatusCode != status || !errors.Is(r.err, connect.ErrServer) {
					t.Errorf("%s: error %v, want %d matching ErrServer", r.name, r.err, status)
				}
				if errors.Is(r.err, connect.ErrOutcomeUnknown) {
					t.Errorf("%s: error %v matches ErrOutcomeUnknown: a %d from Persona applied nothing", r.name, r.err, status)
				}
				if r.resp.Attempts != wantAttempts || r.resp.StatusCode != status || r.resp.RequestID == "" || r.resp.RequestID != apiErr.RequestID {
					t.Errorf("%s: Response = {Status %d, Attempts %d, RequestID %q}, want {%d, %d, %q}", r.name, r.resp.StatusCode, r.resp.Attempts, r.resp.RequestID, status, wantAttempts, apiErr.RequestID)
				}
				if r.post && (apiErr.IdempotencyKey == "" || apiErr.IdempotencyKey != r.resp.IdempotencyKey) {
					t.Errorf("%s: error key %q, Response key %q", r.name, apiErr.IdempotencyKey, r.resp.IdempotencyKey)
				}
				if !r.post && (apiErr.IdempotencyKey != "" || r.resp.IdempotencyKey != "") {
					t.Errorf("%s: a GET carries an Idempotency-Key", r.name)
				}
			}
		})
	}
}
