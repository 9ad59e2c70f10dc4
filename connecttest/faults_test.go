package connecttest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/persona-connect/connect-go/connecttest"
)

func TestFailNextMatchesMethodPathAndCount(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	id := w.create(t)
	w.srv.FailNext("GET", "/connect/share-tokens/*", 2, http.StatusBadGateway)
	w.s.do("GET", "/connect/share-tokens", "").must(t, 200) // another path
	w.s.do("POST", "/connect/share-tokens/"+id+"/expire", "").must(t, 200)
	r := w.s.do("GET", "/connect/share-tokens/"+id, "").must(t, 502)
	if r.firstError()["title"] == nil {
		t.Errorf("injected error body %s", r.body)
	}
	checkHeaders(t, r, true, w.src)
	w.d.do("GET", "/connect/share-tokens/"+id, "").must(t, 502)
	w.s.do("GET", "/connect/share-tokens/"+id, "").must(t, 200)
	// Any method, any path.
	w.srv.FailNext("", "", 1, http.StatusTooManyRequests)
	if r := w.s.do("GET", "/events", "").must(t, 429); r.firstError()["title"] != "Rate limit exceeded" {
		t.Errorf("injected 429 %s", r.body)
	}
}

func TestDropAfterCommitKeepsTheEffect(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.DropAfterCommit("POST", "/connect/share-tokens", 1)
	body := createBody(w.cxn, w.inq)
	if resp, err := createOnFreshConnection(t, w, body, "dropped"); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	checkCommittedOnce(t, w, body, "dropped")
}

// createOnFreshConnection POSTs body to create a share token as w's source, with
// Idempotency-Key key, over a transport of its own: no connection reuse, so net/http
// does not retry by itself when a fault breaks the answer.
func createOnFreshConnection(t *testing.T, w *world, body, key string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequest("POST", w.srv.URL+"/connect/share-tokens", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.src.APIKey)
	req.Header.Set("Idempotency-Key", key)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return (&http.Client{Transport: tr}).Do(req)
}

// checkCommittedOnce checks that the create whose answer a fault withheld made one
// token, and that its retry with the same key gets the stored answer, whole, not a
// second token.
func checkCommittedOnce(t *testing.T, w *world, body, key string) {
	t.Helper()
	if n := countTokens(t, w.s); n != 1 {
		t.Fatalf("%d tokens after a create whose answer was lost, want 1 (committed)", n)
	}
	first := w.s.do("GET", "/connect/share-tokens", "").str("data", 0, "id")
	if got := w.s.do("POST", "/connect/share-tokens", body, "Idempotency-Key", key).must(t, 201).str("data", "id"); got != first {
		t.Errorf("retry made %s, want the committed %s", got, first)
	}
	if n := countTokens(t, w.s); n != 1 {
		t.Errorf("%d tokens after the retry, want 1", n)
	}
}

func TestCutBodyAfterCommitKeepsTheEffect(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.CutBodyAfterCommit("POST", "/connect/share-tokens", 1)
	body := createBody(w.cxn, w.inq)
	resp, err := createOnFreshConnection(t, w, body, "cut")
	if err != nil {
		t.Fatalf("cut request: %v, want the status and headers", err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || resp.Header.Get("Request-Id") == "" {
		t.Errorf("cut answer: %d, Request-Id %q; want 201 with the usual headers", resp.StatusCode, resp.Header.Get("Request-Id"))
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) || len(got) == 0 || int64(len(got)) >= resp.ContentLength {
		t.Errorf("read %d of %d bytes, error %v; want part of the body, then io.ErrUnexpectedEOF", len(got), resp.ContentLength, err)
	}
	checkCommittedOnce(t, w, body, "cut")
}

func TestAddLatencyDelaysRequests(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.AddLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", w.srv.URL+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+w.src.APIKey)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a request an hour late answered within 50ms")
	}
	w.srv.AddLatency(-2 * time.Hour) // never below zero
	w.s.do("GET", "/events", "").must(t, 200)
}

// TestCloseStopsEveryGoroutine runs alone (not parallel): it counts goroutines.
func TestCloseStopsEveryGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		srv := connecttest.NewServer(connecttest.WithRedeemDelay(time.Hour), connecttest.WithWebhookRetryDelay(time.Hour))
		src, dst := srv.NewOrganization("S"), srv.NewOrganization("D")
		cxn := srv.CreateConnection(src, dst)
		// A receiver that fails fast (a retry waits an hour) and one that hangs until the
		// fake gives up on the request.
		failing := httptest500(t)
		hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// Read the body first: only then does net/http notice the client leaving.
			io.Copy(io.Discard, r.Body) //nolint:errcheck
			<-r.Context().Done()
		}))
		defer hanging.Close()
		srv.AddWebhook(src, failing.URL)
		srv.AddWebhook(dst, hanging.URL)
		s, d := newRaw(t, srv, src), newRaw(t, srv, dst)
		id := s.do("POST", "/connect/share-tokens", createBody(cxn, srv.CreateInquiry(src))).must(t, 201).str("data", "id")
		d.do("POST", "/connect/share-tokens/"+id+"/redeem", "").must(t, 202) // pending for an hour
		// A request stuck in injected latency.
		srv.AddLatency(time.Hour)
		stuck := make(chan struct{})
		go func() {
			defer close(stuck)
			req, _ := http.NewRequest("GET", srv.URL+"/events", nil)
			req.Header.Set("Authorization", "Bearer "+src.APIKey)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		eventually(t, "the failing receiver's first attempt", func() bool { return len(srv.Deliveries()) >= 1 })
		srv.Close()
		<-stuck
		srv.Close() // twice is fine
		failing.Close()
	}()
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func httptest500(t *testing.T) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
}

// A request waiting out injected latency when the server closes loses its connection;
// it must never get an empty 200, which a client would take for a success.
func TestCloseDuringLatencyDropsTheConnection(t *testing.T) {
	t.Parallel()
	srv := connecttest.NewServer()
	org := srv.NewOrganization("Source")
	srv.AddLatency(time.Hour)
	got := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		req, _ := http.NewRequest("GET", srv.URL+"/events", nil)
		req.Header.Set("Authorization", "Bearer "+org.APIKey)
		close(started)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				got <- nil // the failure this test is about
				return
			}
			err = fmt.Errorf("answered %d", resp.StatusCode)
		}
		got <- err
	}()
	<-started
	time.Sleep(20 * time.Millisecond) // let the request reach the latency wait
	srv.Close()
	if err := <-got; err == nil {
		t.Fatal("a request cut short by Close was answered 200")
	}
}
