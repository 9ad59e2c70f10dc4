package connect

import "context"

// Operation names the SDK call an HTTP request belongs to, for transports that trace,
// measure or log requests (connectotel reads it). Every request the SDK sends carries
// one in its context; read it with OperationFromContext.
type Operation struct {
	// Name is the service and method, e.g. "ShareTokens.Create", "Events.List",
	// "Webhooks.RotateSecret"; "Do" for Client.Do unless WithOperation names it.
	Name string
	// Route is the path template relative to the base URL, with "{id}" where the path
	// holds an id: "/connect/share-tokens/{id}/redeem". It never holds an id or a
	// query, so it is safe as a span name or a metric label (one series per route,
	// not per token). Empty for Client.Do unless WithOperation sets it.
	Route string
}

// operationKey and attemptKey are the context keys of the SDK's request metadata;
// unexported types, so no other package can set or shadow them.
type (
	operationKey struct{}
	attemptKey   struct{}
)

// OperationFromContext returns the Operation of a request the SDK sends, from the
// request's context (req.Context() in a RoundTripper). ok is false for requests the
// SDK did not send.
func OperationFromContext(ctx context.Context) (op Operation, ok bool) {
	op, ok = ctx.Value(operationKey{}).(Operation)
	return op, ok
}

// AttemptFromContext returns which attempt of its call a request the SDK sends is: 1
// for the first, 2 for the first retry, and so on. A transport reads it to tell a
// retry from a new call (connectotel's http.request.resend_count is attempt - 1, plus
// the redirects followed to reach the request). ok is false for requests the SDK did
// not send.
func AttemptFromContext(ctx context.Context) (attempt int, ok bool) {
	attempt, ok = ctx.Value(attemptKey{}).(int)
	return attempt, ok
}

// withOperation is ctx carrying op for every request of one logical call.
func withOperation(ctx context.Context, name, route string) context.Context {
	return context.WithValue(ctx, operationKey{}, Operation{Name: name, Route: route})
}

// withAttempt is the context of one attempt's request.
func withAttempt(ctx context.Context, attempt int) context.Context {
	return context.WithValue(ctx, attemptKey{}, attempt)
}
