package connect_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/jarcoal/httpmock"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// rateHeaders are RateLimit-* headers as Persona sends them, for respond.
func rateHeaders(limit, remaining, reset string) []string {
	return []string{"RateLimit-Limit: " + limit, "RateLimit-Remaining: " + remaining, "RateLimit-Reset: " + reset}
}

func TestResponseIntoOnSuccessAndAPIError(t *testing.T) {
	t.Parallel()
	tokenBody := specFixture(t, "connect-share-token.json")
	for _, tt := range []struct {
		name         string
		method, path string // of the call, the path relative to the base URL
		answer       httpmock.Responder
		call         call
		want         connect.Response
		wantErr      error
	}{
		{
			name: "GET 200", method: http.MethodGet, path: getTokenPath,
			answer: respond(200, tokenBody, rateHeaders("300", "297", "42")...),
			call:   getToken,
			want: connect.Response{StatusCode: 200, RequestID: "req_200", Attempts: 1,
				RateLimit: connect.RateLimit{Limit: 300, Remaining: 297, Reset: 42 * time.Second}},
		},
		{
			name: "POST 201 with the caller's key", method: http.MethodPost, path: createTokenPath,
			answer: respond(201, tokenBody, rateHeaders("300", "1", "0.5")...),
			call:   call(createToken).with(connect.WithIdempotencyKey("key-1")),
			want: connect.Response{StatusCode: 201, RequestID: "req_201", IdempotencyKey: "key-1", Attempts: 1,
				RateLimit: connect.RateLimit{Limit: 300, Remaining: 1, Reset: 500 * time.Millisecond}},
		},
		{
			name: "404 APIError", method: http.MethodGet, path: "/connect/connections/cxn_1",
			answer: respond(404, specFixture(t, "error-not-found.json"), rateHeaders("300", "296", "41")...),
			call:   onID(connections, (*connect.ConnectionsService).Get).on("cxn_1"),
			want: connect.Response{StatusCode: 404, RequestID: "req_404", Attempts: 1,
				RateLimit: connect.RateLimit{Limit: 300, Remaining: 296, Reset: 41 * time.Second}},
			wantErr: connect.ErrNotFound,
		},
		{
			name: "retried twice, then 200: the last attempt", method: http.MethodGet, path: getTokenPath,
			answer: respond(503, errorBody(503), rateHeaders("300", "10", "1")...).
				Then(respond(429, errorBody(429), rateHeaders("300", "0", "0.001")...)).
				Then(respond(200, tokenBody, rateHeaders("300", "299", "60")...)),
			call: getToken,
			want: connect.Response{StatusCode: 200, RequestID: "req_200", Attempts: 3,
				RateLimit: connect.RateLimit{Limit: 300, Remaining: 299, Reset: time.Minute}},
		},
		{
			name: "retries run out on 502", method: http.MethodPost, path: getTokenPath + "/expire",
			answer: respond(502, errorBody(502), "RateLimit-Limit: x", "RateLimit-Remaining: -3", "RateLimit-Reset: soon"),
			call:   onID(shareTokens, (*connect.ShareTokensService).Expire).on("cnst_ABC123").with(connect.WithIdempotencyKey("key-2")),
			// Malformed rate-limit headers read as zero.
			want:    connect.Response{StatusCode: 502, RequestID: "req_502", IdempotencyKey: "key-2", Attempts: 3},
			wantErr: connect.ErrServer,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(tt.method, mockURL(tt.path), tt.answer)
			got := connect.Response{StatusCode: -1, RequestID: "stale"} // overwritten, never merged
			err := tt.call(ctxT(t), c, connect.WithResponseInto(&got))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Header = %v, want the answer's", got.Header)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(connect.Response{}, "Header")); diff != "" {
				t.Errorf("Response (-want +got):\n%s", diff)
			}
			if n := calls(mt, tt.method, tt.path); n != got.Attempts {
				t.Errorf("%d requests sent, Response says %d attempts", n, got.Attempts)
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
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodPost, mockURL(createTokenPath), refuseConnection)
	var got connect.Response
	if err := createToken(ctxT(t), c, connect.WithResponseInto(&got)); err == nil {
		t.Fatal("Create succeeded without a server")
	}
	if got.StatusCode != 0 || got.Header != nil || got.RequestID != "" || got.Attempts != 3 || len(got.IdempotencyKey) != 32 {
		t.Errorf("Response after three failed attempts = %+v", got)
	}

	before := connect.Response{StatusCode: 299, RequestID: "req_before"}
	got = before
	_, err := c.ShareTokens.Get(ctxT(t), "not-a-token", connect.WithResponseInto(&got))
	if !errors.Is(err, connect.ErrInvalidParams) {
		t.Fatalf("err = %v", err)
	}
	if diff := cmp.Diff(before, got); diff != "" {
		t.Errorf("a call refused before I/O changed the Response:\n%s", diff)
	}
}

// List and Wait take request options too: for List the Response is the last page
// fetched, for Wait the last poll. Over connecttest.
func TestResponseIntoListAndWait(t *testing.T) {
	t.Parallel()
	srv := newPersona(t, connecttest.WithRedeemDelay(50*time.Millisecond))
	cxn, inq := srv.cxn, srv.inq
	opts := []connect.Option{connect.WithRetryBackoff(time.Millisecond, time.Millisecond), connect.WithPollInterval(2 * time.Millisecond)}
	s, seen := logClient(t, srv.Server, srv.src, opts...)
	d, destSeen := logClient(t, srv.Server, srv.dst, opts...)
	ctx := ctxT(t)
	var toks []*connect.ShareToken
	for range 3 {
		tok, err := s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	seen.requestIDs()

	var page connect.Response
	got, err := collectAll(s.ShareTokens.List(ctx, &connect.ListShareTokensParams{PageSize: 2}, connect.WithResponseInto(&page)))
	if err != nil || len(got) != 3 {
		t.Fatalf("List: %d tokens, %v", len(got), err)
	}
	ids := seen.requestIDs()
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
	if ids := seen.requestIDs(); len(ids) != 1 || page.RequestID != ids[0] {
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
		if ids := seen.requestIDs(); len(ids) == 0 || r.RequestID != ids[len(ids)-1] {
			t.Errorf("Response %+v, pages %v", r, ids)
		}
	}

	if _, err := d.ShareTokens.Redeem(ctx, toks[0].ID, connect.RedeemShareTokenParams{}); err != nil {
		t.Fatal(err)
	}
	destSeen.requestIDs()
	var poll connect.Response
	done, err := d.ShareTokens.Wait(ctx, toks[0].ID, connect.WithResponseInto(&poll))
	if err != nil || done.Status != connect.ShareTokenRedeemed {
		t.Fatalf("Wait: %v, %v", done, err)
	}
	polls := destSeen.requestIDs()
	if len(polls) < 2 || poll.RequestID != polls[len(polls)-1] {
		t.Errorf("Wait's Response %+v, want the last of polls %v", poll, polls)
	}
	if want := strconv.Itoa(poll.RateLimit.Remaining); poll.Header.Get("RateLimit-Remaining") != want {
		t.Errorf("Wait's Response: header %v, rate limit %+v", poll.Header, poll.RateLimit)
	}
}
