package connect_test

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// rateHeaders are RateLimit-* headers as Persona sends them.
func rateHeaders(limit, remaining, reset string) http.Header {
	return http.Header{"Ratelimit-Limit": {limit}, "Ratelimit-Remaining": {remaining}, "Ratelimit-Reset": {reset}}
}

func TestResponseIntoOnSuccessAndAPIError(t *testing.T) {
	t.Parallel()
	tokenBody := specFixture(t, "connect-share-token.json")
	for _, tt := range []struct {
		name      string
		responses []mockResponse
		call      func(*connect.Client, ...connect.RequestOption) error
		want      connect.Response
		wantErr   error
	}{
		{
			name:      "GET 200",
			responses: []mockResponse{{status: 200, body: tokenBody, header: rateHeaders("300", "297", "42")}},
			call: func(c *connect.Client, o ...connect.RequestOption) error {
				_, err := c.ShareTokens.Get(ctxT(t), "cnst_ABC123", o...)
				return err
			},
			want: connect.Response{StatusCode: 200, RequestID: "req_mock", Attempts: 1,
				RateLimit: connect.RateLimit{Limit: 300, Remaining: 297, Reset: 42 * time.Second}},
		},
		{
			name:      "POST 201 with the caller's key",
			responses: []mockResponse{{status: 201, body: tokenBody, header: rateHeaders("300", "1", "0.5")}},
			call: func(c *connect.Client, o ...connect.RequestOption) error {
				_, err := c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: "cxn_1", SourceID: "inq_1"},
					append(o, connect.WithIdempotencyKey("key-1"))...)
				return err
			},
			want: connect.Response{StatusCode: 201, RequestID: "req_mock", IdempotencyKey: "key-1", Attempts: 1,
				RateLimit: connect.RateLimit{Limit: 300, Remaining: 1, Reset: 500 * time.Millisecond}},
		},
		{
			name: "404 APIError",
			responses: []mockResponse{{status: 404, body: specFixture(t, "error-not-found.json"),
				header: rateHeaders("300", "296", "41")}},
			call: func(c *connect.Client, o ...connect.RequestOption) error {
				_, err := c.Connections.Get(ctxT(t), "cxn_1", o...)
				return err
			},
			want: connect.Response{StatusCode: 404, RequestID: "req_mock", Attempts: 1,
				RateLimit: connect.RateLimit{Limit: 300, Remaining: 296, Reset: 41 * time.Second}},
			wantErr: connect.ErrNotFound,
		},
		{
			name: "retried twice, then 200: the last attempt",
			responses: []mockResponse{
				{status: 503, body: []byte(`{"errors":[{"title":"Service Unavailable"}]}`), header: rateHeaders("300", "10", "1")},
				{status: 429, body: []byte(`{"errors":[{"title":"Rate limit exceeded"}]}`), header: rateHeaders("300", "0", "0.001")},
				{status: 200, body: tokenBody, header: rateHeaders("300", "299", "60")},
			},
			call: func(c *connect.Client, o ...connect.RequestOption) error {
				_, err := c.ShareTokens.Get(ctxT(t), "cnst_ABC123", o...)
				return err
			},
			want: connect.Response{StatusCode: 200, RequestID: "req_mock", Attempts: 3,
				RateLimit: connect.RateLimit{Limit: 300, Remaining: 299, Reset: time.Minute}},
		},
		{
			name: "retries run out on 502",
			responses: []mockResponse{{status: 502, body: []byte(`{"errors":[{"title":"Bad Gateway"}]}`),
				header: http.Header{"Ratelimit-Limit": {"x"}, "Ratelimit-Remaining": {"-3"}, "Ratelimit-Reset": {"soon"}}}},
			call: func(c *connect.Client, o ...connect.RequestOption) error {
				_, err := c.ShareTokens.Expire(ctxT(t), "cnst_ABC123", append(o, connect.WithIdempotencyKey("key-2"))...)
				return err
			},
			// Malformed rate-limit headers read as zero.
			want:    connect.Response{StatusCode: 502, RequestID: "req_mock", IdempotencyKey: "key-2", Attempts: 3},
			wantErr: connect.ErrServer,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, rec := newRecordingClient(t, 0, nil)
			rec.responses = tt.responses
			got := connect.Response{StatusCode: -1, RequestID: "stale"} // overwritten, never merged
			err := tt.call(c, connect.WithResponseInto(&got))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Header = %v, want the answer's", got.Header)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(connect.Response{}, "Header")); diff != "" {
				t.Errorf("Response (-want +got):\n%s", diff)
			}
			if reqs := rec.all(); len(reqs) != got.Attempts {
				t.Errorf("%d requests sent, Response says %d attempts", len(reqs), got.Attempts)
			}
			var apiErr *connect.APIError
			if errors.As(err, &apiErr) && (apiErr.RequestID != got.RequestID || apiErr.IdempotencyKey != got.IdempotencyKey) {
				t.Errorf("APIError %+v disagrees with Response %+v", apiErr, got)
			}
		})
	}
}

// When no answer came at all, the Response says how many attempts were made and with
// which key, and nothing else; a call refused before any I/O leaves it alone.
func TestResponseIntoWithoutAnAnswer(t *testing.T) {
	t.Parallel()
	c, err := connect.New(testAPIKey, connect.WithBaseURL(mockBaseURL),
		connect.WithHTTPClient(&http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			return nil, errors.New("connection refused")
		})}),
		connect.WithRetryBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	var got connect.Response
	_, err = c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: "cxn_1", SourceID: "inq_1"}, connect.WithResponseInto(&got))
	if err == nil {
		t.Fatal("Create succeeded without a server")
	}
	if got.StatusCode != 0 || got.Header != nil || got.RequestID != "" || got.Attempts != 3 || len(got.IdempotencyKey) != 32 {
		t.Errorf("Response after three failed attempts = %+v", got)
	}

	before := connect.Response{StatusCode: 299, RequestID: "req_before"}
	got = before
	_, err = noIOClient(t).ShareTokens.Get(ctxT(t), "not-a-token", connect.WithResponseInto(&got))
	if !errors.Is(err, connect.ErrInvalidParams) {
		t.Fatalf("err = %v", err)
	}
	if diff := cmp.Diff(before, got); diff != "" {
		t.Errorf("a call refused before I/O changed the Response:\n%s", diff)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// lastAnswer is a transport that remembers the Request-Id of the last answer.
type lastAnswer struct {
	mu   sync.Mutex
	ids  []string
	base http.RoundTripper
}

func (l *lastAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.base.RoundTrip(r)
	if err == nil {
		l.mu.Lock()
		l.ids = append(l.ids, resp.Header.Get("Request-Id"))
		l.mu.Unlock()
	}
	return resp, err
}

func (l *lastAnswer) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	ids := l.ids
	l.ids = nil
	return ids
}

// List and Wait take request options too: for List the Response is the last page
// fetched, for Wait the last poll. Over connecttest.
func TestResponseIntoListAndWait(t *testing.T) {
	t.Parallel()
	srv := connecttest.NewServer(connecttest.WithRedeemDelay(50 * time.Millisecond))
	t.Cleanup(srv.Close)
	src, dst := srv.NewOrganization("Source"), srv.NewOrganization("Destination")
	cxn := srv.CreateConnection(src, dst)
	inq := srv.CreateInquiry(src)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	seen := &lastAnswer{base: tr}
	opts := []connect.Option{connect.WithHTTPClient(&http.Client{Transport: seen}),
		connect.WithRetryBackoff(time.Millisecond, time.Millisecond), connect.WithPollInterval(2 * time.Millisecond)}
	s, err := srv.NewClient(src, opts...)
	if err != nil {
		t.Fatal(err)
	}
	d, err := srv.NewClient(dst, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	var toks []*connect.ShareToken
	for range 3 {
		tok, err := s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	seen.take()

	var page connect.Response
	got, err := collectAll(s.ShareTokens.List(ctx, &connect.ListShareTokensParams{PageSize: 2}, connect.WithResponseInto(&page)))
	if err != nil || len(got) != 3 {
		t.Fatalf("List: %d tokens, %v", len(got), err)
	}
	ids := seen.take()
	if len(ids) != 2 || page.RequestID != ids[1] || page.StatusCode != 200 || page.Attempts != 1 {
		t.Errorf("List's Response %+v, want the second of pages %v", page, ids)
	}
	if page.RateLimit.Limit != 300 || page.RateLimit.Remaining != 300-5 {
		t.Errorf("List's rate limit %+v, want 295 of 300 left after 5 requests", page.RateLimit)
	}
	// Stopping after the first token: the Response is the one page fetched.
	for range s.ShareTokens.List(ctx, &connect.ListShareTokensParams{PageSize: 2}, connect.WithResponseInto(&page)) {
		break
	}
	if ids := seen.take(); len(ids) != 1 || page.RequestID != ids[0] {
		t.Errorf("List stopped early: Response %+v, pages %v", page, ids)
	}
	for _, list := range []func(*connect.Response) error{
		func(r *connect.Response) error {
			_, err := collectAll(s.Connections.List(ctx, nil, connect.WithResponseInto(r)))
			return err
		},
		func(r *connect.Response) error {
			_, err := collectAll(s.Events.List(ctx, nil, connect.WithResponseInto(r)))
			return err
		},
	} {
		var r connect.Response
		if err := list(&r); err != nil {
			t.Fatal(err)
		}
		if ids := seen.take(); len(ids) == 0 || r.RequestID != ids[len(ids)-1] {
			t.Errorf("Response %+v, pages %v", r, ids)
		}
	}

	if _, err := d.ShareTokens.Redeem(ctx, toks[0].ID, connect.RedeemShareTokenParams{}); err != nil {
		t.Fatal(err)
	}
	seen.take()
	var poll connect.Response
	done, err := d.ShareTokens.Wait(ctx, toks[0].ID, connect.WithResponseInto(&poll))
	if err != nil || done.Status != connect.ShareTokenRedeemed {
		t.Fatalf("Wait: %v, %v", done, err)
	}
	polls := seen.take()
	if len(polls) < 2 || poll.RequestID != polls[len(polls)-1] {
		t.Errorf("Wait's Response %+v, want the last of polls %v", poll, polls)
	}
	if want := strconv.Itoa(poll.RateLimit.Remaining); poll.Header.Get("RateLimit-Remaining") != want {
		t.Errorf("Wait's Response: header %v, rate limit %+v", poll.Header, poll.RateLimit)
	}
}
