package connect_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// Wait polls until the token is terminal, waiting WithPollInterval (growing by half)
// between polls; the gaps are checked as lower bounds only.
func TestWaitPollsUntilTerminal(t *testing.T) {
	t.Parallel()
	const interval = 100 * time.Millisecond
	c, mt := setup(t, connect.WithPollInterval(interval))
	pending := respond(http.StatusOK, specFixture(t, "connect-share-token-clone-object-pending.json"))
	var log attemptLog
	mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath),
		log.answer(t, pending.Then(pending).Then(respond(http.StatusOK, specFixture(t, "connect-share-token-redeemed.json")))))
	tok, err := c.ShareTokens.Wait(ctxT(t), "cnst_ABC123")
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if tok.Status != connect.ShareTokenRedeemed || tok.ID != "cnst_ABC123" {
		t.Errorf("Wait = %s %s, want cnst_ABC123 redeemed", tok.ID, tok.Status)
	}
	recs := log.all()
	if len(recs) != 3 {
		t.Fatalf("Persona saw %d polls, want 3", len(recs))
	}
	if gap := recs[1].at.Sub(recs[0].at); gap < interval {
		t.Errorf("first gap %v, want at least the poll interval %v", gap, interval)
	}
	if gap := recs[2].at.Sub(recs[1].at); gap < interval*3/2 {
		t.Errorf("second gap %v, want at least 1.5 x the poll interval", gap)
	}
}

// Failed and expired tokens are terminal too: returned without error.
func TestWaitReturnsFailedAndExpired(t *testing.T) {
	t.Parallel()
	for fixture, status := range map[string]connect.ShareTokenStatus{
		"connect-share-token-failed.json":  connect.ShareTokenFailed,
		"connect-share-token-expired.json": connect.ShareTokenExpired,
	} {
		t.Run(string(status), func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), respond(http.StatusOK, specFixture(t, fixture)))
			tok, err := c.ShareTokens.Wait(ctxT(t), "cnst_ABC123")
			if err != nil {
				t.Fatalf("Wait: %v", err)
			}
			if tok.Status != status {
				t.Errorf("status = %s, want %s", tok.Status, status)
			}
			if n := calls(mt, http.MethodGet, getTokenPath); n != 1 {
				t.Errorf("Persona saw %d polls, want 1", n)
			}
		})
	}
}

// Wait is bounded by its context, and returns an API error at once.
func TestWaitEnds(t *testing.T) {
	t.Parallel()
	t.Run("context deadline", func(t *testing.T) {
		t.Parallel()
		c, mt := setup(t, connect.WithPollInterval(10*time.Millisecond))
		mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), respond(http.StatusOK, specFixture(t, "connect-share-token-clone-object-pending.json")))
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		tok, err := c.ShareTokens.Wait(ctx, "cnst_ABC123")
		if tok != nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v, %v; want nil and context.DeadlineExceeded", tok, err)
		}
		if n := calls(mt, http.MethodGet, getTokenPath); n < 2 {
			t.Errorf("Persona saw %d polls before the deadline, want several", n)
		}
	})
	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), respond(http.StatusNotFound, specFixture(t, "error-not-found.json")))
		_, err := c.ShareTokens.Wait(ctxT(t), "cnst_ABC123")
		if !errors.Is(err, connect.ErrNotFound) {
			t.Fatalf("Wait error = %v, want ErrNotFound", err)
		}
		if n := calls(mt, http.MethodGet, getTokenPath); n != 1 {
			t.Errorf("Persona saw %d polls, want 1", n)
		}
	})
}

// A status Persona sent is an open string and may hold anything: Wait's error quotes
// it escaped, so a hostile or broken answer cannot forge a log line through it.
func TestWaitErrorEscapesTheStatus(t *testing.T) {
	t.Parallel()
	c, mt := setup(t, connect.WithPollInterval(time.Hour))
	body := strings.Replace(string(specFixture(t, "connect-share-token-clone-object-pending.json")),
		`"pending"`, `"pending\nlevel=ERROR msg=forged"`, 1)
	if !strings.Contains(body, `forged`) {
		t.Fatal("the fixture has no pending status to replace")
	}
	// The wait is ended once the first answer has been read, not by a deadline, which a
	// loaded machine could pass before that answer arrives (then there is no status).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), func(r *http.Request) (*http.Response, error) {
		resp, err := respond(http.StatusOK, []byte(body))(r)
		if err == nil {
			resp.Body = cancelOnClose{resp.Body, cancel}
		}
		return resp, err
	})
	_, err := c.ShareTokens.Wait(ctx, "cnst_ABC123")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait error = %v, want one wrapping context.Canceled", err)
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.Contains(msg, `pending\nlevel=ERROR msg=forged`) {
		t.Errorf("Wait error %q: want the status quoted with its line break escaped", msg)
	}
}

// cancelOnClose is a response body that calls cancel once it is closed: the answer
// has been read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
