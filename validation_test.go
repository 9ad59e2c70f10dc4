package connect_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// badIDs are IDs that must never reach a URL path or a body, whatever their prefix.
var badIDs = map[string]string{
	"empty":               "",
	"space":               " ",
	"whitespace":          " \t\n",
	"slash":               "%s/b",
	"question mark":       "%s?b=1",
	"hash":                "%s#b",
	"percent":             "%s%%2F",
	"backslash":           `%s\b`,
	"dot-dot":             "..",
	"dot":                 ".",
	"NUL":                 "%s\x00",
	"newline":             "%s\nb",
	"DEL":                 "%s\x7f",
	"inner space":         "%s b",
	"leading space":       " %s",
	"unicode line break":  "%s\u2028",
	"path traversal":      "%s/../../admin",
	"encoded traversal":   "%s%%2e%%2e",
	"tab":                 "%s\tb",
	"non-breaking space":  "%s\u00a0",
	"carriage return":     "%s\rb",
	"escape":              "%s\x1b",
	"query in the middle": "%s?x#y",
}

// errNotApplicable marks a bad-ID case that does not apply to a call.
var errNotApplicable = errors.New("not applicable")

// withPrefix fills a badIDs pattern with a valid-looking id.
func withPrefix(pattern, id string) string {
	if strings.Contains(pattern, "%s") {
		return strings.ReplaceAll(strings.ReplaceAll(pattern, "%s", id), "%%", "%")
	}
	return pattern
}

// Every call refuses a bad ID with ErrInvalidParams naming the field, before any I/O.
func TestBadIDsRefusedBeforeIO(t *testing.T) {
	t.Parallel()
	calls := []struct {
		name  string
		field string
		valid string
		call  idCall
	}{
		{"ShareTokens.Get", "share token id", "cnst_A", onID(shareTokens, (*connect.ShareTokensService).Get)},
		{"ShareTokens.Peek", "share token id", "cnst_A", onID(shareTokens, (*connect.ShareTokensService).Peek)},
		{"ShareTokens.Redeem", "share token id", "cnst_A", func(ctx context.Context, c *connect.Client, id string, _ ...connect.RequestOption) error {
			_, err := c.ShareTokens.Redeem(ctx, id, connect.RedeemShareTokenParams{})
			return err
		}},
		{"ShareTokens.Expire", "share token id", "cnst_A", onID(shareTokens, (*connect.ShareTokensService).Expire)},
		{"ShareTokens.Wait", "share token id", "cnst_A", onID(shareTokens, (*connect.ShareTokensService).Wait)},
		{"Create ConnectionID", "ConnectionID", "cxn_A", func(ctx context.Context, c *connect.Client, id string, _ ...connect.RequestOption) error {
			_, err := c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: id, SourceID: "inq_A"})
			return err
		}},
		{"Create SourceID", "SourceID", "inq_A", func(ctx context.Context, c *connect.Client, id string, _ ...connect.RequestOption) error {
			_, err := c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: "cxn_A", SourceID: id})
			return err
		}},
		{"Redeem DestinationID", "DestinationID", "act_A", func(ctx context.Context, c *connect.Client, id string, _ ...connect.RequestOption) error {
			if id == "" {
				return errNotApplicable // an empty DestinationID means clone: valid
			}
			_, err := c.ShareTokens.Redeem(ctx, "cnst_A", connect.RedeemShareTokenParams{DestinationID: id})
			return err
		}},
		{"Connections.Get", "connection id", "cxn_A", onID(connections, (*connect.ConnectionsService).Get)},
		{"Connections.Deactivate", "connection id", "cxn_A", onID(connections, (*connect.ConnectionsService).Deactivate)},
		{"Connections.Reactivate", "connection id", "cxn_A", onID(connections, (*connect.ConnectionsService).Reactivate)},
		{"Connections.Create", "DestinationOrganizationID", "org_A", func(ctx context.Context, c *connect.Client, id string, _ ...connect.RequestOption) error {
			_, err := c.Connections.Create(ctx, connect.CreateConnectionParams{DestinationOrganizationID: id})
			return err
		}},
		{"Events.Get", "event id", "evt_A", onID(events, (*connect.EventsService).Get)},
	}
	for _, call := range calls {
		t.Run(call.name, func(t *testing.T) {
			t.Parallel()
			c := noIOClient(t)
			for name, pattern := range badIDs {
				id := withPrefix(pattern, call.valid)
				err := call.call(ctxT(t), c, id)
				if errors.Is(err, errNotApplicable) {
					continue
				}
				checkInvalid(t, name+" "+strings.ToValidUTF8(id, "?"), err, call.field)
			}
		})
	}
}

func checkInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	switch {
	case !errors.Is(err, connect.ErrInvalidParams):
		t.Errorf("%s: error = %v, want ErrInvalidParams", what, err)
	case !strings.Contains(err.Error(), field):
		t.Errorf("%s: error %q does not name the field %q", what, err, field)
	}
}

// Other validation rules: prefixes, TTL, field mappings, filters, idempotency keys.
func TestInvalidParamsRefusedBeforeIO(t *testing.T) {
	t.Parallel()
	redeem := func(p connect.RedeemShareTokenParams) call { return redeemWith("cnst_A", p) }
	tests := []struct {
		name  string
		field string
		call  call
	}{
		{"share token id as source", "SourceID", createWith(connect.CreateShareTokenParams{ConnectionID: "cxn_A", SourceID: "cnst_A"})},
		{"connection id as source", "SourceID", createWith(connect.CreateShareTokenParams{ConnectionID: "cxn_A", SourceID: "cxn_A"})},
		{"inquiry id as connection", "ConnectionID", createWith(connect.CreateShareTokenParams{ConnectionID: "inq_A", SourceID: "inq_A"})},
		{"upper-case prefix", "ConnectionID", createWith(connect.CreateShareTokenParams{ConnectionID: "CXN_A", SourceID: "inq_A"})},
		{"TTL 59s", "ExpiresIn", createWith(connect.CreateShareTokenParams{ConnectionID: "cxn_A", SourceID: "inq_A", ExpiresIn: 59 * time.Second})},
		{"TTL 1ns", "ExpiresIn", createWith(connect.CreateShareTokenParams{ConnectionID: "cxn_A", SourceID: "inq_A", ExpiresIn: 1})},
		{"TTL negative", "ExpiresIn", createWith(connect.CreateShareTokenParams{ConnectionID: "cxn_A", SourceID: "inq_A", ExpiresIn: -time.Hour})},
		{"TTL 21 days and 1s", "ExpiresIn", createWith(connect.CreateShareTokenParams{ConnectionID: "cxn_A", SourceID: "inq_A", ExpiresIn: 21*24*time.Hour + time.Second})},
		{"TTL not whole seconds", "ExpiresIn", createWith(connect.CreateShareTokenParams{ConnectionID: "cxn_A", SourceID: "inq_A", ExpiresIn: 90*time.Second + 500*time.Millisecond})},
		{"verification as hydrate destination", "DestinationID", redeem(connect.RedeemShareTokenParams{DestinationID: "ver_A"})},
		{"share token as hydrate destination", "DestinationID", redeem(connect.RedeemShareTokenParams{DestinationID: "cnst_A"})},
		{"field mappings without destination", "FieldMappings", redeem(connect.RedeemShareTokenParams{
			FieldMappings: []connect.FieldMapping{{SourceFieldName: "a", DestinationFieldName: "b"}}})},
		{"field mapping without source name", "FieldMappings[1].SourceFieldName", redeem(connect.RedeemShareTokenParams{DestinationID: "inq_A",
			FieldMappings: []connect.FieldMapping{{SourceFieldName: "a", DestinationFieldName: "b"}, {SourceFieldName: " ", DestinationFieldName: "b"}}})},
		{"field mapping without destination name", "FieldMappings[0].DestinationFieldName", redeem(connect.RedeemShareTokenParams{DestinationID: "inq_A",
			FieldMappings: []connect.FieldMapping{{SourceFieldName: "a"}}})},
		{"org id of the wrong kind", "DestinationOrganizationID", createConnectionWith(connect.CreateConnectionParams{DestinationOrganizationID: "cxn_A"})},
		{"share token list: unknown status", "Status", listTokens(connect.ListShareTokensParams{Status: "archived"})},
		{"share token list: unknown direction", "Direction", listTokens(connect.ListShareTokensParams{Direction: "sideways"})},
		{"share token list: inquiry as connection", "ConnectionID", listTokens(connect.ListShareTokensParams{ConnectionID: "inq_A"})},
		{"share token list: connection with a path", "ConnectionID", listTokens(connect.ListShareTokensParams{ConnectionID: "cxn_A/../x"})},
		{"connection list: unknown status", "Status", listConnections(connect.ListConnectionsParams{Status: "Active"})},
		{"connection list: wrong organization prefix", "DestinationOrganizationID", listConnections(connect.ListConnectionsParams{DestinationOrganizationID: "cxn_A"})},
		{"event list: empty name", "Names[1]", listEvents(connect.ListEventsParams{Names: []connect.EventName{connect.EventInquiryApproved, " "}})},
		{"event list: name with a comma", "Names[0]", listEvents(connect.ListEventsParams{Names: []connect.EventName{"inquiry.approved,inquiry.failed"}})},
		{"event list: object id with a comma", "ObjectIDs[0]", listEvents(connect.ListEventsParams{ObjectIDs: []string{"inq_A,inq_B"}})},
		{"event list: object id with a slash", "ObjectIDs[0]", listEvents(connect.ListEventsParams{ObjectIDs: []string{"inq_A/x"}})},
		{"event list: object id ..", "ObjectIDs[1]", listEvents(connect.ListEventsParams{ObjectIDs: []string{"inq_A", ".."}})},
		{"event list: share token as event id", "EventIDs[0]", listEvents(connect.ListEventsParams{EventIDs: []string{"cnst_A"}})},
		{"idempotency key: blank", "idempotency key", call(createToken).with(connect.WithIdempotencyKey("  "))},
		{"idempotency key: newline", "idempotency key", call(createToken).with(connect.WithIdempotencyKey("a\r\nX-Injected: 1"))},
		{"idempotency key: too long", "idempotency key", call(createToken).with(connect.WithIdempotencyKey(strings.Repeat("k", 256)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := noIOClient(t)
			checkInvalid(t, tt.name, tt.call(ctxT(t), c), tt.field)
		})
	}
}

// A list with bad params yields its error once and stops, still before any I/O.
func TestListBadParamsYieldOneError(t *testing.T) {
	t.Parallel()
	c := noIOClient(t)
	n := 0
	for tok, err := range c.ShareTokens.List(ctxT(t), &connect.ListShareTokensParams{Status: "nope"}) {
		n++
		if tok != nil || !errors.Is(err, connect.ErrInvalidParams) {
			t.Errorf("pair %d = (%v, %v), want (nil, ErrInvalidParams)", n, tok, err)
		}
	}
	if n != 1 {
		t.Errorf("iterator yielded %d pairs, want 1", n)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		key   string
		opts  []connect.Option
		field string // "" = valid
	}{
		{name: "empty key", key: "", field: "API key"},
		{name: "blank key", key: " \t", field: "API key"},
		{name: "multi-line key", key: "abc\r\nX-Evil: 1", field: "API key"},
		{name: "defaults", key: "k"},
		{name: "http non-loopback", key: "k", opts: []connect.Option{connect.WithBaseURL("http://api.withpersona.com/api/v1")}, field: "base URL"},
		{name: "http private address", key: "k", opts: []connect.Option{connect.WithBaseURL("http://10.0.0.8:8080/api/v1")}, field: "base URL"},
		{name: "http lookalike of localhost", key: "k", opts: []connect.Option{connect.WithBaseURL("http://localhost.evil.example/api/v1")}, field: "base URL"},
		{name: "http lookalike of 127.0.0.1", key: "k", opts: []connect.Option{connect.WithBaseURL("http://127.0.0.1.evil.example/api/v1")}, field: "base URL"},
		{name: "ftp", key: "k", opts: []connect.Option{connect.WithBaseURL("ftp://127.0.0.1/api/v1")}, field: "base URL"},
		{name: "relative", key: "k", opts: []connect.Option{connect.WithBaseURL("/api/v1")}, field: "base URL"},
		{name: "user info", key: "k", opts: []connect.Option{connect.WithBaseURL("https://user:pass@api.withpersona.com/api/v1")}, field: "base URL"},
		{name: "query", key: "k", opts: []connect.Option{connect.WithBaseURL("https://api.withpersona.com/api/v1?x=1")}, field: "base URL"},
		{name: "https", key: "k", opts: []connect.Option{connect.WithBaseURL("https://api.withpersona.com/api/v1/")}},
		{name: "http localhost", key: "k", opts: []connect.Option{connect.WithBaseURL("http://localhost:8080/api/v1")}},
		{name: "http LOCALHOST", key: "k", opts: []connect.Option{connect.WithBaseURL("http://LOCALHOST:8080/api/v1")}},
		{name: "http 127.0.0.1", key: "k", opts: []connect.Option{connect.WithBaseURL("http://127.0.0.1:8080/api/v1")}},
		{name: "http 127.9.9.9", key: "k", opts: []connect.Option{connect.WithBaseURL("http://127.9.9.9/api/v1")}},
		{name: "http [::1]", key: "k", opts: []connect.Option{connect.WithBaseURL("http://[::1]:9/api/v1")}},
		{name: "nil HTTP client", key: "k", opts: []connect.Option{connect.WithHTTPClient(nil)}, field: "HTTP client"},
		{name: "negative retries", key: "k", opts: []connect.Option{connect.WithMaxRetries(-1)}, field: "max retries"},
		{name: "zero max wait", key: "k", opts: []connect.Option{connect.WithMaxRetryWait(0)}, field: "max retry wait"},
		{name: "backoff max under initial", key: "k", opts: []connect.Option{connect.WithRetryBackoff(time.Second, time.Millisecond)}, field: "retry backoff"},
		{name: "zero poll interval", key: "k", opts: []connect.Option{connect.WithPollInterval(0)}, field: "poll interval"},
		{name: "blank API version", key: "k", opts: []connect.Option{connect.WithAPIVersion(" ")}, field: "API version"},
		{name: "multi-line user agent", key: "k", opts: []connect.Option{connect.WithUserAgent("a\nb")}, field: "user agent"},
		{name: "nil logger", key: "k", opts: []connect.Option{connect.WithLogger(nil)}, field: "logger"},
		{name: "first bad option wins", key: "k", opts: []connect.Option{connect.WithMaxRetries(-1), connect.WithHTTPClient(nil)}, field: "max retries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := connect.New(tt.key, tt.opts...)
			if tt.field == "" {
				if err != nil || c == nil {
					t.Fatalf("New = %v, %v; want a client", c, err)
				}
				return
			}
			if c != nil {
				t.Errorf("New returned a client with an error")
			}
			checkInvalid(t, tt.name, err, tt.field)
		})
	}
}

// A loopback base URL is really used: connecttest's plain-http server works.
func TestLoopbackBaseURLWorks(t *testing.T) {
	t.Parallel()
	srv := newPersona(t)
	c, err := srv.NewClient(srv.src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Connections.Get(ctxT(t), srv.cxn)
	if err != nil || got.ID != srv.cxn {
		t.Fatalf("Get over loopback http = %v, %v; want %s", got, err, srv.cxn)
	}
}

// A control character in the API key, the user agent or the API version is refused by
// New. net/http would refuse the header value on every request, and the SDK would
// retry that "network error" with backoff before failing the same way.
func TestNewRefusesControlCharacters(t *testing.T) {
	t.Parallel()
	controls := map[string]string{
		"NUL": "\x00", "tab": "\t", "ESC": "\x1b", "unit separator": "\x1f", "DEL": "\x7f", "C1 NEL": "\u0085",
	}
	for name, c := range controls {
		for _, tt := range []struct {
			field string
			new   func() (*connect.Client, error)
		}{
			{"API key", func() (*connect.Client, error) { return connect.New("key" + c + "rest") }},
			{"user agent", func() (*connect.Client, error) { return connect.New("k", connect.WithUserAgent("acme"+c+"1.0")) }},
			{"API version", func() (*connect.Client, error) { return connect.New("k", connect.WithAPIVersion("2025"+c+"12-08")) }},
		} {
			t.Run(tt.field+"/"+name, func(t *testing.T) {
				t.Parallel()
				client, err := tt.new()
				if client != nil {
					t.Errorf("New returned a client with a control character in the %s", tt.field)
				}
				checkInvalid(t, tt.field, err, tt.field)
				if err != nil && strings.Contains(err.Error(), "rest") {
					t.Errorf("error %q quotes the API key", err)
				}
			})
		}
	}
}
