package connect_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	connect "github.com/persona-connect/connect-go"
)

// operation is one SDK call with the request it must produce.
type operation struct {
	name    string
	call    call
	fixture string // response body
	status  int
	method  string
	path    string     // relative to the base URL
	query   url.Values // exact query; nil for none
	body    string     // spec fixture the body must equal; "" for no body
}

// operations lists every API operation of the SDK.
func operations() []operation {
	return []operation{
		{
			name: "ShareTokens.Create", call: createToken,
			fixture: "connect-share-token.json", status: http.StatusCreated,
			method: http.MethodPost, path: "/connect/share-tokens", body: "create-share-token.json",
		},
		{
			name: "ShareTokens.Get", call: onID(shareTokens, (*connect.ShareTokensService).Get).on("cnst_ABC123"),
			fixture: "connect-share-token-redeemed.json", status: http.StatusOK,
			method: http.MethodGet, path: "/connect/share-tokens/cnst_ABC123",
		},
		{
			name: "ShareTokens.Peek", call: onID(shareTokens, (*connect.ShareTokensService).Peek).on("cnst_ABC123"),
			fixture: "connect-share-token-redeemed.json", status: http.StatusOK,
			method: http.MethodGet, path: "/connect/share-tokens/cnst_ABC123",
			query: url.Values{"peek-source-data": {"true"}},
		},
		{
			name: "ShareTokens.Redeem clone", call: redeemWith("cnst_ABC123", connect.RedeemShareTokenParams{}),
			fixture: "connect-share-token-clone-object-pending.json", status: http.StatusAccepted,
			method: http.MethodPost, path: "/connect/share-tokens/cnst_ABC123/redeem", body: "redeem-share-token-clone-object.json",
		},
		{
			name: "ShareTokens.Redeem hydrate", call: redeemWith("cnst_DEF456", connect.RedeemShareTokenParams{DestinationID: "inq_XYZ789"}),
			fixture: "connect-share-token-hydrate-object-pending.json", status: http.StatusAccepted,
			method: http.MethodPost, path: "/connect/share-tokens/cnst_DEF456/redeem", body: "redeem-share-token-hydrate-object.json",
		},
		{
			name: "ShareTokens.Expire", call: onID(shareTokens, (*connect.ShareTokensService).Expire).on("cnst_ABC123"),
			fixture: "connect-share-token-expired.json", status: http.StatusOK,
			method: http.MethodPost, path: "/connect/share-tokens/cnst_ABC123/expire",
		},
		{
			name: "ShareTokens.List",
			call: listTokens(connect.ListShareTokensParams{
				ConnectionID: "cxn_ABC123", Status: connect.ShareTokenRedeemed, Direction: connect.Inbound, PageSize: 25,
			}),
			fixture: "connect-share-token-list.json", status: http.StatusOK,
			method: http.MethodGet, path: "/connect/share-tokens",
			query: url.Values{
				"filter[connection-id]": {"cxn_ABC123"}, "filter[status]": {"redeemed"},
				"filter[direction]": {"inbound"}, "page[size]": {"25"},
			},
		},
		{
			name: "ShareTokens.Wait", call: onID(shareTokens, (*connect.ShareTokensService).Wait).on("cnst_ABC123"),
			fixture: "connect-share-token-redeemed.json", status: http.StatusOK,
			method: http.MethodGet, path: "/connect/share-tokens/cnst_ABC123",
		},
		{
			name: "Connections.List",
			call: listConnections(connect.ListConnectionsParams{
				Status: connect.ConnectionActive, DestinationOrganizationID: "org_XYZ789", PageSize: 100,
			}),
			fixture: "connect-connection-list.json", status: http.StatusOK,
			method: http.MethodGet, path: "/connect/connections",
			query: url.Values{
				"filter[status]": {"active"}, "filter[destination-organization-id]": {"org_XYZ789"}, "page[size]": {"100"},
			},
		},
		{
			name: "Connections.Get", call: onID(connections, (*connect.ConnectionsService).Get).on("cxn_ABC123"),
			fixture: "connect-connection.json", status: http.StatusOK,
			method: http.MethodGet, path: "/connect/connections/cxn_ABC123",
		},
		{
			name: "Connections.Create", call: createConnectionWith(connect.CreateConnectionParams{DestinationOrganizationID: "org_XYZ789"}),
			fixture: "connect-connection.json", status: http.StatusCreated,
			method: http.MethodPost, path: "/connect/connections", body: "create-connection.json",
		},
		{
			name: "Connections.Deactivate", call: onID(connections, (*connect.ConnectionsService).Deactivate).on("cxn_ABC123"),
			fixture: "connect-connection-inactive.json", status: http.StatusOK,
			method: http.MethodPost, path: "/connect/connections/cxn_ABC123/deactivate",
		},
		{
			name: "Connections.Reactivate", call: onID(connections, (*connect.ConnectionsService).Reactivate).on("cxn_ABC123"),
			fixture: "connect-connection.json", status: http.StatusOK,
			method: http.MethodPost, path: "/connect/connections/cxn_ABC123/reactivate",
		},
		{
			name: "Events.List",
			call: listEvents(connect.ListEventsParams{
				Names:     []connect.EventName{connect.EventShareTokenInboundCreated, connect.EventInquiryCompleted},
				ObjectIDs: []string{"cnst_ABC123", "inq_ABC123"},
				EventIDs:  []string{"evt_1", "evt_2"},
				PageSize:  5,
			}),
			fixture: "events-list.json", status: http.StatusOK,
			method: http.MethodGet, path: "/events",
			query: url.Values{
				"filter[name]":      {"connect/share-token.inbound-created,inquiry.completed"},
				"filter[object-id]": {"cnst_ABC123,inq_ABC123"},
				"filter[id]":        {"evt_1,evt_2"},
				"page[size]":        {"5"},
			},
		},
		{
			name: "Events.Get", call: onID(events, (*connect.EventsService).Get).on("evt_ABC123"),
			fixture: "events-retrieve.json", status: http.StatusOK,
			method: http.MethodGet, path: "/events/evt_ABC123",
		},
	}
}

var randomIdempotencyKey = regexp.MustCompile(`^[0-9a-f]{32}$`)

// Every operation sends the right method, path, query, body and headers.
func TestOperationRequests(t *testing.T) {
	t.Parallel()
	defaultUA := "connect-go/" + connect.Version + " go/" + strings.TrimPrefix(runtime.Version(), "go")
	configs := []struct {
		name       string
		opts       []connect.Option
		reqOpts    []connect.RequestOption
		apiVersion string
		userAgent  string
		idemKey    string // "" = a random 32-hex key
	}{
		{name: "defaults", apiVersion: connect.DefaultAPIVersion, userAgent: defaultUA},
		{
			name:       "options",
			opts:       []connect.Option{connect.WithAPIVersion("2023-01-05"), connect.WithUserAgent("acme-backend/1.4")},
			reqOpts:    []connect.RequestOption{connect.WithIdempotencyKey("order-42-share")},
			apiVersion: "2023-01-05",
			userAgent:  defaultUA + " acme-backend/1.4",
			idemKey:    "order-42-share",
		},
	}
	for _, cfg := range configs {
		for _, op := range operations() {
			t.Run(cfg.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				c, mt := setup(t, cfg.opts...)
				var want []byte
				if op.body != "" {
					want = specFixture(t, op.body)
				}
				answer := respond(op.status, specFixture(t, op.fixture))
				mt.RegisterResponder(op.method, mockURL(op.path), func(r *http.Request) (*http.Response, error) {
					testQuery(t, r, op.query)
					testHeader(t, r, "Authorization", "Bearer "+testAPIKey)
					testHeader(t, r, "Persona-Version", cfg.apiVersion)
					testHeader(t, r, "Key-Inflection", "kebab")
					testHeader(t, r, "Accept", "application/json")
					testHeader(t, r, "User-Agent", cfg.userAgent)
					if want != nil {
						testHeader(t, r, "Content-Type", "application/json")
						testJSONBody(t, r, want)
					} else {
						testHeader(t, r, "Content-Type", "")
						if b := requestBody(t, r); len(b) != 0 {
							t.Errorf("body = %q, want none", b)
						}
					}
					switch {
					case op.method != http.MethodPost:
						testHeader(t, r, "Idempotency-Key", "")
					case cfg.idemKey != "":
						testHeader(t, r, "Idempotency-Key", cfg.idemKey)
					default:
						if k := r.Header.Get("Idempotency-Key"); !randomIdempotencyKey.MatchString(k) {
							t.Errorf("Idempotency-Key = %q, want 32 lower-case hex digits", k)
						}
					}
					return answer(r)
				})
				if err := op.call(ctxT(t), c, cfg.reqOpts...); err != nil {
					t.Fatalf("call: %v", err)
				}
				if n := calls(mt, op.method, op.path); n != 1 {
					t.Errorf("%s %s sent %d times, want once", op.method, op.path, n)
				}
			})
		}
	}
}

// Each logical POST gets its own random key.
func TestIdempotencyKeyIsRandomPerCall(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	seen := map[string]bool{}
	answer := respond(http.StatusOK, specFixture(t, "connect-share-token-expired.json"))
	mt.RegisterResponder(http.MethodPost, mockURL("/connect/share-tokens/cnst_ABC123/expire"), func(r *http.Request) (*http.Response, error) {
		seen[r.Header.Get("Idempotency-Key")] = true // one call at a time
		return answer(r)
	})
	for range 3 {
		if _, err := c.ShareTokens.Expire(ctxT(t), "cnst_ABC123"); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 3 {
		t.Errorf("3 calls used %d distinct idempotency keys, want 3: %v", len(seen), seen)
	}
}

// Request bodies are the spec's request examples, and hydrate field mappings follow
// the redeem path's schema.
func TestRequestBodiesMatchSpec(t *testing.T) {
	t.Parallel()
	const (
		redeemABC = "/connect/share-tokens/cnst_ABC123/redeem"
		redeemDEF = "/connect/share-tokens/cnst_DEF456/redeem"
	)
	fieldMappings := []connect.FieldMapping{
		{SourceFieldName: "address_street_1", DestinationFieldName: "street_address"},
		{SourceFieldName: "birthdate", DestinationFieldName: "date_of_birth"},
	}
	tests := []struct {
		name string
		path string // relative to the base URL
		call call
		want [][]byte // every one is the body: the spec may give a request twice
	}{
		{"create share token", createTokenPath, createToken,
			[][]byte{specFixture(t, "create-share-token.json")}},
		{"create share token with the shortest TTL", createTokenPath, createWith(connect.CreateShareTokenParams{ConnectionID: "cxn_ABC123", SourceID: "act_ABC123", ExpiresIn: time.Minute}),
			[][]byte{[]byte(`{"data":{"attributes":{"connection-id":"cxn_ABC123","source-id":"act_ABC123","expires-in-seconds":60}}}`)}},
		{"create share token with the longest TTL", createTokenPath, createWith(connect.CreateShareTokenParams{ConnectionID: "cxn_ABC123", SourceID: "ver_ABC123", ExpiresIn: 21 * 24 * time.Hour}),
			[][]byte{[]byte(`{"data":{"attributes":{"connection-id":"cxn_ABC123","source-id":"ver_ABC123","expires-in-seconds":1814400}}}`)}},
		{"redeem clone", redeemABC, redeemWith("cnst_ABC123", connect.RedeemShareTokenParams{}), [][]byte{
			specFixture(t, "redeem-share-token-clone-object.json"),
			specFixture(t, "redeem-share-token.x-fern-examples.clone-an-object.request.json"),
		}},
		{"redeem hydrate", redeemDEF, redeemWith("cnst_DEF456", connect.RedeemShareTokenParams{DestinationID: "inq_XYZ789"}), [][]byte{
			specFixture(t, "redeem-share-token-hydrate-object.json"),
			specFixture(t, "redeem-share-token.x-fern-examples.hydrate-an-object.request.json"),
		}},
		{"redeem hydrate with field mappings", redeemDEF, redeemWith("cnst_DEF456", connect.RedeemShareTokenParams{DestinationID: "inq_XYZ789", FieldMappings: fieldMappings}),
			[][]byte{[]byte(`{"data":{"attributes":{"destination-id":"inq_XYZ789"}},"meta":{"field-mappings":[
				{"source-field-name":"address_street_1","destination-field-name":"street_address"},
				{"source-field-name":"birthdate","destination-field-name":"date_of_birth"}]}}`)}},
		{"create connection", "/connect/connections", createConnectionWith(connect.CreateConnectionParams{DestinationOrganizationID: "org_XYZ789"}),
			[][]byte{specFixture(t, "create-connection.json")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			answer := respond(http.StatusOK, specFixture(t, "connect-share-token-hydrate-object-pending.json"))
			if tt.path == "/connect/connections" {
				answer = respond(http.StatusCreated, specFixture(t, "connect-connection.json"))
			}
			mt.RegisterResponder(http.MethodPost, mockURL(tt.path), func(r *http.Request) (*http.Response, error) {
				body := requestBody(t, r)
				for i, want := range tt.want {
					testJSON(t, fmt.Sprintf("body against example %d", i+1), body, want)
				}
				return answer(r)
			})
			if err := tt.call(ctxT(t), c); err != nil {
				t.Fatalf("call: %v", err)
			}
			if n := calls(mt, http.MethodPost, tt.path); n != 1 {
				t.Errorf("POST %s sent %d times, want once", tt.path, n)
			}
		})
	}
}
