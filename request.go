package connect

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/persona-connect/connect-go/internal/jsonapi"
	"github.com/persona-connect/connect-go/internal/retry"
)

const (
	// maxErrorBody caps how much of an error response is read: an error body is a few
	// hundred bytes, and a misbehaving proxy must not make the SDK buffer megabytes.
	maxErrorBody = 1 << 20
	// maxDrain caps how much of a failed response is read to let the connection be
	// reused; past it the connection is closed instead.
	maxDrain = 64 << 10
	// maxSuccessBody caps a 2xx body: a full list page of 100 tokens is ~60 KiB.
	maxSuccessBody = 32 << 20
	// maxPooledBuffer keeps one outsized answer from pinning its buffer forever.
	maxPooledBuffer = 1 << 20
	// maxIdempotencyKey is a generous bound on a caller's key.
	maxIdempotencyKey = 255
)

// call is one logical API call: it may take several attempts.
type call struct {
	method string
	url    *url.URL // absolute
	path   string   // relative to the base URL, for errors and logs
	body   []byte   // encoded once, resent on every attempt; nil for no body
	idem   string   // Idempotency-Key, POST only
}

// newCall builds a call to path (relative to the base URL, already escaped) with an
// optional JSON body, applying the request options.
func (c *Client) newCall(method, path string, query url.Values, body any, opts []RequestOption) (*call, error) {
	var rc requestConfig
	for _, o := range opts {
		if o != nil {
			o(&rc)
		}
	}
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = query.Encode()
	cl := &call{method: method, url: &u, path: path}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("connect: encode %s %s: %w", method, path, err)
		}
		cl.body = b
	}
	if method == http.MethodPost {
		key, err := idempotencyKey(rc.idempotencyKey)
		if err != nil {
			return nil, err
		}
		cl.idem = key
	}
	return cl, nil
}

// idempotencyKey validates the caller's key or makes a random one.
func idempotencyKey(given string) (string, error) {
	if given == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", fmt.Errorf("connect: make idempotency key: %w", err)
		}
		return hex.EncodeToString(b[:]), nil
	}
	if strings.TrimSpace(given) == "" || len(given) > maxIdempotencyKey || hasControl(given) {
		return "", invalidParam("idempotency key", "must be 1 to 255 printable characters")
	}
	return given, nil
}

// do runs a call with retries and decodes a 2xx body into out (nil to discard it).
func (c *Client) do(ctx context.Context, cl *call, out any) error {
	sched := c.retry.Start()
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(ctx, cl, attempt)
		var last error
		var atLeast time.Duration
		switch {
		case err != nil:
			var te *transportError
			if !errors.As(err, &te) || errors.Is(err, errCrossOriginRedirect) {
				// Not a network failure (a request that cannot be built, a redirect we
				// refused): another attempt would fail the same way.
				return err
			}
			if ctx.Err() != nil {
				return fmt.Errorf("connect: %s %s: %w", cl.method, cl.path, ctx.Err())
			}
			last = err
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return decodeBody(resp, cl, out)
		default:
			apiErr := newAPIError(resp, cl)
			if !retry.Retryable(cl.method, resp.StatusCode) {
				return apiErr
			}
			last = apiErr
			if resp.StatusCode == http.StatusTooManyRequests {
				// On other statuses RateLimit-Reset describes the rate window, not a
				// reason to wait.
				atLeast = retry.ServerWait(resp.Header.Get("RateLimit-Reset"), resp.Header.Get("Retry-After"), time.Now())
			}
		}
		deadline, hasDeadline := ctx.Deadline()
		verdict, wait := sched.Next(atLeast, deadline, hasDeadline)
		if verdict != retry.Retry {
			return last
		}
		if c.logger != nil {
			c.debug(ctx, "connect: retrying", slog.String("method", cl.method), slog.String("path", cl.path),
				slog.Int("attempt", attempt), slog.Duration("wait", wait))
		}
		if err := retry.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("connect: %s %s: %w while waiting to retry after: %w", cl.method, cl.path, err, last)
		}
	}
}

// attempt sends one HTTP request. On a transport error it returns an error that names
// the call but not the URL's host details beyond the path.
func (c *Client) attempt(ctx context.Context, cl *call, attempt int) (*http.Response, error) {
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url.String(), body)
	if err != nil {
		return nil, fmt.Errorf("connect: %s %s: %w", cl.method, cl.path, err)
	}
	if cl.body != nil {
		// GetBody lets net/http replay the body on a redirect or a retried
		// connection; our own retries build a new request from cl.body too.
		b := cl.body
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req.Header.Set("Content-Type", "application/json")
	}
	h := req.Header
	h.Set("Authorization", c.authorization())
	h.Set("Accept", "application/json")
	h.Set("Persona-Version", c.apiVersion)
	h.Set("Key-Inflection", "kebab")
	h.Set("User-Agent", c.userAgent)
	if cl.idem != "" {
		h.Set("Idempotency-Key", cl.idem)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if c.logger != nil {
			c.debug(ctx, "connect: request failed", slog.String("method", cl.method), slog.String("path", cl.path),
				slog.Int("attempt", attempt))
		}
		return nil, &transportError{method: cl.method, path: cl.path, err: err}
	}
	if c.logger != nil {
		c.debug(ctx, "connect: response", slog.String("method", cl.method), slog.String("path", cl.path),
			slog.Int("status", resp.StatusCode), slog.String("request_id", resp.Header.Get("Request-Id")),
			slog.Int("attempt", attempt))
	}
	return resp, nil
}

// transportError is a failure to get any HTTP response. Its text leaves out the
// *url.Error's URL (which would repeat the base URL and query on every line).
type transportError struct {
	method, path string
	err          error
}

func (e *transportError) Error() string {
	inner := e.err
	var ue *url.Error
	if errors.As(inner, &ue) {
		inner = ue.Err
	}
	return fmt.Sprintf("connect: %s %s: %v", e.method, e.path, inner)
}

func (e *transportError) Unwrap() error { return e.err }

// decodeBody decodes a 2xx JSON body into out and closes it.
func decodeBody(resp *http.Response, cl *call, out any) error {
	defer closeBody(resp)
	if out == nil {
		return nil
	}
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer putBodyBuffer(buf)
	buf.Reset()
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxSuccessBody+1))
	if err == nil && n > maxSuccessBody {
		err = fmt.Errorf("body larger than %d bytes", maxSuccessBody)
	}
	if err == nil {
		// We ask for kebab keys, but a decoder that also reads camel and snake keeps
		// working whatever a proxy or a future API version does; KebabKeys costs one
		// scan and no allocation when the keys are kebab already.
		err = json.Unmarshal(jsonapi.KebabKeys(buf.Bytes()), out)
	}
	if err != nil {
		return fmt.Errorf("connect: %s %s: decode %d response (request %s): %w",
			cl.method, cl.path, resp.StatusCode, resp.Header.Get("Request-Id"), err)
	}
	return nil
}

// bodyBuffers recycles the buffers success bodies are read into: json.Unmarshal copies
// everything it keeps, so a buffer is free again once decoding returns.
var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBodyBuffer returns a buffer to the pool unless a huge page made it too big to keep.
func putBodyBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooledBuffer {
		bodyBuffers.Put(b)
	}
}

// newAPIError reads a non-2xx response (at most maxErrorBody of it) and closes it.
func newAPIError(resp *http.Response, cl *call) *APIError {
	defer closeBody(resp)
	e := &APIError{
		StatusCode:     resp.StatusCode,
		Method:         cl.method,
		Path:           cl.path,
		RequestID:      resp.Header.Get("Request-Id"),
		IdempotencyKey: cl.idem,
	}
	e.RateLimitReset, _ = retry.ParseRateLimitReset(resp.Header.Get("RateLimit-Reset"))
	var doc jsonapi.ErrorDocument
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if json.Unmarshal(body, &doc) == nil {
		for _, o := range doc.Errors {
			d := ErrorDetail{Title: o.Title, Details: o.Details, Pointer: o.Source.Pointer, Meta: o.Meta}
			if d.Details == "" {
				d.Details = o.Detail
			}
			e.Errors = append(e.Errors, d)
		}
	}
	return e
}

// closeBody drains a little of what is left, so the connection can be reused, and
// closes the body.
func closeBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	_ = resp.Body.Close()
}

// debug logs at debug level. Only the allow-listed attributes the callers pass are
// logged: never a header value, a key or a body. Callers check c.logger first, so that
// building the attributes costs nothing without a logger.
func (c *Client) debug(ctx context.Context, msg string, attrs ...slog.Attr) {
	if !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
}

// send builds a call, runs it and decodes the one resource its answer holds through
// the wire type W.
func send[W, T any](ctx context.Context, c *Client, method, path string, query url.Values, body any, opts []RequestOption, decode func(*W) (T, error)) (T, error) {
	var zero T
	cl, err := c.newCall(method, path, query, body, opts)
	if err != nil {
		return zero, err
	}
	var doc struct {
		Data *W `json:"data"`
	}
	if err := c.do(ctx, cl, &doc); err != nil {
		return zero, err
	}
	if doc.Data == nil {
		return zero, fmt.Errorf("connect: %s %s: response has no data", cl.method, cl.path)
	}
	return decode(doc.Data)
}
