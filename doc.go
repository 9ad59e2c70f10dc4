// Package connect is the Go SDK for Persona Connect: a source organization shares an
// end user's verified data (an Inquiry, Account, Transaction or Verification) with a
// partner destination organization through share tokens, and both learn what happened
// through signed webhook events.
//
// This comment is the manual: roles, a first share, errors, retries, pagination,
// waiting, webhooks, tracing, options and testing. Each section names the types and
// functions it describes; their own documentation has the details.
//
// # Roles
//
// A [Client] acts for one organization, the one its API key belongs to. Make one with
// [New] and share it: it is safe for concurrent use.
//
//	client, err := connect.New(os.Getenv("PERSONA_API_KEY"))
//
// Organizations are joined by a Connection ([ConnectionsService]): one-directional,
// from a source to a destination, created by the source and accepted by the
// destination in Persona's dashboard. Over an active connection:
//
//   - the source creates a share token over one of its objects
//     ([ShareTokensService.Create]) and may expire it before its TTL
//     ([ShareTokensService.Expire]);
//   - the destination redeems it ([ShareTokensService.Redeem]), cloning the source into
//     a new object or hydrating one of its own ([RedeemShareTokenParams]), and may peek
//     at a filtered snapshot first ([ShareTokensService.Peek]).
//
// Both sides read tokens ([ShareTokensService.Get], [ShareTokensService.List]), each
// from its own side: [ShareToken.Direction] is [Outbound] for the source and [Inbound]
// for the destination, and the relationships each side sees differ.
//
// # A first share
//
// The source shares a completed inquiry; the destination redeems the token and waits
// for the outcome:
//
//	tok, err := source.ShareTokens.Create(ctx, connect.CreateShareTokenParams{
//		ConnectionID: "cxn_...",
//		SourceID:     "inq_...",
//		ExpiresIn:    24 * time.Hour, // 0 = Persona's default, 14 days
//	})
//	if err != nil {
//		return err
//	}
//	// ... tok.ID reaches the destination, by your API or its webhook ...
//	tok, err = destination.ShareTokens.Redeem(ctx, tok.ID, connect.RedeemShareTokenParams{})
//	if err != nil {
//		return err
//	}
//	tok, err = destination.ShareTokens.Wait(ctx, tok.ID) // redeemed, expired or failed
//
// Bad input (an empty id, a cnst_ id passed as SourceID, a TTL outside one minute to 21
// days, field mappings on a clone) is refused before any I/O with an error wrapping
// [ErrInvalidParams] that names the field.
//
// # Errors
//
// A non-2xx answer is an [*APIError]: its text names the method, the path relative to
// the base URL, the status, Persona's error title and details, and the Request-Id to
// quote to Persona support. It matches its status's sentinel with errors.Is
// ([ErrBadRequest], [ErrUnauthorized], [ErrForbidden], [ErrNotFound], [ErrConflict],
// [ErrUnprocessable], [ErrRateLimited], [ErrServer]); errors.As gives the fields,
// among them [APIError.RateLimitReset] and, for a POST, [APIError.IdempotencyKey].
//
//	_, err := client.ShareTokens.Redeem(ctx, id, connect.RedeemShareTokenParams{})
//	var apiErr *connect.APIError
//	switch {
//	case errors.Is(err, connect.ErrNotFound): // not visible to this organization
//	case errors.Is(err, connect.ErrConflict): // not redeemable now: read its status
//	case errors.As(err, &apiErr): // apiErr.RequestID for Persona support
//	}
//
// A call that got no decodable answer (the network failed, the context ended, a body
// broke off) returns a [*RequestError] with the method, the path, the number of
// attempts and, for a POST, its Idempotency-Key; errors.Is(err, [ErrOutcomeUnknown])
// says that a POST may have been applied, as it also does for a POST that a gateway
// answered 502 or 504. Test it before the status sentinels: such an error wraps the
// last answer and matches its sentinel too (a 429 after a lost answer is also
// [ErrRateLimited]). A redirect is followed only within the base URL's origin and
// only with the call's own method: one to another origin, or a 301, 302 or 303 of a
// POST (which net/http would resend as a GET of the Location), is refused with a
// *RequestError and not retried. No error text, log line or fmt verb ever shows the
// API key; webhook errors never show a signature. End-user data stays out of them as
// well: fmt and slog show [ShareToken.SourceData] and [Event]'s payloads as their
// sizes, and a decode error names the field it could not read, not its text.
//
// # Retries and idempotency
//
// Network errors, 429, 502, 503 and 504 are retried (default twice, [WithMaxRetries]),
// and 500 on GET only: Persona stores the first answer to an Idempotency-Key, 5xx
// included, and replays it, so a retried POST would only get the same 500 again. Waits
// back off exponentially with jitter ([WithRetryBackoff]); on a 429 they last at least
// the RateLimit-Reset the server sent, else its Retry-After. A wait longer than
// [WithMaxRetryWait] (default 60s) or past the context's deadline is not started: the
// error comes back at once. When the context ends during a wait, the error wraps both
// the context's error and the failure it was waiting to retry (the last *APIError, or
// the network error).
//
// Every POST carries one Idempotency-Key per call, the same on each of its retries, so
// a retried Create never makes a second token. Within one process that is automatic.
// Across a crash or a redeploy, pass your own key with [WithIdempotencyKey], derived
// from what triggered the call (Persona keeps keys for 24 hours); [NewIdempotencyKey]
// makes a random one to store before calling. After a Create that failed without an
// answer, retry with the key the error carries, and Persona answers with the token the
// first attempt made, if it made one:
//
//	tok, err := client.ShareTokens.Create(ctx, params)
//	var reqErr *connect.RequestError
//	if errors.As(err, &reqErr) && errors.Is(err, connect.ErrOutcomeUnknown) {
//		tok, err = client.ShareTokens.Create(ctx, params, connect.WithIdempotencyKey(reqErr.IdempotencyKey))
//	}
//
// # Response metadata
//
// [WithResponseInto] fills a [Response] with what Persona answered to a call's last
// attempt, on success and on *APIError alike: the status, the headers, the Request-Id,
// the [RateLimit] (limit, remaining, reset), the POST's Idempotency-Key and how many
// attempts the call took. When no answer came at all it holds only the attempts and the
// key. For List it describes the last page fetched, for Wait the last poll.
//
// # Pagination
//
// Every List ([ShareTokensService.List], [ConnectionsService.List],
// [EventsService.List]) returns an iter.Seq2 that fetches pages lazily as the range
// proceeds, following Persona's next links (never to another origin), newest first.
// An error ends the range as its last pair; bad params are that error before any I/O.
// Request options apply to every page.
//
//	for tok, err := range client.ShareTokens.List(ctx, &connect.ListShareTokensParams{Status: connect.ShareTokenPending}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(tok.ID)
//	}
//
// [ListEventsParams.CreatedAfter] stops paging at the first older event, so a replay
// after a short outage reads a page or two, not the organization's history.
//
// # Waiting
//
// Redemption is asynchronous: Redeem answers at once with the token pending.
// [ShareTokensService.Wait] polls it until it is redeemed, expired or failed, from the
// client's poll interval ([WithPollInterval], default 250ms) growing to 5s; bound it
// with the context. A failed or expired token comes back without error: check its
// Status and FailureReason. Webhooks tell the same without polling.
//
// # Webhooks: verifying deliveries
//
// Persona signs each delivery with the webhook's secret in the [SignatureHeader]
// header. A [Verifier] ([NewVerifier]) checks it: HMAC-SHA256 over the timestamp and
// the raw body, the timestamp within [DefaultTolerance] of now in either direction
// ([WithTolerance]), any of its secrets accepted. [Verifier.ConstructEvent] verifies
// and decodes an [Event] in one step; [ConstructEvent] does it with one secret, and
// [ParseEvent] decodes without verifying (for events read from the Events API).
// [SignHeader] signs a payload, for your own tests.
//
// # Webhooks: the handler
//
// A [WebhookHandler] ([NewWebhookHandler]) is an http.Handler that verifies, decodes,
// deduplicates and dispatches deliveries to the functions registered with
// [WebhookHandler.On] and [WebhookHandler.OnShareToken]. Its answers are what Persona's
// retries need:
//
//   - 405 for anything but POST, 413 for a body over 1 MiB, 400 for a missing or wrong
//     signature or a signed body that is not an event;
//   - 200 for an event nobody registered a function for, and for one already handled;
//   - 409 for a duplicate whose first delivery is still running: a 2xx would tell
//     Persona it was handled, and it would be lost if that run then failed;
//   - 500 when the function fails or panics: its claim is released and Persona retries
//     (a panic reaches [WithErrorHandler] as a [*PanicError], with its stack), and
//     when the Deduper fails to claim the event;
//   - 200 when the function returns nil.
//
// Persona waits 5 seconds for an answer and retries up to 7 times over about two days:
// put slow work on your own queue and return.
//
// # Webhooks: rotating the secret
//
// [WebhooksService.RotateSecret] gives a webhook a new secret and keeps the old one
// signing for [RotateWebhookSecretParams.ExpiresIn]; meanwhile every delivery carries a
// signature for each. Give your Verifier both ([Webhook.ActiveSecrets]), roll the new
// one out to every replica, and drop the old one once it has expired. A running
// handler takes the new Verifier with [WebhookHandler.SetVerifier], keeping its
// functions and its Deduper. A [WebhookSecret] never prints its value: read it with
// [WebhookSecret.Value].
//
//	wh, err := client.Webhooks.RotateSecret(ctx, "wbh_...", connect.RotateWebhookSecretParams{ExpiresIn: 2 * time.Hour})
//	if err != nil {
//		return err
//	}
//	verifier, err := connect.NewVerifier(wh.ActiveSecrets(time.Now()))
//	if err != nil {
//		return err
//	}
//	handler.SetVerifier(verifier)
//
// # Webhooks: exactly once across replicas
//
// Deliveries are at least once and unordered, and several replicas behind a load
// balancer may each get a copy. The handler claims each event id through a [Deduper]
// ([WithDeduper]) with a lease ([WithLease], default 60s; the function's context ends
// with it): [ClaimAcquired] runs the function, [ClaimInProgress] answers 409 while
// another delivery holds a live lease, [ClaimDone] answers 200 without running. A lease
// whose holder crashed expires and the next delivery takes over. The default
// [NewMemoryDeduper] holds for one process only; for replicas use the nested modules
// github.com/persona-connect/connect-go/pgdedupe (PostgreSQL: its CompleteTx marks the
// event done in your own transaction, for effects that happen exactly once) or
// github.com/persona-connect/connect-go/redisdedupe.
//
// # Webhooks: replay
//
// An endpoint that was down misses deliveries Persona gave up on. [WebhookHandler.Replay]
// lists the events since a time through the Events API ([EventsService]) and runs each,
// oldest first, through the same claims and functions as a delivery
// ([WebhookHandler.Process]); its [ReplayResult] counts what ran, what was done before
// and what nobody handles. An event whose delivery is running elsewhere is
// [ErrEventInProgress].
//
// # Workflows in code
//
// [AutoShare] and [AutoRedeem] register on a WebhookHandler what Persona's no-code
// Workflows do: create a share token when an inquiry completes (its Idempotency-Key
// derived from the event, so Persona's retries of one event make one token), and redeem
// each inbound token on arrival (a token already pending or redeemed counts as done).
//
// # Any endpoint
//
// [Client.Do] calls any Persona endpoint through the same pipeline (authentication,
// Persona-Version, idempotency keys on POST, retries, *APIError), with a path relative
// to the base URL; a URL to another origin is refused before any I/O. Its out may be a
// *json.RawMessage for the body verbatim, or any value to decode into.
//
// # Logging and tracing
//
// [WithLogger] gives the client an slog.Logger for debug lines: method, path, status,
// Request-Id and attempt, never a key, a header value or a body.
//
// Every request the SDK sends carries its [Operation] in its context
// ([OperationFromContext]): the call's name ("ShareTokens.Create") and route template
// ("/connect/share-tokens/{id}/redeem", never an id), with the attempt number beside it
// ([AttemptFromContext]). Any http.RoundTripper given with [WithHTTPClient] can read
// them. The nested module github.com/persona-connect/connect-go/connectotel is one:
// its NewTransport makes an OpenTelemetry client span per attempt (and per redirect
// followed), named after the operation, with the HTTP semantic-convention attributes and the Request-Id, and
// records the http.client.request.duration histogram by operation, method and status;
// it records no key, request header, body, query or id (the one response header it
// records is Request-Id, the request's own id).
//
//	hc := &http.Client{Transport: connectotel.NewTransport(nil), Timeout: time.Minute}
//	client, err := connect.New(key, connect.WithHTTPClient(hc))
//
// # Options
//
// Four families of options share the With prefix. Each family is taken by one
// constructor or call, and the compiler refuses an option of one family where another
// is expected:
//
//   - [Option], for [New], configures the Client: [WithBaseURL], [WithHTTPClient],
//     [WithAPIVersion], [WithMaxRetries], [WithMaxRetryWait], [WithRetryBackoff],
//     [WithPollInterval], [WithUserAgent], [WithLogger].
//   - [RequestOption], for one call of any service method (List and Wait included) and
//     for [Client.Do], configures that call: [WithIdempotencyKey], [WithResponseInto],
//     and [WithOperation] (Client.Do only).
//   - [VerifierOption], for [NewVerifier]: [WithTolerance] and [WithClock], the
//     Verifier's clock (the client has none to set).
//   - [HandlerOption], for [NewWebhookHandler]: [WithDeduper], [WithLease],
//     [WithErrorHandler].
//
// Other packages of the module have their own: connecttest's With functions are
// ServerOptions for connecttest.NewServer (its WithClock is the fake Persona's clock),
// connectotel's are Options for its NewTransport, and pgdedupe's (WithTable,
// WithRetention) and redisdedupe's (WithPrefix, WithRetention) are Options for their
// New.
//
// # Testing with connecttest
//
// Package [github.com/persona-connect/connect-go/connecttest] runs an in-memory Persona
// Connect on loopback: organizations with API keys, connections, source objects, share
// tokens with their whole lifecycle and each side's view, asynchronous redemption that
// can fail, TTL expiry on a clock the test moves, idempotency keys, rate limits, the
// Events API, signed webhook deliveries with Persona's retries and secret rotation, and
// fault injection. Its Server.NewClient returns a Client acting as one organization:
//
//	srv := connecttest.NewServer()
//	defer srv.Close()
//	src, dst := srv.NewOrganization("Source"), srv.NewOrganization("Destination")
//	cxn, inq := srv.CreateConnection(src, dst), srv.CreateInquiry(src)
//	client, err := srv.NewClient(src)
//	if err != nil {
//		t.Fatal(err)
//	}
//	tok, err := client.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: inq})
//	if err != nil {
//		t.Fatal(err)
//	}
package connect
