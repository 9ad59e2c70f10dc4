package connect_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	connect "github.com/persona-connect/connect-go"
	"github.com/persona-connect/connect-go/internal/spectest"
)

// The spec's share token examples, decoded field by field (specFixture names them).
func TestShareTokenSpecExamplesDecode(t *testing.T) {
	t.Parallel()
	created := ptime(t, "2023-08-17T23:18:13.000Z")
	pending := ptime(t, "2023-08-17T23:25:00.000Z")
	cxn := "cxn_ABC123"
	get := func(ctx context.Context, c *connect.Client) (*connect.ShareToken, error) {
		return c.ShareTokens.Get(ctx, "cnst_ABC123")
	}
	redeemClone := func(ctx context.Context, c *connect.Client) (*connect.ShareToken, error) {
		return c.ShareTokens.Redeem(ctx, "cnst_ABC123", connect.RedeemShareTokenParams{})
	}
	redeemHydrate := func(ctx context.Context, c *connect.Client) (*connect.ShareToken, error) {
		return c.ShareTokens.Redeem(ctx, "cnst_DEF456", connect.RedeemShareTokenParams{DestinationID: "inq_XYZ789"})
	}
	clonePending := &connect.ShareToken{
		ID: "cnst_ABC123", Status: connect.ShareTokenPending, Direction: connect.Inbound,
		RedeemMode: connect.RedeemClone, CreatedAt: *created, UpdatedAt: *pending,
		PendingAt: pending, ConnectionID: cxn,
	}
	hydratePending := &connect.ShareToken{
		ID: "cnst_DEF456", Status: connect.ShareTokenPending, Direction: connect.Inbound,
		RedeemMode: connect.RedeemHydrate, CreatedAt: *created, UpdatedAt: *pending,
		PendingAt: pending, ConnectionID: cxn,
		Destination: &connect.Ref{Type: "inquiry", ID: "inq_XYZ789"},
	}
	const redeemHydratePath = "/connect/share-tokens/cnst_DEF456/redeem"
	testSpecExamples(t, []specExample[*connect.ShareToken]{
		{
			fixture: "connect-share-token.json",
			status:  http.StatusCreated, method: http.MethodPost, path: createTokenPath,
			call: func(ctx context.Context, c *connect.Client) (*connect.ShareToken, error) {
				return c.ShareTokens.Create(ctx, connect.CreateShareTokenParams{ConnectionID: cxn, SourceID: "inq_ABC123"})
			},
			want: &connect.ShareToken{
				ID: "cnst_ABC123", Status: connect.ShareTokenCreated, Direction: connect.Outbound,
				CreatedAt: *created, UpdatedAt: *created, ConnectionID: cxn,
				Creator: &connect.Ref{Type: "user", ID: "user_ABC123"},
				Source:  &connect.Ref{Type: "inquiry", ID: "inq_ABC123"},
			},
		},
		{
			fixture: "connect-share-token-expired.json",
			status:  http.StatusOK, method: http.MethodPost, path: getTokenPath + "/expire",
			call: func(ctx context.Context, c *connect.Client) (*connect.ShareToken, error) {
				return c.ShareTokens.Expire(ctx, "cnst_ABC123")
			},
			want: &connect.ShareToken{
				ID: "cnst_ABC123", Status: connect.ShareTokenExpired, Direction: connect.Outbound,
				CreatedAt: *created, UpdatedAt: *ptime(t, "2023-08-18T23:18:13.000Z"),
				ExpiresAt:    ptime(t, "2023-08-18T23:18:13.000Z"),
				ConnectionID: cxn,
				Creator:      &connect.Ref{Type: "api-key", ID: "api_ABC123"},
				Source:       &connect.Ref{Type: "inquiry", ID: "inq_ABC123"},
			},
		},
		{
			fixture: "connect-share-token-failed.json",
			status:  http.StatusOK, method: http.MethodGet, path: getTokenPath,
			call: get,
			want: &connect.ShareToken{
				ID: "cnst_ABC123", Status: connect.ShareTokenFailed, Direction: connect.Inbound,
				RedeemMode: connect.RedeemHydrate, FailureReason: connect.FailureImportFailed,
				CreatedAt: *created, UpdatedAt: *ptime(t, "2023-08-17T23:35:20.000Z"),
				PendingAt:    ptime(t, "2023-08-17T23:30:15.000Z"),
				FailedAt:     ptime(t, "2023-08-17T23:35:20.000Z"),
				ConnectionID: cxn,
				Destination:  &connect.Ref{Type: "inquiry", ID: "inq_XYZ789"},
			},
		},
		{
			fixture: "connect-share-token-redeemed.json",
			status:  http.StatusOK, method: http.MethodGet, path: getTokenPath,
			call: get,
			want: &connect.ShareToken{
				ID: "cnst_ABC123", Status: connect.ShareTokenRedeemed, Direction: connect.Inbound,
				RedeemMode: connect.RedeemHydrate,
				CreatedAt:  *created, UpdatedAt: *ptime(t, "2023-08-17T23:30:15.000Z"),
				PendingAt:    pending,
				RedeemedAt:   ptime(t, "2023-08-17T23:30:15.000Z"),
				ConnectionID: cxn,
				Destination:  &connect.Ref{Type: "inquiry", ID: "inq_XYZ789"},
			},
		},
		{fixture: "connect-share-token-clone-object-pending.json", status: http.StatusAccepted, method: http.MethodPost, path: getTokenPath + "/redeem", call: redeemClone, want: clonePending},
		{fixture: "redeem-share-token.x-fern-examples.clone-an-object.response.json", status: http.StatusAccepted, method: http.MethodPost, path: getTokenPath + "/redeem", call: redeemClone, want: clonePending},
		{fixture: "connect-share-token-hydrate-object-pending.json", status: http.StatusAccepted, method: http.MethodPost, path: redeemHydratePath, call: redeemHydrate, want: hydratePending},
		{fixture: "redeem-share-token.x-fern-examples.hydrate-an-object.response.json", status: http.StatusAccepted, method: http.MethodPost, path: redeemHydratePath, call: redeemHydrate, want: hydratePending},
	}, func(t *testing.T, got *connect.ShareToken) {
		if got.Terminal() != (got.Status == connect.ShareTokenRedeemed || got.Status == connect.ShareTokenExpired || got.Status == connect.ShareTokenFailed) {
			t.Errorf("Terminal() = %v for status %s", got.Terminal(), got.Status)
		}
	})
}

// specExample is a response example of the spec, the call it answers and what that
// call must decode it to.
type specExample[T any] struct {
	name         string // of the subtest; the fixture's when empty
	fixture      string
	status       int
	method, path string // of the call, the path relative to the base URL
	call         func(context.Context, *connect.Client) (T, error)
	want         T
}

// testSpecExamples runs each example as a subtest: the fake answers its call with the
// fixture, and what the call returns must equal want. check, when not nil, looks
// further at what it returned.
func testSpecExamples[T any](t *testing.T, examples []specExample[T], check func(*testing.T, T)) {
	t.Helper()
	for _, ex := range examples {
		name := ex.name
		if name == "" {
			name = ex.fixture
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(ex.method, mockURL(ex.path), respond(ex.status, specFixture(t, ex.fixture)))
			got, err := ex.call(ctxT(t), c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if diff := cmp.Diff(ex.want, got); diff != "" {
				t.Errorf("decoded %T mismatch (-want +got):\n%s", got, diff)
			}
			if check != nil {
				check(t, got)
			}
		})
	}
}

func TestShareTokenListSpecExampleDecodes(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	// The example's next link is followed; the second page is empty.
	mt.RegisterResponder(http.MethodGet, mockURL(createTokenPath), respond(http.StatusOK, specFixture(t, "connect-share-token-list.json")))
	mt.RegisterResponderWithQuery(http.MethodGet, mockURL(createTokenPath), "page[after]=cnst_ABC456", respond(http.StatusOK, emptyPage))
	got, err := collectAll(c.ShareTokens.List(ctxT(t), nil))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	created := ptime(t, "2023-08-17T23:18:13.000Z")
	want := []*connect.ShareToken{
		{
			ID: "cnst_ABC123", Status: connect.ShareTokenCreated, Direction: connect.Outbound,
			CreatedAt: *created, UpdatedAt: *created, ConnectionID: "cxn_ABC123",
			Creator: &connect.Ref{Type: "api-key", ID: "api_ABC123"},
			Source:  &connect.Ref{Type: "inquiry", ID: "inq_ABC123"},
		},
		{
			ID: "cnst_ABC456", Status: connect.ShareTokenRedeemed, Direction: connect.Inbound,
			RedeemMode: connect.RedeemHydrate,
			CreatedAt:  *created, UpdatedAt: *ptime(t, "2023-08-17T23:30:15.000Z"),
			PendingAt:    ptime(t, "2023-08-17T23:25:00.000Z"),
			RedeemedAt:   ptime(t, "2023-08-17T23:30:15.000Z"),
			ConnectionID: "cxn_ABC123",
			Destination:  &connect.Ref{Type: "inquiry", ID: "inq_XYZ789"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List mismatch (-want +got):\n%s", diff)
	}
	if n := mt.GetTotalCallCount(); n != 2 {
		t.Errorf("sent %d requests, want 2 (the example's page, then the one its next link names)", n)
	}
}

// emptyPage is the last page of a list.
var emptyPage = []byte(`{"data":[],"links":{"prev":null,"next":null}}`)

func TestConnectionSpecExamplesDecode(t *testing.T) {
	t.Parallel()
	at := *ptime(t, "2018-06-01T00:00:00.000Z")
	pendingCxn := &connect.Connection{
		ID: "cxn_ABC123", Status: connect.ConnectionPending,
		SourceOrganizationID: "org_ABC123", DestinationOrganizationID: "org_XYZ789",
		CreatedAt: at, UpdatedAt: at,
	}
	inactiveCxn := *pendingCxn
	inactiveCxn.Status = connect.ConnectionInactive
	testSpecExamples(t, []specExample[*connect.Connection]{
		{"Get", "connect-connection.json", http.StatusOK, http.MethodGet, "/connect/connections/cxn_ABC123", func(ctx context.Context, c *connect.Client) (*connect.Connection, error) {
			return c.Connections.Get(ctx, "cxn_ABC123")
		}, pendingCxn},
		{"Create", "connect-connection.json", http.StatusCreated, http.MethodPost, "/connect/connections", func(ctx context.Context, c *connect.Client) (*connect.Connection, error) {
			return c.Connections.Create(ctx, connect.CreateConnectionParams{DestinationOrganizationID: "org_XYZ789"})
		}, pendingCxn},
		{"Reactivate", "connect-connection.json", http.StatusOK, http.MethodPost, "/connect/connections/cxn_ABC123/reactivate", func(ctx context.Context, c *connect.Client) (*connect.Connection, error) {
			return c.Connections.Reactivate(ctx, "cxn_ABC123")
		}, pendingCxn},
		{"Deactivate", "connect-connection-inactive.json", http.StatusOK, http.MethodPost, "/connect/connections/cxn_ABC123/deactivate", func(ctx context.Context, c *connect.Client) (*connect.Connection, error) {
			return c.Connections.Deactivate(ctx, "cxn_ABC123")
		}, &inactiveCxn},
	}, nil)
}

func TestConnectionListSpecExampleDecodes(t *testing.T) {
	t.Parallel()
	c, mt := setup(t)
	mt.RegisterResponder(http.MethodGet, mockURL("/connect/connections"), respond(http.StatusOK, specFixture(t, "connect-connection-list.json")))
	mt.RegisterResponderWithQuery(http.MethodGet, mockURL("/connect/connections"), "page[after]=cxn_XYZ789", respond(http.StatusOK, emptyPage))
	got, err := collectAll(c.Connections.List(ctxT(t), nil))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	at := *ptime(t, "2018-06-01T00:00:00.000Z")
	want := []*connect.Connection{
		{ID: "cxn_ABC123", Status: connect.ConnectionActive, SourceOrganizationID: "org_ABC123", DestinationOrganizationID: "org_XYZ789", CreatedAt: at, UpdatedAt: at},
		{ID: "cxn_XYZ789", Status: connect.ConnectionPending, SourceOrganizationID: "org_XYZ789", DestinationOrganizationID: "org_ABC123", CreatedAt: at, UpdatedAt: at},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("List mismatch (-want +got):\n%s", diff)
	}
	if n := mt.GetTotalCallCount(); n != 2 {
		t.Errorf("sent %d requests, want 2 (the example's page, then the one its next link names)", n)
	}
}

// eventView is what the tests compare of an Event: the raw members as decoded JSON, so
// that formatting does not matter.
type eventView struct {
	ID        string
	Name      connect.EventName
	CreatedAt time.Time
	Object    connect.Ref
	Data      any
	Included  int
	Context   any
}

func viewEvent(t testing.TB, e *connect.Event) eventView {
	t.Helper()
	v := eventView{ID: e.ID, Name: e.Name, CreatedAt: e.CreatedAt, Object: e.Object, Included: len(e.Included)}
	if e.Data != nil {
		if err := json.Unmarshal(e.Data, &v.Data); err != nil {
			t.Fatalf("event data: %v", err)
		}
	}
	if e.Context != nil {
		if err := json.Unmarshal(e.Context, &v.Context); err != nil {
			t.Fatalf("event context: %v", err)
		}
	}
	return v
}

func TestEventSpecExamplesDecode(t *testing.T) {
	t.Parallel()
	expired := eventView{
		ID: "evt_ABC123", Name: "inquiry.expired", CreatedAt: *ptime(t, "2023-09-23T17:14:01.918Z"),
		Object: connect.Ref{Type: "inquiry", ID: "inq_ABC123"},
		Data:   map[string]any{"type": "inquiry", "id": "inq_ABC123", "attributes": map[string]any{}},
	}
	tagAdded := eventView{
		ID: "evt_ABC123", Name: "account.tag-added", CreatedAt: *ptime(t, "2023-09-23T00:46:41.877Z"),
		Object: connect.Ref{Type: "account", ID: "act_ABC123"},
		Data:   map[string]any{"type": "account", "id": "act_ABC123", "attributes": map[string]any{}},
	}

	t.Run("Get", func(t *testing.T) {
		t.Parallel()
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodGet, mockURL("/events/evt_ABC123"), respond(http.StatusOK, specFixture(t, "events-retrieve.json")))
		got, err := c.Events.Get(ctxT(t), "evt_ABC123")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if diff := cmp.Diff(expired, viewEvent(t, got)); diff != "" {
			t.Errorf("event mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("List", func(t *testing.T) {
		t.Parallel()
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodGet, mockURL("/events"), respond(http.StatusOK, specFixture(t, "events-list.json")))
		got, err := collectAll(c.Events.List(ctxT(t), nil))
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		var views []eventView
		for _, e := range got {
			views = append(views, viewEvent(t, e))
		}
		if diff := cmp.Diff([]eventView{expired, tagAdded}, views); diff != "" {
			t.Errorf("events mismatch (-want +got):\n%s", diff)
		}
		if n := calls(mt, http.MethodGet, "/events"); n != 1 {
			t.Errorf("sent %d requests, want 1 (next is null)", n)
		}
	})
	// ParseEvent reads the same resources, each in a document of its own as a webhook
	// delivers it; none of them is a share token.
	t.Run("ParseEvent", func(t *testing.T) {
		t.Parallel()
		var list struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(specFixture(t, "events-list.json"), &list); err != nil {
			t.Fatal(err)
		}
		docs := [][]byte{specFixture(t, "events-retrieve.json")}
		for _, d := range list.Data {
			docs = append(docs, append(append([]byte(`{"data":`), d...), '}'))
		}
		var views []eventView
		for i, doc := range docs {
			ev, err := connect.ParseEvent(doc)
			if err != nil {
				t.Fatalf("example %d: %v", i, err)
			}
			views = append(views, viewEvent(t, ev))
			if _, err := ev.ShareToken(); !errors.Is(err, connect.ErrNotShareToken) {
				t.Errorf("example %d: ShareToken of a %s = %v, want ErrNotShareToken", i, ev.Object.Type, err)
			}
		}
		if diff := cmp.Diff([]eventView{expired, expired, tagAdded}, views); diff != "" {
			t.Errorf("events mismatch (-want +got):\n%s", diff)
		}
	})
}

// Decoding is lenient: what a newer API or another inflection sends must not break a
// deployed SDK.
func TestShareTokenLenientDecoding(t *testing.T) {
	t.Parallel()
	at := ptime(t, "2024-01-02T03:04:05.678Z")
	tests := []struct {
		name string
		body string
		want *connect.ShareToken
	}{
		{
			name: "unknown attributes and relationships are ignored",
			body: `{"data":{"type":"connect/share-token","id":"cnst_1","attributes":{
				"status":"created","direction":"outbound","created-at":"2024-01-02T03:04:05.678Z",
				"new-number":42,"new-object":{"a":[1,2]},"new-list":["x"],"new-null":null,"new-bool":true},
				"relationships":{
				  "connection":{"data":{"type":"connect/connection","id":"cxn_1"}},
				  "new-to-one":{"data":{"type":"thing","id":"thg_1"}},
				  "new-to-many":{"data":[{"type":"thing","id":"thg_1"},{"type":"thing","id":"thg_2"}]},
				  "new-empty-to-many":{"data":[]},
				  "new-links-only":{"links":{"related":"/api/v1/things"}},
				  "new-null":{"data":null}},
				"links":{"self":"/api/v1/connect/share-tokens/cnst_1"},"meta":{"x":1}},
				"included":[{"type":"thing","id":"thg_1","attributes":{}}]}`,
			want: &connect.ShareToken{ID: "cnst_1", Status: connect.ShareTokenCreated, Direction: connect.Outbound, CreatedAt: *at, ConnectionID: "cxn_1"},
		},
		{
			name: "unknown enum values are kept as strings",
			body: `{"data":{"type":"connect/share-token","id":"cnst_1","attributes":{
				"status":"archived","direction":"sideways","redeem-mode":"merge","failure-reason":"cosmic_ray"}}}`,
			want: &connect.ShareToken{ID: "cnst_1", Status: "archived", Direction: "sideways", RedeemMode: "merge", FailureReason: "cosmic_ray"},
		},
		{
			name: "connect-connection relationship",
			body: `{"data":{"type":"connect/share-token","id":"cnst_1","attributes":{"status":"created"},
				"relationships":{"connect-connection":{"data":{"type":"connect/connection","id":"cxn_old"}}}}}`,
			want: &connect.ShareToken{ID: "cnst_1", Status: connect.ShareTokenCreated, ConnectionID: "cxn_old"},
		},
		{
			name: "camelCase keys",
			body: `{"data":{"type":"connect/share-token","id":"cnst_1","attributes":{
				"status":"failed","direction":"inbound","redeemMode":"hydrate","failureReason":"source_redacted",
				"createdAt":"2024-01-02T03:04:05.678Z","updatedAt":"2024-01-02T03:04:05.678Z",
				"pendingAt":"2024-01-02T03:04:05.678Z","failedAt":"2024-01-02T03:04:05.678Z","expiresAt":null},
				"relationships":{"connectConnection":{"data":{"type":"connect/connection","id":"cxn_1"}},
				"destination":{"data":{"type":"account","id":"act_1"}}}}}`,
			want: &connect.ShareToken{
				ID: "cnst_1", Status: connect.ShareTokenFailed, Direction: connect.Inbound,
				RedeemMode: connect.RedeemHydrate, FailureReason: connect.FailureSourceRedacted,
				CreatedAt: *at, UpdatedAt: *at, PendingAt: at, FailedAt: at,
				ConnectionID: "cxn_1", Destination: &connect.Ref{Type: "account", ID: "act_1"},
			},
		},
		{
			name: "snake_case keys",
			body: `{"data":{"type":"connect/share-token","id":"cnst_1","attributes":{
				"status":"redeemed","direction":"inbound","redeem_mode":"clone",
				"created_at":"2024-01-02T03:04:05.678Z","updated_at":"2024-01-02T03:04:05.678Z",
				"redeemed_at":"2024-01-02T03:04:05.678Z","expires_at":"2024-01-02T03:04:05.678Z"},
				"relationships":{"connect_connection":{"data":{"type":"connect/connection","id":"cxn_1"}},
				"destination":{"data":{"type":"inquiry","id":"inq_1"}}}}}`,
			want: &connect.ShareToken{
				ID: "cnst_1", Status: connect.ShareTokenRedeemed, Direction: connect.Inbound,
				RedeemMode: connect.RedeemClone, CreatedAt: *at, UpdatedAt: *at, RedeemedAt: at, ExpiresAt: at,
				ConnectionID: "cxn_1", Destination: &connect.Ref{Type: "inquiry", ID: "inq_1"},
			},
		},
		{
			name: "null destination",
			body: `{"data":{"type":"connect/share-token","id":"cnst_1","attributes":{"status":"pending"},
				"relationships":{"destination":{"data":null},"connection":{"data":{"type":"connect/connection","id":"cxn_1"}}}}}`,
			want: &connect.ShareToken{ID: "cnst_1", Status: connect.ShareTokenPending, ConnectionID: "cxn_1"},
		},
		{
			name: "timestamps in another zone become UTC",
			body: `{"data":{"type":"connect/share-token","id":"cnst_1","attributes":{"created-at":"2024-01-02T05:04:05.678+02:00"}}}`,
			want: &connect.ShareToken{ID: "cnst_1", CreatedAt: *at},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodGet, mockURL("/connect/share-tokens/cnst_1"), respond(http.StatusOK, []byte(tt.body)))
			got, err := c.ShareTokens.Get(ctxT(t), "cnst_1")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("decoded token mismatch (-want +got):\n%s", diff)
			}
			if got.CreatedAt.Location() != time.UTC {
				t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
			}
		})
	}
}

func TestConnectionLenientDecoding(t *testing.T) {
	t.Parallel()
	at := *ptime(t, "2018-06-01T00:00:00Z")
	want := &connect.Connection{
		ID: "cxn_1", Status: "paused", SourceOrganizationID: "org_A", DestinationOrganizationID: "org_B",
		CreatedAt: at, UpdatedAt: at, Creator: &connect.Ref{Type: "user", ID: "user_1"},
	}
	for name, body := range map[string]string{
		"camelCase": `{"data":{"type":"connect/connection","id":"cxn_1","attributes":{"status":"paused",
			"sourceOrganizationId":"org_A","destinationOrganizationId":"org_B","createdAt":"2018-06-01T00:00:00Z",
			"updatedAt":"2018-06-01T00:00:00Z","extra":{"x":1}},
			"relationships":{"creator":{"data":{"type":"user","id":"user_1"}},"shareTokens":{"data":[{"type":"connect/share-token","id":"cnst_1"}]}}}}`,
		"snake_case": `{"data":{"type":"connect/connection","id":"cxn_1","attributes":{"status":"paused",
			"source_organization_id":"org_A","destination_organization_id":"org_B","created_at":"2018-06-01T00:00:00Z",
			"updated_at":"2018-06-01T00:00:00Z"},
			"relationships":{"creator":{"data":{"type":"user","id":"user_1"}}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			mt.RegisterResponder(http.MethodGet, mockURL("/connect/connections/cxn_1"), respond(http.StatusOK, []byte(body)))
			got, err := c.Connections.Get(ctxT(t), "cxn_1")
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decoded connection mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Peek keeps source-data verbatim (it is end-user data: the SDK never interprets it).
func TestPeekKeepsSourceData(t *testing.T) {
	t.Parallel()
	sourceData := `{"type":"connect/source-data/inquiry","id":"inq_ABC123",
		"peekable-attributes":{"status":{"visibility":"full","value":"approved"},
		"fields":{"name-first":{"visibility":"presence","value":true},"birthdate":{"visibility":"full","value":"1990-01-02"}}},
		"related-objects":[{"type":"connect/source-data/verification/government-id","id":"ver_1","peekable-attributes":{}}]}`
	body := `{"data":{"type":"connect/share-token","id":"cnst_ABC123","attributes":{"status":"created","direction":"inbound",
		"source-data":` + sourceData + `},"relationships":{"connection":{"data":{"type":"connect/connection","id":"cxn_ABC123"}}}}}`
	c, mt := setup(t)
	mt.RegisterResponderWithQuery(http.MethodGet, mockURL(getTokenPath), "peek-source-data=true", respond(http.StatusOK, []byte(body)))
	tok, err := c.ShareTokens.Peek(ctxT(t), "cnst_ABC123")
	if err != nil {
		t.Fatalf("Peek: %v", err)
	}
	testJSON(t, "SourceData", tok.SourceData, []byte(sourceData))
	if tok.ConnectionID != "cxn_ABC123" || tok.Status != connect.ShareTokenCreated {
		t.Errorf("token = %+v", tok)
	}

	// Without peek, or with a null source-data, SourceData is nil.
	for _, b := range []string{
		string(specFixture(t, "connect-share-token.json")),
		`{"data":{"type":"connect/share-token","id":"cnst_ABC123","attributes":{"source-data":null}}}`,
	} {
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodGet, mockURL(getTokenPath), respond(http.StatusOK, []byte(b)))
		tok, err := c.ShareTokens.Get(ctxT(t), "cnst_ABC123")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if tok.SourceData != nil {
			t.Errorf("SourceData = %s, want nil", tok.SourceData)
		}
	}
}

// An event read from the Events API carries its payload in the case the organization
// chose, whatever Key-Inflection asked for: Event.ShareToken reads all three.
func TestEventsAPIPayloadInflections(t *testing.T) {
	t.Parallel()
	at := ptime(t, "2024-01-02T03:04:05.678Z")
	want := &connect.ShareToken{ID: "cnst_1", Status: connect.ShareTokenCreated, Direction: connect.Inbound, CreatedAt: *at, ExpiresAt: at, ConnectionID: "cxn_1"}
	for name, token := range map[string]string{
		"kebab": `{"type":"connect/share-token","id":"cnst_1","attributes":{"status":"created","direction":"inbound","created-at":"2024-01-02T03:04:05.678Z","expires-at":"2024-01-02T03:04:05.678Z"},"relationships":{"connection":{"data":{"type":"connect/connection","id":"cxn_1"}}}}`,
		"camel": `{"type":"connect/share-token","id":"cnst_1","attributes":{"status":"created","direction":"inbound","createdAt":"2024-01-02T03:04:05.678Z","expiresAt":"2024-01-02T03:04:05.678Z"},"relationships":{"connection":{"data":{"type":"connect/connection","id":"cxn_1"}}}}`,
		"snake": `{"type":"connect/share-token","id":"cnst_1","attributes":{"status":"created","direction":"inbound","created_at":"2024-01-02T03:04:05.678Z","expires_at":"2024-01-02T03:04:05.678Z"},"relationships":{"connection":{"data":{"type":"connect/connection","id":"cxn_1"}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, mt := setup(t)
			body := `{"data":{"type":"event","id":"evt_1","attributes":{"name":"connect/share-token.inbound-created",` +
				`"created-at":"2024-01-02T03:04:06.000Z","payload":{"data":` + token + `}}}}`
			mt.RegisterResponder(http.MethodGet, mockURL("/events/evt_1"), respond(http.StatusOK, []byte(body)))
			ev, err := c.Events.Get(ctxT(t), "evt_1")
			if err != nil {
				t.Fatal(err)
			}
			tok, err := ev.ShareToken()
			if err != nil {
				t.Fatalf("ShareToken: %v", err)
			}
			if diff := cmp.Diff(want, tok); diff != "" {
				t.Errorf("token (-want +got):\n%s", diff)
			}
		})
	}
}

// The Events API answers an event as a webhook delivers it: Get and List keep
// payload.data, payload.included and context verbatim, as ParseEvent does, whatever
// their keys' case. A handler that reads Data with snake_case tags must see the same
// keys from a Replay as from a delivery.
func TestEventsAPIKeepsPayloadVerbatim(t *testing.T) {
	t.Parallel()
	const resource = `{"type":"event","id":"evt_1","attributes":{"name":"inquiry.completed",` +
		`"created_at":"2024-01-02T03:04:06.000Z",` +
		`"payload":{"data":{"type":"inquiry","id":"inq_1","attributes":{"name_first":"Ada","fields":{"favoriteColor":{"type":"string","value":"teal"}}}},` +
		`"included":[{"type":"account","id":"act_1","attributes":{"reference_id":"r-1"}}]},` +
		`"context":{"inquiry_template_id":"itmpl_1"}}}`
	want, err := connect.ParseEvent([]byte(`{"data":` + resource + `}`))
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, got *connect.Event) {
		t.Helper()
		testJSON(t, "Data", got.Data, want.Data)
		testJSON(t, "Context", got.Context, want.Context)
		if len(got.Included) != 1 {
			t.Fatalf("Included has %d members, want 1", len(got.Included))
		}
		testJSON(t, "Included[0]", got.Included[0], want.Included[0])
		if !got.CreatedAt.Equal(*ptime(t, "2024-01-02T03:04:06.000Z")) {
			t.Errorf("CreatedAt = %v", got.CreatedAt)
		}
	}
	t.Run("Get", func(t *testing.T) {
		t.Parallel()
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodGet, mockURL("/events/evt_1"), respond(http.StatusOK, []byte(`{"data":`+resource+`}`)))
		got, err := c.Events.Get(ctxT(t), "evt_1")
		if err != nil {
			t.Fatal(err)
		}
		check(t, got)
	})
	t.Run("List", func(t *testing.T) {
		t.Parallel()
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodGet, mockURL("/events"), respond(http.StatusOK, []byte(`{"data":[`+resource+`],"links":{"prev":null,"next":null}}`)))
		got, err := collectAll(c.Events.List(ctxT(t), nil))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("listed %d events, want 1", len(got))
		}
		check(t, got[0])
	})
}

// The next links of the events and connections schemas' own examples are followed, and
// the caller's filters and page size go with them (the links name the cursor only).
func TestSpecNextLinkExamplesAreFollowed(t *testing.T) {
	t.Parallel()
	linkExample := func(t *testing.T, file string) string {
		var link string
		b := spectest.JSON(t, file, "get", "responses", "200", "content", "application/json", "schema", "properties", "links", "properties", "next", "examples", "0")
		if err := json.Unmarshal(b, &link); err != nil {
			t.Fatal(err)
		}
		return link
	}
	t.Run("events", func(t *testing.T) {
		t.Parallel()
		next := linkExample(t, "paths/events.yaml") // /api/v1/events?page%5Bafter%5D=evt_ABC123
		var first map[string]any
		if err := json.Unmarshal(specFixture(t, "events-list.json"), &first); err != nil {
			t.Fatal(err)
		}
		first["links"] = map[string]any{"prev": nil, "next": next}
		body, _ := json.Marshal(first)
		c, mt := setup(t)
		filters := url.Values{"filter[name]": {"inquiry.expired"}, "page[size]": {"2"}}
		mt.RegisterResponder(http.MethodGet, mockURL("/events"), func(r *http.Request) (*http.Response, error) {
			if r.URL.Query().Get("page[after]") == "" {
				testQuery(t, r, filters)
				return respond(http.StatusOK, body)(r)
			}
			want := url.Values{"page[after]": {"evt_ABC123"}}
			for k, v := range filters {
				want[k] = v
			}
			testQuery(t, r, want)
			return respond(http.StatusOK, emptyPage)(r)
		})
		got, err := collectAll(c.Events.List(ctxT(t), &connect.ListEventsParams{Names: []connect.EventName{"inquiry.expired"}, PageSize: 2}))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || mt.GetTotalCallCount() != 2 {
			t.Errorf("listed %d events in %d requests, want 2 in 2", len(got), mt.GetTotalCallCount())
		}
	})
	t.Run("connections", func(t *testing.T) {
		t.Parallel()
		next := linkExample(t, "paths/connect_connections.yaml") // /api/v1/connect/connections?page%5Bafter%5D=cxn_ABC123
		var first map[string]any
		if err := json.Unmarshal(specFixture(t, "connect-connection-list.json"), &first); err != nil {
			t.Fatal(err)
		}
		first["links"] = map[string]any{"prev": nil, "next": next}
		body, _ := json.Marshal(first)
		c, mt := setup(t)
		mt.RegisterResponder(http.MethodGet, mockURL("/connect/connections"), respond(http.StatusOK, body))
		mt.RegisterResponderWithQuery(http.MethodGet, mockURL("/connect/connections"), "page[after]=cxn_ABC123&filter[status]=active", respond(http.StatusOK, emptyPage))
		got, err := collectAll(c.Connections.List(ctxT(t), &connect.ListConnectionsParams{Status: connect.ConnectionActive}))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || mt.GetTotalCallCount() != 2 {
			t.Errorf("listed %d connections in %d requests, want 2 in 2", len(got), mt.GetTotalCallCount())
		}
	})
}
