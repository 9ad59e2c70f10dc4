package connecttest

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// Delivery is one attempt to deliver an event to a webhook, as Deliveries reports it.
type Delivery struct {
	EventID        string
	EventName      connect.EventName
	OrganizationID string // the organization the event belongs to
	URL            string
	Attempt        int       // 1 for the first try, up to 8
	StatusCode     int       // the receiver's status; 0 when it did not answer in time
	Err            string    // the transport error when StatusCode is 0
	Signature      string    // the Persona-Signature header sent
	Body           []byte    // the request body, identical on every attempt
	SentAt         time.Time // server clock
}

// Deliveries returns every delivery attempt made so far, in the order they ended.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.deliveries)
	for i := range out {
		out[i].Body = slices.Clone(out[i].Body) // the caller may keep or change it
	}
	return out
}

// deliver POSTs body to wh until an attempt answers 2xx within the timeout, retrying
// webhookRetries times with a doubling wait. Each attempt is signed afresh with the
// secrets active at that moment. It returns when the server closes.
func (s *Server) deliver(wh *webhook, e *event, body []byte) {
	var firstAt string
	for attempt := 1; attempt <= 1+webhookRetries; attempt++ {
		// Retry n waits webhookRetryDelay·2^(n-1): each twice as long as the one before.
		if attempt > 1 && !s.sleep(s.ctx, s.cfg.webhookRetryDelay<<(attempt-2)) {
			return
		}
		s.mu.Lock()
		now := s.nowLocked()
		secrets := wh.liveSecrets(now)
		s.mu.Unlock()
		if !newestSecretFirst {
			slices.Reverse(secrets)
		}
		firstAt = cmp.Or(firstAt, timestamp(now))
		groups := make([]string, len(secrets))
		for i, sec := range secrets {
			groups[i] = connect.SignHeader(body, sec.value, now)
		}
		sig := strings.Join(groups, " ")
		status, errText := s.post(wh.url, body, http.Header{
			"Content-Type":                       {"application/json"},
			"User-Agent":                         {"Persona-Webhooks (connecttest)"},
			connect.SignatureHeader:              {sig},
			"Persona-Webhook-Attempts-Made":      {strconv.Itoa(attempt)},
			"Persona-Webhook-Attempts-Left":      {strconv.Itoa(1 + webhookRetries - attempt)},
			"Persona-Webhook-First-Attempted-At": {firstAt},
		})
		if s.ctx.Err() != nil {
			return // closed mid-attempt: not an attempt the receiver should be judged by
		}
		s.mu.Lock()
		s.deliveries = append(s.deliveries, Delivery{
			EventID: e.id, EventName: e.name, OrganizationID: e.org.pub.ID, URL: wh.url,
			Attempt: attempt, StatusCode: status, Err: errText, Signature: sig, Body: body, SentAt: now,
		})
		s.mu.Unlock()
		if status >= 200 && status < 300 {
			return
		}
	}
}

// post sends one attempt with header (canonical keys) and returns the status, or 0 and
// the error.
func (s *Server) post(url string, body []byte, header http.Header) (int, string) {
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header = header
	resp, err := s.hook.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	// Reading the answer is part of the attempt: a receiver that answers slowly times out.
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)); err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, ""
}
