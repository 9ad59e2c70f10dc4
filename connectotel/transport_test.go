package connectotel_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/connectotel"
	"github.com/persona-connect/connect-go/connecttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// world is a connecttest server with a source and a destination, and SDK clients for
// both over one instrumented transport whose spans and metrics the test reads.
type world struct {
	srv      *connecttest.Server
	src, dst *connecttest.Organization
	cxn, inq string
	s, d     *connect.Client
	spans    *tracetest.SpanRecorder
	metrics  *sdkmetric.ManualReader
	sent     *headerRecorder
}

// headerRecorder is the base transport: it keeps the headers of every request, as the
// server would see them, and passes the request on.
type headerRecorder struct {
	mu      sync.Mutex
	headers []http.Header
	base    *http.Transport
}

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.headers = append(h.headers, r.Header.Clone())
	h.mu.Unlock()
	return h.base.RoundTrip(r)
}

func (h *headerRecorder) all() []http.Header {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.headers)
}

func newWorld(t *testing.T, opts ...connectotel.Option) *world {
	t.Helper()
	srv := connecttest.NewServer(connecttest.WithRedeemDelay(0))
	t.Cleanup(srv.Close)
	w := &world{
		srv: srv, src: srv.NewOrganization("Source"), dst: srv.NewOrganization("Destination"),
		spans: tracetest.NewSpanRecorder(), metrics: sdkmetric.NewManualReader(),
		sent: &headerRecorder{base: &http.Transport{}},
	}
	t.Cleanup(w.sent.base.CloseIdleConnections)
	w.cxn = srv.CreateConnection(w.src, w.dst)
	w.inq = srv.CreateInquiry(w.src)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(w.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(w.metrics))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	all := append([]connectotel.Option{connectotel.WithTracerProvider(tp), connectotel.WithMeterProvider(mp)}, opts...)
	hc := &http.Client{Transport: connectotel.NewTransport(w.sent, all...)}
	for _, c := range []struct {
		org *connecttest.Organization
		dst **connect.Client
	}{{w.src, &w.s}, {w.dst, &w.d}} {
		client, err := srv.NewClient(c.org, connect.WithHTTPClient(hc),
			connect.WithRetryBackoff(time.Millisecond, time.Millisecond), connect.WithPollInterval(time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		*c.dst = client
	}
	return w
}

// createToken has the source create a share token of w.inq, in ctx's trace.
func (w *world) createToken(t *testing.T, ctx context.Context) *connect.ShareToken {
	t.Helper()
	tok, err := w.s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// ended returns the spans ended so far, in the order they ended.
func (w *world) ended() []sdktrace.ReadOnlySpan { return w.spans.Ended() }

// attrs maps a span's attributes by key.
func attrs(s sdktrace.ReadOnlySpan) map[string]attribute.Value {
	m := map[string]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[string(kv.Key)] = kv.Value
	}
	return m
}

// view is what the tests compare of a span: its name, kind, status and attributes,
// with persona.request_id checked for its shape and then left out.
type view struct {
	Name   string
	Kind   trace.SpanKind
	Status codes.Code
	Attrs  map[string]string
}

func viewOf(t *testing.T, s sdktrace.ReadOnlySpan) view {
	t.Helper()
	v := view{Name: s.Name(), Kind: s.SpanKind(), Status: s.Status().Code, Attrs: map[string]string{}}
	for k, val := range attrs(s) {
		if k == "persona.request_id" {
			if !strings.HasPrefix(val.AsString(), "req_") {
				t.Errorf("%s: persona.request_id %q", s.Name(), val.AsString())
			}
			continue
		}
		v.Attrs[k] = val.String()
	}
	return v
}

func TestSpansOfEachAttempt(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := ctxT(t)
	tok := w.createToken(t, ctx)
	w.srv.FailNext(http.MethodGet, "/connect/share-tokens/*", 1, http.StatusServiceUnavailable)
	if _, err := w.d.ShareTokens.Get(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.d.ShareTokens.Get(ctx, "cnst_doesnotexist"); err == nil {
		t.Fatal("Get of an unknown token succeeded")
	}
	port := fmt.Sprint(portOf(t, w.srv.URL))
	base := func(method, op, route string, extra ...string) map[string]string {
		m := map[string]string{
			"http.request.method": method, "server.address": "127.0.0.1", "server.port": port,
			"url.scheme": "http", "persona.operation": op, "url.template": route,
		}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	want := []view{
		{"ShareTokens.Create", trace.SpanKindClient, codes.Unset, base("POST", "ShareTokens.Create", "/api/v1/connect/share-tokens", "http.response.status_code", "201")},
		{"ShareTokens.Get", trace.SpanKindClient, codes.Error, base("GET", "ShareTokens.Get", "/api/v1/connect/share-tokens/{id}", "http.response.status_code", "503", "error.type", "503")},
		{"ShareTokens.Get", trace.SpanKindClient, codes.Unset, base("GET", "ShareTokens.Get", "/api/v1/connect/share-tokens/{id}", "http.response.status_code", "200", "http.request.resend_count", "1")},
		{"ShareTokens.Get", trace.SpanKindClient, codes.Unset, base("GET", "ShareTokens.Get", "/api/v1/connect/share-tokens/{id}", "http.response.status_code", "404", "error.type", "404")},
	}
	var got []view
	for _, s := range w.ended() {
		got = append(got, viewOf(t, s))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
}

func portOf(t *testing.T, base string) int {
	t.Helper()
	var port int
	if _, err := fmt.Sscanf(base, "http://127.0.0.1:%d/api/v1", &port); err != nil {
		t.Fatalf("server URL %s: %v", base, err)
	}
	return port
}

// A connection lost after the server applied a POST: the attempt's span is an error
// with error.type and no status code; the retry (same Idempotency-Key) succeeds with
// resend_count 1.
func TestSpanOfATransportError(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.DropAfterCommit(http.MethodPost, "/connect/share-tokens", 1)
	if _, err := w.s.ShareTokens.Create(ctxT(t), connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq}); err != nil {
		t.Fatal(err)
	}
	spans := w.ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	first, second := attrs(spans[0]), attrs(spans[1])
	if spans[0].Status().Code != codes.Error || first["error.type"].AsString() != "connection_closed" {
		t.Errorf("dropped attempt: status %v, error.type %q", spans[0].Status(), first["error.type"].AsString())
	}
	if _, ok := first["http.response.status_code"]; ok {
		t.Error("dropped attempt has a status code")
	}
	if second["http.response.status_code"].AsInt64() != 201 || second["http.request.resend_count"].AsInt64() != 1 {
		t.Errorf("retry: %v", second)
	}
	if spans[1].Parent().SpanID() != spans[0].Parent().SpanID() {
		t.Error("the attempts of one call have different parents")
	}
}

// Each attempt's span is a child of the span in the call's context, and its context
// reaches the server through the configured propagator.
func TestSpansJoinTheCallersTrace(t *testing.T) {
	t.Parallel()
	w := newWorld(t, connectotel.WithPropagators(propagation.TraceContext{}))
	parentTP := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = parentTP.Shutdown(context.Background()) })
	ctx, parent := parentTP.Tracer("test").Start(ctxT(t), "handle inquiry.completed")
	w.createToken(t, ctx)
	parent.End()
	spans := w.ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	s := spans[0]
	if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("span's parent %v, want %v", s.Parent(), parent.SpanContext())
	}
	sent := w.sent.all()
	want := fmt.Sprintf("00-%s-%s-01", s.SpanContext().TraceID(), s.SpanContext().SpanID())
	if len(sent) != 1 || sent[0].Get("Traceparent") != want {
		t.Errorf("traceparent sent %q, want %q", sent[0].Get("Traceparent"), want)
	}
}

// Requests the SDK did not send (no Operation) get a span named after the method and
// no url.template.
func TestSpanOfARequestWithoutOperation(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	hc := &http.Client{Transport: connectotel.NewTransport(w.sent, connectotel.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(w.spans))))}
	for _, method := range []string{http.MethodGet, "PURGE"} {
		req, err := http.NewRequestWithContext(ctxT(t), method, w.srv.URL+"/events?filter[id]=evt_secretish", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	spans := w.ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	for i, wantName := range []string{"GET", "HTTP"} {
		a := attrs(spans[i])
		if spans[i].Name() != wantName || a["http.response.status_code"].AsInt64() != 401 {
			t.Errorf("span %d: %s %v", i, spans[i].Name(), a)
		}
		for _, k := range []string{"url.template", "persona.operation"} {
			if _, ok := a[k]; ok {
				t.Errorf("span %d has %s", i, k)
			}
		}
	}
	if a := attrs(spans[1]); a["http.request.method"].AsString() != "_OTHER" || a["http.request.method_original"].AsString() != "PURGE" {
		t.Errorf("unknown method: %v", a)
	}
}

func TestRequestDurationHistogram(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := ctxT(t)
	for range 2 {
		w.createToken(t, ctx)
	}
	if _, err := w.s.ShareTokens.Get(ctx, "cnst_doesnotexist"); err == nil {
		t.Fatal("Get of an unknown token succeeded")
	}
	var rm metricdata.ResourceMetrics
	if err := w.metrics.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	var found *metricdata.Metrics
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != "github.com/persona-connect/connect-go/connectotel" {
			continue
		}
		for i := range sm.Metrics {
			if sm.Metrics[i].Name == "http.client.request.duration" {
				found = &sm.Metrics[i]
			}
		}
	}
	if found == nil {
		t.Fatalf("no http.client.request.duration in %+v", rm.ScopeMetrics)
	}
	if found.Unit != "s" {
		t.Errorf("unit %q, want s", found.Unit)
	}
	hist, ok := found.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("data is %T", found.Data)
	}
	port := int64(portOf(t, w.srv.URL))
	type point struct {
		Attrs string
		Count uint64
	}
	var got []point
	for _, dp := range hist.DataPoints {
		if diff := cmp.Diff([]float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}, dp.Bounds); diff != "" {
			t.Errorf("bounds (-want +got):\n%s", diff)
		}
		if dp.Sum <= 0 {
			t.Errorf("sum %v", dp.Sum)
		}
		got = append(got, point{dp.Attributes.Encoded(attribute.DefaultEncoder()), dp.Count})
	}
	slices.SortFunc(got, func(a, b point) int { return strings.Compare(a.Attrs, b.Attrs) })
	enc := func(kv ...attribute.KeyValue) string {
		s := attribute.NewSet(kv...)
		return s.Encoded(attribute.DefaultEncoder())
	}
	want := []point{
		{enc(attribute.String("error.type", "404"), attribute.String("http.request.method", "GET"), attribute.Int("http.response.status_code", 404),
			attribute.String("persona.operation", "ShareTokens.Get"), attribute.String("server.address", "127.0.0.1"), attribute.Int64("server.port", port)), 1},
		{enc(attribute.String("http.request.method", "POST"), attribute.Int("http.response.status_code", 201),
			attribute.String("persona.operation", "ShareTokens.Create"), attribute.String("server.address", "127.0.0.1"), attribute.Int64("server.port", port)), 2},
	}
	slices.SortFunc(want, func(a, b point) int { return strings.Compare(a.Attrs, b.Attrs) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data points (-want +got):\n%s", diff)
	}
}

// Everything the transport records, over a whole flow of both organizations, holds no
// API key, no Authorization header, no id of any object, no idempotency key, no query
// value and no webhook secret: not in span names, attributes, events, status
// descriptions or metric attributes.
func TestNoSecretsOrIDsAreRecorded(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := ctxT(t)
	secret := w.srv.AddWebhook(w.src, "http://127.0.0.1:1/never", connect.EventInquiryApproved)
	webhookID := w.srv.WebhookID(secret)
	forbidden := []string{w.src.APIKey, w.dst.APIKey, "Bearer", w.src.ID, w.dst.ID, w.cxn, w.inq, secret, webhookID}
	tok, err := w.s.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: w.cxn, SourceID: w.inq},
		connect.WithIdempotencyKey("idem-key-of-the-test"))
	if err != nil {
		t.Fatal(err)
	}
	forbidden = append(forbidden, tok.ID, "idem-key-of-the-test")
	if _, err := w.d.ShareTokens.Peek(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	redeemed, err := w.d.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{})
	if err != nil {
		t.Fatal(err)
	}
	done, err := w.d.ShareTokens.Wait(ctx, redeemed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Destination != nil {
		forbidden = append(forbidden, done.Destination.ID)
	}
	for _, err := range w.s.ShareTokens.List(ctx, &connect.ListShareTokensParams{ConnectionID: w.cxn, PageSize: 1}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	for ev, err := range w.d.Events.List(ctx, &connect.ListEventsParams{ObjectIDs: []string{tok.ID}}) {
		if err != nil {
			t.Fatal(err)
		}
		forbidden = append(forbidden, ev.ID)
	}
	wh, err := w.s.Webhooks.RotateSecret(ctx, webhookID, connect.RotateWebhookSecretParams{ExpiresIn: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	forbidden = append(forbidden, wh.ActiveSecrets(w.srv.Now())...)
	w.srv.FailNext(http.MethodPost, "/connect/share-tokens/*/expire", 1, http.StatusBadGateway)
	_, _ = w.s.ShareTokens.Expire(ctx, tok.ID)
	w.srv.DropAfterCommit(http.MethodGet, "/connect/connections/*", 1)
	if _, err := w.s.Connections.Get(ctx, w.cxn); err != nil {
		t.Fatal(err)
	}

	var recorded []string
	spans := w.ended()
	if len(spans) < 10 {
		t.Fatalf("only %d spans", len(spans))
	}
	for _, s := range spans {
		recorded = append(recorded, s.Name(), s.Status().Description)
		for _, kv := range s.Attributes() {
			recorded = append(recorded, string(kv.Key)+"="+kv.Value.String())
		}
		for _, ev := range s.Events() {
			recorded = append(recorded, ev.Name)
			for _, kv := range ev.Attributes {
				recorded = append(recorded, string(kv.Key)+"="+kv.Value.String())
			}
		}
	}
	var rm metricdata.ResourceMetrics
	if err := w.metrics.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if h, ok := m.Data.(metricdata.Histogram[float64]); ok {
				for _, dp := range h.DataPoints {
					recorded = append(recorded, dp.Attributes.Encoded(attribute.DefaultEncoder()))
				}
			}
		}
	}
	all := strings.Join(recorded, "\n")
	for _, f := range forbidden {
		if f != "" && strings.Contains(all, f) {
			t.Errorf("recorded telemetry contains %q", f)
		}
	}
	for _, prefix := range []string{"cnst_", "cxn_", "inq_", "org_", "evt_", "wbh_", "wbhsec_", "page[", "filter["} {
		if strings.Contains(all, prefix) {
			t.Errorf("recorded telemetry contains %q", prefix)
		}
	}
}

// Without options the transport uses the otel globals, read when NewTransport runs, and
// a nil base is http.DefaultTransport. Not parallel: it sets the globals, and puts
// them back before the parallel tests resume.
func TestDefaultsAreTheGlobals(t *testing.T) {
	srv := connecttest.NewServer()
	t.Cleanup(srv.Close)
	org := srv.NewOrganization("Source")
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	prevTP, prevMP, prevProp := otel.GetTracerProvider(), otel.GetMeterProvider(), otel.GetTextMapPropagator()
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetMeterProvider(prevMP)
		otel.SetTextMapPropagator(prevProp)
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	})
	sent := &headerRecorder{base: http.DefaultTransport.(*http.Transport)}
	for _, rt := range []http.RoundTripper{connectotel.NewTransport(nil), connectotel.NewTransport(sent)} {
		c, err := srv.NewClient(org, connect.WithHTTPClient(&http.Client{Transport: rt}))
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range c.Connections.List(ctxT(t), nil) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	ended := spans.Ended()
	if len(ended) != 2 || ended[0].Name() != "Connections.List" || ended[1].Name() != "Connections.List" {
		t.Fatalf("spans on the global provider: %d", len(ended))
	}
	if h := sent.all(); len(h) != 1 || !strings.HasPrefix(h[0].Get("Traceparent"), "00-"+ended[1].SpanContext().TraceID().String()) {
		t.Errorf("the global propagator did not inject the span's context: %v", h)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctxT(t), &rm); err != nil {
		t.Fatal(err)
	}
	if len(rm.ScopeMetrics) != 1 || len(rm.ScopeMetrics[0].Metrics) != 1 {
		t.Errorf("metrics on the global provider: %+v", rm.ScopeMetrics)
	}
}

// Client.Do's spans are named "Do" without url.template (its raw path holds ids),
// unless the call names its operation.
func TestSpansOfDo(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := ctxT(t)
	if err := w.s.Do(ctx, http.MethodGet, "/connect/connections/"+w.cxn, nil, nil); err != nil {
		t.Fatal(err)
	}
	named := connect.Operation{Name: "Connections.GetRaw", Route: "/connect/connections/{id}"}
	if err := w.s.Do(ctx, http.MethodGet, "/connect/connections/"+w.cxn, nil, nil, connect.WithOperation(named)); err != nil {
		t.Fatal(err)
	}
	spans := w.ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	first, second := attrs(spans[0]), attrs(spans[1])
	if spans[0].Name() != "Do" || first["persona.operation"].AsString() != "Do" {
		t.Errorf("unnamed Do: span %q, %v", spans[0].Name(), first)
	}
	if _, ok := first["url.template"]; ok {
		t.Errorf("unnamed Do has url.template %v", first["url.template"])
	}
	if spans[1].Name() != named.Name || second["url.template"].AsString() != "/api/v1"+named.Route {
		t.Errorf("named Do: span %q, %v", spans[1].Name(), second)
	}
	for _, s := range spans {
		for _, kv := range s.Attributes() {
			if strings.Contains(kv.Value.String(), w.cxn) {
				t.Errorf("%s: %s holds the connection id", s.Name(), kv.Key)
			}
		}
	}
}

// roundTripFunc is a base transport written inline, as tests of a RoundTripper do.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A base transport may answer with a nil Body (net/http's Client puts an empty one in
// its place, as many test transports rely on) or with http.NoBody: the call succeeds
// and the attempt's span ends all the same.
func TestResponseWithoutBody(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]io.ReadCloser{"nil": nil, "NoBody": http.NoBody} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				return &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{}, Body: body, Request: r}, nil
			})
			hc := &http.Client{Transport: connectotel.NewTransport(base, connectotel.WithTracerProvider(tp),
				connectotel.WithMeterProvider(metricnoop.NewMeterProvider()))}
			client, err := connect.New("persona_sandbox_test", connect.WithBaseURL("http://127.0.0.1:1/api/v1"), connect.WithHTTPClient(hc))
			if err != nil {
				t.Fatal(err)
			}
			if err := client.Do(ctxT(t), http.MethodPost, "/connect/share-tokens/cnst_1/expire", nil, nil); err != nil {
				t.Fatalf("Do: %v", err)
			}
			ended := spans.Ended()
			if len(ended) != 1 || attrs(ended[0])["http.response.status_code"].AsInt64() != http.StatusNoContent {
				t.Fatalf("%d spans ended, want 1 with status 204", len(ended))
			}
		})
	}
}

// idleCloser is a base transport that counts the CloseIdleConnections calls it gets.
type idleCloser struct {
	roundTripFunc
	closed atomic.Int32
}

func (c *idleCloser) CloseIdleConnections() { c.closed.Add(1) }

// http.Client.CloseIdleConnections reaches the base transport through NewTransport's,
// as it would reach the base without it: otherwise the base's idle connections, and
// the two goroutines each holds, outlive a program's (or a goleak test's) cleanup. A
// base without the method is left alone.
func TestCloseIdleConnectionsReachesTheBase(t *testing.T) {
	t.Parallel()
	base := &idleCloser{}
	hc := &http.Client{Transport: connectotel.NewTransport(base, connectotel.WithMeterProvider(metricnoop.NewMeterProvider()))}
	hc.CloseIdleConnections()
	if n := base.closed.Load(); n != 1 {
		t.Errorf("the base got %d CloseIdleConnections calls, want 1", n)
	}
	bare := &http.Client{Transport: connectotel.NewTransport(roundTripFunc(nil), connectotel.WithMeterProvider(metricnoop.NewMeterProvider()))}
	bare.CloseIdleConnections() // must not panic
}

// A 5xx attempt's span status is Error without a description: the conventions ask for
// none when http.response.status_code already tells the reason.
func TestStatusOfA5xxHasNoDescription(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.srv.FailNext(http.MethodGet, "/connect/connections/*", 1, http.StatusServiceUnavailable)
	if _, err := w.s.Connections.Get(ctxT(t), w.cxn); err != nil {
		t.Fatal(err)
	}
	spans := w.ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	if st := spans[0].Status(); st.Code != codes.Error || st.Description != "" {
		t.Errorf("503 attempt: status %v %q, want Error without a description", st.Code, st.Description)
	}
}

// A redirect the client follows is a resend too: the conventions count it in
// http.request.resend_count, as they count the SDK's retries.
func TestRedirectIsAResend(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/connect/share-tokens/cnst_1":
			http.Redirect(w, r, "/api/v1/connect/share-tokens/cnst_2", http.StatusFound)
		case "/api/v1/connect/share-tokens/cnst_2":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"data":{"type":"connect/share-token","id":"cnst_2","attributes":{"status":"created"}}}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	hc := &http.Client{Transport: connectotel.NewTransport(base, connectotel.WithTracerProvider(tp),
		connectotel.WithMeterProvider(metricnoop.NewMeterProvider()))}
	client, err := connect.New("persona_sandbox_test", connect.WithBaseURL(srv.URL+"/api/v1"), connect.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.ShareTokens.Get(ctxT(t), "cnst_1"); err != nil {
		t.Fatal(err)
	}
	ended := spans.Ended()
	if len(ended) != 2 {
		t.Fatalf("%d spans, want 2", len(ended))
	}
	first, second := attrs(ended[0]), attrs(ended[1])
	if first["http.response.status_code"].AsInt64() != http.StatusFound {
		t.Errorf("first span: %v", first)
	}
	if v, ok := first["http.request.resend_count"]; ok {
		t.Errorf("first request has http.request.resend_count %v", v.AsInt64())
	}
	if second["http.response.status_code"].AsInt64() != http.StatusOK || second["http.request.resend_count"].AsInt64() != 1 {
		t.Errorf("redirected request: status %v, resend_count %v; want 200, 1",
			second["http.response.status_code"].AsInt64(), second["http.request.resend_count"].AsInt64())
	}
}

// url.template is, as the conventions define it, the template of the request's absolute
// path: the operation's route under the base URL's path ("/api/v1" on connecttest). A
// Do route that does not describe the path it is sent with is recorded as given.
func TestURLTemplateIsAnAbsolutePath(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := ctxT(t)
	tok := w.createToken(t, ctx)
	if _, err := w.s.ShareTokens.Expire(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	for _, err := range w.s.Connections.List(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.s.Do(ctx, http.MethodGet, "/connect/connections/"+w.cxn, nil, nil,
		connect.WithOperation(connect.Operation{Name: "Connections.GetRaw", Route: "/connect/connections/{id}"})); err != nil {
		t.Fatal(err)
	}
	if err := w.s.Do(ctx, http.MethodGet, "/connect/connections/"+w.cxn, nil, nil,
		connect.WithOperation(connect.Operation{Name: "Connections.Odd", Route: "/connections/{id}/elsewhere"})); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range w.ended() {
		got = append(got, s.Name()+" "+attrs(s)["url.template"].AsString())
	}
	want := []string{
		"ShareTokens.Create /api/v1/connect/share-tokens",
		"ShareTokens.Expire /api/v1/connect/share-tokens/{id}/expire",
		"Connections.List /api/v1/connect/connections",
		"Connections.GetRaw /api/v1/connect/connections/{id}",
		"Connections.Odd /connections/{id}/elsewhere",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("url.template (-want +got):\n%s", diff)
	}
}

// A Request-Id that echoes the request's Authorization header (a hostile or broken
// server, a proxy quoting the request's headers) does not get the key into the span:
// persona.request_id is left out then.
func TestEchoedKeyInRequestIDIsNotRecorded(t *testing.T) {
	t.Parallel()
	const key = "persona_sandbox_KEY-echoed-by-the-server"
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		h := http.Header{"Request-Id": {"req_" + r.Header.Get("Authorization")}}
		return &http.Response{StatusCode: http.StatusNoContent, Header: h, Body: http.NoBody, Request: r}, nil
	})
	hc := &http.Client{Transport: connectotel.NewTransport(base, connectotel.WithTracerProvider(tp),
		connectotel.WithMeterProvider(metricnoop.NewMeterProvider()))}
	client, err := connect.New(key, connect.WithBaseURL("http://127.0.0.1:1/api/v1"), connect.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Do(ctxT(t), http.MethodPost, "/connect/share-tokens/cnst_1/expire", nil, nil); err != nil {
		t.Fatalf("Do: %v", err)
	}
	ended := spans.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans ended, want 1", len(ended))
	}
	for _, kv := range ended[0].Attributes() {
		if v := kv.Value.String(); strings.Contains(v, key) || strings.Contains(v, "Bearer") {
			t.Errorf("span attribute %s = %q shows the key", kv.Key, v)
		}
	}
	if _, ok := attrs(ended[0])["persona.request_id"]; ok {
		t.Error("persona.request_id recorded from a Request-Id that echoes the key")
	}
}
