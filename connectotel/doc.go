// Package connectotel traces and measures the requests of a connect.Client with
// OpenTelemetry. It is a nested module, so that only the programs that import it
// depend on go.opentelemetry.io/otel.
//
// NewTransport wraps an http.RoundTripper; give the client an *http.Client over it:
//
//	hc := &http.Client{Transport: connectotel.NewTransport(nil), Timeout: time.Minute}
//	client, err := connect.New(key, connect.WithHTTPClient(hc))
//
// Every attempt of every call becomes one client span (and each redirect it follows one
// more), named after the SDK operation ("ShareTokens.Create", "Events.List", ...:
// connect.OperationFromContext) and parented on the span in the call's context, with
// the HTTP semantic-convention attributes http.request.method, url.template (the
// operation's route under the base URL's path, "/api/v1/connect/share-tokens/{id}"),
// server.address, server.port, url.scheme, http.response.status_code and, on retries
// and followed redirects, http.request.resend_count; plus persona.operation and
// persona.request_id (the Request-Id to quote to Persona support; left out when it
// holds the request's API key, as an echo from a broken proxy may). A failed attempt sets
// error.type to one of: the status code of a 4xx or 5xx ("404", "503"); "timeout" (a
// deadline or a network timeout); "canceled" (the context); "connection_closed" (the
// connection ended mid-answer); or else the Go type of the transport error, as
// semconv.ErrorType gives it ("*net.OpError"). A 5xx or a transport error also sets the
// span's status to Error. 4xx answers leave the status unset: a 404
// from Get or a 409 from a repeated Redeem is an answer a caller handles, not an outage.
//
// Each attempt is also recorded in the http.client.request.duration histogram (seconds,
// the semantic conventions' bucket boundaries), by persona.operation,
// http.request.method, http.response.status_code, error.type, server.address and
// server.port. The span ends when the response body is closed or read to its end (at
// once when the response has no body); the duration is taken when the response headers
// arrive, as otelhttp does.
//
// Nothing that identifies a person, an object or a credential is recorded: no request
// header value (so neither the API key nor the Authorization header) and no response
// header but Request-Id (Persona's id of the request itself, not of a person or an
// object), no body, no query, no path
// (url.full and url.path are left out, since Persona's paths hold ids), no idempotency
// key. Span names and url.template come from the Operation, which never holds an id
// (url.template puts its route under the base URL's path, the client's configuration);
// for requests that carry no Operation (not sent by the SDK) the span is named after
// the method and url.template is left out. For Client.Do, the operation is "Do" unless
// the call names it with connect.WithOperation.
//
// The trace context of each attempt is injected into its headers with the configured
// propagator (WithPropagators; default otel.GetTextMapPropagator()), so a server that
// traces can join the caller's trace. The tracer and meter come from WithTracerProvider
// and WithMeterProvider, by default the otel globals.
package connectotel
