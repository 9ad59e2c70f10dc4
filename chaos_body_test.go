package connect_test

import (
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connecttest"
)

// Drill 4: a body cut half-way after Persona committed, on a 201 and on a list page,
// over real HTTP. Promise (DESIGN "Failure paths", doc.go "Errors", "Pagination"): a
// 2xx whose body breaks off is retried like a network error with the same key, so a
// cut Create still makes one token; a cut page is fetched again, so the range yields
// every token once; when every attempt is cut, the range ends with the error as its
// last pair, after the items of the pages before it, none of the cut page's.
func TestCutBodies(t *testing.T) {
	t.Parallel()
	t.Run("201 once", func(t *testing.T) {
		t.Parallel()
		p := newPersona(t)
		c, err := p.NewClient(p.src, connect.WithRetryBackoff(time.Millisecond, 2*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		p.CutBodyAfterCommit(http.MethodPost, "/connect/share-tokens", 1)
		var resp connect.Response
		tok, err := c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: p.cxn, SourceID: p.inq}, connect.WithResponseInto(&resp))
		if err != nil {
			t.Fatalf("Create after a cut 201: %v", err)
		}
		if resp.Attempts != 2 || resp.StatusCode != http.StatusCreated {
			t.Errorf("Response = {Status %d, Attempts %d}, want {201, 2}", resp.StatusCode, resp.Attempts)
		}
		if got := inboundTokens(t, p); len(got) != 1 || !got[tok.ID] {
			t.Errorf("Persona holds %v, want only %s: the retry made a second token", got, tok.ID)
		}
	})

	// A connection with 5 tokens, read in pages of 2.
	listed := func(t *testing.T, cuts int) ([]string, []string, connect.Response, error) {
		p := newPersona(t, connecttest.WithRateLimit(1<<20, time.Minute))
		c, err := p.NewClient(p.src, connect.WithRetryBackoff(time.Millisecond, 2*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		var made []string
		for range 5 {
			tok, err := c.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: p.cxn, SourceID: p.CreateInquiry(p.src)})
			if err != nil {
				t.Fatal(err)
			}
			made = append([]string{tok.ID}, made...) // newest first
		}
		var got []string
		var resp connect.Response
		var last error
		n := 0
		for tok, err := range c.ShareTokens.List(ctxT(t), &connect.ListShareTokensParams{ConnectionID: p.cxn, PageSize: 2}, connect.WithResponseInto(&resp)) {
			if err != nil {
				last = err
				continue
			}
			if last != nil {
				t.Fatalf("List yielded %s after its error %v", tok.ID, last)
			}
			got = append(got, tok.ID)
			n++
			if n == 2 {
				// The second page is the next request; cut its body.
				p.CutBodyAfterCommit(http.MethodGet, "/connect/share-tokens", cuts)
			}
		}
		return made, got, resp, last
	}
	t.Run("list page once", func(t *testing.T) {
		t.Parallel()
		made, got, resp, err := listed(t, 1)
		if err != nil {
			t.Fatalf("List after a cut page: %v", err)
		}
		if len(got) != len(made) {
			t.Fatalf("List yielded %v, want %v", got, made)
		}
		for i := range made {
			if got[i] != made[i] {
				t.Fatalf("List yielded %v, want %v", got, made)
			}
		}
		if resp.Attempts != 1 {
			t.Errorf("the last page's Response.Attempts = %d, want 1 (the cut was on the page before)", resp.Attempts)
		}
	})
	t.Run("list page every attempt", func(t *testing.T) {
		t.Parallel()
		made, got, resp, err := listed(t, 3)
		if len(got) != 2 || got[0] != made[0] || got[1] != made[1] {
			t.Errorf("List yielded %v before its error, want the first page %v", got, made[:2])
		}
		var reqErr *connect.RequestError
		if !errors.As(err, &reqErr) || !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, connect.ErrOutcomeUnknown) {
			t.Fatalf("error = %v, want a *RequestError wrapping io.ErrUnexpectedEOF, not ErrOutcomeUnknown", err)
		}
		if reqErr.Attempts != 3 || resp.Attempts != 3 || resp.StatusCode != http.StatusOK {
			t.Errorf("Attempts: error %d, Response %d (status %d); want 3, 3, 200", reqErr.Attempts, resp.Attempts, resp.StatusCode)
		}
		t.Log(err)
	})
}
