package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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

	into *Response // WithResponseInto's destination, filled after every attempt; nil if none

	// What the attempts so far came to, for the error that ends the call.
	attempts       int  // attempts sent
	mayHaveApplied bool // an attempt may have taken effect: sent without an answer, or answered 2xx
}

// newCall builds a call to path (relative to the base URL, already escaped) with an
// optional JSON body, applying the request options.
func (c *Client) newCall(method, path string, query url.Values, body any, opts []RequestOption) (*call, error) {
	rc := newRequestConfig(opts)
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = query.Encode()
	cl := &call{method: method, url: &u, path: path, into: rc.responseInto}
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
		return NewIdempotencyKey(), nil
	}
	if strings.TrimSpace(given) == "" || len(given) > maxIdempotencyKey || hasControl(given) {
		return "", invalidParam("idempotency key", "must be 1 to 255 printable characters")
	}
	return given, nil
}

// do runs a call with retries and decodes a 2xx body into out (nil to discard it). What
// one attempt came to is decided in one place, classify; this loop only decides
// whether and when to try again, and failure words the error that ends the call.
func (c *Client) do(ctx context.Context, cl *call, out any) error {
	sched := c.retry.Start()
	var last error // the failure of the attempt before, while it is being retried
	for {
		if err := ctx.Err(); err != nil {
			if last != nil {
				return cl.failure(&contextEnded{ctx: err, cause: last, waiting: true})
			}
			return cl.failure(err)
		}
		cl.attempts++
		resp, err := c.attempt(ctx, cl, cl.attempts)
		cl.recordAttempt(resp, cl.attempts) // response.go: WithResponseInto
		o := c.classify(ctx, cl, resp, err, out)
		if o.err == nil {
			return nil
		}
		if !o.retry {
			return cl.failure(o.err)
		}
		deadline, hasDeadline := ctx.Deadline()
		verdict, wait := sched.Next(o.atLeast, deadline, hasDeadline)
		if verdict != retry.Retry {
			return cl.failure(o.err)
		}
		if c.logger != nil {
			c.debug(ctx, "connect: retrying", slog.String("method", cl.method), slog.String("path", cl.path),
				slog.Int("attempt", cl.attempts), slog.Duration("wait", wait))
		}
		last = o.err
		if err := retry.Sleep(ctx, wait); err != nil {
			return cl.failure(&contextEnded{ctx: err, cause: last, waiting: true})
		}
	}
}

// outcome is what one attempt came to.
type outcome struct {
	err     error         // nil: a 2xx, decoded into out
	retry   bool          // another attempt may succeed
	atLeast time.Duration // the least wait the server asked for (a 429's hint)
}

// classify turns one attempt's response, or its transport error, into its outcome, and
// records on cl whether the attempt may have taken effect. It closes the response.
func (c *Client) classify(ctx context.Context, cl *call, resp *http.Response, err error, out any) outcome {
	switch {
	case err != nil:
		var te *transportError
		if !errors.As(err, &te) || errors.Is(err, errCrossOriginRedirect) || errors.Is(err, errMethodChangingRedirect) {
			// Not a network failure (a request that cannot be built, a redirect we
			// refused): another attempt would fail the same way.
			return outcome{err: err}
		}
		if te.wrote || !te.unsent && mayHaveBeenSent(te.err) {
			cl.mayHaveApplied = true
		}
		if ctx.Err() != nil {
			return outcome{err: &contextEnded{ctx: ctx.Err(), cause: te.err}}
		}
		return outcome{err: te.err, retry: true}
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		// Applied, whether or not the body can be read.
		cl.mayHaveApplied = true
		err := decodeBody(resp, out)
		var de *decodeError
		switch {
		case err == nil:
			return outcome{}
		case ctx.Err() != nil:
			return outcome{err: &contextEnded{ctx: ctx.Err(), cause: err}}
		case errors.As(err, &de) && de.broken:
			// A body that broke off is a network error like any other: the retry
			// carries the same Idempotency-Key, so Persona replays the answer.
			return outcome{err: err, retry: true}
		}
		return outcome{err: err}
	default:
		if s := resp.StatusCode; s == http.StatusBadGateway || s == http.StatusGatewayTimeout {
			// A gateway in front of Persona answered: it may have passed the request on
			// and then lost, or given up waiting for, Persona's answer.
			cl.mayHaveApplied = true
		}
		apiErr := newAPIError(resp, cl, c.authorization())
		o := outcome{err: apiErr, retry: retry.Retryable(cl.method, resp.StatusCode)}
		if resp.StatusCode == http.StatusTooManyRequests {
			// On other statuses RateLimit-Reset describes the rate window, not a
			// reason to wait.
			o.atLeast = retry.ServerWait(resp.Header.Get("RateLimit-Reset"), resp.Header.Get("Retry-After"), time.Now())
		}
		return o
	}
}

// failure is the error that ends cl with err. An *APIError stands as it is, unless an
// earlier attempt of a POST may have been applied and this answer cannot tell: 401,
// 429 and the gateway statuses come from in front of Persona's idempotency layer, so
// they say nothing of what the earlier attempt did, and a 409 may say that it is still
// running under the same key (a "concurrent change", API-NOTES). Anything else is a
// *RequestError.
func (cl *call) failure(err error) error {
	unknown := cl.method == http.MethodPost && cl.mayHaveApplied
	if apiErr, ok := err.(*APIError); ok {
		s := apiErr.StatusCode
		silent := s == http.StatusUnauthorized || s == http.StatusConflict || retry.Retryable(http.MethodPost, s)
		if !unknown || !silent {
			return apiErr
		}
	}
	return &RequestError{
		Method: cl.method, Path: cl.path, IdempotencyKey: cl.idem, Attempts: cl.attempts,
		Err: err, outcomeUnknown: unknown,
	}
}

// attempt sends one HTTP request. A failure to get any response comes back as a
// *transportError.
func (c *Client) attempt(ctx context.Context, cl *call, attempt int) (*http.Response, error) {
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	// The attempt number rides in the request's context, next to the Operation the
	// service put there, for transports that trace or measure (operation.go).
	ctx = withAttempt(ctx, attempt)
	var sent *sendTrace
	if cl.method == http.MethodPost {
		// Whether any of the request went out decides, for a POST that gets no answer,
		// whether it may have been applied. The error alone cannot tell: net/http
		// resends a request that carries an Idempotency-Key on its own when a reused
		// connection breaks, and reports only how the resend failed (a refused dial,
		// say) although the first try was written; and a TLS record error may come
		// after the request as well as during the handshake.
		//
		// The converse needs a transport that reports to the trace: net/http's asks
		// for a connection (GetConn) before anything else, and reports each one it
		// gets (GotConn). A trace that saw GetConn and never a connection saw nothing
		// sent on any try: a context that ended while dialling, whose error net/http
		// gives as the bare context error, not as a failed dial. A transport of the
		// caller's that reports nothing says nothing.
		sent = new(sendTrace)
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			GetConn:      func(string) { sent.asked.Store(true) },
			GotConn:      func(httptrace.GotConnInfo) { sent.connected.Store(true) },
			WroteHeaders: func() { sent.wrote.Store(true) },
		})
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url.String(), body)
	if err != nil {
		return nil, err
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
		te := &transportError{err: err}
		if sent != nil {
			te.wrote = sent.wrote.Load()
			te.unsent = sent.asked.Load() && !sent.connected.Load() && !te.wrote
		}
		return nil, te
	}
	scrubHeader(resp.Header, c.authorization())
	if c.logger != nil {
		c.debug(ctx, "connect: response", slog.String("method", cl.method), slog.String("path", cl.path),
			slog.Int("status", resp.StatusCode), slog.String("request_id", resp.Header.Get("Request-Id")),
			slog.Int("attempt", attempt))
	}
	return resp, nil
}

// sendTrace is what the trace of a POST's attempt saw of it, on any of net/http's
// own tries: a connection asked for, one got, the headers written.
type sendTrace struct{ asked, connected, wrote atomic.Bool }

// transportError marks a failure to get any HTTP response, as opposed to a request
// that could not be built. err is net/http's *url.Error; wrote is set when the trace
// of a POST saw its headers written (on any of net/http's own tries), unsent when its
// trace saw the transport ask for a connection and never get one.
type transportError struct {
	err    error
	wrote  bool
	unsent bool
}

func (e *transportError) Error() string { return causeText(e.err) }

func (e *transportError) Unwrap() error { return e.err }

// decodeError is a 2xx body that could not be read whole or decoded.
type decodeError struct {
	status    int
	requestID string
	broken    bool // the body broke off (a read error), rather than being unreadable JSON
	err       error
}

func (e *decodeError) Error() string {
	var b strings.Builder
	if e.broken {
		b.WriteString("read ")
	} else {
		b.WriteString("decode ")
	}
	b.WriteString(strconv.Itoa(e.status))
	b.WriteString(" response")
	if e.requestID != "" {
		b.WriteString(" (request ")
		b.WriteString(printable(e.requestID))
		b.WriteByte(')')
	}
	b.WriteString(": ")
	b.WriteString(e.err.Error())
	return b.String()
}

func (e *decodeError) Unwrap() error { return e.err }

// decodeBody decodes a 2xx JSON body into out and closes it. Its error is a
// *decodeError.
func decodeBody(resp *http.Response, out any) error {
	defer closeBody(resp)
	if out == nil {
		return nil
	}
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer putBodyBuffer(buf)
	buf.Reset()
	fail := func(broken bool, err error) error {
		return &decodeError{status: resp.StatusCode, requestID: resp.Header.Get("Request-Id"), broken: broken, err: err}
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, maxSuccessBody+1))
	switch {
	case err != nil:
		return fail(true, err)
	case n > maxSuccessBody:
		return fail(false, fmt.Errorf("body larger than %d bytes", maxSuccessBody))
	}
	// We ask for kebab keys, but a decoder that also reads camel and snake keeps
	// working whatever a proxy or a future API version does.
	if d, ok := out.(bodyDecoder); ok {
		err = d.decodeBody(buf.Bytes()) // Client.Do's targets (do.go)
	} else {
		err = valueFree(jsonapi.Unmarshal(buf.Bytes(), out))
	}
	if err != nil {
		return fail(false, err)
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
// authorization is the request's Authorization value, "Bearer <key>": a server or a
// proxy that echoes it into its answer must not get the key into an error text or a
// log line, so it is taken out of everything the *APIError keeps of the answer.
func newAPIError(resp *http.Response, cl *call, authorization string) *APIError {
	defer closeBody(resp)
	scrub := keyScrubber(authorization)
	e := &APIError{
		StatusCode:     resp.StatusCode,
		Method:         cl.method,
		Path:           cl.path,
		RequestID:      resp.Header.Get("Request-Id"), // scrubbed by attempt, see scrubHeader
		IdempotencyKey: cl.idem,
	}
	e.RateLimitReset = rateLimitReset(resp.Header)
	var doc jsonapi.ErrorDocument
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	// Leniently: a member of an unexpected type (a title that is not a string, a source
	// that is not an object) costs that member only. encoding/json decodes the rest and
	// reports the first such mismatch, which is dropped; a body that is not JSON gives
	// no errors at all.
	var typeErr *json.UnmarshalTypeError
	if err := json.Unmarshal(body, &doc); err == nil || errors.As(err, &typeErr) {
		for _, o := range doc.Errors {
			d := ErrorDetail{Title: o.Title, Details: o.Details, Pointer: o.Source.Pointer, Meta: rawOrNil(o.Meta)}
			if d.Details == "" {
				d.Details = o.Detail
			}
			d.Title, d.Details, d.Pointer = scrub.Replace(d.Title), scrub.Replace(d.Details), scrub.Replace(d.Pointer)
			if d.Meta != nil {
				d.Meta = json.RawMessage(scrub.Replace(string(d.Meta)))
			}
			e.Errors = append(e.Errors, d)
		}
	}
	return e
}

// redactedKey is what an *APIError shows in place of an echoed API key.
const redactedKey = "[redacted]"

// keyScrubber replaces, in text of an answer, the Authorization value (whole) and the
// key in it with redactedKey. The key is a Persona key, far longer than any word an
// error text holds; whatever New accepted, a key too short to be told apart from
// ordinary words is not looked for (echoableKey), which would mangle every text.
func keyScrubber(authorization string) *strings.Replacer {
	key := echoableKey(authorization)
	if key == "" {
		return strings.NewReplacer()
	}
	// Inside a JSON string (meta), a key with a quote, a backslash or a character
	// encoding/json escapes would be spelt otherwise; Persona's keys have none.
	return strings.NewReplacer(authorization, redactedKey, key, redactedKey)
}

// echoableKey is the key of authorization ("Bearer <key>") that keyScrubber and
// scrubHeader look for, or "" for one under 8 bytes, too short to tell from words.
func echoableKey(authorization string) string {
	if key := strings.TrimPrefix(authorization, "Bearer "); len(key) >= 8 {
		return key
	}
	return ""
}

// scrubHeader takes the Authorization value and the key in it (see keyScrubber) out of
// every value of h, a response's header, before anything reads it: the Request-Id
// goes into debug lines and error texts, and the whole header into WithResponseInto's
// Response, so a server or a proxy that echoes the request's Authorization header into
// one must not get the key there. A header without the key, every one of Persona's,
// costs a search per value and no allocation.
func scrubHeader(h http.Header, authorization string) {
	key := echoableKey(authorization)
	if key == "" {
		return
	}
	var scrub *strings.Replacer
	for _, vs := range h {
		for i, v := range vs {
			if strings.Contains(v, key) {
				if scrub == nil {
					scrub = keyScrubber(authorization)
				}
				vs[i] = scrub.Replace(v)
			}
		}
	}
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
	var doc dataDocument[W]
	if err := c.do(ctx, cl, &doc); err != nil {
		return zero, err
	}
	if doc.Data == nil {
		return zero, cl.failure(errNoData)
	}
	v, err := decode(doc.Data)
	if err != nil {
		return zero, cl.failure(err)
	}
	return v, nil
}

// dataDocument is an answer that holds one resource, decoded through its wire type W.
type dataDocument[W any] struct {
	Data *W `json:"data"`
}

func (d *dataDocument[W]) decodeBody(body []byte) error { return unmarshalDocument[W](body, d) }

// verbatimWire is a wire type whose documents are decoded as Persona sent them, keys
// not folded: eventWire, whose payload and context are the caller's, verbatim, and
// which reads its one multi-word key, created-at, in any inflection itself.
type verbatimWire interface{ verbatimKeys() }

// unmarshalDocument decodes a document of resources of wire type W into doc: keys
// folded to kebab case (jsonapi.Unmarshal), unless W is a verbatimWire. The members of
// a document itself (data, links, next, prev) are single words, the same in every
// inflection.
func unmarshalDocument[W any](body []byte, doc any) error {
	if _, ok := any((*W)(nil)).(verbatimWire); ok {
		return valueFree(json.Unmarshal(body, doc))
	}
	return valueFree(jsonapi.Unmarshal(body, doc))
}

// idKind is what the id of one kind of resource must look like, and where the calls on
// one such resource go.
type idKind struct {
	field    string   // how an error names the id: "share token id"
	prefixes []string // what it starts with: cnst_
	path     string   // the collection, relative to the base URL: /connect/share-tokens
	route    string   // path + "/{id}", made once: a GET's route costs no allocation
}

// newIDKind is the idKind of ids named field, starting with one of prefixes, of the
// collection at path.
func newIDKind(field string, prefixes []string, path string) idKind {
	return idKind{field: field, prefixes: prefixes, path: path, route: path + "/{id}"}
}

// sendByID runs a call on the resource of kind with id as operation name: the id is
// checked first (so it holds nothing that needs escaping in the path and is no dot
// segment), then body (nil for a bodiless call) checks its params and builds the
// request body, all before any I/O. The operation's route is the call's path with
// {id} for the id.
func sendByID[W, T any](ctx context.Context, c *Client, kind idKind, name, method, id, action string, query url.Values, body func() (any, error), opts []RequestOption, decode func(*W) (T, error)) (T, error) {
	var zero T
	if err := validateID(kind.field, id, kind.prefixes); err != nil {
		return zero, err
	}
	var b any
	if body != nil {
		var err error
		if b, err = body(); err != nil {
			return zero, err
		}
	}
	route := kind.route
	if action != "" {
		route += action
	}
	ctx = withOperation(ctx, name, route)
	return send(ctx, c, method, kind.path+"/"+id+action, query, b, opts, decode)
}

// errNoData is a 2xx answer whose document has no data member, or a null one.
var errNoData = errors.New("response has no data")
