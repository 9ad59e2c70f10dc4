package connectotel

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"
	"go.opentelemetry.io/otel/trace"

	connect "github.com/persona-connect/connect-go"
)

// scopeName is the instrumentation scope of the spans and the histogram.
const scopeName = "github.com/persona-connect/connect-go/connectotel"

// Attribute keys of Persona's own, next to the semantic conventions' ones.
const (
	operationKey = attribute.Key("persona.operation")
	requestIDKey = attribute.Key("persona.request_id")
)

// transport is the RoundTripper NewTransport returns.
type transport struct {
	base        http.RoundTripper
	tracer      trace.Tracer
	duration    httpconv.ClientRequestDuration
	propagators propagation.TextMapPropagator
}

// NewTransport returns an http.RoundTripper that sends each request through base (nil:
// http.DefaultTransport) inside a client span named after its connect.Operation, and
// records its duration; see the package documentation for what is recorded and what
// never is. It is safe for concurrent use, as base must be. http.Client's
// CloseIdleConnections reaches base through it.
func NewTransport(base http.RoundTripper, opts ...Option) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	cfg := newConfig(opts)
	meter := cfg.meterProvider.Meter(scopeName, metric.WithInstrumentationVersion(connect.Version),
		metric.WithSchemaURL(semconv.SchemaURL))
	duration, err := httpconv.NewClientRequestDuration(meter)
	if err != nil {
		// The instrument is a no-op then; the error goes where otel reports its own.
		otel.Handle(err)
	}
	return &transport{
		base: base,
		tracer: cfg.tracerProvider.Tracer(scopeName, trace.WithInstrumentationVersion(connect.Version),
			trace.WithSchemaURL(semconv.SchemaURL)),
		duration:    duration,
		propagators: cfg.propagators,
	}
}

// RoundTrip implements http.RoundTripper. The span ends when the response body is
// closed or read to its end, or at once when no response came or it has no body (nil
// or http.NoBody).
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	op, hasOp := connect.OperationFromContext(req.Context())
	method, known := methodAttr(req.Method)
	host, port := serverOf(req)
	// Attributes shared by the span and the histogram; the span adds its own below.
	metricAttrs := make([]attribute.KeyValue, 0, 7)
	metricAttrs = append(metricAttrs, method, semconv.ServerAddress(host), semconv.ServerPort(port))
	spanAttrs := make([]attribute.KeyValue, 0, 12)
	spanAttrs = append(spanAttrs, metricAttrs...)
	spanAttrs = append(spanAttrs, semconv.URLScheme(req.URL.Scheme))
	// The span's name: the operation; else the method, as the conventions name a span
	// without a route ("HTTP" for a method they do not know).
	name := method.Value.AsString()
	if !known {
		name = "HTTP"
		spanAttrs = append(spanAttrs, semconv.HTTPRequestMethodOriginal(req.Method))
	}
	if hasOp && op.Name != "" {
		name = op.Name
		spanAttrs = append(spanAttrs, operationKey.String(op.Name))
		metricAttrs = append(metricAttrs, operationKey.String(op.Name))
	}
	if hasOp && op.Route != "" {
		spanAttrs = append(spanAttrs, semconv.URLTemplate(urlTemplate(req.URL.Path, op.Route)))
	}
	if resends := resendCount(req); resends > 0 {
		spanAttrs = append(spanAttrs, semconv.HTTPRequestResendCount(resends))
	}

	ctx, span := t.tracer.Start(req.Context(), name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(spanAttrs...))
	// A RoundTripper must not change the request it was given: inject into a copy.
	r := req.Clone(ctx)
	t.propagators.Inject(ctx, propagation.HeaderCarrier(r.Header))

	resp, err := t.base.RoundTrip(r)
	elapsed := time.Since(start).Seconds()
	if err != nil {
		errType := errorType(err)
		span.SetAttributes(semconv.ErrorTypeKey.String(errType))
		// The description is the error's kind, not its text: a transport error's text
		// may quote the URL, whose path holds ids.
		span.SetStatus(codes.Error, errType)
		span.End()
		metricAttrs = append(metricAttrs, semconv.ErrorTypeKey.String(errType))
		t.duration.Inst().Record(ctx, elapsed, metric.WithAttributeSet(attribute.NewSet(metricAttrs...)))
		return resp, err
	}
	status := semconv.HTTPResponseStatusCode(resp.StatusCode)
	span.SetAttributes(status)
	metricAttrs = append(metricAttrs, status)
	if id := resp.Header.Get("Request-Id"); id != "" && !echoesKey(id, req) {
		span.SetAttributes(requestIDKey.String(id))
	}
	if resp.StatusCode >= 400 {
		errType := semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode))
		span.SetAttributes(errType)
		metricAttrs = append(metricAttrs, errType)
	}
	if resp.StatusCode >= 500 {
		// No description: the conventions ask for none when the status code tells it.
		span.SetStatus(codes.Error, "")
	}
	t.duration.Inst().Record(ctx, elapsed, metric.WithAttributeSet(attribute.NewSet(metricAttrs...)))
	if resp.Body == nil || resp.Body == http.NoBody {
		// Nothing to read: the attempt is over. A nil Body stays nil, so that net/http's
		// Client puts its empty one in its place (a base transport in a test often
		// answers so); wrapping it would hand the caller a body whose Read panics.
		span.End()
		return resp, nil
	}
	resp.Body = wrapBody(resp.Body, span)
	return resp, nil
}

// echoesKey reports whether v, a response header's value, holds the API key of req's
// Authorization header, as one from a hostile or broken server or a proxy quoting the
// request's headers may: such a value is not recorded. A key under 8 bytes is not
// looked for, as the SDK's own scrubbing does not (it would match ordinary text).
func echoesKey(v string, req *http.Request) bool {
	key := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
	return len(key) >= 8 && strings.Contains(v, key)
}

// CloseIdleConnections closes the idle connections of the base transport, when it has
// the method: http.Client.CloseIdleConnections reaches the base through this one.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// urlTemplate is url.template, which the conventions define as the template of the
// request's absolute path: route (relative to the base URL) under the part of path
// before it, the base URL's path ("/api/v1/connect/share-tokens/{id}" for
// "/api/v1/connect/share-tokens/cnst_..."). On the requests the SDK builds that prefix is
// the base URL's path, the client's configuration; only a same-origin redirect or a
// next link, both Persona's own, could put other segments before the route. When path
// does not end in route's shape (a Client.Do route that does not describe its path, a
// next link elsewhere), route is returned as it is.
func urlTemplate(path, route string) string {
	rs := strings.Split(strings.TrimPrefix(route, "/"), "/")
	ps := strings.Split(strings.TrimPrefix(path, "/"), "/")
	off := len(ps) - len(rs)
	if off <= 0 || !strings.HasPrefix(route, "/") || !strings.HasPrefix(path, "/") {
		return route
	}
	for i, seg := range rs {
		p := ps[off+i]
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if p == "" {
				return route
			}
		} else if seg != p {
			return route
		}
	}
	return "/" + strings.Join(ps[:off], "/") + route
}

// resendCount is http.request.resend_count: the requests sent before this one for the
// same call, which the conventions count whatever the cause. Those are the SDK's
// earlier attempts (AttemptFromContext) and the redirects followed to reach this
// request (net/http's Client links each redirected request to the response that caused
// it). Redirects of the earlier attempts are not known here, so they are not counted.
func resendCount(req *http.Request) int {
	n := 0
	if attempt, ok := connect.AttemptFromContext(req.Context()); ok && attempt > 1 {
		n = attempt - 1
	}
	for resp := req.Response; resp != nil; {
		n++
		if resp.Request == nil {
			break
		}
		resp = resp.Request.Response
	}
	return n
}

// methodAttr returns http.request.method for a method the semantic conventions name,
// and ok false for any other: that one is recorded as "_OTHER", with its original
// spelling beside it on the span only, so a made-up method cannot grow the series.
func methodAttr(method string) (kv attribute.KeyValue, ok bool) {
	switch method {
	case "": // net/http's GET
		return semconv.HTTPRequestMethodGet, true
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodHead, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return semconv.HTTPRequestMethodKey.String(method), true
	}
	return semconv.HTTPRequestMethodOther, false
}

// serverOf returns the host and port the request goes to, the port made explicit.
func serverOf(req *http.Request) (string, int) {
	host := req.URL.Hostname()
	if p := req.URL.Port(); p != "" {
		if n, err := strconv.Atoi(p); err == nil {
			return host, n
		}
	}
	if strings.EqualFold(req.URL.Scheme, "http") {
		return host, 80
	}
	return host, 443
}

// errorType is the low-cardinality kind of a transport error, for error.type.
func errorType(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection_closed"
	}
	return semconv.ErrorType(err).Value.AsString()
}

// wrapBody ends span when body is read to its end or closed, whichever comes first. A
// read that fails on the way marks the span as an error: the answer was cut short.
func wrapBody(body io.ReadCloser, span trace.Span) io.ReadCloser {
	b := &spanBody{body: body, span: span}
	if _, ok := body.(io.ReadWriteCloser); ok {
		// A protocol switch (101) hands back a writable body; keep it writable.
		return struct {
			io.ReadCloser
			io.Writer
		}{b, body.(io.Writer)}
	}
	return b
}

type spanBody struct {
	body io.ReadCloser
	span trace.Span
	once sync.Once
}

func (b *spanBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		b.end()
	default:
		errType := errorType(err)
		b.span.SetAttributes(semconv.ErrorTypeKey.String(errType))
		b.span.SetStatus(codes.Error, errType)
		b.end()
	}
	return n, err
}

func (b *spanBody) Close() error {
	b.end()
	return b.body.Close()
}

func (b *spanBody) end() { b.once.Do(func() { b.span.End() }) }
